/**
 * The SDK's CliAuthentication against a live server: it reads the CLI's session, reuses
 * cached tokens without a request, refreshes (saving the rotated refresh token) when a
 * token is due, takes turns with other processes under the session lock, and says
 * "run tessera login" when there is no usable session.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { RESOURCE_URIS, TESSERA_CLI_CLIENT_ID as SERVER_CLI_CLIENT_ID } from '@tessera/server';
import { Audience, CliAuthentication, Directory, NotSignedInError, TESSERA_CLI_CLIENT_ID, TesseraClient, loginWithPassword, logout, lockPath } from '@tessera/sdk';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/testServer.js';
import { removeTempDirs, tempDir } from './helpers/tempDirs.js';
import { claimsOf, expireCachedTokens, postToken, readSessionFile } from './helpers/tokens.js';

let server: TestServer;

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await server.close();
  removeTempDirs();
});

const tokenRequests = () => server.requests().filter((r) => r.path.endsWith('/oauth2/v2.0/token'));

/** A config directory with admin signed in through the SDK. */
async function signedIn(): Promise<string> {
  const configDir = tempDir('sdk-config');
  await loginWithPassword({ server: server.url, username: 'admin', password: ADMIN_PASSWORD, configDir });
  return configDir;
}

describe('SDK constants', () => {
  test("the SDK's audiences and client id are the server's", () => {
    assert.deepEqual({ management: Audience.ControlPlane, workspace: Audience.Workspace }, RESOURCE_URIS);
    assert.equal(TESSERA_CLI_CLIENT_ID, SERVER_CLI_CLIENT_ID);
  });
});

describe('CliAuthentication', () => {
  test('reads the session and reuses its cached token: a second getToken makes no request', async () => {
    const configDir = await signedIn();
    const before = tokenRequests().length;
    const auth = new CliAuthentication({ configDir });
    const first = await auth.getToken();
    assert.equal(first.token, readSessionFile(configDir).tokens[Audience.ControlPlane]!.accessToken);
    assert.equal((await auth.getToken()).token, first.token);
    assert.equal((await new CliAuthentication({ configDir }).getToken()).token, first.token, 'another process reuses it from the file');
    assert.equal(tokenRequests().length, before, 'no token request at all');
    assert.deepEqual(await auth.account(), { server: server.url, tenantId: server.running.bootstrap.tenantId, user: 'admin@tessera.local', objectId: readSessionFile(configDir).objectId });
  });

  test('works with TesseraClient for real API calls', async () => {
    const auth = new CliAuthentication({ configDir: await signedIn() });
    const client = new TesseraClient(server.url, auth);
    const me = await client.me();
    assert.deepEqual([me.userName, me.clientId, me.principalType], ['admin', TESSERA_CLI_CLIENT_ID, 'User']);
    assert.ok((await new Directory(client).listUsers()).some((u) => u.userName === 'admin'));
  });

  test('another resource is fetched with the refresh token, and the rotated refresh token is saved', async () => {
    const configDir = await signedIn();
    const spent = readSessionFile(configDir).refreshToken;
    const token = await new CliAuthentication({ configDir }).getToken(Audience.Workspace);
    assert.equal(claimsOf(token.token).aud, Audience.Workspace);
    const session = readSessionFile(configDir);
    assert.notEqual(session.refreshToken, spent);
    assert.equal(session.tokens[Audience.Workspace]!.accessToken, token.token);
    assert.ok(session.tokens[Audience.ControlPlane], 'the other cached token is kept');
  });

  test('a cached token within 5 minutes of expiry is renewed', async () => {
    const configDir = await signedIn();
    const cached = readSessionFile(configDir).tokens[Audience.ControlPlane]!;
    const later = new CliAuthentication({ configDir, clock: () => (cached.expiresOn - 299) * 1000 });
    const renewed = await later.getToken();
    assert.notEqual(renewed.token, cached.accessToken);
    assert.equal(readSessionFile(configDir).tokens[Audience.ControlPlane]!.accessToken, renewed.token);
  });

  test('two credentials refreshing at once take turns under the session lock, and the session survives', async () => {
    const configDir = await signedIn();
    expireCachedTokens(configDir);
    const before = tokenRequests().length;
    const [a, b] = [new CliAuthentication({ configDir }), new CliAuthentication({ configDir })];
    const [management, workspace] = await Promise.all([a.getToken(Audience.ControlPlane), b.getToken(Audience.Workspace)]);
    assert.equal(claimsOf(management.token).aud, Audience.ControlPlane);
    assert.equal(claimsOf(workspace.token).aud, Audience.Workspace);
    assert.deepEqual(tokenRequests().slice(before).map((r) => r.status), [200, 200]);
    const { refreshToken, tenantId } = readSessionFile(configDir);
    const check = await postToken(server.url, tenantId, { grant_type: 'refresh_token', client_id: TESSERA_CLI_CLIENT_ID, refresh_token: refreshToken, scope: `${Audience.ControlPlane}/.default` });
    assert.equal(check.status, 200, 'the saved refresh token is the live one');
  });

  test('a stale lock left by a crashed process does not block a refresh', async () => {
    const configDir = await signedIn();
    expireCachedTokens(configDir);
    fs.writeFileSync(lockPath(configDir), '424242 crashed\n');
    const past = new Date(Date.now() - 60_000);
    fs.utimesSync(lockPath(configDir), past, past);
    assert.ok((await new CliAuthentication({ configDir }).getToken()).token.startsWith('eyJ'));
  });

  test('without a session: NotSignedInError, "not signed in: run tessera login"', async () => {
    const auth = new CliAuthentication({ configDir: path.join(tempDir('sdk-config'), 'none') });
    await assert.rejects(auth.getToken(), (err: unknown) => err instanceof NotSignedInError && err.message === 'not signed in: run tessera login');
    await assert.rejects(auth.account(), NotSignedInError);
  });

  test('a revoked session says to sign in again', async () => {
    const configDir = await signedIn();
    const copy = readSessionFile(configDir);
    assert.deepEqual(await logout({ configDir }), { signedOut: true });
    fs.writeFileSync(path.join(configDir, 'session.json'), JSON.stringify(copy), { mode: 0o600 });
    expireCachedTokens(configDir);
    await assert.rejects(new CliAuthentication({ configDir }).getToken(), (err: unknown) => {
      assert.ok(err instanceof NotSignedInError);
      assert.match(err.message, /^the session has expired or was revoked \(.*\): run tessera login$/);
      assert.ok(!err.message.includes(copy.refreshToken));
      return true;
    });
  });

  test('a second login revokes the session it replaces', async () => {
    const configDir = await signedIn();
    const { refreshToken: replaced, tenantId } = readSessionFile(configDir);
    await loginWithPassword({ server: server.url, username: 'admin', password: ADMIN_PASSWORD, configDir });
    const check = await postToken(server.url, tenantId, { grant_type: 'refresh_token', client_id: TESSERA_CLI_CLIENT_ID, refresh_token: replaced, scope: `${Audience.ControlPlane}/.default` });
    assert.equal(check.status, 400);
    assert.match(String(check.body.error_description), /invalid, expired or revoked/);
  });

  test('sign-ins for one account at once all succeed: a 429 "another sign-in is being checked" is waited out', async () => {
    const before = tokenRequests().length;
    const dirs = [tempDir('sdk-config'), tempDir('sdk-config'), tempDir('sdk-config')];
    await Promise.all(dirs.map((configDir) => loginWithPassword({ server: server.url, username: 'admin', password: ADMIN_PASSWORD, configDir })));
    const sessions = dirs.map(readSessionFile);
    assert.equal(new Set(sessions.map((s) => s.objectId)).size, 1, 'all three are the admin');
    assert.equal(new Set(sessions.map((s) => s.refreshToken)).size, 3, 'each its own session');
    const answers = tokenRequests().slice(before).map((r) => r.status);
    // The server checks one password per account at a time: the others were told to wait.
    assert.ok(answers.includes(429), `the server refused none of them: ${answers.join(' ')}`);
    assert.equal(answers.filter((s) => s === 200).length, 3);
  });
});
