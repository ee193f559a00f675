/**
 * Machine Learning Server's sign-in API: /login, refresh-token rotation with reuse
 * detection, revocation, and the 14-day sliding / 90-day absolute limits.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STORE_KINDS, ADMIN_PASSWORD, call, createUser, login, startTestServer, type LoginPair, type TestServer } from './helpers.js';

for (const kind of STORE_KINDS) {
  describe(`Machine Learning Server login [${kind}]`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(kind);
    });
    after(() => server.close());

    const refresh = (refreshToken: string) => call<LoginPair>(`${server.url}/login/refreshToken`, { body: { refreshToken } });
    const db = () => server.running.services.store.db;

    it('POST /login returns a bearer pair that lasts one hour', async () => {
      const sent = Date.now() / 1000;
      const res = await call<LoginPair>(`${server.url}/login`, { body: { username: 'admin', password: ADMIN_PASSWORD } });
      const answered = Date.now() / 1000;
      assert.equal(res.status, 200);
      assert.equal(res.body.token_type, 'Bearer');
      assert.equal(res.body.expires_in, 3599);
      // 3599 s after the moment it was issued, between sending and the answer (whole seconds).
      assert.ok(res.body.expires_on >= Math.floor(sent) + 3599 - 1 && res.body.expires_on <= Math.ceil(answered) + 3599 + 1, `expires_on ${res.body.expires_on}, sent ${sent}, answered ${answered}`);
      assert.match(res.body.refresh_token, /^tsrt_[A-Za-z0-9_-]{43}$/);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.equal((await call(`${server.url}/me`, { token: res.body.access_token })).status, 200);
    });

    it('the username is matched without regard to case, and the UPN works too', async () => {
      assert.ok((await login(server, 'ADMIN')).access_token);
      assert.ok((await login(server, 'admin@tessera.local')).access_token);
    });

    it('a wrong password and an unknown user get the same 401 answer', async () => {
      const wrong = await call(`${server.url}/login`, { body: { username: 'admin', password: 'not the password' } });
      const unknown = await call(`${server.url}/login`, { body: { username: 'nobody-here', password: 'not the password' } });
      assert.equal(wrong.status, 401);
      assert.deepEqual(wrong.body, unknown.body);
      assert.equal(unknown.status, 401);
      assert.equal(wrong.headers.get('www-authenticate'), 'Bearer', 'every 401 carries a challenge');
      await call(`${server.url}/v1.0/users/admin/unlock`, { method: 'POST', token: (await login(server)).access_token });
    });

    it('POST /login/refreshToken rotates the pair: the new one works, the old refresh token does not', async () => {
      const first = await login(server);
      const second = await refresh(first.refresh_token);
      assert.equal(second.status, 200);
      assert.notEqual(second.body.refresh_token, first.refresh_token);
      assert.equal((await call(`${server.url}/me`, { token: second.body.access_token })).status, 200);
      const third = await refresh(second.body.refresh_token);
      assert.equal(third.status, 200);
    });

    it('presenting an already-rotated refresh token revokes the whole chain (reuse detection)', async () => {
      const first = await login(server);
      const second = await refresh(first.refresh_token);
      const replay = await refresh(first.refresh_token);
      assert.equal(replay.status, 401);
      assert.match(JSON.stringify(replay.body), /already used/);
      const afterTheft = await refresh(second.body.refresh_token);
      assert.equal(afterTheft.status, 401, "the legitimate holder's newer token is revoked too");
    });

    it('concurrent redemptions of one refresh token: exactly one wins, and the chain is revoked', async () => {
      const first = await login(server);
      const results = await Promise.all([refresh(first.refresh_token), refresh(first.refresh_token), refresh(first.refresh_token)]);
      assert.equal(results.filter((r) => r.status === 200).length, 1);
      const winner = results.find((r) => r.status === 200)!;
      assert.equal((await refresh(winner.body.refresh_token)).status, 401);
    });

    it('DELETE /login/refreshToken revokes the session', async () => {
      const pair = await login(server);
      const res = await fetch(`${server.url}/login/refreshToken?refreshToken=${encodeURIComponent(pair.refresh_token)}`, { method: 'DELETE' });
      assert.equal(res.status, 204);
      assert.equal((await refresh(pair.refresh_token)).status, 401);
    });

    it('DELETE /login/refreshToken without the parameter is a 400 naming it', async () => {
      const res = await call(`${server.url}/login/refreshToken`, { method: 'DELETE' });
      assert.equal(res.status, 400);
      assert.match(JSON.stringify(res.body), /refreshToken/);
    });

    it('a refresh token idle for 14 days has expired', async () => {
      const pair = await login(server);
      await db().updateTable('refresh_tokens').set({ expires_at: Date.now() - 1 }).where('revoked_at', 'is', null).where('rotated_at', 'is', null).execute();
      assert.equal((await refresh(pair.refresh_token)).status, 401);
    });

    it('a rotated token never outlives its chain: expiry is capped at 90 days from the first sign-in', async () => {
      const pair = await login(server);
      const chainEnd = Date.now() + 60_000;
      await db().updateTable('refresh_tokens').set({ chain_expires_at: chainEnd }).where('revoked_at', 'is', null).where('rotated_at', 'is', null).execute();
      const next = await refresh(pair.refresh_token);
      assert.equal(next.status, 200);
      const rows = await db().selectFrom('refresh_tokens').selectAll().where('rotated_at', 'is', null).where('revoked_at', 'is', null).execute();
      assert.ok(rows.every((r) => r.expires_at <= chainEnd));
      const fresh = await login(server);
      const ninetyDays = 90 * 24 * 3600_000;
      const row = rows.length > 0 ? await db().selectFrom('refresh_tokens').selectAll().orderBy('created_at', 'desc').executeTakeFirstOrThrow() : undefined;
      assert.ok(row && Math.abs(row.chain_expires_at - (Date.now() + ninetyDays)) < 60_000);
      assert.ok(fresh.refresh_token);
    });

    it('refresh tokens are stored only as hashes', async () => {
      const pair = await login(server);
      const rows = await db().selectFrom('refresh_tokens').select('token_hash').execute();
      assert.ok(rows.every((r) => /^[0-9a-f]{64}$/.test(r.token_hash)));
      assert.ok(!rows.some((r) => r.token_hash.includes(pair.refresh_token)));
    });

    it('a password change revokes the refresh tokens of that user; a disabled user cannot refresh', async () => {
      const admin = (await login(server)).access_token;
      await createUser(server, admin, 'grace', 'Admiral-Navy-1906');
      const pair = await login(server, 'grace', 'Admiral-Navy-1906');
      const changed = await call(`${server.url}/v1.0/users/grace`, { method: 'PATCH', token: admin, body: { passwordProfile: { password: 'Compiler-COBOL-1959' } } });
      assert.equal(changed.status, 200);
      assert.equal((await refresh(pair.refresh_token)).status, 401);
      const again = await login(server, 'grace', 'Compiler-COBOL-1959');
      await call(`${server.url}/v1.0/users/grace`, { method: 'PATCH', token: admin, body: { accountEnabled: false } });
      assert.equal((await refresh(again.refresh_token)).status, 401);
      const disabledLogin = await call(`${server.url}/login`, { body: { username: 'grace', password: 'Compiler-COBOL-1959' } });
      assert.equal(disabledLogin.status, 400);
      assert.equal((disabledLogin.body.error as { code: string }).code, 'AccountDisabled');
    });

    it('refresh tokens of the OAuth CLI client are not accepted at /login/refreshToken', async () => {
      const form = new URLSearchParams({ grant_type: 'password', client_id: '3c8a5a4e-0f7d-4b8e-9d3a-7e2b1c6f9a01', username: 'admin', password: ADMIN_PASSWORD, scope: 'offline_access' });
      const res = await fetch(`${server.url}/organizations/oauth2/v2.0/token`, { method: 'POST', body: form });
      const body = (await res.json()) as { refresh_token: string };
      const other = await refresh(body.refresh_token);
      assert.equal(other.status, 401);
    });
  });
}
