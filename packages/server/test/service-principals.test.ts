/**
 * Service principals: the Graph-shaped API, secrets and certificates, the
 * client-credentials grant (body, HTTP Basic, client assertion), introspection and
 * revocation, and every way a client is refused.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { SignJWT } from 'jose';
import { STORE_KINDS, call, claimsOf, createServicePrincipal, createUser, login, makeClientCertificate, postForm, startTestServer, type TestServer } from './helpers.js';
import { TESSERA_CLI_CLIENT_ID } from '../src/index.js';

interface OAuthBody {
  access_token?: string;
  token_type?: string;
  expires_in?: number | string;
  scope?: string;
  error?: string;
  error_codes?: number[];
  error_description?: string;
  active?: boolean;
  [key: string]: unknown;
}

for (const kind of STORE_KINDS) {
  describe(`service principals [${kind}]`, () => {
    let server: TestServer;
    let admin: string;
    let tenantId: string;
    before(async () => {
      server = await startTestServer(kind);
      admin = (await login(server)).access_token;
      tenantId = server.running.bootstrap.tenantId;
    });
    after(() => server.close());

    const tokenUrl = (tenant = 'organizations') => `${server.url}/${tenant}/oauth2/v2.0/token`;
    const clientCredentials = (params: Record<string, string>, headers?: Record<string, string>, tenant?: string) =>
      postForm<OAuthBody>(tokenUrl(tenant), { grant_type: 'client_credentials', scope: 'api://tessera/management/.default', ...params }, headers);
    const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

    it('creates a principal in Graph shape; a secret is shown once, with a hint, and stored only as a hash', async () => {
      const sp = await createServicePrincipal(server, admin, 'ci-pipeline');
      assert.match(sp.secret, /^tscs_[A-Za-z0-9_-]{43}$/);
      const shown = await call<{ appId: string; passwordCredentials: { keyId: string; hint: string; endDateTime: string }[] }>(`${server.url}/v1.0/servicePrincipals/${sp.id}`, { token: admin });
      assert.equal(shown.body.appId, sp.appId);
      assert.equal(shown.body.passwordCredentials.length, 1);
      assert.equal(shown.body.passwordCredentials[0]!.hint, sp.secret.slice(5, 8));
      assert.ok(!JSON.stringify(shown.body).includes(sp.secret));
      const year = Date.parse(shown.body.passwordCredentials[0]!.endDateTime) - Date.now();
      assert.ok(year > 364 * 86400_000 && year < 366 * 86400_000, 'secrets last a year by default');
      const rows = await server.running.services.store.db.selectFrom('sp_credentials').select('secret_hash').execute();
      assert.ok(rows.every((r) => r.secret_hash === null || /^[0-9a-f]{64}$/.test(r.secret_hash)));
      assert.equal((await call(`${server.url}/v1.0/servicePrincipals/ci-pipeline`, { token: admin })).body.id, sp.id, 'found by name');
      assert.equal((await call(`${server.url}/v1.0/servicePrincipals/${sp.appId}`, { token: admin })).body.id, sp.id, 'found by application id');
    });

    it('client credentials with the secret in the body: an app token for the resource, usable at once', async () => {
      const sp = await createServicePrincipal(server, admin, 'deployer');
      const res = await clientCredentials({ client_id: sp.appId, client_secret: sp.secret });
      assert.equal(res.status, 200);
      assert.equal(res.body.token_type, 'Bearer');
      assert.equal(res.body.expires_in, 3599);
      assert.equal(res.body.scope, 'api://tessera/management/.default');
      assert.equal(res.body.refresh_token, undefined);
      const claims = claimsOf(res.body.access_token!);
      assert.equal(claims.idtyp, 'app');
      assert.equal(claims.oid, sp.id);
      assert.equal(claims.appid, sp.appId);
      assert.equal(claims.tid, tenantId);
      const me = await call<{ principalType: string; objectId: string }>(`${server.url}/me`, { token: res.body.access_token! });
      assert.equal(me.status, 200);
      assert.equal(me.body.principalType, 'ServicePrincipal');
    });

    it('HTTP Basic client authentication, with URL-encoded id and secret (RFC 6749 §2.3.1)', async () => {
      const sp = await createServicePrincipal(server, admin, 'basic-auth');
      const res = await clientCredentials({}, { authorization: basic(sp.appId, sp.secret) });
      assert.equal(res.status, 200);
    });

    it("the server's own URL is accepted as the control plane's resource (SDK-auth files use it)", async () => {
      const sp = await createServicePrincipal(server, admin, 'sdk-auth-file');
      const res = await clientCredentials({ client_id: sp.appId, client_secret: sp.secret, scope: `${server.url}/.default` });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal((await call(`${server.url}/me`, { token: res.body.access_token! })).status, 200);
    });

    it("v1 endpoint with resource= and Azure's management alias", async () => {
      const sp = await createServicePrincipal(server, admin, 'v1-script');
      const res = await postForm<OAuthBody>(`${server.url}/${tenantId}/oauth2/token`, { grant_type: 'client_credentials', client_id: sp.appId, client_secret: sp.secret, resource: 'https://management.azure.com/' });
      assert.equal(res.status, 200);
      assert.equal(res.body.resource, 'https://management.azure.com/');
      assert.equal(res.body.expires_in, '3599');
    });

    it('a certificate credential: a client assertion (PS256, x5t#S256) signs the principal in; replaying it fails', async () => {
      const sp = await createServicePrincipal(server, admin, 'cert-holder');
      const cert = makeClientCertificate();
      const added = await call<{ keyId: string; customKeyIdentifier: string }>(`${server.url}/v1.0/servicePrincipals/${sp.id}/addKey`, { token: admin, body: { keyCredential: { type: 'AsymmetricX509Cert', usage: 'Verify', key: Buffer.from(new crypto.X509Certificate(cert.certPem).raw).toString('base64') } } });
      assert.equal(added.status, 200, JSON.stringify(added.body));
      assert.match(added.body.customKeyIdentifier, /^[0-9A-F]{40}$/);
      const assertion = await new SignJWT({ jti: crypto.randomUUID() })
        .setProtectedHeader({ alg: 'PS256', 'x5t#S256': cert.thumbprintSha256, typ: 'JWT' })
        .setIssuer(sp.appId)
        .setSubject(sp.appId)
        .setAudience(tokenUrl(tenantId))
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(crypto.createPrivateKey(cert.keyPem));
      const form = { client_id: sp.appId, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion };
      const res = await clientCredentials(form, undefined, tenantId);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const replay = await clientCredentials(form, undefined, tenantId);
      assert.equal(replay.status, 401);
      assert.equal(replay.body.error, 'invalid_client');
      // Past its exp but inside the allowed skew, the same assertion is still refused.
      const shortLived = await new SignJWT({ jti: crypto.randomUUID() })
        .setProtectedHeader({ alg: 'PS256', 'x5t#S256': cert.thumbprintSha256 })
        .setIssuer(sp.appId)
        .setSubject(sp.appId)
        .setAudience(tokenUrl(tenantId))
        .setExpirationTime(Math.floor(Date.now() / 1000) + 1)
        .sign(crypto.createPrivateKey(cert.keyPem));
      const shortForm = { ...form, client_assertion: shortLived };
      assert.equal((await clientCredentials(shortForm, undefined, tenantId)).status, 200);
      await new Promise((r) => setTimeout(r, 2100));
      assert.equal((await clientCredentials(shortForm, undefined, tenantId)).status, 401, 'replay within the skew after exp is refused');
    });

    it('an assertion signed by an unregistered key, for another audience, or with a jku header is refused', async () => {
      const sp = await createServicePrincipal(server, admin, 'cert-checks');
      const registered = makeClientCertificate();
      await call(`${server.url}/v1.0/servicePrincipals/${sp.id}/addKey`, { token: admin, body: { keyCredential: { key: registered.certPem } } });
      const stranger = makeClientCertificate('stranger');
      const sign = (key: string, aud: string, header: Record<string, unknown> = {}) =>
        new SignJWT({ jti: crypto.randomUUID() })
          .setProtectedHeader({ alg: 'RS256', 'x5t#S256': registered.thumbprintSha256, ...header })
          .setIssuer(sp.appId)
          .setSubject(sp.appId)
          .setAudience(aud)
          .setExpirationTime('5m')
          .sign(crypto.createPrivateKey(key));
      const cases = [
        await sign(stranger.keyPem, tokenUrl(tenantId)),
        await sign(registered.keyPem, 'https://login.microsoftonline.com/x/oauth2/v2.0/token'),
        await sign(registered.keyPem, tokenUrl(tenantId), { jku: 'https://evil.example/keys' }),
      ];
      for (const assertion of cases) {
        const res = await clientCredentials({ client_id: sp.appId, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion }, undefined, tenantId);
        assert.equal(res.status, 401);
        assert.equal(res.body.error, 'invalid_client');
      }
    });

    it('a wrong secret and an unknown client are indistinguishable: 401 invalid_client, same codes', async () => {
      const sp = await createServicePrincipal(server, admin, 'victim');
      const wrong = await clientCredentials({ client_id: sp.appId, client_secret: `tscs_${'A'.repeat(43)}` });
      const unknown = await clientCredentials({ client_id: crypto.randomUUID(), client_secret: sp.secret });
      for (const res of [wrong, unknown]) {
        assert.equal(res.status, 401);
        assert.equal(res.body.error, 'invalid_client');
        assert.deepEqual(res.body.error_codes, [7000215]);
      }
      assert.equal(wrong.body.error_description!.split(' Trace ID')[0], unknown.body.error_description!.split(' Trace ID')[0]);
      assert.ok(!JSON.stringify([wrong.body, unknown.body]).includes(sp.secret));
    });

    it("another tenant's client id with a valid secret is refused the same way", async () => {
      const sp = await createServicePrincipal(server, admin, 'tenant-bound');
      await server.running.services.store.db.insertInto('tenants').values({ id: crypto.randomUUID(), domain: 'other.example', display_name: 'Other', created_at: Date.now() }).execute();
      await server.running.services.tenants.load();
      const res = await clientCredentials({ client_id: sp.appId, client_secret: sp.secret }, undefined, 'other.example');
      assert.equal(res.status, 401);
      assert.equal(res.body.error, 'invalid_client');
    });

    it('an expired secret is refused; a removed secret is refused on the next request; the other secret keeps working', async () => {
      const sp = await createServicePrincipal(server, admin, 'rotating');
      const second = (await call<{ secretText: string; keyId: string }>(`${server.url}/v1.0/servicePrincipals/${sp.id}/addPassword`, { token: admin, body: {} })).body;
      assert.equal((await clientCredentials({ client_id: sp.appId, client_secret: second.secretText })).status, 200);
      const removed = await call(`${server.url}/v1.0/servicePrincipals/${sp.id}/removePassword`, { token: admin, body: { keyId: second.keyId } });
      assert.equal(removed.status, 204);
      assert.equal((await clientCredentials({ client_id: sp.appId, client_secret: second.secretText })).status, 401);
      assert.equal((await clientCredentials({ client_id: sp.appId, client_secret: sp.secret })).status, 200);
      await server.running.services.store.db.updateTable('sp_credentials').set({ end_at: Date.now() - 1000 }).where('key_id', '=', sp.keyId).execute();
      // Changed behind the server's back (as another replica would): it is seen within a second.
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal((await clientCredentials({ client_id: sp.appId, client_secret: sp.secret })).status, 401, 'expired');
    });

    it("a deleted principal's tokens stop at once; a disabled one cannot sign in", async () => {
      const sp = await createServicePrincipal(server, admin, 'short-lived');
      const token = (await clientCredentials({ client_id: sp.appId, client_secret: sp.secret })).body.access_token!;
      assert.equal((await call(`${server.url}/me`, { token })).status, 200);
      await call(`${server.url}/v1.0/servicePrincipals/${sp.id}`, { method: 'PATCH', token: admin, body: { accountEnabled: false } });
      assert.equal((await call(`${server.url}/me`, { token })).status, 401);
      const disabled = await clientCredentials({ client_id: sp.appId, client_secret: sp.secret });
      assert.equal(disabled.status, 400);
      assert.equal(disabled.body.error, 'unauthorized_client');
      await call(`${server.url}/v1.0/servicePrincipals/${sp.id}`, { method: 'PATCH', token: admin, body: { accountEnabled: true } });
      assert.equal((await call(`${server.url}/me`, { token })).status, 200);
      assert.equal((await call(`${server.url}/v1.0/servicePrincipals/${sp.id}`, { method: 'DELETE', token: admin })).status, 204);
      assert.equal((await call(`${server.url}/me`, { token })).status, 401);
    });

    it('asking again for the same resource returns the same token while more than half its life remains', async () => {
      const sp = await createServicePrincipal(server, admin, 'repeat-asker');
      const first = await clientCredentials({ client_id: sp.appId, client_secret: sp.secret });
      const second = await clientCredentials({ client_id: sp.appId, client_secret: sp.secret });
      assert.equal(second.body.access_token, first.body.access_token);
      assert.ok(Number(second.body.expires_in) <= 3599 && Number(second.body.expires_in) > 1800);
      const other = await clientCredentials({ client_id: sp.appId, client_secret: sp.secret, scope: 'api://tessera/workspace/.default' });
      assert.notEqual(other.body.access_token, first.body.access_token, 'another resource gets its own token');
      await call(`${server.url}/v1.0/servicePrincipals/${sp.id}`, { method: 'PATCH', token: admin, body: { accountEnabled: false } });
      assert.equal((await clientCredentials({ client_id: sp.appId, client_secret: sp.secret })).status, 400, 'authentication still runs every time');
      await call(`${server.url}/v1.0/servicePrincipals/${sp.id}`, { method: 'PATCH', token: admin, body: { accountEnabled: true } });
      const third = await clientCredentials({ client_id: sp.appId, client_secret: sp.secret });
      assert.notEqual(third.body.access_token, first.body.access_token, 'a change to the principal drops its cached tokens');
    });

    it('removeOthers replaces every secret (credential reset without --append); a refused reset changes nothing', async () => {
      const sp = await createServicePrincipal(server, admin, 'reset-me');
      const refused = await call(`${server.url}/v1.0/servicePrincipals/${sp.id}/addPassword`, { token: admin, body: { removeOthers: true, passwordCredential: { endDateTime: '2999-01-01T00:00:00Z' } } });
      assert.equal(refused.status, 400);
      assert.equal((await clientCredentials({ client_id: sp.appId, client_secret: sp.secret })).status, 200, 'the old secret survives a refused reset');
      const fresh = (await call<{ secretText: string }>(`${server.url}/v1.0/servicePrincipals/${sp.id}/addPassword`, { token: admin, body: { removeOthers: true } })).body;
      assert.equal((await clientCredentials({ client_id: sp.appId, client_secret: sp.secret })).status, 401);
      assert.equal((await clientCredentials({ client_id: sp.appId, client_secret: fresh.secretText })).status, 200);
    });

    describe('refusals', () => {
      let sp: Awaited<ReturnType<typeof createServicePrincipal>>;
      before(async () => {
        sp = await createServicePrincipal(server, admin, 'refusals');
      });
      const cases: [string, () => Promise<{ status: number; body: OAuthBody }>, number, string][] = [
        ['a public client asking for client_credentials', () => clientCredentials({ client_id: TESSERA_CLI_CLIENT_ID }), 400, 'unauthorized_client'],
        ['a confidential client sending no credential', () => clientCredentials({ client_id: sp.appId }), 401, 'invalid_client'],
        ['two authentication methods at once', () => clientCredentials({ client_id: sp.appId, client_secret: sp.secret }, { authorization: basic(sp.appId, sp.secret) }), 400, 'invalid_request'],
        ['a scope that is not /.default', () => clientCredentials({ client_id: sp.appId, client_secret: sp.secret, scope: 'api://tessera/management/user_impersonation' }), 400, 'invalid_scope'],
        ['an unknown resource', () => clientCredentials({ client_id: sp.appId, client_secret: sp.secret, scope: 'https://vault.azure.net/.default' }), 400, 'invalid_scope'],
        ['no scope', () => postForm<OAuthBody>(tokenUrl(), { grant_type: 'client_credentials', client_id: sp.appId, client_secret: sp.secret }), 400, 'invalid_request'],
        ['a duplicated client_secret', () => postForm<OAuthBody>(tokenUrl(), `grant_type=client_credentials&client_id=${sp.appId}&client_secret=a&client_secret=b&scope=api://tessera/management/.default`), 400, 'invalid_request'],
        ['a malformed Basic header', () => clientCredentials({}, { authorization: 'Basic !!!' }), 400, 'invalid_request'],
        ['a huge secret', () => clientCredentials({ client_id: sp.appId, client_secret: 'x'.repeat(5000) }), 401, 'invalid_client'],
        ['a garbage assertion', () => clientCredentials({ client_id: sp.appId, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: 'a.b.c' }), 401, 'invalid_client'],
        ['a service principal using the password grant', () => postForm<OAuthBody>(tokenUrl(), { grant_type: 'password', client_id: sp.appId, client_secret: sp.secret, username: 'admin', password: 'Adm1n-pass-for-tests!' }), 400, 'unauthorized_client'],
        ['a wrong assertion type', () => clientCredentials({ client_id: sp.appId, client_assertion_type: 'saml', client_assertion: 'a.b.c' }), 400, 'invalid_request'],
        ["another tenant's confidential client sending no credential (answered as an unknown client)", async () => {
          const other = crypto.randomUUID();
          await server.running.services.store.db.insertInto('tenants').values({ id: other, domain: `t${other.slice(0, 8)}.example`, display_name: 'Other', created_at: Date.now() }).execute();
          await server.running.services.tenants.load();
          return postForm<OAuthBody>(`${server.url}/${other}/oauth2/v2.0/token`, { grant_type: 'client_credentials', client_id: sp.appId, scope: 'api://tessera/management/.default' });
        }, 400, 'unauthorized_client'],
      ];
      for (const [name, make, status, error] of cases) {
        it(`${name} → ${status} ${error}`, async () => {
          const res = await make();
          assert.equal(res.status, status, JSON.stringify(res.body));
          assert.equal(res.body.error, error);
          assert.ok(Array.isArray(res.body.error_codes));
        });
      }
    });

    describe('introspection and revocation', () => {
      it('a resource server introspects access and refresh tokens; inactive ones say only active: false', async () => {
        const rs = await createServicePrincipal(server, admin, 'resource-server');
        const introspect = (token: string) => postForm<OAuthBody>(`${server.url}/${tenantId}/oauth2/v2.0/introspect`, { token }, { authorization: basic(rs.appId, rs.secret) });
        const pair = await login(server);
        const access = await introspect(pair.access_token);
        assert.equal(access.status, 200);
        assert.equal(access.body.active, true);
        assert.equal(access.body.username, 'admin');
        assert.equal(access.body.tid, tenantId);
        const refresh = await introspect(pair.refresh_token);
        assert.equal(refresh.body.active, true);
        assert.equal(refresh.body.token_type, 'refresh_token');
        for (const dead of ['nonsense', `${pair.access_token}x`, 'tsrt_' + 'A'.repeat(43)]) assert.deepEqual((await introspect(dead)).body, { active: false });
        const publicTry = await postForm<OAuthBody>(`${server.url}/${tenantId}/oauth2/v2.0/introspect`, { token: pair.access_token, client_id: TESSERA_CLI_CLIENT_ID });
        assert.equal(publicTry.status, 400, 'public clients may not introspect');
        const noAuth = await postForm<OAuthBody>(`${server.url}/${tenantId}/oauth2/v2.0/introspect`, { token: pair.access_token, client_id: rs.appId, client_secret: 'tscs_' + 'B'.repeat(43) });
        assert.equal(noAuth.status, 401);
      });

      it('a public client revokes its own refresh token (RFC 7009); unknown tokens are fine; access tokens are unsupported', async () => {
        const form = new URLSearchParams({ grant_type: 'password', client_id: TESSERA_CLI_CLIENT_ID, username: 'admin', password: 'Adm1n-pass-for-tests!', scope: 'offline_access' });
        const rt = ((await (await fetch(tokenUrl(), { method: 'POST', body: form })).json()) as { refresh_token: string; access_token: string });
        const revoke = (token: string, clientId = TESSERA_CLI_CLIENT_ID) => postForm<OAuthBody>(`${server.url}/${tenantId}/oauth2/v2.0/revoke`, { token, client_id: clientId });
        assert.equal((await revoke(rt.refresh_token, '04b07795-8ddb-461a-bbee-02f9e1bf7b46')).status, 400, "another client's token");
        assert.equal((await revoke(rt.refresh_token)).status, 200);
        const refreshed = await postForm<OAuthBody>(tokenUrl(), { grant_type: 'refresh_token', client_id: TESSERA_CLI_CLIENT_ID, refresh_token: rt.refresh_token });
        assert.equal(refreshed.status, 400);
        assert.equal((await revoke('tsrt_' + 'C'.repeat(43))).status, 200);
        const access = await revoke(rt.access_token);
        assert.equal(access.status, 400);
        assert.equal(access.body.error, 'unsupported_token_type');
      });
    });

    it('no client secret, assertion or token of this suite appears in any log line', () => {
      const text = server.logs.join('\n');
      assert.ok(server.logs.length > 50, 'the suite produced logs');
      assert.ok(!/tscs_[A-Za-z0-9_-]{20}/.test(text), 'no client secret');
      assert.ok(!/tsrt_[A-Za-z0-9_-]{20}/.test(text), 'no refresh token');
      assert.ok(!/eyJ[A-Za-z0-9_-]{20,}\.eyJ/.test(text), 'no JWT (access token or client assertion)');
      assert.ok(!/-----BEGIN/.test(text), 'no certificate or key');
    });

    describe('management API', () => {
      it("a service principal may join a group, and the group's role reaches it", async () => {
        const sp = await createServicePrincipal(server, admin, 'group-member');
        const gid = (await call<{ id: string }>(`${server.url}/v1.0/groups`, { token: admin, body: { displayName: 'Automation' } })).body.id;
        assert.equal((await call(`${server.url}/v1.0/groups/${gid}/members/$ref`, { token: admin, body: { id: sp.id } })).status, 204);
        const members = await call<{ value: { id: string; appId?: string }[] }>(`${server.url}/v1.0/groups/${gid}/members`, { token: admin });
        assert.deepEqual(members.body.value.map((m) => m.appId), [sp.appId]);
        const token = (await clientCredentials({ client_id: sp.appId, client_secret: sp.secret })).body.access_token!;
        assert.equal((await call(`${server.url}/v1.0/users`, { token })).status, 403);
        await server.running.services.access.assign({ tenantId, principalId: gid, principalType: 'Group', roleDefinitionId: 'acdd72a7-3385-48ef-bd42-f606fba81ae7', scope: '/', createdBy: null });
        const allowed = await call(`${server.url}/v1.0/users`, { token });
        assert.equal(allowed.status, 200);
        const refused = await call<{ error: { message: string } }>(`${server.url}/v1.0/users`, { token, body: { userName: 'x', passwordProfile: { password: 'Quite-Long-Password-9' } } });
        assert.equal(refused.status, 403);
        assert.match(refused.body.error.message, new RegExp(`^The client '${sp.appId}' with object id '${sp.id}'`), 'refusals name a service principal by its application id');
      });

      it("a service principal holding the last Owner assignment at '/' cannot be deleted", async () => {
        const sp = await createServicePrincipal(server, admin, 'last-owner');
        const root = `${server.url}/providers/Microsoft.Authorization/roleAssignments`;
        const mine = await call(`${root}/${crypto.randomUUID()}?api-version=2022-04-01`, { method: 'PUT', token: admin, body: { properties: { roleDefinitionId: 'Owner', principalId: sp.id } } });
        assert.equal(mine.status, 201, JSON.stringify(mine.body));
        const spToken = (await clientCredentials({ client_id: sp.appId, client_secret: sp.secret })).body.access_token!;
        const list = await call<{ value: { name: string; properties: { principalId: string; scope: string; roleDefinitionId: string } }[] }>(`${root}?api-version=2022-04-01&$filter=atScope()`, { token: admin });
        const adminId = (await call<{ objectId: string }>(`${server.url}/me`, { token: admin })).body.objectId;
        const adminsOwner = list.body.value.find((a) => a.properties.principalId === adminId && /8e3af657/.test(a.properties.roleDefinitionId))!;
        assert.equal((await call(`${root}/${adminsOwner.name}?api-version=2022-04-01`, { method: 'DELETE', token: spToken })).status, 200, 'the principal removes the admin as Owner');
        const refused = await call(`${server.url}/v1.0/servicePrincipals/${sp.id}`, { method: 'DELETE', token: spToken });
        assert.equal(refused.status, 409, JSON.stringify(refused.body));
        // Put things back for the tests that follow.
        assert.equal((await call(`${root}/${crypto.randomUUID()}?api-version=2022-04-01`, { method: 'PUT', token: spToken, body: { properties: { roleDefinitionId: 'Owner', principalId: adminId } } })).status, 201);
        admin = (await login(server)).access_token;
        assert.equal((await call(`${server.url}/v1.0/servicePrincipals/${sp.id}`, { method: 'DELETE', token: admin })).status, 204, 'with another Owner it may go');
      });

      it('only a principal with directory write may create principals or add credentials', async () => {
        await createUser(server, admin, 'nosy', 'Curious-But-Harmless-1');
        const token = (await login(server, 'nosy', 'Curious-But-Harmless-1')).access_token;
        assert.equal((await call(`${server.url}/v1.0/servicePrincipals`, { token, body: { displayName: 'sneaky' } })).status, 403);
        const victim = await createServicePrincipal(server, admin, 'guarded');
        assert.equal((await call(`${server.url}/v1.0/servicePrincipals/${victim.id}/addPassword`, { token, body: {} })).status, 403);
        assert.equal((await call(`${server.url}/v1.0/servicePrincipals`, { token })).status, 403);
      });

      it('bad input: duplicate names, past or far expiry, a non-certificate key, too many credentials, unknown keyIds', async () => {
        const sp = await createServicePrincipal(server, admin, 'input-checks');
        const url = `${server.url}/v1.0/servicePrincipals`;
        assert.equal((await call(url, { token: admin, body: { displayName: 'INPUT-CHECKS' } })).status, 409);
        assert.equal((await call(url, { token: admin, body: { displayName: 'bad\u0000name' } })).status, 400);
        assert.equal((await call(`${url}/${sp.id}/addPassword`, { token: admin, body: { passwordCredential: { endDateTime: '2001-01-01T00:00:00Z' } } })).status, 400);
        assert.equal((await call(`${url}/${sp.id}/addPassword`, { token: admin, body: { passwordCredential: { endDateTime: '2999-01-01T00:00:00Z' } } })).status, 400);
        assert.equal((await call(`${url}/${sp.id}/addPassword`, { token: admin, body: { passwordCredential: { endDateTime: 'tomorrow' } } })).status, 400);
        assert.equal((await call(`${url}/${sp.id}/addKey`, { token: admin, body: { keyCredential: { key: 'not a certificate' } } })).status, 400);
        assert.equal((await call(`${url}/${sp.id}/addKey`, { token: admin, body: { keyCredential: { key: 'A'.repeat(20000) } } })).status, 400);
        assert.equal((await call(`${url}/${sp.id}/removePassword`, { token: admin, body: { keyId: crypto.randomUUID() } })).status, 404);
        assert.equal((await call(`${url}/${sp.id}/removePassword`, { token: admin, body: { keyId: "'; drop table sp_credentials; --" } })).status, 404);
        assert.equal((await call(`${url}/%00`, { token: admin })).status, 404);
        let last = 200;
        for (let i = 0; i < 17 && last === 200; i++) last = (await call(`${url}/${sp.id}/addPassword`, { token: admin, body: {} })).status;
        assert.equal(last, 409, 'at most 16 credentials');
      });
    });
  });
}
