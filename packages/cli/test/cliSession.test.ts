/**
 * The CLI session: login, silent refresh, logout; how failures read (wrong password, no
 * session, usage errors); and the session lock that keeps concurrent commands from
 * presenting one refresh token twice.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/testServer.js';
import { removeTempDirs, tempDir } from './helpers/tempDirs.js';
import { tessera, tesseraJson } from './helpers/cli.js';
import { freePort } from './helpers/ports.js';
import { claimsOf, expireCachedTokens, postJson, postToken, readSessionFile } from './helpers/tokens.js';
import { TESSERA_CLI_CLIENT_ID } from '@tessera/server';

interface AccessTokenOutput {
  accessToken: string;
  expiresOn: string;
  expires_on: number;
  tenant: string;
  tokenType: string;
}

let server: TestServer;

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await server.close();
  removeTempDirs();
});

/** A fresh config directory with admin signed in. */
async function signedInEnv(): Promise<Record<string, string>> {
  const env = { TESSERA_CONFIG_DIR: path.join(tempDir('config'), 'tessera') };
  await tesseraJson(['login', '--server', server.url, '-u', 'admin', '-p', ADMIN_PASSWORD], env);
  return env;
}

const tokenRequests = () => server.requests().filter((r) => r.path.endsWith('/oauth2/v2.0/token'));

describe('tessera login and account', () => {
  test('login stores the session (0600 in a 0700 directory) and prints the account, never a token', async () => {
    const env = { TESSERA_CONFIG_DIR: path.join(tempDir('config'), 'nested', 'tessera') };
    const result = await tessera(['login', '--server', `${server.url}/`, '-u', 'admin', '-p', ADMIN_PASSWORD], env);
    assert.equal(result.code, 0, result.stderr);
    const account = JSON.parse(result.stdout) as Record<string, string>;
    const session = readSessionFile(env.TESSERA_CONFIG_DIR);
    const { tenantId, subscriptionId } = server.running.bootstrap;
    // As az login prints the account: the subscription in use, and who is signed in.
    assert.deepEqual(account, {
      environmentName: 'Tessera',
      homeTenantId: tenantId,
      id: subscriptionId,
      isDefault: true,
      managedByTenants: [],
      name: 'Tessera',
      server: server.url,
      state: 'Enabled',
      tenantId,
      user: { name: 'admin@tessera.local', type: 'user' },
      objectId: session.objectId,
    });
    assert.ok(!result.stdout.includes(session.refreshToken) && !result.stdout.includes('eyJ'), 'no token is printed');
    assert.equal(fs.statSync(path.join(env.TESSERA_CONFIG_DIR, 'session.json')).mode & 0o777, 0o600);
    assert.equal(fs.statSync(env.TESSERA_CONFIG_DIR).mode & 0o777, 0o700);
    assert.equal(session.clientId, TESSERA_CLI_CLIENT_ID);
    assert.deepEqual(await tesseraJson(['account', 'show'], env), account);
  });

  test('login --tenant takes the tenant id or domain; an unknown tenant is refused by name', async () => {
    const env = { TESSERA_CONFIG_DIR: tempDir('config') };
    const login = await tesseraJson<{ tenantId: string }>(['login', '--server', server.url, '-u', 'admin', '-p', ADMIN_PASSWORD, '--tenant', 'TESSERA.local'], env);
    assert.equal(login.tenantId, server.running.bootstrap.tenantId);
    const unknown = await tessera(['login', '--server', server.url, '-u', 'admin', '-p', ADMIN_PASSWORD, '--tenant', 'contoso.example'], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^ERROR: \(invalid_request\) AADSTS90002: Tenant not found/);
  });

  test('get-access-token for a resource the server does not have fails with the server\'s reason', async () => {
    const env = await signedInEnv();
    const result = await tessera(['account', 'get-access-token', '--resource', 'api://someone-else'], env);
    assert.deepEqual([result.code, result.stdout], [1, '']);
    assert.match(result.stderr, /^ERROR: \(invalid_scope\) AADSTS500011: The resource in the scope is not a resource of this server\./);
  });

  test('get-access-token reuses the cached token without asking the server', async () => {
    const env = await signedInEnv();
    const before = tokenRequests().length;
    const first = await tesseraJson<AccessTokenOutput>(['account', 'get-access-token'], env);
    const second = await tesseraJson<AccessTokenOutput>(['account', 'get-access-token'], env);
    assert.equal(second.accessToken, first.accessToken);
    assert.equal(tokenRequests().length, before);
    assert.equal(first.tokenType, 'Bearer');
    assert.equal(first.tenant, server.running.bootstrap.tenantId);
    // As az prints it: local time with microseconds, the same instant as expires_on.
    assert.match(first.expiresOn, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/);
    assert.equal(new Date(first.expiresOn).getTime(), first.expires_on * 1000);
    assert.ok(first.expires_on > Date.now() / 1000 + 3000);
  });

  test('get-access-token --resource accepts an Azure alias and refreshes silently', async () => {
    const env = await signedInEnv();
    const refreshBefore = readSessionFile(env.TESSERA_CONFIG_DIR).refreshToken;
    const token = await tesseraJson<AccessTokenOutput>(['account', 'get-access-token', '--resource', 'https://management.azure.com/'], env);
    assert.equal(claimsOf(token.accessToken).aud, 'https://management.azure.com/');
    assert.notEqual(readSessionFile(env.TESSERA_CONFIG_DIR).refreshToken, refreshBefore, 'the rotated refresh token was saved');
    const me = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${token.accessToken}` } });
    assert.equal(me.status, 200, 'the alias token works on the management API');
  });

  test('logout revokes the refresh token at the server and deletes the session', async () => {
    const env = await signedInEnv();
    const { refreshToken, tenantId } = readSessionFile(env.TESSERA_CONFIG_DIR);
    const result = await tessera(['logout'], env);
    assert.deepEqual([result.code, result.stdout, result.stderr], [0, '', '']);
    assert.ok(!fs.existsSync(path.join(env.TESSERA_CONFIG_DIR, 'session.json')));

    const oauth = await postToken(server.url, tenantId, { grant_type: 'refresh_token', client_id: TESSERA_CLI_CLIENT_ID, refresh_token: refreshToken, scope: 'api://tessera/management/.default' });
    assert.equal(oauth.status, 400);
    assert.equal(oauth.body.error, 'invalid_grant');
    assert.match(String(oauth.body.error_description), /invalid, expired or revoked/);
    const mlServer = await postJson(server.url, '/login/refreshToken', { refreshToken });
    assert.equal(mlServer.status, 401);
    assert.match(String((mlServer.body.error as { message: string }).message), /invalid, expired or revoked/);

    const again = await tessera(['logout'], env);
    assert.equal(again.code, 0, 'logging out twice is harmless');
    assert.match(again.stderr, /Not signed in/);
  });
});

describe('failures read clearly', () => {
  test('a wrong password exits 1 with the server\'s reason and never echoes the password', async () => {
    const env = { TESSERA_CONFIG_DIR: tempDir('config') };
    const password = 'Wrong-but-Secret-4711';
    const result = await tessera(['login', '--server', server.url, '-u', 'admin', '-p', password], env);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^ERROR: \(invalid_grant\) AADSTS50126: Invalid username or password\./);
    assert.ok(!result.stderr.includes(password));
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    assert.ok(!fs.existsSync(path.join(env.TESSERA_CONFIG_DIR, 'session.json')));
    // Clear the failure so later sign-ins are not slowed.
    await tesseraJson(['login', '--server', server.url, '-u', 'admin', '-p', ADMIN_PASSWORD], env);
  });

  test('without a session, every command says to run tessera login', async () => {
    const env = { TESSERA_CONFIG_DIR: tempDir('config') };
    for (const args of [['account', 'show'], ['account', 'get-access-token'], ['ad', 'user', 'list'], ['keys', 'list']]) {
      const result = await tessera(args, env);
      assert.deepEqual([result.code, result.stdout, result.stderr], [1, '', 'ERROR: not signed in: run tessera login\n'], args.join(' '));
    }
  });

  test('a server that is not running is named, with the cause', async () => {
    const env = await signedInEnv();
    const file = path.join(env.TESSERA_CONFIG_DIR, 'session.json');
    const session = readSessionFile(env.TESSERA_CONFIG_DIR);
    const port = await freePort();
    fs.writeFileSync(file, JSON.stringify({ ...session, server: `http://127.0.0.1:${port}` }));
    const result = await tessera(['ad', 'user', 'list'], env);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `ERROR: Cannot connect to http://127.0.0.1:${port}: connection refused. Is the server running?\n`);
  });

  test('usage errors exit 2 with a one-line reason', async () => {
    const env = await signedInEnv();
    const cases: [string[], RegExp][] = [
      [['ad', 'user', 'frobnicate'], /unknown command 'frobnicate'/],
      [['ad', 'user', 'create', '--password', 'Some-password-123'], /required option '--user-name <name>' not specified/],
      [['ad', 'user', 'list', '--top', '0'], /It must be a whole number from 1 to 999/],
      [['ad', 'user', 'update', '--id', 'admin'], /nothing to update/],
      [['ad', 'user', 'update', '--id', 'admin', '--account-enabled', 'yes'], /It must be 'true' or 'false'/],
      [['account', 'show', '-o', 'xml'], /Allowed choices are json, jsonc, yaml, yamlc, table, tsv, none/],
      [['login', '--server', 'ftp://example.com', '-u', 'a', '-p', 'Some-password-123'], /must start with https:\/\//],
      [['serve', '--port', '70000'], /port must be a whole number from 0 to 65535/],
      [['ad'], /Usage: tessera ad/],
    ];
    for (const [args, reason] of cases) {
      const result = await tessera(args, env);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, reason);
      assert.doesNotMatch(result.stderr, /\n\s+at |Some-password-123/);
    }
  });
});

describe('the session lock', () => {
  test('concurrent get-access-token for different resources with expired tokens all succeed, and the session survives', async () => {
    const env = await signedInEnv();
    expireCachedTokens(env.TESSERA_CONFIG_DIR);
    const resources = ['api://tessera/management', 'api://tessera/workspace', 'https://management.azure.com/', 'https://ml.azure.com'];
    const before = tokenRequests().length;
    const results = await Promise.all(resources.map((r) => tessera(['account', 'get-access-token', '--resource', r], env)));
    for (const [i, result] of results.entries()) {
      assert.equal(result.code, 0, result.stderr);
      assert.equal(claimsOf((JSON.parse(result.stdout) as AccessTokenOutput).accessToken).aud, resources[i]);
    }
    const refreshes = tokenRequests().slice(before);
    assert.deepEqual(
      refreshes.map((r) => r.status),
      resources.map(() => 200),
      'one refresh each, none presenting a spent refresh token',
    );
    // The chain is intact: the saved refresh token still works.
    expireCachedTokens(env.TESSERA_CONFIG_DIR);
    const later = await tessera(['account', 'get-access-token', '--resource', 'api://tessera/workspace'], env);
    assert.equal(later.code, 0, later.stderr);
    assert.ok(!fs.existsSync(path.join(env.TESSERA_CONFIG_DIR, 'session.lock')), 'the lock is released');
  });
});
