/**
 * `tessera account` as az has it (show, list, set, get-access-token, with az's fields),
 * the subscription every other command uses, where settings come from (flag >
 * environment > config.json > session, with a warning when config and session disagree),
 * and the global --debug, --verbose, --only-show-errors and per-resource `-o table`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TESSERA_BIN, tessera, tesseraJson, type CliResult } from './helpers/cli.js';
import { run } from './helpers/install.js';
import { removeTempDirs, tempDir } from './helpers/tempDirs.js';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/testServer.js';

interface AccountRow {
  id: string;
  name: string;
  state: string;
  isDefault: boolean;
  tenantId: string;
  homeTenantId: string;
  cloudName?: string;
  environmentName?: string;
  user: { name: string; type: string };
  server: string;
}

let server: TestServer;
let env: Record<string, string>;
let home: string;
let research: string;
let twinA: string;
let twinB: string;
let cancelled: string;
const HOSTILE = '<img src=x onerror=alert(1)> "Ops"';
let hostile: string;

async function alias(name: string, displayName: string): Promise<string> {
  const created = await tesseraJson<{ properties: { subscriptionId: string } }>(['account', 'alias', 'create', '--name', name, '--display-name', displayName], env);
  return created.properties.subscriptionId;
}

before(async () => {
  server = await startTestServer();
  env = { TESSERA_CONFIG_DIR: path.join(tempDir('config'), 'tessera') };
  await tesseraJson(['login', '--server', server.url, '-u', 'admin', '-p', ADMIN_PASSWORD], env);
  home = server.running.bootstrap.subscriptionId;
  research = await alias('research', 'Research');
  twinA = await alias('twin-a', 'Twin');
  twinB = await alias('twin-b', 'twin');
  cancelled = await alias('old', 'Old');
  hostile = await alias('hostile', HOSTILE);
  await tesseraJson(['account', 'subscription', 'cancel', '--id', cancelled, '--yes'], env);
  await tesseraJson(['group', 'create', '-n', 'rg-home', '-l', 'local', '--subscription', home], env);
  await tesseraJson(['group', 'create', '-n', 'rg-research', '-l', 'local', '--subscription', 'research'], env);
});

after(async () => {
  await server.close();
  removeTempDirs();
});

/** A config directory of its own holding a copy of the admin's session (so `account set` there changes nothing else). */
function sessionCopy(): Record<string, string> {
  const dir = path.join(tempDir('config'), 'tessera');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.copyFileSync(path.join(env.TESSERA_CONFIG_DIR, 'session.json'), path.join(dir, 'session.json'));
  fs.chmodSync(path.join(dir, 'session.json'), 0o600);
  return { TESSERA_CONFIG_DIR: dir };
}

describe('tessera account', () => {
  test("show prints az's fields: id is the subscription id, name its name, user {name, type}", async () => {
    const shown = await tesseraJson<AccountRow>(['account', 'show'], env);
    const { tenantId } = server.running.bootstrap;
    assert.deepEqual(
      { ...shown, objectId: undefined },
      { environmentName: 'Tessera', homeTenantId: tenantId, id: home, isDefault: true, managedByTenants: [], name: 'Tessera', server: server.url, state: 'Enabled', tenantId, user: { name: 'admin@tessera.local', type: 'user' }, objectId: undefined },
    );
    const other = await tesseraJson<AccountRow>(['account', 'show', '-s', 'research'], env);
    assert.deepEqual([other.id, other.name, other.isDefault], [research, 'Research', false]);
  });

  test('list shows the enabled subscriptions and warns that others are hidden; --all shows every one', async () => {
    const listed = await tessera(['account', 'list'], env);
    assert.equal(listed.code, 0, listed.stderr);
    const rows = JSON.parse(listed.stdout) as AccountRow[];
    assert.deepEqual(rows.map((r) => r.id).sort(), [home, research, twinA, twinB, hostile].sort());
    assert.ok(rows.every((r) => r.cloudName === 'Tessera' && r.state === 'Enabled'));
    assert.deepEqual(rows.filter((r) => r.isDefault).map((r) => r.id), [home], 'exactly one default');
    assert.match(listed.stderr, /^WARNING: A few subscriptions are skipped as they don't have 'Enabled' state\. Use '--all' to display them\.\n$/);
    const all = await tesseraJson<AccountRow[]>(['account', 'list', '--all'], env);
    assert.deepEqual(all.find((r) => r.id === cancelled)?.state, 'Disabled');
    const quiet = await tessera(['account', 'list', '--only-show-errors'], env);
    assert.deepEqual([quiet.code, quiet.stderr], [0, ''], '--only-show-errors drops the warning');
  });

  test('set takes a name (without regard to case) or an id, is kept in the session, and other commands use it', async () => {
    const own = sessionCopy();
    assert.deepEqual(await tessera(['account', 'set', '--subscription', 'RESEARCH'], own), { code: 0, stdout: '', stderr: '' });
    assert.equal((await tesseraJson<AccountRow>(['account', 'show'], own)).id, research);
    assert.deepEqual((await tesseraJson<{ name: string }[]>(['group', 'list'], own)).map((g) => g.name), ['rg-research']);
    const listed = await tesseraJson<AccountRow[]>(['account', 'list'], own);
    assert.deepEqual(listed.filter((r) => r.isDefault).map((r) => r.id), [research]);
    assert.equal((await tessera(['account', 'set', '-s', home.toUpperCase()], own)).code, 0);
    assert.equal((await tesseraJson<AccountRow>(['account', 'show'], own)).id, home, 'an id in capitals is the same id');
    assert.equal((await tesseraJson<AccountRow>(['account', 'show'], env)).id, home, 'the other session is untouched');
  });

  test('TESSERA_SUBSCRIPTION wins over the session, and --subscription over both', async () => {
    const own = sessionCopy();
    await tessera(['account', 'set', '-s', 'Research'], own);
    assert.deepEqual((await tesseraJson<{ name: string }[]>(['group', 'list'], { ...own, TESSERA_SUBSCRIPTION: home })).map((g) => g.name), ['rg-home']);
    assert.deepEqual((await tesseraJson<{ name: string }[]>(['group', 'list', '--subscription', 'research'], { ...own, TESSERA_SUBSCRIPTION: home })).map((g) => g.name), ['rg-research']);
    const verbose = await tessera(['group', 'list', '--verbose'], { ...own, TESSERA_SUBSCRIPTION: 'Tessera' });
    assert.equal(verbose.code, 0, verbose.stderr);
    assert.match(verbose.stderr, new RegExp(`INFO: Subscription ${home} \\(from TESSERA_SUBSCRIPTION\\)`));
    assert.match(verbose.stderr, /INFO: Command ran in \d+\.\d{3} seconds/);
  });

  test('an unknown or ambiguous subscription name is a usage error (exit 2) that says which', async () => {
    const unknown = await tessera(['account', 'set', '-s', 'Nope'], env);
    assert.deepEqual([unknown.code, unknown.stdout], [2, '']);
    assert.match(unknown.stderr, /^ERROR: Subscription "Nope" not found/);
    const twins = await tessera(['account', 'set', '-s', 'twin'], env);
    assert.equal(twins.code, 2);
    assert.match(twins.stderr, /The subscription name "twin" is ambiguous: 2 subscriptions have it/);
    assert.ok(twins.stderr.includes(twinA) && twins.stderr.includes(twinB), 'both ids are named');
    const viaGroup = await tessera(['group', 'list', '--subscription', 'twin'], env);
    assert.equal(viaGroup.code, 2);
    const viaEnv = await tessera(['group', 'list'], { ...env, TESSERA_SUBSCRIPTION: 'nope' });
    assert.equal(viaEnv.code, 2);
    for (const bad of ['', ' ', 'x'.repeat(257), 'tab\there', 'line\nbreak']) {
      const r = await tessera(['account', 'show', '-s', bad], env);
      assert.equal(r.code, 2, JSON.stringify(bad));
      assert.match(r.stderr, /subscription id or name/);
    }
  });

  test('an account that sees no subscription shows its tenant; a command needing one fails (exit 1), saying why', async () => {
    await tesseraJson(['ad', 'user', 'create', '--user-name', 'fresh', '--password', 'Quiet-harbour-2026'], env);
    const own = { TESSERA_CONFIG_DIR: path.join(tempDir('config'), 'tessera') };
    const login = await tesseraJson<AccountRow>(['login', '--server', server.url, '-u', 'fresh', '-p', 'Quiet-harbour-2026'], own);
    const { tenantId } = server.running.bootstrap;
    assert.deepEqual([login.id, login.name, login.tenantId], [tenantId, 'N/A(tenant level account)', tenantId]);
    const groups = await tessera(['group', 'list'], own);
    assert.deepEqual([groups.code, groups.stdout], [1, '']);
    assert.match(groups.stderr, /^ERROR: No subscription is visible to this account/);
  });

  test('a name with markup is matched and printed as text, never interpreted', async () => {
    const shown = await tesseraJson<AccountRow>(['account', 'show', '-s', HOSTILE], env);
    assert.deepEqual([shown.id, shown.name], [hostile, HOSTILE]);
    const table = await tessera(['account', 'show', '-s', hostile, '-o', 'table'], env);
    assert.ok(table.stdout.includes(HOSTILE), table.stdout);
  });

  test('get-access-token takes --resource or --scope (not both) and names the subscription', async () => {
    const arm = await tesseraJson<{ accessToken: string; subscription: string; tenant: string; tokenType: string; expires_on: number }>(['account', 'get-access-token', '--scope', 'https://management.azure.com//.default'], env);
    assert.deepEqual([arm.subscription, arm.tenant, arm.tokenType], [home, server.running.bootstrap.tenantId, 'Bearer']);
    assert.ok(arm.expires_on > Date.now() / 1000);
    const forResearch = await tesseraJson<{ subscription: string }>(['account', 'get-access-token', '--subscription', 'Research'], env);
    assert.equal(forResearch.subscription, research);
    const both = await tessera(['account', 'get-access-token', '--resource', 'api://tessera/management', '--scope', 'api://tessera/management/.default'], env);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--resource and --scope cannot be used together/);
    const notDefault = await tessera(['account', 'get-access-token', '--scope', 'openid'], env);
    assert.equal(notDefault.code, 2);
    assert.match(notDefault.stderr, /A scope names a resource's \/\.default/);
  });
});

describe('where settings come from', () => {
  test("a config.json naming another server wins over the session's, with one warning naming both", async () => {
    const dir = tempDir('project');
    await tesseraJson(['ml', 'workspace', 'create', '-w', 'ws-cfg', '-g', 'rg-home', '--subscription', home], env);
    await tesseraJson(['ml', 'workspace', 'download-config', '-w', 'ws-cfg', '-g', 'rg-home', '--subscription', home, '--path', dir], env);
    const file = path.join(dir, 'config.json');
    const config = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>;
    assert.equal(config.server_url, server.url);
    // The same server under another name: the config names it by localhost, the session by 127.0.0.1.
    const alias = server.url.replace('127.0.0.1', 'localhost');
    fs.writeFileSync(file, JSON.stringify({ ...config, server_url: alias }));
    const listed = await tessera(['ml', 'model', 'list'], env, { cwd: dir });
    assert.equal(listed.code, 0, listed.stderr);
    const warnings = listed.stderr.split('\n').filter((l) => l.startsWith('WARNING:'));
    assert.equal(warnings.length, 1, listed.stderr);
    assert.ok(warnings[0]!.includes(alias) && warnings[0]!.includes(server.url), 'names both servers');
    assert.match(warnings[0]!, /config\.json names the server/);
    const fromEnv = await tessera(['ml', 'model', 'list', '--verbose'], { ...env, TESSERA_SERVER: server.url }, { cwd: dir });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    assert.ok(!fromEnv.stderr.includes('WARNING'), 'TESSERA_SERVER, the same server as the session, wins without a warning');
    assert.match(fromEnv.stderr, new RegExp(`INFO: Server ${server.url.replace(/[.]/g, '\\.')} \\(from TESSERA_SERVER\\)`));
    const quiet = await tessera(['ml', 'model', 'list', '--only-show-errors'], env, { cwd: dir });
    assert.deepEqual([quiet.code, quiet.stderr], [0, '']);
  });

  test("a config.json naming another server is refused before the session's token goes there", async () => {
    const other = await startTestServer();
    try {
      const dir = tempDir('project');
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ subscription_id: home, resource_group: 'rg-home', workspace_name: 'ws-cfg', server_url: other.url }));
      const r = await tessera(['ml', 'model', 'list'], env, { cwd: dir });
      assert.deepEqual([r.code, r.stdout], [2, '']);
      assert.ok(r.stderr.includes(`config.json names the server ${other.url}, but the session is signed in to ${server.url}`), r.stderr);
      assert.match(r.stderr, /(its token issuer differs|it does not know the session's tenant: HTTP 400)\): the session's tokens are not sent there/);
      assert.deepEqual(other.requests().map((q) => q.path.replace(/^\/[^/]+/, '/{tenant}')), ['/{tenant}/v2.0/.well-known/openid-configuration'], 'only the issuer was asked, without credentials');
      await other.close();
      const gone = await tessera(['ml', 'model', 'list'], env, { cwd: dir });
      assert.equal(gone.code, 2);
      assert.match(gone.stderr, /could not be asked who it is \(ECONNREFUSED\)/);
    } finally {
      await other.close().catch(() => undefined);
    }
  });

  test('flags win over config.json, and config.json over the subscription account set chose (with a warning)', async () => {
    const own = sessionCopy();
    const dir = tempDir('project');
    await tesseraJson(['ml', 'workspace', 'create', '-w', 'ws-r', '-g', 'rg-research', '--subscription', research], own);
    await tesseraJson(['ml', 'workspace', 'download-config', '-w', 'ws-r', '-g', 'rg-research', '--subscription', research, '--path', dir], own);
    await tessera(['account', 'set', '-s', home], own);
    const r = await tessera(['ml', 'model', 'list', '--verbose'], own, { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`WARNING: config\\.json names the subscription ${research}, but tessera account set chose ${home}: using ${research}`));
    assert.match(r.stderr, /INFO: Workspace ws-r \(from config\.json\), resource group rg-research \(from config\.json\)/);
    const flagged = await tessera(['ml', 'workspace', 'show', '-w', 'ws-cfg', '-g', 'rg-home', '--verbose'], own, { cwd: dir });
    assert.equal(flagged.code, 0, flagged.stderr);
    assert.match(flagged.stderr, new RegExp(`INFO: Subscription ${home}`));
    const byEnv = await tessera(['ml', 'model', 'list', '--verbose'], { ...own, TESSERA_WORKSPACE_NAME: 'ws-cfg', TESSERA_RESOURCE_GROUP: 'rg-home', TESSERA_SUBSCRIPTION: home }, { cwd: dir });
    assert.equal(byEnv.code, 0, byEnv.stderr);
    assert.match(byEnv.stderr, /INFO: Workspace ws-cfg \(from TESSERA_WORKSPACE_NAME\), resource group rg-home \(from TESSERA_RESOURCE_GROUP\)/);
  });

  test('a config.json that is not JSON, or not readable, is an error naming the file; flags still work beside it', async () => {
    const dir = tempDir('project');
    const file = path.join(dir, 'config.json');
    fs.writeFileSync(file, '{"workspace_name": ');
    const broken = await tessera(['ml', 'model', 'list'], env, { cwd: dir });
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /config\.json is not valid JSON\./);
    fs.writeFileSync(file, JSON.stringify({ workspace_name: 7 }));
    assert.match((await tessera(['ml', 'model', 'list'], env, { cwd: dir })).stderr, /'workspace_name' must be a string/);
    fs.writeFileSync(file, JSON.stringify({ subscription_id: home, resource_group: 'rg-home' }));
    const missing = await tessera(['ml', 'model', 'list'], env, { cwd: dir });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /has no 'workspace_name': add it, or give -w\/--workspace-name/);
    const named = await tessera(['ml', 'model', 'list', '-w', 'ws-cfg', '-g', 'rg-home', '--subscription', home], env, { cwd: dir });
    assert.equal(named.code, 0, named.stderr);

    // Unreadable: run as an unprivileged user (root reads any file), with a session of its own.
    fs.writeFileSync(file, JSON.stringify({ subscription_id: home, resource_group: 'rg-home', workspace_name: 'ws-cfg' }));
    fs.chmodSync(file, 0o000);
    fs.chmodSync(dir, 0o755);
    const nobodyConfig = tempDir('nobody');
    fs.chmodSync(nobodyConfig, 0o700);
    fs.copyFileSync(path.join(env.TESSERA_CONFIG_DIR, 'session.json'), path.join(nobodyConfig, 'session.json'));
    fs.chmodSync(path.join(nobodyConfig, 'session.json'), 0o600);
    fs.chownSync(nobodyConfig, 65534, 65534);
    fs.chownSync(path.join(nobodyConfig, 'session.json'), 65534, 65534);
    const unreadable = await asNobody(['ml', 'model', 'list'], { TESSERA_CONFIG_DIR: nobodyConfig }, dir);
    assert.equal(unreadable.code, 1, unreadable.stderr);
    assert.match(unreadable.stderr, /config\.json cannot be read \(EACCES\)/);
  });
});

/** Runs tessera as uid/gid 65534 (nobody), as an ordinary user would run it. */
function asNobody(args: string[], extra: Record<string, string>, cwd: string): Promise<CliResult> {
  return run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, TESSERA_BIN, ...args], { ...extra, HOME: extra.TESSERA_CONFIG_DIR! }, { cwd });
}

describe('the session file and the server it names', () => {
  test('a session file others can read is refused, as ssh refuses such a key', async () => {
    const own = sessionCopy();
    const file = path.join(own.TESSERA_CONFIG_DIR!, 'session.json');
    fs.chmodSync(file, 0o644);
    const r = await tessera(['account', 'show'], own);
    assert.deepEqual([r.code, r.stdout], [1, '']);
    assert.ok(r.stderr.includes(`permissions are 0644`) && r.stderr.includes(`chmod 600 ${file}`), r.stderr);
    fs.chmodSync(file, 0o600);
    assert.equal((await tessera(['account', 'show'], own)).code, 0);
  });

  test('a session for a server that is down says so and how to go on, without a stack trace', async () => {
    const other = await startTestServer();
    const own = { TESSERA_CONFIG_DIR: path.join(tempDir('config'), 'tessera') };
    await tesseraJson(['login', '--server', other.url, '-u', 'admin', '-p', ADMIN_PASSWORD], own);
    await other.close();
    const r = await tessera(['group', 'list'], own);
    assert.deepEqual([r.code, r.stdout], [1, '']);
    assert.match(r.stderr, new RegExp(`^ERROR: Cannot connect to ${other.url.replace(/[.]/g, '\\.')}: connection refused\\. Is the server running\\?`));
    assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');
  });
});

describe('--debug and -o table', () => {
  test('--debug prints each HTTP request and answer on stderr, never a token, a secret or a body', async () => {
    const own = sessionCopy();
    const session = JSON.parse(fs.readFileSync(path.join(own.TESSERA_CONFIG_DIR!, 'session.json'), 'utf8')) as { refreshToken: string; tokens: Record<string, { accessToken: string }> };
    // Expire the cached tokens so the refresh token travels in this run.
    for (const t of Object.values(session.tokens)) (t as { expiresOn?: number }).expiresOn = 1;
    fs.writeFileSync(path.join(own.TESSERA_CONFIG_DIR!, 'session.json'), JSON.stringify(session), { mode: 0o600 });
    const r = await tessera(['ad', 'sp', 'create-for-rbac', '-n', 'debug-sp', '--debug'], own);
    assert.equal(r.code, 0, r.stderr);
    const created = JSON.parse(r.stdout) as { password: string };
    assert.match(r.stderr, /DEBUG: Request: POST http:\/\/127\.0\.0\.1:\d+\/[^ ]+\/oauth2\/v2\.0\/token/);
    assert.match(r.stderr, /DEBUG: Response: 200 POST /);
    assert.match(r.stderr, /DEBUG: Request header: authorization: \*\*\*/);
    assert.match(r.stderr, /INFO: Command ran in/);
    const after = JSON.parse(fs.readFileSync(path.join(own.TESSERA_CONFIG_DIR!, 'session.json'), 'utf8')) as { refreshToken: string; tokens: Record<string, { accessToken: string }> };
    for (const secret of [session.refreshToken, after.refreshToken, created.password, ...Object.values(after.tokens).map((t) => t.accessToken)]) {
      assert.ok(!r.stderr.includes(secret), 'no credential in the debug lines');
    }
    assert.ok(!r.stderr.includes('eyJ'), 'no JWT at all');
  });

  test("-o table shows az's few columns for a resource; --query replaces them", async () => {
    const groups = await tessera(['group', 'list', '-o', 'table', '--subscription', home], env);
    assert.equal(groups.code, 0, groups.stderr);
    const [header, rule, row] = groups.stdout.split('\n');
    assert.match(header!, /^Name\s+Location\s+Status$/);
    assert.match(rule!, /^-+\s+-+\s+-+$/);
    assert.match(row!, /^rg-home\s+local\s+Succeeded$/);
    const accounts = await tessera(['account', 'list', '-o', 'table', '--only-show-errors'], env);
    assert.match(accounts.stdout.split('\n')[0]!, /^Name\s+CloudName\s+SubscriptionId\s+TenantId\s+State\s+IsDefault$/);
    const queried = await tessera(['group', 'list', '-o', 'table', '--subscription', home, '--query', '[].{Group:name}'], env);
    assert.match(queried.stdout, /^Group\n-+\nrg-home\n$/);
  });
});
