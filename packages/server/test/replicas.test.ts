/**
 * Several replicas on one PostgreSQL database, as the README's "Several replicas" section
 * promises: any replica verifies any replica's tokens, a refresh token rotates anywhere,
 * a rotated signing key reaches the others, and a disabled account or a removed group
 * membership stops on every replica within one second.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { call, headerOf, startTestServer, type LoginPair, type TestServer } from './helpers.js';

const PUBLIC_URL = 'https://ml.example.test';

/** Where a replica really listens (its public URL is the load balancer's, shared by both). */
function direct(server: TestServer): string {
  const address = server.running.app.server.address();
  if (!address || typeof address !== 'object') throw new Error('not listening');
  return `http://127.0.0.1:${address.port}`;
}

async function loginAt(url: string, username: string, password: string): Promise<LoginPair> {
  const res = await call<LoginPair>(`${url}/login`, { body: { username, password } });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

describe('two replicas sharing PostgreSQL', () => {
  let a: TestServer;
  let b: TestServer;
  let admin: string;
  let A: string;
  let B: string;
  const env = { TESSERA_MASTER_KEY: crypto.randomBytes(32).toString('base64') };

  before(async () => {
    a = await startTestServer('postgres', { env, config: { publicUrl: PUBLIC_URL } });
    b = await startTestServer('postgres', { env, databaseUrl: a.running.services.config.databaseUrl, config: { publicUrl: PUBLIC_URL } });
    A = direct(a);
    B = direct(b);
    admin = (await loginAt(A, 'admin', 'Adm1n-pass-for-tests!')).access_token;
  });
  after(async () => {
    await b.running.close();
    await a.close();
  });

  const createUser = async (userName: string, password: string) => {
    const res = await call<{ id: string }>(`${A}/v1.0/users`, { token: admin, body: { userName, passwordProfile: { password } } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id;
  };

  it('both replicas see one tenant, bootstrapped once', () => {
    assert.equal(b.running.bootstrap.created, false);
    assert.equal(b.running.bootstrap.tenantId, a.running.bootstrap.tenantId);
  });

  it('a user made on one replica signs in on the other, and refresh tokens rotate across them', async () => {
    await createUser('roamer', 'Travels-Between-Replicas-1');
    const pair = await loginAt(B, 'roamer', 'Travels-Between-Replicas-1');
    assert.equal((await call(`${A}/me`, { token: pair.access_token })).status, 200, "b's token verifies on a");
    const rotated = await call<{ refresh_token: string }>(`${A}/login/refreshToken`, { body: { refreshToken: pair.refresh_token } });
    assert.equal(rotated.status, 200);
    const replay = await call(`${B}/login/refreshToken`, { body: { refreshToken: pair.refresh_token } });
    assert.equal(replay.status, 401, 'reuse is detected on the other replica');
  });

  it('a key rotated on one replica verifies on the other at once, and is published there', async () => {
    const rotated = await call<{ kid: string }>(`${A}/admin/signingKeys/rotate`, { token: admin, body: {} });
    assert.equal(rotated.status, 201);
    const fresh = (await loginAt(A, 'admin', 'Adm1n-pass-for-tests!')).access_token;
    assert.equal(headerOf(fresh).kid, rotated.body.kid);
    // b has not seen the new kid yet: it reloads its keys on the miss, and the token verifies.
    assert.equal((await call(`${B}/me`, { token: fresh })).status, 200);
    const jwks = await call<{ keys: { kid: string }[] }>(`${B}/${a.running.bootstrap.tenantId}/discovery/v2.0/keys`);
    assert.ok(jwks.body.keys.some((k) => k.kid === rotated.body.kid));
  });

  it('a disabled account stops on the other replica within one second', async () => {
    await createUser('leaver', 'Leaving-The-Company-1');
    const token = (await loginAt(B, 'leaver', 'Leaving-The-Company-1')).access_token;
    assert.equal((await call(`${B}/me`, { token })).status, 200);
    await call(`${A}/v1.0/users/leaver`, { method: 'PATCH', token: admin, body: { accountEnabled: false } });
    await sleep(1100);
    assert.equal((await call(`${B}/me`, { token })).status, 401);
  });

  it('a removed group membership stops on the other replica within one second', async () => {
    const uid = await createUser('joiner', 'In-The-Group-For-A-While-1');
    const gid = (await call<{ id: string }>(`${A}/v1.0/groups`, { token: admin, body: { displayName: 'Readers' } })).body.id;
    await a.running.services.access.assign({ tenantId: a.running.bootstrap.tenantId, principalId: gid, principalType: 'Group', roleDefinitionId: 'acdd72a7-3385-48ef-bd42-f606fba81ae7', scope: '/', createdBy: null });
    await call(`${A}/v1.0/groups/${gid}/members/$ref`, { token: admin, body: { id: uid } });
    const token = (await loginAt(B, 'joiner', 'In-The-Group-For-A-While-1')).access_token;
    assert.equal((await call(`${B}/v1.0/users`, { token })).status, 200);
    await call(`${A}/v1.0/groups/${gid}/members/${uid}/$ref`, { method: 'DELETE', token: admin });
    await sleep(1100);
    assert.equal((await call(`${B}/v1.0/users`, { token })).status, 403);
  });
});
