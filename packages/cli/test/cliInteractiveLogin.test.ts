/**
 * The interactive forms of `tessera login` against a live server, with Chromium as the
 * user's browser (scripts/test-browser.mjs, run through `$BROWSER` or called directly):
 * the browser sign-in (authorization code + PKCE on a loopback redirect), the device
 * code, the password prompt on a pseudo-terminal (util-linux `script`), and
 * `--service-principal` with a secret and with a certificate; and how each fails.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { chromium, type LaunchOptions } from 'playwright-core';
import { resolveConfig, startServer, TESSERA_CLI_CLIENT_ID, type RunningServer } from '@tessera/server';
import type { Me } from '@tessera/sdk';
import { ADMIN_PASSWORD } from './helpers/testServer.js';
import { removeTempDirs, tempDir } from './helpers/tempDirs.js';
import { TESSERA_BIN, childEnv, tessera, tesseraJson } from './helpers/cli.js';
import { claimsOf, expireCachedTokens } from './helpers/tokens.js';
import { makeCertificate } from './helpers/certificates.js';

/** packages/cli/dist/test → the repository root. */
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const TEST_BROWSER = path.join(ROOT, 'scripts', 'test-browser.mjs');
const testBrowser = (await import(pathToFileURL(TEST_BROWSER).href)) as {
  signInThroughBrowser(url: string, options: { username?: string; password?: string; userCode?: string; tag?: string }): Promise<string>;
  CHROMIUM_LAUNCH: LaunchOptions;
};

/** What login and account show print: az's account fields, plus server and objectId. */
interface AccountOutput {
  id: string;
  server: string;
  tenantId: string;
  user: { name: string; type: string };
  objectId: string;
}

/** The fields of an account that say who signed in where. */
function pick(account: AccountOutput): Pick<AccountOutput, 'server' | 'tenantId' | 'user' | 'objectId'> {
  return { server: account.server, tenantId: account.tenantId, user: account.user, objectId: account.objectId };
}

let server: RunningServer;
let url: string;
let tenantId: string;
let subscriptionId: string;
const logLines: string[] = [];
/** An admin session, for setting things up. */
let adminEnv: Record<string, string>;

before(async () => {
  const logDestination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logLines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      callback();
    },
  });
  // One second between device-code polls, so the tests wait seconds, not minutes.
  const config = resolveConfig({ port: 0, host: '127.0.0.1', data: tempDir('data') }, { TESSERA_ADMIN_PASSWORD: ADMIN_PASSWORD, TESSERA_DEVICE_CODE_INTERVAL_SEC: '1' });
  config.argon2 = { memoryCost: 4096, timeCost: 1, parallelism: 1 };
  server = await startServer(config, { logDestination });
  url = server.url;
  tenantId = server.bootstrap.tenantId;
  subscriptionId = server.bootstrap.subscriptionId;
  adminEnv = { TESSERA_CONFIG_DIR: tempDir('admin') };
  await tesseraJson(['login', '--server', url, '-u', 'admin', '-p', ADMIN_PASSWORD], adminEnv);
});

after(async () => {
  await server.close();
  removeTempDirs();
});

/** POSTs to the v2 token endpoint so far (every grant, every device-code poll). */
const tokenPosts = () =>
  logLines
    .map((l) => JSON.parse(l) as { msg?: string; method?: string; path?: string })
    .filter((l) => l.msg === 'request' && l.method === 'POST' && /\/oauth2\/v2\.0\/token$/.test(l.path ?? '')).length;

/** A `tessera` child that runs while the test plays the user. */
class RunningCli {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(args: string[], env: Record<string, string>) {
    this.child = spawn(process.execPath, [TESSERA_BIN, ...args], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
  }

  /** Waits until stderr matches `pattern`; fails if the command ends first. */
  async waitForStderr(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    let ended = false;
    void this.exited.then(() => (ended = true));
    for (;;) {
      const match = this.stderr.match(pattern);
      if (match) return match;
      if (ended) throw new Error(`tessera ended before printing ${pattern}:\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`tessera did not print ${pattern} within ${timeoutMs} ms:\n${this.stderr}`);
      await sleep(25);
    }
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** `$BROWSER` for the CLI: one command (a shell script) that runs the test browser on its argument and records its exit status. */
function browserCommand(dir: string): { command: string; exitFile: string } {
  const command = path.join(dir, 'browser.sh');
  const exitFile = path.join(dir, 'browser-exit');
  fs.writeFileSync(command, `#!/bin/sh\n"${process.execPath}" "${TEST_BROWSER}" "$1" 2>"${dir}/browser-stderr"\necho $? > "${exitFile}"\n`, { mode: 0o755 });
  return { command, exitFile };
}

async function waitForFile(file: string, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') === '') {
    if (Date.now() > deadline) throw new Error(`${file} did not appear within ${timeoutMs} ms`);
    await sleep(50);
  }
  return fs.readFileSync(file, 'utf8').trim();
}

const sessionFile = (env: Record<string, string>) => path.join(env.TESSERA_CONFIG_DIR!, 'session.json');
const readSession = (env: Record<string, string>) => JSON.parse(fs.readFileSync(sessionFile(env), 'utf8')) as Record<string, unknown>;
const AUTHORIZE_URL = /(http:\/\/127\.0\.0\.1:\d+\/organizations\/oauth2\/v2\.0\/authorize\?\S+)/;
/** What the SDK prints when no browser could be opened. */
const PRINTED_URL = new RegExp(`To sign in, open this page in a browser on this machine:\\n\\s+${AUTHORIZE_URL.source}`);

async function me(token: string): Promise<Me> {
  const response = await fetch(`${url}/me`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200);
  return (await response.json()) as Me;
}

describe('tessera login in the browser', () => {
  test('with no -u it opens $BROWSER at the authorize page (PKCE S256, loopback redirect), and keeps the session as the password login does', async () => {
    const env = { TESSERA_CONFIG_DIR: tempDir('config') };
    const browser = browserCommand(tempDir('browser'));
    const result = await tessera(['login', '--server', url], {
      ...env,
      BROWSER: browser.command,
      TESSERA_TEST_BROWSER_USER: 'admin',
      TESSERA_TEST_BROWSER_PASSWORD: ADMIN_PASSWORD,
      TESSERA_TEST_BROWSER_TAG: 'cli-browser-login',
    });
    assert.equal(result.code, 0, result.stderr);
    const session = readSession(env);
    assert.deepEqual(pick(JSON.parse(result.stdout) as AccountOutput), { server: url, tenantId, user: { name: 'admin@tessera.local', type: 'user' }, objectId: session.objectId });
    assert.deepEqual([session.clientId, typeof session.refreshToken], [TESSERA_CLI_CLIENT_ID, 'string']);
    assert.equal(fs.statSync(sessionFile(env)).mode & 0o777, 0o600);
    assert.ok(!result.stdout.includes(String(session.refreshToken)) && !result.stdout.includes('eyJ'), 'no token is printed');
    assert.equal(await waitForFile(browser.exitFile), '0', 'the browser reached the loopback redirect');

    const opened = new URL(result.stderr.match(new RegExp(`Opening a web browser at ${AUTHORIZE_URL.source}`))![1]!);
    const q = opened.searchParams;
    assert.deepEqual([q.get('client_id'), q.get('response_type'), q.get('code_challenge_method'), q.get('response_mode')], [TESSERA_CLI_CLIENT_ID, 'code', 'S256', 'query']);
    assert.match(q.get('code_challenge')!, /^[A-Za-z0-9_-]{43}$/);
    assert.match(q.get('state')!, /^[A-Za-z0-9_-]{43}$/);
    assert.match(q.get('redirect_uri')!, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    await assert.rejects(fetch(q.get('redirect_uri')!), 'the loopback listener is gone once the sign-in is done');

    const token = await tesseraJson<{ accessToken: string }>(['account', 'get-access-token'], env);
    assert.equal((await me(token.accessToken)).userName, 'admin');
  });

  test('when no browser can be opened, the URL is printed to stderr and the command waits for the sign-in there', async () => {
    const env = { TESSERA_CONFIG_DIR: tempDir('config') };
    const cli = new RunningCli(['login', '--server', url], { ...env, BROWSER: path.join(tempDir('nobrowser'), 'no-such-browser') });
    try {
      const [, printed] = await cli.waitForStderr(PRINTED_URL);
      assert.match(cli.stderr, /Could not open a web browser \(.*no-such-browser was not found\)/);
      await testBrowser.signInThroughBrowser(printed!, { username: 'admin', password: ADMIN_PASSWORD, tag: 'cli-printed-url' });
      assert.equal(await cli.exited, 0, cli.stderr);
      assert.equal((JSON.parse(cli.stdout) as AccountOutput).user.name, 'admin@tessera.local');
    } finally {
      cli.kill();
    }
  });

  test('a redirect with another state is answered 400 and ignored, repeating nothing it carried; the real one still signs in', async () => {
    const env = { TESSERA_CONFIG_DIR: tempDir('config') };
    const cli = new RunningCli(['login', '--server', url], { ...env, BROWSER: 'false' });
    try {
      const [, printed] = await cli.waitForStderr(PRINTED_URL);
      const authorize = new URL(printed!);
      const redirect = authorize.searchParams.get('redirect_uri')!;
      const issuer = `${url}/organizations/v2.0`;
      const tokenPostsBefore = tokenPosts();

      const forgeries: Array<Record<string, string>> = [
        { code: 'forged-code', state: '<script>alert(1)</script>', iss: issuer },
        { code: 'forged-code', iss: issuer },
        { code: 'forged-code', state: `${authorize.searchParams.get('state')}x`, iss: issuer },
      ];
      for (const forged of forgeries) {
        const response = await fetch(`${redirect}?${new URLSearchParams(forged)}`);
        const text = await response.text();
        assert.equal(response.status, 400);
        assert.match(text, /does not belong to the sign-in/);
        assert.ok(!text.includes('<script>alert') && !text.includes('forged-code'), 'nothing from the request is repeated');
        assert.match(response.headers.get('content-security-policy')!, /default-src 'none'/);
      }
      assert.equal((await fetch(`${redirect.replace(/\/$/, '')}/favicon.ico`)).status, 404);
      assert.equal(tokenPosts(), tokenPostsBefore, 'a forged code is never redeemed');

      await testBrowser.signInThroughBrowser(printed!, { username: 'admin', password: ADMIN_PASSWORD, tag: 'cli-wrong-state' });
      assert.equal(await cli.exited, 0, cli.stderr);
      assert.equal(tokenPosts(), tokenPostsBefore + 1, 'only the real code was redeemed');
    } finally {
      cli.kill();
    }
  });

  test("a redirect that names another issuer (iss, RFC 9207) fails the sign-in; the code is not redeemed and nothing is stored", async () => {
    const env = { TESSERA_CONFIG_DIR: tempDir('config') };
    const cli = new RunningCli(['login', '--server', url], { ...env, BROWSER: 'false' });
    try {
      const [, printed] = await cli.waitForStderr(PRINTED_URL);
      const authorize = new URL(printed!);
      const tokenPostsBefore = tokenPosts();
      const params = new URLSearchParams({ code: 'mixed-up', state: authorize.searchParams.get('state')!, iss: 'https://idp.example/organizations/v2.0' });
      const response = await fetch(`${authorize.searchParams.get('redirect_uri')}?${params}`);
      assert.equal(response.status, 400);
      assert.match(await response.text(), /Sign-in failed/);
      assert.equal(await cli.exited, 1);
      assert.match(cli.stderr, /^ERROR: The sign-in response names another issuer than http:\/\/127\.0\.0\.1:\d+\/organizations\/v2\.0: refused/m);
      assert.equal(tokenPosts(), tokenPostsBefore);
      assert.ok(!fs.existsSync(sessionFile(env)));
    } finally {
      cli.kill();
    }
  });

  test("cancelling on the sign-in page ends the command with the server's access_denied", async () => {
    const env = { TESSERA_CONFIG_DIR: tempDir('config') };
    const cli = new RunningCli(['login', '--server', url], { ...env, BROWSER: 'false' });
    const browser = await chromium.launch(testBrowser.CHROMIUM_LAUNCH);
    try {
      const [, printed] = await cli.waitForStderr(PRINTED_URL);
      const page = await browser.newPage();
      await page.goto(printed!);
      await Promise.all([page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/\?/), page.click('button[value=cancel]')]);
      assert.match(await page.locator('body').innerText(), /Sign-in failed/);
      assert.equal(await cli.exited, 1);
      assert.match(cli.stderr, /^ERROR: \(access_denied\) /m);
      assert.ok(!fs.existsSync(sessionFile(env)));
    } finally {
      await browser.close();
      cli.kill();
    }
  });

  test('a browser that never comes back times out with a clear error (--timeout)', async () => {
    const env = { TESSERA_CONFIG_DIR: tempDir('config') };
    const started = Date.now();
    const result = await tessera(['login', '--server', url, '--timeout', '2'], { ...env, BROWSER: 'true' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^ERROR: The sign-in in the browser did not finish within 2 s\. Try again, or sign in with a code on another device \(tessera login --use-device-code\)\.$/m);
    // The 2 s asked for, not the 300 s default (with room for a slow start on a loaded machine).
    assert.ok(Date.now() - started < 60_000);
    assert.ok(!fs.existsSync(sessionFile(env)));
  });
});

describe('tessera login --use-device-code', () => {
  test("prints the server's message to stderr, polls no faster than the interval, and signs in once the code is approved in a browser", async () => {
    const env = { TESSERA_CONFIG_DIR: tempDir('config') };
    const cli = new RunningCli(['login', '--server', url, '--use-device-code'], env);
    try {
      const [message, verificationUri, userCode] = await cli.waitForStderr(/To sign in, use a web browser to open the page (\S+) and enter the code ([A-Z]{9}) to authenticate\./);
      assert.equal(cli.stderr, `${message}\n`, 'the message, and nothing else');
      const started = Date.now();
      const pollsBefore = tokenPosts();
      await testBrowser.signInThroughBrowser(verificationUri!, { username: 'admin', password: ADMIN_PASSWORD, userCode, tag: 'cli-device-code' });
      assert.equal(await cli.exited, 0, cli.stderr);
      const seconds = (Date.now() - started) / 1000;
      const polls = tokenPosts() - pollsBefore;
      assert.ok(polls >= 1 && polls <= Math.ceil(seconds) + 1, `${polls} polls in ${seconds} s at a 1 s interval`);
      const session = readSession(env);
      assert.deepEqual(pick(JSON.parse(cli.stdout) as AccountOutput), { server: url, tenantId, user: { name: 'admin@tessera.local', type: 'user' }, objectId: session.objectId });
      assert.equal(session.clientId, TESSERA_CLI_CLIENT_ID);
      const token = await tesseraJson<{ accessToken: string }>(['account', 'get-access-token'], env);
      assert.equal((await me(token.accessToken)).userName, 'admin');
    } finally {
      cli.kill();
    }
  });

  test('a code refused on the device-login page ends the command with authorization_declined, and nothing is stored', async () => {
    const env = { TESSERA_CONFIG_DIR: tempDir('config') };
    const cli = new RunningCli(['login', '--server', url, '--use-device-code'], env);
    const browser = await chromium.launch(testBrowser.CHROMIUM_LAUNCH);
    try {
      const [, verificationUri, userCode] = await cli.waitForStderr(/open the page (\S+) and enter the code ([A-Z]{9})/);
      const page = await browser.newPage();
      await page.goto(verificationUri!);
      await page.fill('input[name=user_code]', userCode!);
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      await Promise.all([page.waitForNavigation(), page.click('button[value=cancel]')]);
      assert.match(await page.locator('main').innerText(), /refused/);
      assert.equal(await cli.exited, 1);
      assert.match(cli.stderr, /^ERROR: \(authorization_declined\) AADSTS70000: The user refused the sign-in request\./m);
      assert.ok(!fs.existsSync(sessionFile(env)));
    } finally {
      await browser.close();
      cli.kill();
    }
  });
});

/** Runs `tessera …args` on a pseudo-terminal (util-linux `script`); `typed` is sent once `prompt` appears. */
function onTerminal(args: string[], env: Record<string, string>, prompt: string, typed: string): Promise<{ code: number | null; output: string }> {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, TESSERA_BIN, ...args].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: childEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let sent = false;
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (!sent && output.includes(prompt)) {
        sent = true;
        child.stdin.write(typed);
      }
    });
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output: output.replace(/\r\n/g, '\n') }));
  });
}

describe('tessera login -u NAME without -p', () => {
  test('prompts for the password on the terminal without echoing it (backspace works), then signs in', async () => {
    const env = { TESSERA_CONFIG_DIR: tempDir('config') };
    // A typo, corrected with backspace, then Enter.
    const typed = `${ADMIN_PASSWORD.slice(0, 6)}#\u007f${ADMIN_PASSWORD.slice(6)}\r`;
    const { code, output } = await onTerminal(['login', '--server', url, '-u', 'admin'], env, 'Password: ', typed);
    assert.equal(code, 0, output);
    assert.ok(output.startsWith('Password: \n'), output);
    assert.ok(!output.includes(ADMIN_PASSWORD.slice(0, 6)) && !output.includes('*'), 'nothing typed is echoed, not even as stars');
    assert.equal((JSON.parse(output.slice('Password: \n'.length)) as AccountOutput).user.name, 'admin@tessera.local');
    assert.ok(fs.existsSync(sessionFile(env)));
  });

  test('Ctrl-C at the prompt cancels without signing in', async () => {
    const env = { TESSERA_CONFIG_DIR: tempDir('config') };
    const { code, output } = await onTerminal(['login', '--server', url, '-u', 'admin'], env, 'Password: ', 'abc\u0003');
    assert.equal(code, 1);
    assert.match(output, /ERROR: the password prompt was cancelled/);
    assert.ok(!fs.existsSync(sessionFile(env)));
  });

  test('without a terminal and without -p it is a usage error (exit 2), and nothing is read', async () => {
    const env = { TESSERA_CONFIG_DIR: tempDir('config') };
    const result = await tessera(['login', '--server', url, '-u', 'admin'], env);
    assert.deepEqual([result.code, result.stdout], [2, '']);
    assert.match(result.stderr, /^ERROR: -p PASSWORD is required when the standard input is not a terminal/);
  });
});

describe('tessera login: usage errors', () => {
  test('options that do not go together exit 2 naming the rule, before anything is sent', async () => {
    const env = { TESSERA_CONFIG_DIR: tempDir('config') };
    const before = tokenPosts();
    const cases: Array<[string[], RegExp]> = [
      [['--use-device-code', '-u', 'admin'], /--use-device-code signs in on the device-login page: leave out -u and -p/],
      [['--use-device-code', '--service-principal', '-u', 'x'], /--use-device-code and --service-principal cannot be combined/],
      [['--service-principal', '-u', 'app'], /--service-principal needs --tenant/],
      [['--service-principal', '--tenant', 't'], /--service-principal needs -u APPID/],
      [['--certificate', '/tmp/x.pem'], /--certificate is for --service-principal/],
      [['-p', 'secret-in-argv'], /-p needs -u NAME/],
      [['--timeout', '0'], /It must be a whole number of seconds from 1 to 3600/],
    ];
    for (const [args, pattern] of cases) {
      const result = await tessera(['login', '--server', url, ...args], env);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, pattern);
    }
    const noServer = await tessera(['login', '-u', 'admin', '-p', ADMIN_PASSWORD], { TESSERA_CONFIG_DIR: tempDir('config') });
    assert.equal(noServer.code, 2);
    assert.match(noServer.stderr, /--server URL is required: there is no earlier session/);
    assert.equal(tokenPosts(), before);
  });

  test('without --server, the current session\'s server is used', async () => {
    const env = { TESSERA_CONFIG_DIR: tempDir('config') };
    await tesseraJson(['login', '--server', url, '-u', 'admin', '-p', ADMIN_PASSWORD], env);
    const again = await tesseraJson<AccountOutput>(['login', '-u', 'admin', '-p', ADMIN_PASSWORD], env);
    assert.equal(again.server, url);
  });
});

describe('tessera login --service-principal', () => {
  async function principal(name: string): Promise<{ appId: string; password: string }> {
    return tesseraJson<{ appId: string; password: string }>(['ad', 'sp', 'create-for-rbac', '--name', name, '--role', 'Reader', '--scopes', `/subscriptions/${subscriptionId}`], adminEnv);
  }

  test("with a secret: prints the principal's account, other commands use the session, and logout just forgets it", async () => {
    await tesseraJson(['group', 'create', '-n', 'rg-sp-login', '-l', 'local'], adminEnv);
    const sp = await principal('sp-login-secret');
    const env = { TESSERA_CONFIG_DIR: tempDir('config') };
    const result = await tessera(['login', '--server', url, '--service-principal', '-u', sp.appId, '-p', sp.password, '--tenant', 'tessera.local'], env);
    assert.equal(result.code, 0, result.stderr);
    const account = JSON.parse(result.stdout) as AccountOutput;
    assert.deepEqual([account.server, account.tenantId, account.user], [url, tenantId, { name: sp.appId, type: 'servicePrincipal' }]);
    assert.ok(!result.stdout.includes(sp.password) && !result.stderr.includes(sp.password), 'the secret is never printed');
    assert.deepEqual(await tesseraJson(['account', 'show'], env), account);

    // The secret is kept as az keeps it: in the session file, which only its owner can read.
    const session = readSession(env);
    assert.deepEqual([session.kind, session.appId, session.objectId, session.secret], ['servicePrincipal', sp.appId, account.objectId, sp.password]);
    assert.equal(fs.statSync(sessionFile(env)).mode & 0o777, 0o600);
    assert.equal(fs.statSync(env.TESSERA_CONFIG_DIR).mode & 0o777, 0o700);

    const before = tokenPosts();
    const token = await tesseraJson<{ accessToken: string; tenant: string }>(['account', 'get-access-token'], env);
    assert.equal(tokenPosts(), before, "login's token is reused");
    const who = await me(token.accessToken);
    assert.deepEqual([who.principalType, who.clientId, who.objectId], ['ServicePrincipal', sp.appId, account.objectId]);
    const groups = await tesseraJson<Array<{ name: string }>>(['group', 'list'], env);
    assert.ok(groups.some((g) => g.name === 'rg-sp-login'), 'a management command runs as the principal');
    const workspace = await tesseraJson<{ accessToken: string }>(['account', 'get-access-token', '--resource', 'api://tessera/workspace'], env);
    assert.equal(claimsOf(workspace.accessToken).aud, 'api://tessera/workspace', 'a token for another resource, asked with the secret');

    const out = await tessera(['logout'], env);
    assert.deepEqual([out.code, out.stdout, out.stderr], [0, '', '']);
    assert.ok(!fs.existsSync(sessionFile(env)));
  });

  test("with a certificate: the PEM's path is kept, never the key, and new tokens are signed with it", async () => {
    const sp = await principal('sp-login-cert');
    const dir = tempDir('certs');
    const cert = makeCertificate('sp-login-cert');
    fs.writeFileSync(path.join(dir, 'cert.pem'), cert.certPem);
    await tesseraJson(['ad', 'sp', 'credential', 'reset', '--id', sp.appId, '--cert-file', path.join(dir, 'cert.pem')], adminEnv);
    const pem = path.join(dir, 'sp.pem');
    fs.writeFileSync(pem, cert.combinedPem, { mode: 0o600 });

    const env = { TESSERA_CONFIG_DIR: tempDir('config') };
    const account = await tesseraJson<AccountOutput>(['login', '--server', url, '--service-principal', '-u', sp.appId, '--certificate', pem, '--tenant', tenantId], env);
    assert.deepEqual([account.user, account.tenantId], [{ name: sp.appId, type: 'servicePrincipal' }, tenantId]);
    const text = fs.readFileSync(sessionFile(env), 'utf8');
    assert.equal((JSON.parse(text) as { certificateFile: string }).certificateFile, pem);
    assert.ok(!text.includes('PRIVATE KEY') && !text.includes('"secret"'));

    expireCachedTokens(env.TESSERA_CONFIG_DIR);
    const before = tokenPosts();
    const token = await tesseraJson<{ accessToken: string }>(['account', 'get-access-token'], env);
    assert.equal(tokenPosts(), before + 1, 'a new token, asked with a fresh client assertion');
    assert.equal((await me(token.accessToken)).clientId, sp.appId);

    fs.rmSync(pem);
    expireCachedTokens(env.TESSERA_CONFIG_DIR);
    const gone = await tessera(['account', 'get-access-token'], env);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /^ERROR: the service principal's certificate file .*sp\.pem cannot be read \(ENOENT\): run tessera login --service-principal again/);
  });

  test('a wrong secret is refused with the server\'s reason, never echoed, and nothing is stored', async () => {
    const sp = await principal('sp-login-wrong');
    const env = { TESSERA_CONFIG_DIR: tempDir('config') };
    const wrong = 'tscs_not-the-right-secret-0123456789';
    const result = await tessera(['login', '--server', url, '--service-principal', '-u', sp.appId, '-p', wrong, '--tenant', tenantId], env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^ERROR: \(invalid_client\) /);
    assert.ok(!result.stderr.includes(wrong));
    assert.ok(!fs.existsSync(sessionFile(env)));
  });

  test('without -p on a terminal it prompts for the secret; without a terminal it is a usage error', async () => {
    const sp = await principal('sp-login-prompt');
    const env = { TESSERA_CONFIG_DIR: tempDir('config') };
    const args = ['login', '--server', url, '--service-principal', '-u', sp.appId, '--tenant', tenantId];
    const noTerminal = await tessera(args, env);
    assert.equal(noTerminal.code, 2);
    assert.match(noTerminal.stderr, /^ERROR: -p SECRET \(or --certificate FILE\) is required when the standard input is not a terminal/);
    const { code, output } = await onTerminal(args, env, 'Client secret: ', `${sp.password}\r`);
    assert.equal(code, 0, output);
    assert.ok(!output.includes(sp.password));
    assert.equal(readSession(env).kind, 'servicePrincipal');
  });
});
