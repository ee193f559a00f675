/**
 * Signed tokens: what an access token carries, that any JWT library verifies it against
 * the JWKS, key rotation, and every way a forged or stale token is refused.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { SignJWT, createLocalJWKSet, jwtVerify, exportJWK, type JWK } from 'jose';
import { STORE_KINDS, call, claimsOf, headerOf, login, startTestServer, type TestServer } from './helpers.js';

for (const kind of STORE_KINDS) {
  describe(`tokens [${kind}]`, () => {
    let server: TestServer;
    let token: string;
    let tenantId: string;

    before(async () => {
      server = await startTestServer(kind);
      token = (await login(server)).access_token;
      tenantId = server.running.bootstrap.tenantId;
    });
    after(() => server.close());

    const jwks = async () => (await call<{ keys: JWK[] }>(`${server.url}/${tenantId}/discovery/v2.0/keys`)).body;
    const issuer = () => `${server.url}/${tenantId}/v2.0`;
    const me = (t: string) => call(`${server.url}/me`, { token: t });

    /** Signs `claims` with the tenant's real current key, to make tokens the server would never issue. */
    async function forge(claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
      const key = server.running.services.keys.signingKey(tenantId);
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ iss: issuer(), aud: 'api://tessera/management', tid: tenantId, oid: claimsOf(token).oid as string, sub: claimsOf(token).oid as string, idtyp: 'user', iat: now, nbf: now, exp: now + 600, ...claims })
        .setProtectedHeader({ alg: key.alg, kid: key.kid, ...header })
        .sign(key.privateKey!);
    }

    it('access tokens carry iss, sub, oid, tid, aud, iat, nbf, exp, jti, ver, name, idtyp and a kid, and last one hour', () => {
      const claims = claimsOf(token);
      for (const name of ['iss', 'sub', 'oid', 'tid', 'aud', 'iat', 'nbf', 'exp', 'jti', 'ver', 'name', 'idtyp']) assert.ok(name in claims, `missing ${name}`);
      assert.equal(claims.iss, issuer());
      assert.equal(claims.tid, tenantId);
      assert.equal(claims.idtyp, 'user');
      assert.equal((claims.exp as number) - (claims.iat as number), 3599);
      const header = headerOf(token);
      assert.equal(header.alg, 'ES256');
      assert.equal(typeof header.kid, 'string');
    });

    it('verifies with a standard JWT library against the published JWKS', async () => {
      const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(await jwks()), { issuer: issuer(), audience: 'api://tessera/management' });
      assert.equal(payload.tid, tenantId);
      assert.equal(protectedHeader.alg, 'ES256');
    });

    it('the JWKS publishes public keys only', async () => {
      for (const key of (await jwks()).keys) {
        assert.equal(key.d, undefined);
        assert.equal(key.use, 'sig');
        assert.ok(key.kid);
      }
    });

    it('signing keys are stored sealed, never as plain private JWKs', async () => {
      const rows = await server.running.services.store.db.selectFrom('signing_keys').selectAll().execute();
      assert.ok(rows.length >= 1);
      for (const row of rows) {
        assert.match(row.private_jwk_sealed, /^v1\./);
        assert.ok(!row.private_jwk_sealed.includes('"d"'));
      }
    });

    it('GET /me answers for a valid token and a repeat is served from the verification cache', async () => {
      const first = await me(token);
      assert.equal(first.status, 200);
      assert.equal(first.body.userName, 'admin');
      const verifier = server.running.services.verifier;
      const a = await verifier.verify(token);
      const b = await verifier.verify(token);
      assert.equal(a, b, 'the second verification returns the cached result object');
    });

    it('no token gets 401 with a plain Bearer challenge', async () => {
      const res = await call(`${server.url}/me`);
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer');
      assert.equal((res.body.error as { code: string }).code, 'InvalidAuthenticationToken');
    });

    const refusals: [string, () => Promise<string>][] = [
      ['garbage', async () => 'not-a-jwt'],
      ['a truncated signature', async () => token.slice(0, -10)],
      ['a tampered payload', async () => {
        const [h, , s] = token.split('.');
        const payload = Buffer.from(JSON.stringify({ ...claimsOf(token), oid: crypto.randomUUID() })).toString('base64url');
        return `${h}.${payload}.${s}`;
      }],
      ['an expired token', () => forge({ exp: Math.floor(Date.now() / 1000) - 3600, iat: Math.floor(Date.now() / 1000) - 7200, nbf: Math.floor(Date.now() / 1000) - 7200 })],
      ['a not-yet-valid token', () => forge({ nbf: Math.floor(Date.now() / 1000) + 3600 })],
      ['a wrong audience', () => forge({ aud: 'https://graph.microsoft.com' })],
      ['a wrong issuer', () => forge({ iss: 'https://login.microsoftonline.com/x/v2.0' })],
      ['an unknown kid', () => forge({}, { kid: 'no-such-key' })],
      ['alg none', async () => {
        const h = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT', kid: headerOf(token).kid })).toString('base64url');
        const p = Buffer.from(JSON.stringify(claimsOf(token))).toString('base64url');
        return `${h}.${p}.`;
      }],
      ['HS256 signed with the public key', async () => {
        const publicJwk = (await jwks()).keys[0]!;
        const secret = new TextEncoder().encode(JSON.stringify(publicJwk));
        return new SignJWT(claimsOf(token)).setProtectedHeader({ alg: 'HS256', kid: publicJwk.kid! }).sign(secret);
      }],
      ['a jku header', () => forge({}, { jku: 'https://attacker.example/keys' })],
      ['an x5u header', () => forge({}, { x5u: 'https://attacker.example/cert' })],
      ['an embedded jwk header', async () => {
        const { publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
        return forge({}, { jwk: await exportJWK(publicKey) });
      }],
      ['a token signed by a key the server never published', async () => {
        const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
        return new SignJWT(claimsOf(token)).setProtectedHeader({ alg: 'ES256', kid: headerOf(token).kid as string }).sign(privateKey);
      }],
    ];
    for (const [name, make] of refusals) {
      it(`refuses ${name} with 401 invalid_token`, async () => {
        const res = await me(await make());
        assert.equal(res.status, 401);
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token", error_description="[^"]+"$/);
        assert.equal((res.body.error as { code: string }).code, 'InvalidAuthenticationToken');
      });
    }

    it('a malformed Authorization header gets invalid_request', async () => {
      const res = await call(`${server.url}/me`, { headers: { authorization: 'Basic YWRtaW46eA==' } });
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_request"/);
    });

    it('rotation: new tokens use the new key, tokens signed by the old key keep working, both keys are published', async () => {
      const admin = (await login(server)).access_token;
      const before = headerOf(admin).kid;
      const rotated = await call<{ kid: string; status: string }>(`${server.url}/admin/signingKeys/rotate`, { token: admin, body: { alg: 'RS256' } });
      assert.equal(rotated.status, 201);
      assert.equal(rotated.body.status, 'current');
      const fresh = (await login(server)).access_token;
      assert.equal(headerOf(fresh).kid, rotated.body.kid);
      assert.equal(headerOf(fresh).alg, 'RS256');
      assert.notEqual(rotated.body.kid, before);
      const kids = (await jwks()).keys.map((k) => k.kid);
      assert.ok(kids.includes(before as string) && kids.includes(rotated.body.kid));
      assert.equal((await me(admin)).status, 200, 'a token signed by the retired key still verifies');
      assert.equal((await me(fresh)).status, 200);
      const list = await call<{ value: { kid: string; status: string; removedFromJwksAt: string | null }[] }>(`${server.url}/admin/signingKeys`, { token: fresh });
      const old = list.body.value.find((k) => k.kid === before)!;
      assert.equal(old.status, 'retired');
      assert.ok(Date.parse(old.removedFromJwksAt!) > Date.now() + 3600_000, 'the retired key stays published past the life of its last token');
      const discovery = await call<{ id_token_signing_alg_values_supported: string[] }>(`${server.url}/${tenantId}/v2.0/.well-known/openid-configuration`);
      assert.deepEqual(discovery.body.id_token_signing_alg_values_supported.sort(), ['ES256', 'RS256']);
    });

    it('a retired key leaves the JWKS once its tokens have expired, and its tokens stop verifying', async () => {
      const admin = (await login(server)).access_token;
      const oldKid = headerOf(admin).kid as string;
      await call(`${server.url}/admin/signingKeys/rotate`, { token: admin, body: {} });
      // Move the retired key's removal time into the past, as if an hour had gone by.
      await server.running.services.store.db.updateTable('signing_keys').set({ expires_at: Date.now() - 1000 }).where('kid', '=', oldKid).execute();
      await server.running.services.keys.reload();
      server.running.services.verifier.clear();
      assert.ok(!(await jwks()).keys.some((k) => k.kid === oldKid));
      assert.equal((await me(admin)).status, 401);
    });

    it('a rotate body naming an unknown algorithm or an unknown field is a 400', async () => {
      const admin = (await login(server)).access_token;
      const bad = await call(`${server.url}/admin/signingKeys/rotate`, { token: admin, body: { alg: 'HS256' } });
      assert.equal(bad.status, 400);
      const extra = await call(`${server.url}/admin/signingKeys/rotate`, { token: admin, body: { alg: 'ES256', kid: 'mine' } });
      assert.equal(extra.status, 400);
    });
  });
}
