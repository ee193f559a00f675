/**
 * The Entra-compatible OAuth endpoints as real clients use them (WIRE.md): discovery,
 * the password and refresh-token grants on v2 and v1, response shapes, tenant aliases,
 * and RFC 6749 errors with Entra's extra fields.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, jwtVerify, type JWK } from 'jose';
import { STORE_KINDS, ADMIN_PASSWORD, call, claimsOf, postForm, startTestServer, type TestServer } from './helpers.js';
import { TESSERA_CLI_CLIENT_ID } from '../src/index.js';

const AZURE_CLI = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';

interface TokenBody {
  token_type: string;
  scope: string;
  expires_in: number;
  ext_expires_in: number;
  access_token: string;
  refresh_token: string;
  id_token: string;
  client_info: string;
  error?: string;
  error_description?: string;
  error_codes?: number[];
  trace_id?: string;
  correlation_id?: string;
  timestamp?: string;
}

for (const kind of STORE_KINDS) {
  describe(`OAuth endpoints [${kind}]`, () => {
    let server: TestServer;
    let tenantId: string;
    before(async () => {
      server = await startTestServer(kind);
      tenantId = server.running.bootstrap.tenantId;
    });
    after(() => server.close());

    const token = (tenant: string, params: Record<string, string> | string, headers?: Record<string, string>) =>
      postForm<TokenBody>(`${server.url}/${tenant}/oauth2/v2.0/token`, params, headers);
    const passwordGrant = (extra: Record<string, string> = {}) =>
      token('organizations', { grant_type: 'password', client_id: TESSERA_CLI_CLIENT_ID, username: 'admin', password: ADMIN_PASSWORD, scope: 'api://tessera/management/.default openid profile offline_access', ...extra });

    describe('discovery', () => {
      for (const alias of ['organizations', 'common', 'tessera.local', 'TESSERA.LOCAL', 'tenant-id']) {
        it(`serves discovery for tenant '${alias}' with the issuer as written`, async () => {
          const written = alias === 'tenant-id' ? tenantId.toUpperCase() : alias;
          const res = await call<Record<string, unknown>>(`${server.url}/${written}/v2.0/.well-known/openid-configuration`);
          assert.equal(res.status, 200);
          assert.equal(res.body.issuer, `${server.url}/${written}/v2.0`);
          for (const field of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'device_authorization_endpoint']) assert.match(String(res.body[field]), new RegExp(`^${server.url}/${written}/`));
          assert.deepEqual(res.body.id_token_signing_alg_values_supported, ['ES256']);
        });
      }

      it('serves the OIDC-protocol-mode path msal-node uses', async () => {
        const res = await call(`${server.url}/organizations/.well-known/openid-configuration`);
        assert.equal(res.status, 200);
        assert.equal(res.body.token_endpoint, `${server.url}/organizations/oauth2/v2.0/token`);
      });

      it('an unknown tenant is a 400 with error codes', async () => {
        const res = await call<TokenBody>(`${server.url}/contoso.example/v2.0/.well-known/openid-configuration`);
        assert.equal(res.status, 400);
        assert.equal(res.body.error, 'invalid_request');
        assert.deepEqual(res.body.error_codes, [90002]);
      });
    });

    describe('password grant', () => {
      it('returns the fields WIRE.md lists, with the scope exactly as asked', async () => {
        const res = await passwordGrant();
        assert.equal(res.status, 200);
        const b = res.body;
        assert.equal(b.token_type, 'Bearer');
        assert.equal(b.expires_in, 3599);
        assert.equal(b.ext_expires_in, 3599);
        assert.equal(b.scope, 'api://tessera/management/.default openid profile offline_access');
        assert.ok(b.access_token && b.refresh_token && b.id_token);
        const info = JSON.parse(Buffer.from(b.client_info, 'base64url').toString()) as { uid: string; utid: string };
        assert.equal(info.utid, tenantId);
        assert.equal(info.uid, claimsOf(b.access_token).oid);
        assert.equal(res.headers.get('cache-control'), 'no-store');
      });

      it('the id token has iss (tenant as written), sub, aud = client id, exp, iat, nonce, oid, tid, preferred_username, and verifies', async () => {
        const res = await token('TESSERA.local', { grant_type: 'password', client_id: AZURE_CLI, username: 'admin', password: ADMIN_PASSWORD, scope: 'openid profile', nonce: 'n-0S6_WzA2Mj' });
        assert.equal(res.status, 200);
        const jwks = (await call<{ keys: JWK[] }>(`${server.url}/${tenantId}/discovery/v2.0/keys`)).body;
        const { payload } = await jwtVerify(res.body.id_token, createLocalJWKSet(jwks), { issuer: `${server.url}/TESSERA.local/v2.0`, audience: AZURE_CLI });
        assert.equal(payload.nonce, 'n-0S6_WzA2Mj');
        assert.equal(payload.tid, tenantId);
        assert.equal(payload.preferred_username, 'admin@tessera.local');
        for (const c of ['sub', 'exp', 'iat', 'oid']) assert.ok(c in payload);
      });

      it("accepts Azure's management resource as an alias and puts it in aud", async () => {
        const res = await passwordGrant({ scope: 'https://management.azure.com//.default' });
        assert.equal(res.status, 200);
        assert.equal(res.body.scope, 'https://management.azure.com//.default');
        assert.equal(claimsOf(res.body.access_token).aud, 'https://management.azure.com/');
        assert.equal((await call(`${server.url}/me`, { token: res.body.access_token })).status, 200);
      });

      it('a workspace-audience token is refused by the management API', async () => {
        const res = await passwordGrant({ scope: 'https://ml.azure.com/.default' });
        assert.equal(res.status, 200);
        assert.equal((await call(`${server.url}/me`, { token: res.body.access_token })).status, 401);
      });

      it('a wrong password and an unknown user are indistinguishable: 400 invalid_grant, AADSTS50126', async () => {
        const wrong = await passwordGrant({ password: 'definitely wrong' });
        const unknown = await passwordGrant({ username: 'nobody', password: 'definitely wrong' });
        for (const res of [wrong, unknown]) {
          assert.equal(res.status, 400);
          assert.equal(res.body.error, 'invalid_grant');
          assert.deepEqual(res.body.error_codes, [50126]);
          assert.ok(res.body.trace_id && res.body.correlation_id && res.body.timestamp);
          assert.match(res.body.error_description!, /^AADSTS50126: Invalid username or password\./);
        }
        for (const row of await server.running.services.throttle.list()) await server.running.services.throttle.clear(row.key);
      });

      it("echoes the client's correlation id", async () => {
        const res = await postForm<TokenBody>(`${server.url}/organizations/oauth2/v2.0/token?client-request-id=abc`, { grant_type: 'password' }, { 'client-request-id': '0c5e2b1a-1111-2222-3333-444455556666' });
        assert.equal(res.body.correlation_id, '0c5e2b1a-1111-2222-3333-444455556666');
      });
    });

    describe('refresh-token grant', () => {
      it('rotates, and may ask for another resource', async () => {
        const first = (await passwordGrant()).body;
        const res = await token(tenantId, { grant_type: 'refresh_token', client_id: TESSERA_CLI_CLIENT_ID, refresh_token: first.refresh_token, scope: 'api://tessera/workspace/.default offline_access' });
        assert.equal(res.status, 200);
        assert.equal(res.body.scope, 'api://tessera/workspace/.default offline_access');
        assert.equal(claimsOf(res.body.access_token).aud, 'api://tessera/workspace');
        assert.notEqual(res.body.refresh_token, first.refresh_token);
        const replay = await token(tenantId, { grant_type: 'refresh_token', client_id: TESSERA_CLI_CLIENT_ID, refresh_token: first.refresh_token });
        assert.equal(replay.status, 400);
        assert.equal(replay.body.error, 'invalid_grant');
      });

      it('without a scope, tokens are for what the session last asked', async () => {
        const first = (await passwordGrant()).body;
        const res = await token('organizations', { grant_type: 'refresh_token', client_id: TESSERA_CLI_CLIENT_ID, refresh_token: first.refresh_token });
        assert.equal(res.status, 200);
        assert.equal(claimsOf(res.body.access_token).aud, 'api://tessera/management');
      });

      it('a refresh naming an unknown resource is refused without spending the refresh token', async () => {
        const first = (await passwordGrant()).body;
        const typo = await token('organizations', { grant_type: 'refresh_token', client_id: TESSERA_CLI_CLIENT_ID, refresh_token: first.refresh_token, scope: 'https://managment.azure.com/.default' });
        assert.equal(typo.status, 400);
        assert.equal(typo.body.error, 'invalid_scope');
        const retry = await token('organizations', { grant_type: 'refresh_token', client_id: TESSERA_CLI_CLIENT_ID, refresh_token: first.refresh_token, scope: 'https://management.azure.com/.default' });
        assert.equal(retry.status, 200, 'the session survives the typo');
      });

      it('a refresh token is bound to its client', async () => {
        const first = (await passwordGrant()).body;
        const res = await token('organizations', { grant_type: 'refresh_token', client_id: AZURE_CLI, refresh_token: first.refresh_token });
        assert.equal(res.status, 400);
        assert.equal(res.body.error, 'invalid_grant');
      });
    });

    describe('v1 endpoint', () => {
      it('POST /{tenant}/oauth2/token with resource= returns a v1-shaped response', async () => {
        const res = await postForm<Record<string, string>>(`${server.url}/${tenantId}/oauth2/token`, { grant_type: 'password', client_id: AZURE_CLI, username: 'admin', password: ADMIN_PASSWORD, resource: 'https://management.azure.com/' });
        assert.equal(res.status, 200);
        assert.equal(res.body.resource, 'https://management.azure.com/');
        assert.equal(res.body.expires_in, '3599');
        assert.ok(Number(res.body.expires_on) > Date.now() / 1000);
        assert.equal((await call(`${server.url}/me`, { token: res.body.access_token! })).status, 200);
      });
    });

    describe('errors', () => {
      const cases: [string, Record<string, string> | string, number, string][] = [
        ['an unsupported grant', { grant_type: 'urn:example:magic', client_id: TESSERA_CLI_CLIENT_ID }, 400, 'unsupported_grant_type'],
        ['no grant_type', { client_id: TESSERA_CLI_CLIENT_ID }, 400, 'invalid_request'],
        ['an unknown client', { grant_type: 'password', client_id: '00000000-0000-0000-0000-000000000000', username: 'admin', password: 'x' }, 400, 'unauthorized_client'],
        ['a missing client_id', { grant_type: 'password', username: 'admin', password: 'x' }, 400, 'invalid_request'],
        ['a missing password', { grant_type: 'password', client_id: TESSERA_CLI_CLIENT_ID, username: 'admin' }, 400, 'invalid_request'],
        ['an unknown resource', { grant_type: 'password', client_id: TESSERA_CLI_CLIENT_ID, username: 'admin', password: 'x', scope: 'https://graph.microsoft.com/.default' }, 400, 'invalid_scope'],
        ['a malformed scope', { grant_type: 'password', client_id: TESSERA_CLI_CLIENT_ID, username: 'admin', password: 'x', scope: 'api://tessera/management/write.everything' }, 400, 'invalid_scope'],
        ['two resources in one scope', { grant_type: 'password', client_id: TESSERA_CLI_CLIENT_ID, username: 'admin', password: 'x', scope: 'api://tessera/management/.default api://tessera/workspace/.default' }, 400, 'invalid_scope'],
        ['a duplicated parameter', `grant_type=password&client_id=${TESSERA_CLI_CLIENT_ID}&username=admin&username=root&password=x`, 400, 'invalid_request'],
        ['a public client presenting a secret it does not have', { grant_type: 'password', client_id: TESSERA_CLI_CLIENT_ID, client_secret: `tscs_${'Q'.repeat(43)}`, username: 'admin', password: 'x' }, 401, 'invalid_client'],
        ['a garbage refresh token', { grant_type: 'refresh_token', client_id: TESSERA_CLI_CLIENT_ID, refresh_token: "' OR 1=1 --" }, 400, 'invalid_grant'],
      ];
      for (const [name, params, status, error] of cases) {
        it(`${name} → ${status} ${error}`, async () => {
          const res = await token('organizations', params);
          assert.equal(res.status, status);
          assert.equal(res.body.error, error);
          assert.ok(Array.isArray(res.body.error_codes));
          assert.ok(!JSON.stringify(res.body).includes(ADMIN_PASSWORD));
        });
      }

      it('a JSON body is refused: the token endpoint takes forms (415)', async () => {
        const res = await call<TokenBody>(`${server.url}/organizations/oauth2/v2.0/token`, { body: { grant_type: 'password' } });
        assert.equal(res.status, 415);
        assert.equal(res.body.error, 'invalid_request');
      });

      it('a 1 MB form body is refused with 413', async () => {
        const res = await token('organizations', `grant_type=password&pad=${'a'.repeat(1024 * 1024)}`);
        assert.equal(res.status, 413);
        assert.equal(res.body.error, 'invalid_request');
      });

      it('an unknown tenant on the token endpoint is a 400, not a 500', async () => {
        const res = await token('no-such-tenant.example', { grant_type: 'password' });
        assert.equal(res.status, 400);
        assert.deepEqual(res.body.error_codes, [90002]);
      });
    });
  });
}
