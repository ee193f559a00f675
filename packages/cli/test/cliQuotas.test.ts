/**
 * `tessera admin quota show|usage|set|delete` against a live server: overrides for a
 * workspace (by name or resource ID), a principal (by name) and the server default; `set`
 * changing only the limits it names; a refused deployment printing az's `(QuotaExceeded)
 * message`; usage in JSON and as a table; usage errors (exit 2, before any request) and
 * server refusals (exit 1 with the server's code), a non-administrator's included.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { QuotaOverrideResult, QuotaOverview, QuotaUsage } from '@tessera/sdk';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/testServer.js';
import { removeTempDirs, tempDir } from './helpers/tempDirs.js';
import { tessera, tesseraJson } from './helpers/cli.js';
import { JS_ECHO } from './helpers/echoScripts.js';

const GIB = 1024 ** 3;
const W = ['-w', 'ws-quota', '-g', 'rg-quota'];

let server: TestServer;
let env: Record<string, string>;
let dir: string;
let wsId: string;

before(async () => {
  server = await startTestServer();
  env = { TESSERA_CONFIG_DIR: tempDir('config') };
  dir = tempDir('files');
  fs.writeFileSync(path.join(dir, 'score.mjs'), JS_ECHO);
  await tesseraJson(['login', '--server', server.url, '-u', 'admin', '-p', ADMIN_PASSWORD], env);
  await tesseraJson(['group', 'create', '-n', 'rg-quota', '-l', 'westeurope'], env);
  wsId = (await tesseraJson<{ id: string }>(['ml', 'workspace', 'create', ...W], env)).id;
});

after(async () => {
  await server.close();
  removeTempDirs();
});

/** Runs tessera, expects exit status `code` and stderr matching `message`, nothing on stdout. */
async function fails(args: string[], code: 1 | 2, message: RegExp, as = env): Promise<void> {
  const result = await tessera(args, as);
  assert.equal(result.code, code, `${args.join(' ')}: ${result.stderr}`);
  assert.match(result.stderr, message, args.join(' '));
  assert.equal(result.stdout, '', args.join(' '));
}

describe('tessera admin quota', () => {
  test('show: the configured defaults, and no override yet', async () => {
    const shown = await tesseraJson<QuotaOverview>(['admin', 'quota', 'show'], env);
    assert.deepEqual(shown.defaults.workspace, { services: 50, workers: 64, memoryGb: 128, modelStorageBytes: 100 * GIB });
    assert.deepEqual(shown.configured, shown.defaults);
    assert.deepEqual(shown.overrides, []);
  });

  test("set on a workspace changes only the limits named ('unlimited' lifts one, 'default' drops it); a deployment past it fails with (QuotaExceeded)", async () => {
    const first = await tesseraJson<QuotaOverrideResult>(['admin', 'quota', 'set', ...W, '--services', '1', '--workers', '4'], env);
    assert.deepEqual([first.scope, first.id, first.displayName, first.limits], ['workspace', wsId, 'ws-quota', { services: 1, workers: 4 }]);
    const second = await tesseraJson<QuotaOverrideResult>(['admin', 'quota', 'set', '--workspace-id', wsId, '--memory-gb', 'unlimited'], env);
    assert.deepEqual(second.limits, { services: 1, workers: 4, memoryGb: null });
    const third = await tesseraJson<QuotaOverrideResult>(['admin', 'quota', 'set', ...W, '--workers', 'default'], env);
    assert.deepEqual(third.limits, { services: 1, memoryGb: null });
    assert.deepEqual(third.effective, { services: 1, workers: 64, memoryGb: null, modelStorageBytes: 100 * GIB });

    const script = path.join(dir, 'score.mjs');
    await tesseraJson(['ml', 'service', 'create', ...W, '-n', 'quota-one', '--entry-script', script], env);
    await fails(['ml', 'service', 'create', ...W, '-n', 'quota-two', '--entry-script', script, '--auth-mode', 'none'], 1, /^ERROR: \(QuotaExceeded\) The workspace 'ws-quota' would use 2 web services; its quota is 1 \(in use: 1\)\./);

    const usage = await tesseraJson<QuotaUsage>(['admin', 'quota', 'usage', ...W], env);
    assert.deepEqual(usage.value.map((l) => [l.name, l.currentValue, l.limit]), [
      ['services', 1, 1],
      ['workers', 1, 64],
      ['memoryGb', 1, null],
      ['modelStorageBytes', 0, 100 * GIB],
    ]);
    const table = (await tessera(['admin', 'quota', 'usage', '--workspace-id', wsId, '--query', 'value', '-o', 'table'], env)).stdout.trimEnd().split('\n');
    assert.match(table[0]!, /^Name\s+CurrentValue\s+Limit\s+Unit$/);
    assert.match(table[2]!, /^services\s+1\s+1\s+Count$/);

    assert.deepEqual([(await tessera(['admin', 'quota', 'delete', ...W], env)).code], [0]);
    await fails(['admin', 'quota', 'delete', ...W], 1, /^ERROR: \(ResourceNotFound\) The workspace 'ws-quota' has no quota override\./);
    await tesseraJson(['ml', 'service', 'create', ...W, '-n', 'quota-two', '--entry-script', script], env);
  });

  test('set on a principal by user name, in GB of model storage; usage by principal', async () => {
    const user = await tesseraJson<{ id: string }>(['ad', 'user', 'create', '--user-name', 'quota-cli-user', '--password', 'Storage-quota-limit-77'], env);
    const set = await tesseraJson<QuotaOverrideResult>(['admin', 'quota', 'set', '--principal', 'quota-cli-user', '--model-storage-gb', '0.5', '--services', '3'], env);
    assert.deepEqual([set.scope, set.id, set.displayName, set.limits], ['principal', user.id, 'quota-cli-user', { services: 3, modelStorageBytes: GIB / 2 }]);
    const usage = await tesseraJson<QuotaUsage>(['admin', 'quota', 'usage', '--principal', user.id], env);
    assert.deepEqual(usage.value.find((l) => l.name === 'modelStorageBytes'), { name: 'modelStorageBytes', currentValue: 0, limit: GIB / 2, unit: 'Bytes' });
    const shown = await tesseraJson<QuotaOverview>(['admin', 'quota', 'show'], env);
    assert.deepEqual(shown.overrides.filter((o) => o.scope === 'principal').map((o) => [o.id, o.displayName, o.limits]), [[user.id, 'quota-cli-user', { services: 3, modelStorageBytes: GIB / 2 }]]);
    assert.equal((await tessera(['admin', 'quota', 'delete', '--principal', 'quota-cli-user'], env)).stdout, '');
  });

  test('set --default per scope kind keeps the other kind; delete --default restores the configuration', async () => {
    const principal = await tesseraJson<QuotaOverview['defaults']>(['admin', 'quota', 'set', '--default', '--applies-to', 'principal', '--workers', '10'], env);
    assert.deepEqual([principal.principal.workers, principal.workspace.workers], [10, 64]);
    const both = await tesseraJson<QuotaOverview['defaults']>(['admin', 'quota', 'set', '--default', '--services', '20'], env);
    assert.deepEqual([both.principal.workers, both.principal.services, both.workspace.services, both.workspace.workers], [10, 20, 20, 64]);
    const shown = await tesseraJson<QuotaOverview>(['admin', 'quota', 'show'], env);
    assert.deepEqual(shown.overrides.filter((o) => o.scope === 'default').map((o) => [o.id, o.limits]), [
      ['principal', { workers: 10, services: 20 }],
      ['workspace', { services: 20 }],
    ]);
    assert.deepEqual(shown.configured.principal.workers, 64);
    const removed = await tessera(['admin', 'quota', 'delete', '--default'], env);
    assert.deepEqual([removed.code, removed.stdout], [0, ''], removed.stderr);
    await fails(['admin', 'quota', 'delete', '--default'], 1, /^ERROR: \(ResourceNotFound\)/);
    assert.equal((await tesseraJson<QuotaOverview>(['admin', 'quota', 'show'], env)).defaults.principal.workers, 64);
  });

  test('usage errors exit 2 before any request; server refusals exit 1 with its code', async () => {
    const before = server.requests().length;
    const usage: [string[], RegExp][] = [
      [['admin', 'quota', 'set', ...W], /give at least one of --services/],
      [['admin', 'quota', 'set', '--services', '2'], /give one of --workspace-id/],
      [['admin', 'quota', 'set', '--workspace-id', wsId, '--principal', 'admin', '--services', '2'], /give one of --workspace-id/],
      [['admin', 'quota', 'set', '-w', 'ws-quota', '--services', '2'], /go together/],
      [['admin', 'quota', 'set', ...W, '--services', '-1'], /whole number from 0, 'unlimited', or 'default'/],
      [['admin', 'quota', 'set', ...W, '--workers', 'lots'], /whole number from 0/],
      [['admin', 'quota', 'set', ...W, '--memory-gb', '1.5'], /whole number from 0/],
      [['admin', 'quota', 'set', ...W, '--model-storage-gb', '1', '--model-storage-bytes', '5'], /not both/],
      [['admin', 'quota', 'set', '--default', '--principal', 'admin', '--services', '1'], /--default sets the server-wide default/],
      [['admin', 'quota', 'set', ...W, '--applies-to', 'principal', '--services', '1'], /--applies-to goes with --default only/],
      [['admin', 'quota', 'set', '--default', '--applies-to', 'everyone', '--services', '1'], /Allowed choices are workspace, principal, both/],
      [['admin', 'quota', 'delete'], /give one of --workspace-id/],
      [['admin', 'quota', 'usage'], /give one of --workspace-id/],
      [['admin', 'quota', 'usage', '--workspace-id', 'not/a/scope'], /resource ID/],
    ];
    for (const [args, message] of usage) await fails(args, 2, message);
    assert.equal(server.requests().length, before, 'no request was sent');

    await fails(['admin', 'quota', 'set', ...W, '--services', '1000001'], 1, /^ERROR: \(InvalidParameter\) .*services must be <= 100000/);
    await fails(['admin', 'quota', 'set', '-w', 'ws-none', '-g', 'rg-quota', '--services', '1'], 1, /^ERROR: \(ResourceNotFound\)/);
    await fails(['admin', 'quota', 'usage', '--principal', 'nobody-by-this-name'], 1, /^ERROR: no user, group or service principal matches --principal 'nobody-by-this-name'/);

    const userEnv = { TESSERA_CONFIG_DIR: tempDir('config-user') };
    await tesseraJson(['ad', 'user', 'create', '--user-name', 'quota-plain', '--password', 'Plain-user-no-roles-5'], env);
    await tesseraJson(['login', '--server', server.url, '-u', 'quota-plain', '-p', 'Plain-user-no-roles-5'], userEnv);
    await fails(['admin', 'quota', 'show'], 1, /^ERROR: \(AuthorizationFailed\) .*Tessera\.Quotas\/quotas\/read/, userEnv);
    await fails(['admin', 'quota', 'set', '--principal', 'quota-plain', '--services', '100'], 1, /^ERROR: \(AuthorizationFailed\)/, userEnv);
  });
});
