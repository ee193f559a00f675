/**
 * Registered applications under `/v1.0/applications`, on both stores: Graph's shape; the
 * service principal made, renamed and deleted with each; secrets added through the
 * application that sign in with client credentials; the redirect-URI rules; every kind of
 * bad input; and who may read and change them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { STORE_KINDS, call, postForm, type JsonResponse } from './helpers.js';
import { adminToken, assignRole, errorOf, newUser, startArmServer, type ArmTestServer } from './arm-helpers.js';

interface AppView {
  id: string;
  appId: string;
  displayName: string;
  createdDateTime: string;
  isFallbackPublicClient: boolean;
  publicClient: { redirectUris: string[] };
  web: { redirectUris: string[] };
  signInAudience: string;
  servicePrincipalId: string | null;
}

interface SpView {
  id: string;
  appId: string;
  displayName: string;
  passwordCredentials: { keyId: string; hint: string }[];
}

interface NewSecret {
  keyId: string;
  secretText: string;
  hint: string;
  displayName: string;
  endDateTime: string;
}

/** `{code, message}` of an error answer, whatever type the call expected. */
const errorIn = (body: unknown) => errorOf(body as Record<string, unknown>);

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

for (const kind of STORE_KINDS) {
  describe(`registered applications [${kind}]`, () => {
    let server: ArmTestServer;
    let admin: string;
    before(async () => {
      server = await startArmServer(kind);
      admin = await adminToken(server);
    });
    after(() => server.close());

    const url = (rest = '') => `${server.url}/v1.0/applications${rest}`;
    const create = (body: unknown, token = admin) => call<AppView>(url(), { token, body });
    const show = (id: string, token = admin) => call<AppView>(url(`/${encodeURIComponent(id)}`), { token });
    const patch = (id: string, body: unknown, token = admin) => call<AppView>(url(`/${encodeURIComponent(id)}`), { method: 'PATCH', token, body });
    const remove = (id: string, token = admin) => call(url(`/${encodeURIComponent(id)}`), { method: 'DELETE', token });
    const spOf = (appId: string) => call<SpView>(`${server.url}/v1.0/servicePrincipals/${appId}`, { token: admin });
    const addPassword = (id: string, body: unknown = {}) => call<NewSecret>(url(`/${id}/addPassword`), { token: admin, body });
    const clientCredentials = (appId: string, secret: string) =>
      postForm<{ access_token?: string; error?: string }>(`${server.url}/${server.tenantId}/oauth2/v2.0/token`, {
        grant_type: 'client_credentials',
        client_id: appId,
        client_secret: secret,
        scope: 'api://tessera/management/.default',
      });
    /** Creates an application, expecting 201. */
    async function made(body: Record<string, unknown>): Promise<AppView> {
      const res = await create(body);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body;
    }
    const count = async (table: 'applications' | 'service_principals') =>
      Number((await server.services.store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

    describe('the API', () => {
      it('POST registers an application in Graph shape (201), with a service principal of the same appId and name', async () => {
        const res = await create({
          displayName: 'Notebook',
          publicClient: { redirectUris: ['http://localhost', 'msal0f8fad5b://auth'] },
          web: { redirectUris: ['https://notebook.example.com/signin-oidc', 'http://127.0.0.1:8400/cb'] },
          isFallbackPublicClient: true,
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
        const app = res.body;
        assert.deepEqual(Object.keys(app).sort(), ['appId', 'createdDateTime', 'displayName', 'id', 'isFallbackPublicClient', 'publicClient', 'servicePrincipalId', 'signInAudience', 'web']);
        assert.match(app.id, GUID);
        assert.match(app.appId, GUID);
        assert.notEqual(app.id, app.appId);
        assert.equal(app.displayName, 'Notebook');
        assert.equal(app.isFallbackPublicClient, true);
        assert.deepEqual(app.publicClient, { redirectUris: ['http://localhost', 'msal0f8fad5b://auth'] });
        assert.deepEqual(app.web, { redirectUris: ['https://notebook.example.com/signin-oidc', 'http://127.0.0.1:8400/cb'] });
        assert.equal(app.signInAudience, 'AzureADMyOrg');
        assert.ok(Math.abs(Date.parse(app.createdDateTime) - Date.now()) < 60_000);

        const sp = await spOf(app.appId);
        assert.equal(sp.status, 200, 'the service principal is found by the application id');
        assert.deepEqual([sp.body.id, sp.body.appId, sp.body.displayName], [app.servicePrincipalId, app.appId, 'Notebook']);
        assert.deepEqual(sp.body.passwordCredentials, [], 'an application starts without secrets');
      });

      it('only displayName is required: no redirect URIs, public flows off', async () => {
        const app = await made({ displayName: 'bare-app' });
        assert.deepEqual([app.publicClient.redirectUris, app.web.redirectUris, app.isFallbackPublicClient], [[], [], false]);
      });

      it('GET finds one by object id, application id or display name (any case); GET lists them, $top limits the list', async () => {
        const app = await made({ displayName: 'Findable-App' });
        for (const key of [app.id, app.appId, app.appId.toUpperCase(), 'Findable-App', 'findable-app', ' FINDABLE-APP ']) {
          const res = await show(key);
          assert.equal(res.status, 200, key);
          assert.deepEqual(res.body, app, key);
        }
        const all = await call<{ value: AppView[] }>(url(), { token: admin });
        assert.equal(all.status, 200);
        assert.ok(all.body.value.length >= 3);
        assert.deepEqual(all.body.value.find((a) => a.id === app.id), app, 'the list shows each in full');
        const top = await call<{ value: AppView[] }>(url('?$top=2'), { token: admin });
        assert.equal(top.body.value.length, 2);
        for (const bad of ['0', '1000', 'x', '-1', '1.5']) assert.equal((await call(url(`?$top=${bad}`), { token: admin })).status, 400, `$top=${bad}`);
      });

      it('PATCH changes only the fields given and answers 200 with the view; a list given replaces the old one, [] clears it', async () => {
        const app = await made({ displayName: 'patch-me', web: { redirectUris: ['https://a.example/cb'] }, publicClient: { redirectUris: ['http://localhost'] } });
        const fallback = await patch(app.id, { isFallbackPublicClient: true });
        assert.equal(fallback.status, 200, JSON.stringify(fallback.body));
        assert.deepEqual(fallback.body, { ...app, isFallbackPublicClient: true });
        const uris = await patch(app.appId, { web: { redirectUris: ['https://b.example/cb', 'https://c.example/cb'] }, publicClient: { redirectUris: [] } });
        assert.deepEqual([uris.body.web.redirectUris, uris.body.publicClient.redirectUris, uris.body.isFallbackPublicClient], [['https://b.example/cb', 'https://c.example/cb'], [], true]);
        assert.deepEqual((await show(app.id)).body, uris.body, 'the change is stored');
      });

      it('PATCH that changes displayName renames the service principal too; the old name no longer finds either', async () => {
        const app = await made({ displayName: 'old-name' });
        const renamed = await patch('old-name', { displayName: 'New Name' });
        assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
        assert.equal(renamed.body.displayName, 'New Name');
        assert.equal((await spOf(app.appId)).body.displayName, 'New Name');
        assert.equal((await show('new name')).body.id, app.id);
        assert.equal((await show('old-name')).status, 404);
        assert.equal((await call(`${server.url}/v1.0/servicePrincipals/old-name`, { token: admin })).status, 404);
        assert.equal((await made({ displayName: 'old-name' })).displayName, 'old-name', 'the old name is free again');
      });

      it('DELETE answers 204 and deletes the service principal with it: its secrets stop working, both are 404 after', async () => {
        const app = await made({ displayName: 'short-lived' });
        const secret = (await addPassword(app.id)).body.secretText;
        assert.equal((await clientCredentials(app.appId, secret)).status, 200);
        const res = await remove(app.id);
        assert.equal(res.status, 204);
        assert.equal((await show(app.id)).status, 404);
        assert.equal((await spOf(app.appId)).status, 404, 'the service principal went with it');
        assert.equal((await clientCredentials(app.appId, secret)).status, 401, 'its secret no longer signs in');
        assert.equal((await remove(app.id)).status, 404, 'a second delete finds nothing');
      });

      it("deleting an application removes its service principal's role assignments", async () => {
        const app = await made({ displayName: 'assigned-app' });
        await assignRole(server, admin, '/', app.servicePrincipalId!, 'Reader');
        const before = await server.services.store.db.selectFrom('role_assignments').select('id').where('principal_id', '=', app.servicePrincipalId!).execute();
        assert.equal(before.length, 1);
        assert.equal((await remove(app.appId)).status, 204);
        const left = await server.services.store.db.selectFrom('role_assignments').select('id').where('principal_id', '=', app.servicePrincipalId!).execute();
        assert.deepEqual(left, []);
      });
    });

    describe('secrets', () => {
      it('addPassword adds a secret to the service principal, shown once; it signs in with client_credentials at /{tenant}/oauth2/v2.0/token', async () => {
        const app = await made({ displayName: 'ci-app' });
        const res = await addPassword(app.id, { passwordCredential: { displayName: 'pipeline' } });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.match(res.body.secretText, /^tscs_[A-Za-z0-9_-]{43}$/);
        assert.equal(res.body.displayName, 'pipeline');
        const sp = (await spOf(app.appId)).body;
        assert.deepEqual(sp.passwordCredentials.map((c) => [c.keyId, c.hint]), [[res.body.keyId, res.body.secretText.slice(5, 8)]]);
        assert.ok(!JSON.stringify((await show(app.id)).body).includes(res.body.secretText), 'the application never shows it again');

        const token = await clientCredentials(app.appId, res.body.secretText);
        assert.equal(token.status, 200, JSON.stringify(token.body));
        const me = await call<{ principalType: string; objectId: string; clientId: string }>(`${server.url}/me`, { token: token.body.access_token! });
        assert.deepEqual([me.body.principalType, me.body.objectId, me.body.clientId], ['ServicePrincipal', app.servicePrincipalId, app.appId]);
      });

      it('addPassword with removeOthers replaces the other secrets; removePassword (204) ends one; unknown keyIds are 404', async () => {
        const app = await made({ displayName: 'rotating-app' });
        const first = (await addPassword(app.appId)).body;
        const second = (await addPassword(app.appId, { removeOthers: true })).body;
        assert.equal((await clientCredentials(app.appId, first.secretText)).status, 401, 'replaced');
        assert.equal((await clientCredentials(app.appId, second.secretText)).status, 200);
        const removed = await call(url(`/${app.id}/removePassword`), { token: admin, body: { keyId: second.keyId } });
        assert.equal(removed.status, 204);
        assert.equal((await clientCredentials(app.appId, second.secretText)).status, 401, 'removed');
        assert.equal((await call(url(`/${app.id}/removePassword`), { token: admin, body: { keyId: second.keyId } })).status, 404);
        assert.equal((await call(url(`/${app.id}/removePassword`), { token: admin, body: { keyId: "'; drop table sp_credentials; --" } })).status, 404);
      });

      it('addPassword refuses a past or too distant endDateTime and unknown fields (400)', async () => {
        const app = await made({ displayName: 'expiry-app' });
        for (const body of [
          { passwordCredential: { endDateTime: '2001-01-01T00:00:00Z' } },
          { passwordCredential: { endDateTime: '2999-01-01T00:00:00Z' } },
          { passwordCredential: { secretText: 'mine' } },
          { keyCredential: {} },
          { removeOthers: 'yes' },
        ]) {
          assert.equal((await addPassword(app.id, body)).status, 400, JSON.stringify(body));
        }
        assert.deepEqual((await spOf(app.appId)).body.passwordCredentials, [], 'nothing was added');
      });
    });

    describe('redirect URIs', () => {
      const refused: [string, string, 'public' | 'web' | 'both'][] = [
        ['a javascript: URI', 'javascript:alert(1)', 'both'],
        ['a data: URI', 'data:text/html,<script>alert(1)</script>', 'both'],
        ['a file: URI', 'file:///etc/passwd', 'both'],
        ['plain http on a host that is not loopback', 'http://evil.example/cb', 'both'],
        ['a wildcard host', 'https://*.example.com/cb', 'both'],
        ['a wildcard path', 'https://app.example.com/*', 'both'],
        ['a fragment', 'https://app.example.com/cb#x', 'both'],
        ['an empty fragment', 'https://app.example.com/cb#', 'both'],
        ['userinfo', 'https://a@b', 'both'],
        ['a user and password', 'https://user:pass@app.example.com/cb', 'both'],
        ['more than 256 characters', `https://app.example.com/${'a'.repeat(240)}`, 'both'],
        ['a space', 'https://app.example.com/a b', 'both'],
        ['a tab', 'https://app.example.com/a\tb', 'both'],
        ['a newline', 'https://app.example.com/cb\n', 'both'],
        ['a NUL', 'https://app.example.com/\u0000', 'both'],
        ['non-ASCII characters', 'https://exämple.com/cb', 'both'],
        ['a backslash', 'https://app.example.com\\@evil.example/cb', 'both'],
        ['a relative URI', '/cb', 'both'],
        ['an empty string', '', 'both'],
        ['a private scheme as a web URI', 'msal0f8fad5b://auth', 'web'],
      ];
      for (const [what, uri, kinds] of refused) {
        it(`refuses ${what} (400), and registers nothing`, async () => {
          const before = [await count('applications'), await count('service_principals')];
          const bodies = [
            ...(kinds !== 'web' ? [{ displayName: 'uri-check', publicClient: { redirectUris: [uri] } }] : []),
            { displayName: 'uri-check', web: { redirectUris: ['https://fine.example/cb', uri] } },
          ];
          for (const body of bodies) {
            const res = await create(body);
            assert.equal(res.status, 400, `${JSON.stringify(body)} → ${JSON.stringify(res.body)}`);
            assert.equal(errorIn(res.body).code, 'InvalidParameter');
          }
          assert.deepEqual([await count('applications'), await count('service_principals')], before, 'no application and no service principal is left behind');
        });
      }

      it('accepts https, http on loopback (any of localhost, 127.0.0.1, [::1], with or without a port) and, for public clients, private schemes', async () => {
        const web = ['https://app.example.com/cb?x=1', 'http://localhost/cb', 'http://127.0.0.1:5000/cb', 'http://[::1]/'];
        const publicUris = [...web, 'msal0f8fad5b-d9cb-469f-a165-70867728950e://auth', 'com.example.app:/oauth2redirect'];
        const app = await made({ displayName: 'good-uris', web: { redirectUris: web }, publicClient: { redirectUris: publicUris } });
        assert.deepEqual([app.web.redirectUris, app.publicClient.redirectUris], [web, publicUris], 'stored exactly as given, in order');
      });

      it('a URI given twice is registered once', async () => {
        const app = await made({ displayName: 'dup-uris', web: { redirectUris: ['https://a.example/cb', 'https://a.example/cb'] } });
        assert.deepEqual(app.web.redirectUris, ['https://a.example/cb']);
      });

      it("the largest registration Entra allows fits: 256 URIs of 256 characters of each kind (over the server's 64 KiB default body limit)", async () => {
        const long = (kind: string, i: number) => {
          const head = `https://app.example.com/${kind}/${i}/`;
          return head + 'x'.repeat(256 - head.length);
        };
        const uris = (kind: string) => Array.from({ length: 256 }, (_, i) => long(kind, i));
        assert.ok(uris('web').every((u) => u.length === 256));
        const app = await made({ displayName: 'many-uris', web: { redirectUris: uris('web') }, publicClient: { redirectUris: uris('public') } });
        assert.equal(app.web.redirectUris.length, 256);
        assert.equal(app.publicClient.redirectUris.length, 256);
      });

      it('more than 256 URIs of one kind are refused (400)', async () => {
        const uris = Array.from({ length: 257 }, (_, i) => `https://app.example.com/${i}`);
        assert.equal((await create({ displayName: 'too-many', web: { redirectUris: uris } })).status, 400);
        assert.equal((await create({ displayName: 'too-many', publicClient: { redirectUris: uris } })).status, 400);
        assert.equal((await show('too-many')).status, 404);
      });

      it('a PATCH with one refused URI changes nothing, not even the name given with it', async () => {
        const app = await made({ displayName: 'patch-guarded', web: { redirectUris: ['https://a.example/cb'] } });
        const res = await patch(app.id, { displayName: 'patch-guarded-2', web: { redirectUris: ['https://b.example/cb', 'javascript:alert(1)'] } });
        assert.equal(res.status, 400);
        assert.deepEqual((await show(app.id)).body, app);
        assert.equal((await spOf(app.appId)).body.displayName, 'patch-guarded');
      });
    });

    describe('bad input', () => {
      const cases: [string, unknown, number][] = [
        ['no displayName', { web: { redirectUris: [] } }, 400],
        ['an empty displayName', { displayName: '' }, 400],
        ['a displayName of spaces only', { displayName: '   ' }, 400],
        ['a displayName over 256 characters', { displayName: 'a'.repeat(257) }, 400],
        ['a displayName with a control character', { displayName: 'bad\u0000name' }, 400],
        ['a displayName with a newline', { displayName: 'two\nlines' }, 400],
        ['a displayName that is not a string', { displayName: 42 }, 400],
        ['a displayName that is null', { displayName: null }, 400],
        ['an unknown top-level field', { displayName: 'x', appId: crypto.randomUUID() }, 400],
        ['an unknown field in web', { displayName: 'x', web: { redirectUris: [], implicitGrantSettings: { enableIdTokenIssuance: true } } }, 400],
        ['an unknown field in publicClient', { displayName: 'x', publicClient: { redirectUris: [], extra: 1 } }, 400],
        ['redirectUris as a string', { displayName: 'x', web: { redirectUris: 'https://a.example/cb' } }, 400],
        ['a redirect URI that is a number', { displayName: 'x', web: { redirectUris: [1] } }, 400],
        ['publicClient as an array', { displayName: 'x', publicClient: ['http://localhost'] }, 400],
        ['isFallbackPublicClient as a string', { displayName: 'x', isFallbackPublicClient: 'true' }, 400],
        ['isFallbackPublicClient as a number', { displayName: 'x', isFallbackPublicClient: 1 }, 400],
        ['a body that is an array', [{ displayName: 'x' }], 400],
        ['a __proto__ key', '{"displayName":"x","__proto__":{"admin":true}}', 400],
        ['a duplicated key', '{"displayName":"first","displayName":"second"}', 400],
        ['a duplicated nested key', '{"displayName":"x","web":{"redirectUris":["https://a.example/cb"],"redirectUris":["javascript:alert(1)"]}}', 400],
        ['invalid JSON', '{"displayName":', 400],
      ];
      for (const [what, body, status] of cases) {
        it(`POST with ${what} → ${status}, and nothing is created`, async () => {
          const before = await count('applications');
          const res = await create(body);
          assert.equal(res.status, status, JSON.stringify(res.body));
          assert.match(errorIn(res.body).code, /^(InvalidParameter|InvalidRequestContent)$/);
          assert.equal(await count('applications'), before);
        });
      }

      it('PATCH refuses an empty body, unknown fields, wrong types and duplicated keys (400)', async () => {
        const app = await made({ displayName: 'patch-input' });
        for (const body of [{}, { appId: crypto.randomUUID() }, { displayName: 7 }, { isFallbackPublicClient: 'false' }, { displayName: 'a'.repeat(257) }, '{"displayName":"a","displayName":"b"}']) {
          assert.equal((await patch(app.id, body)).status, 400, JSON.stringify(body));
        }
        assert.deepEqual((await show(app.id)).body, app);
      });

      it('markup in a name is stored and returned verbatim, as JSON (never interpreted)', async () => {
        const name = `<script>alert("x")</script><img src=x onerror=alert(1)>&amp;'`;
        const res = await create({ displayName: name });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.equal(res.body.displayName, name);
        const shown = await fetch(url(`/${res.body.id}`), { headers: { authorization: `Bearer ${admin}` } });
        assert.match(shown.headers.get('content-type') ?? '', /^application\/json/);
        assert.equal(shown.headers.get('x-content-type-options'), 'nosniff');
        assert.equal(((await shown.json()) as AppView).displayName, name);
        assert.equal((await show(name)).body.id, res.body.id, 'found by that name too');
        assert.equal((await spOf(res.body.appId)).body.displayName, name);
      });

      it('a display name already taken is 409, whatever its case, by an application or by a service principal; nothing is left behind', async () => {
        await made({ displayName: 'Taken' });
        const sp = await call(`${server.url}/v1.0/servicePrincipals`, { token: admin, body: { displayName: 'sp-taken' } });
        assert.equal(sp.status, 201);
        const before = [await count('applications'), await count('service_principals')];
        for (const displayName of ['Taken', 'TAKEN', ' taken ', 'sp-taken']) {
          const res = await create({ displayName });
          assert.equal(res.status, 409, displayName);
          assert.equal(errorIn(res.body).code, 'Conflict');
        }
        assert.deepEqual([await count('applications'), await count('service_principals')], before);
        const other = await made({ displayName: 'other-app' });
        const renamed = await patch(other.id, { displayName: 'taken' });
        assert.equal(renamed.status, 409, 'a rename to a taken name too');
        assert.equal((await show(other.id)).body.displayName, 'other-app');
      });

      it('unknown ids, appIds and names are 404 on every route', async () => {
        const keyId = crypto.randomUUID();
        for (const id of [crypto.randomUUID(), 'no-such-app', '%00', 'a'.repeat(256)]) {
          const expect404 = (res: JsonResponse) => {
            assert.equal(res.status, 404, `${id}: ${JSON.stringify(res.body)}`);
            assert.equal(errorIn(res.body).code, 'ResourceNotFound');
          };
          const path = url(`/${id}`);
          expect404(await call(path, { token: admin }));
          expect404(await call(path, { method: 'PATCH', token: admin, body: { displayName: 'x' } }));
          expect404(await call(path, { method: 'DELETE', token: admin }));
          expect404(await call(`${path}/addPassword`, { token: admin, body: {} }));
          expect404(await call(`${path}/removePassword`, { token: admin, body: { keyId } }));
        }
      });

      it('an application whose service principal was deleted on its own: no servicePrincipalId, no secrets (404), its name still its own (409), and it can be deleted', async () => {
        const app = await made({ displayName: 'orphaned-app' });
        assert.equal((await call(`${server.url}/v1.0/servicePrincipals/${app.servicePrincipalId}`, { method: 'DELETE', token: admin })).status, 204);
        assert.equal((await show(app.id)).body.servicePrincipalId, null);
        const secret = await addPassword(app.id);
        assert.equal(secret.status, 404);
        assert.match(errorIn(secret.body).message, /no service principal/);
        assert.equal((await create({ displayName: 'ORPHANED-APP' })).status, 409, 'a second application may not take its name');
        const other = await made({ displayName: 'orphan-neighbour' });
        assert.equal((await patch(other.id, { displayName: 'orphaned-app' })).status, 409);
        assert.equal((await patch(app.id, { displayName: '   ' })).status, 400, 'a rename is checked without a principal too');
        const renamed = await patch(app.id, { displayName: '  orphan renamed  ' });
        assert.equal(renamed.body.displayName, 'orphan renamed');
        assert.equal((await remove(app.id)).status, 204);
        assert.equal((await show(app.id)).status, 404);
      });

      it("a standalone service principal's id or appId does not name an application (404)", async () => {
        const sp = await call<{ id: string; appId: string }>(`${server.url}/v1.0/servicePrincipals`, { token: admin, body: { displayName: 'standalone-sp' } });
        assert.equal((await show(sp.body.id)).status, 404);
        assert.equal((await show(sp.body.appId)).status, 404);
        assert.equal((await call(url(`/${sp.body.appId}/addPassword`), { token: admin, body: {} })).status, 404);
      });
    });

    describe('who may', () => {
      let target: AppView;
      before(async () => {
        target = await made({ displayName: 'guarded-app', web: { redirectUris: ['https://guarded.example/cb'] } });
      });

      /** Every write, as `token`: each answered with the status the check expects. */
      const writes = (token: string) => [
        () => create({ displayName: 'sneaky' }, token),
        () => patch(target.id, { web: { redirectUris: ['https://evil.example/cb'] } }, token),
        () => call(url(`/${target.id}/addPassword`), { token, body: {} }),
        () => call(url(`/${target.id}/removePassword`), { token, body: { keyId: crypto.randomUUID() } }),
        () => remove(target.id, token),
      ];

      it('without a token every route is 401 with a Bearer challenge', async () => {
        const requests = [
          call(url()),
          call(url(), { body: { displayName: 'anonymous' } }),
          call(url(`/${target.id}`)),
          call(url(`/${target.id}`), { method: 'PATCH', body: { displayName: 'x' } }),
          call(url(`/${target.id}`), { method: 'DELETE' }),
          call(url(`/${target.id}/addPassword`), { body: {} }),
          call(url(`/${target.id}/addPassword`), { body: {}, token: 'not-a-token' }),
        ];
        for (const res of await Promise.all(requests)) {
          assert.equal(res.status, 401);
          assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
        }
        assert.deepEqual((await show(target.id)).body, target);
      });

      it('a user with no role may not even read them (403)', async () => {
        const nobody = await newUser(server, admin, 'app-nobody');
        assert.equal((await call(url(), { token: nobody.token })).status, 403);
        assert.equal((await show(target.id, nobody.token)).status, 403);
      });

      for (const role of ['Reader', 'Contributor']) {
        it(`a ${role} at '/' may list and show applications but not create, change, add secrets to or delete them (403)`, async () => {
          const user = await newUser(server, admin, `app-${role.toLowerCase()}`);
          await assignRole(server, admin, '/', user.id, role);
          assert.equal((await call(url(), { token: user.token })).status, 200);
          assert.deepEqual((await show(target.id, user.token)).body, target);
          for (const write of writes(user.token)) {
            const res = await write();
            assert.equal(res.status, 403, JSON.stringify(res.body));
            assert.equal(errorIn(res.body).code, 'AuthorizationFailed');
            assert.match(errorIn(res.body).message, /'Tessera\.Directory\/applications\/(write|delete)'/);
          }
          assert.deepEqual((await show(target.id)).body, target, 'nothing changed');
          assert.deepEqual((await spOf(target.appId)).body.passwordCredentials, [], 'no secret was added');
          assert.equal((await show('sneaky')).status, 404);
        });
      }

      it("an Owner at '/' (not the bootstrap admin) may create, change and delete them", async () => {
        const owner = await newUser(server, admin, 'app-owner');
        await assignRole(server, admin, '/', owner.id, 'Owner');
        const res = await create({ displayName: 'owned-app' }, owner.token);
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.equal((await patch(res.body.id, { isFallbackPublicClient: true }, owner.token)).status, 200);
        assert.equal((await remove(res.body.id, owner.token)).status, 204);
      });
    });

    it('no client secret of this suite appears in any log line', () => {
      const text = server.logs.join('\n');
      assert.ok(server.logs.length > 50, 'the suite produced logs');
      assert.ok(!/tscs_[A-Za-z0-9_-]{20}/.test(text), 'no client secret');
    });
  });
}
