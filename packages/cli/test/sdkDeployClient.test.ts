/**
 * DeployClient with Machine Learning Server's sign-in against a live server: `/login`,
 * `me()`, rotation through `/login/refreshToken` before expiry, `logout()`, and how bad
 * credentials fail.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ML_SERVER_CLIENT_ID } from '@tessera/server';
import { CliAuthentication, DeployClient, TESSERA_CLI_CLIENT_ID, TesseraApiError, loginWithPassword, type User } from '@tessera/sdk';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/testServer.js';
import { removeTempDirs, tempDir } from './helpers/tempDirs.js';
import { recordHttp, type RecordedCall } from './helpers/httpRecorder.js';
import { postJson } from './helpers/tokens.js';

let server: TestServer;

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await server.close();
  removeTempDirs();
});

/** The refresh tokens the server handed out in the recorded answers, oldest first. */
function refreshTokensIn(calls: RecordedCall[]): string[] {
  return calls.filter((c) => c.status === 200 && c.path.startsWith('/login')).map((c) => (c.body as { refresh_token: string }).refresh_token);
}

describe('DeployClient (use: MLServer)', () => {
  test('signs in with /login and me() shows the user', async () => {
    const recorder = recordHttp();
    try {
      const client = new DeployClient(server.url, { use: 'MLServer', auth: ['admin', ADMIN_PASSWORD] });
      const me = await client.me();
      assert.deepEqual([me.userName, me.clientId, me.tenantId], ['admin', ML_SERVER_CLIENT_ID, server.running.bootstrap.tenantId]);
      const users = await client.request<{ value: User[] }>('GET', '/v1.0/users');
      assert.ok(users.value.some((u) => u.userName === 'admin'));
      assert.deepEqual(recorder.calls.map((c) => `${c.method} ${c.path} ${c.status}`), ['POST /login 200', 'GET /me 200', 'GET /v1.0/users 200'], 'one sign-in serves both calls');
    } finally {
      recorder.restore();
    }
  });

  test('refreshes through /login/refreshToken before expiry, and the old refresh token stops working', async () => {
    let now = Date.now();
    const recorder = recordHttp();
    try {
      const client = new DeployClient(server.url, { use: 'MLServer', auth: ['admin', ADMIN_PASSWORD], clock: () => now });
      const first = await client.getToken();
      now = (first.expiresOn - 200) * 1000; // inside the 5-minute renewal window
      const second = await client.getToken();
      assert.notEqual(second.token, first.token);
      assert.deepEqual(recorder.calls.map((c) => `${c.path} ${c.status}`), ['/login 200', '/login/refreshToken 200']);
      assert.equal((await client.me()).userName, 'admin', 'the new token works');

      const [original, rotated] = refreshTokensIn(recorder.calls);
      assert.notEqual(original, rotated);
      const reuse = await postJson(server.url, '/login/refreshToken', { refreshToken: original });
      assert.equal(reuse.status, 401, 'a spent refresh token is refused');
    } finally {
      recorder.restore();
    }
  });

  test('when its refresh token has been revoked, it signs in again with the password', async () => {
    let now = Date.now();
    const recorder = recordHttp();
    try {
      const client = new DeployClient(server.url, { use: 'MLServer', auth: ['admin', ADMIN_PASSWORD], clock: () => now });
      const first = await client.getToken();
      const [refreshToken] = refreshTokensIn(recorder.calls);
      await fetch(`${server.url}/login/refreshToken?refreshToken=${encodeURIComponent(refreshToken!)}`, { method: 'DELETE' });
      now = first.expiresOn * 1000;
      assert.notEqual((await client.getToken()).token, first.token);
      // (The revocation above is the test's own request, not the client's.)
      assert.deepEqual(recorder.calls.map((c) => `${c.path} ${c.status}`), ['/login 200', '/login/refreshToken 401', '/login 200']);
    } finally {
      recorder.restore();
    }
  });

  test('logout revokes the refresh token at the server', async () => {
    const recorder = recordHttp();
    try {
      const client = new DeployClient(server.url, { use: 'MLServer', auth: ['admin', ADMIN_PASSWORD] });
      await client.me();
      const [refreshToken] = refreshTokensIn(recorder.calls);
      await client.logout();
      assert.equal(recorder.calls.at(-1)!.method, 'DELETE');
      assert.equal(recorder.calls.at(-1)!.status, 204);
      assert.equal((await postJson(server.url, '/login/refreshToken', { refreshToken })).status, 401);
    } finally {
      recorder.restore();
    }
  });

  test('bad credentials reject with TesseraApiError 401 AuthenticationFailed, without the password', async () => {
    const password = 'Guessed-wrong-2024';
    const client = new DeployClient(server.url, { use: 'MLServer', auth: ['nobody', password] });
    await assert.rejects(client.me(), (err: unknown) => {
      assert.ok(err instanceof TesseraApiError);
      assert.deepEqual([err.status, err.code, err.message], [401, 'AuthenticationFailed', 'Invalid username or password.']);
      assert.match(err.requestId ?? '', /^[0-9a-f-]{36}$/);
      assert.ok(!String(err.stack).includes(password));
      return true;
    });
  });

  test('accepts any AbstractAuthentication, such as the CLI session', async () => {
    const configDir = tempDir('deploy-config');
    await loginWithPassword({ server: server.url, username: 'admin', password: ADMIN_PASSWORD, configDir });
    const client = new DeployClient(server.url, { use: 'MLServer', auth: new CliAuthentication({ configDir }) });
    assert.equal((await client.me()).clientId, TESSERA_CLI_CLIENT_ID);
  });

  test('refuses an unknown flavour or malformed credentials up front', () => {
    assert.throws(() => new DeployClient(server.url, { use: 'AzureML' as 'MLServer', auth: ['a', 'b'] }), /use: 'MLServer'/);
    assert.throws(() => new DeployClient(server.url, { use: 'MLServer', auth: ['only-a-name'] as unknown as [string, string] }), /auth must be/);
    assert.throws(() => new DeployClient('ftp://example.com', { use: 'MLServer', auth: ['a', 'b'] }), /https:\/\//);
  });
});
