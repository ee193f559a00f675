/**
 * Web services under ARM: create, read, list, delete; the auth rules; RBAC on every
 * operation; keys, their rotation and expiry; service tokens; access tokens with the score
 * permission; deployment states and logs. On both stores, with real runtimes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ADMIN_PASSWORD, call, STORE_KINDS } from './helpers.js';
import { assignRole, errorOf, newUser, startArmServer, workspaceToken, type ArmTestServer } from './arm-helpers.js';
import { signJwt } from '../src/tokens/jws.js';
import { JS_ECHO, PY_ECHO, deploy, keysOf, makeWorkspace, putService, score, scriptBody, waitForState, type Workspace } from './web-service-helpers.js';

const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const DATA_SCIENTIST = 'f6c7c914-8db3-469d-8ca1-694a8f32e121';

for (const kind of STORE_KINDS) {
  describe(`web services (${kind})`, () => {
    let server: ArmTestServer;
    let w: Workspace;
    const secrets: string[] = [];

    before(async () => {
      server = await startArmServer(kind);
      w = await makeWorkspace(server);
    });
    after(async () => {
      await server.close();
    });

    it('an instance service takes the defaults (no auth, 1 replica), goes Transitioning → Healthy and scores', async () => {
      const res = await putService(w, 'echo-inst', scriptBody('score.mjs', JS_ECHO));
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const props = res.body.properties as Record<string, unknown>;
      assert.equal(props.state, 'Transitioning');
      assert.equal(props.target, 'instance');
      assert.equal(props.authMode, 'none');
      assert.equal(props.runtime, 'javascript');
      assert.equal(props.replicas, 1);
      assert.equal(props.kind, 'azureml');
      assert.equal(props.scoringUri, `${server.url}/api/v1/service/echo-inst/score`);
      assert.equal(res.body.id, `${w.ws}/onlineEndpoints/echo-inst`);
      await waitForState(w, 'echo-inst', 'Healthy');
      const scored = await score(server.url, 'echo-inst', { a: 1 });
      assert.equal(scored.status, 200, JSON.stringify(scored.body));
      assert.deepEqual(scored.body, { echo: { a: 1 }, version: 1 });
    });

    it('a cluster service defaults to key auth; both keys score, a missing, wrong or foreign key is 401 with a challenge', async () => {
      const body = await deploy(w, 'echo-key', scriptBody('score.mjs', JS_ECHO, { target: 'cluster' }));
      assert.equal((body.properties as Record<string, unknown>).authMode, 'key');
      const keys = await keysOf(w, 'echo-key');
      secrets.push(keys.primaryKey, keys.secondaryKey);
      assert.match(keys.primaryKey, /^tssk_[A-Za-z0-9_-]{43}$/);
      assert.notEqual(keys.primaryKey, keys.secondaryKey);
      assert.equal((await score(server.url, 'echo-key', { x: 1 }, keys.primaryKey)).status, 200);
      assert.equal((await score(server.url, 'echo-key', { x: 1 }, keys.secondaryKey)).status, 200);
      const missing = await score(server.url, 'echo-key', { x: 1 });
      assert.equal(missing.status, 401);
      assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.equal(errorOf(missing.body).code, 'InvalidAuthenticationToken');
      const wrong = await score(server.url, 'echo-key', { x: 1 }, `tssk_${'A'.repeat(43)}`);
      assert.equal(wrong.status, 401);
      assert.match(wrong.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
      await deploy(w, 'other-key', scriptBody('score.mjs', JS_ECHO, { authMode: 'key' }));
      const otherKeys = await keysOf(w, 'other-key');
      secrets.push(otherKeys.primaryKey, otherKeys.secondaryKey);
      assert.equal((await score(server.url, 'echo-key', { x: 1 }, otherKeys.primaryKey)).status, 401);
      assert.equal((await score(server.url, 'echo-key', { x: 1 }, 'Basic abc', { authorization: 'Basic abc' })).status, 401);
    });

    it('the auth rules: key with token is a 400, token on an instance is a 400, authMode contradicting the booleans is a 400', async () => {
      const both = await putService(w, 'bad-auth', scriptBody('score.mjs', JS_ECHO, { target: 'cluster', authEnabled: true, tokenAuthEnabled: true }));
      assert.equal(both.status, 400);
      assert.match(errorOf(both.body).message, /key auth and token auth cannot be combined/i);
      const tokenOnInstance = await putService(w, 'bad-auth', scriptBody('score.mjs', JS_ECHO, { target: 'instance', tokenAuthEnabled: true }));
      assert.equal(tokenOnInstance.status, 400);
      assert.match(errorOf(tokenOnInstance.body).message, /token auth is not available on instance targets/i);
      const modeOnInstance = await putService(w, 'bad-auth', scriptBody('score.mjs', JS_ECHO, { authMode: 'token' }));
      assert.equal(modeOnInstance.status, 400);
      const contradiction = await putService(w, 'bad-auth', scriptBody('score.mjs', JS_ECHO, { target: 'cluster', authMode: 'none', authEnabled: true }));
      assert.equal(contradiction.status, 400);
      assert.match(errorOf(contradiction.body).message, /contradicts/);
      const runtime = await putService(w, 'bad-auth', scriptBody('score.py', PY_ECHO, { runtime: 'javascript' }));
      assert.equal(runtime.status, 400);
      assert.match(errorOf(runtime.body).message, /'runtime'.*contradicts/);
      assert.equal((await call(w.url('/onlineEndpoints/bad-auth'), { token: w.admin })).status, 404);
    });

    it('list, get and delete; a deleted service answers 404 at its scoring URL', async () => {
      await deploy(w, 'short-lived', scriptBody('score.mjs', JS_ECHO));
      const list = await call<{ value: { name: string }[] }>(w.url('/onlineEndpoints'), { token: w.admin });
      assert.equal(list.status, 200);
      assert.ok(list.body.value.some((s) => s.name === 'short-lived'));
      assert.equal((await call(w.url('/onlineEndpoints/short-lived'), { token: w.admin })).status, 200);
      assert.equal((await score(server.url, 'short-lived', {})).status, 200);
      assert.equal((await call(w.url('/onlineEndpoints/short-lived'), { method: 'DELETE', token: w.admin })).status, 200);
      assert.equal((await call(w.url('/onlineEndpoints/short-lived'), { token: w.admin })).status, 404);
      const gone = await score(server.url, 'short-lived', {});
      assert.equal(gone.status, 404);
      assert.equal(errorOf(gone.body).code, 'ResourceNotFound');
      assert.equal((await call(w.url('/onlineEndpoints/short-lived'), { method: 'DELETE', token: w.admin })).status, 404);
    });

    it('a name is unique on the server: the same name in another workspace is a 409', async () => {
      const other = await makeWorkspace(server, 'rg-two', 'ws-two');
      const res = await putService(other, 'echo-inst', scriptBody('score.mjs', JS_ECHO));
      assert.equal(res.status, 409, JSON.stringify(res.body));
    });

    it('RBAC: a Reader reads and fetches tokens but cannot list keys, regenerate or write; no role is 403', async () => {
      await deploy(w, 'tok-svc', scriptBody('score.mjs', JS_ECHO, { target: 'cluster', authMode: 'token' }));
      const reader = await newUser(server, w.admin, 'svc-reader');
      await assignRole(server, w.admin, w.ws, reader.id, READER);
      assert.equal((await call(w.url('/onlineEndpoints/tok-svc'), { token: reader.token })).status, 200);
      const list = await call<{ value: unknown[] }>(w.url('/onlineEndpoints'), { token: reader.token });
      assert.equal(list.status, 200);
      assert.ok(list.body.value.length >= 1);
      const token = await call(w.url('/onlineEndpoints/tok-svc/token'), { method: 'POST', token: reader.token });
      assert.equal(token.status, 200, JSON.stringify(token.body));
      assert.equal((await call(w.url('/onlineEndpoints/tok-svc/listKeys'), { method: 'POST', token: reader.token })).status, 403);
      assert.equal((await call(w.url('/onlineEndpoints/tok-svc/regenerateKeys'), { method: 'POST', token: reader.token, body: { keyType: 'Primary' } })).status, 403);
      assert.equal((await putService(w, 'tok-svc', scriptBody('score.mjs', JS_ECHO), reader.token)).status, 403);
      assert.equal((await call(w.url('/onlineEndpoints/tok-svc'), { method: 'DELETE', token: reader.token })).status, 403);
      const nobody = await newUser(server, w.admin, 'svc-nobody');
      assert.equal((await call(w.url('/onlineEndpoints/tok-svc'), { token: nobody.token })).status, 403);
      assert.equal((await call(w.url('/onlineEndpoints'), { token: nobody.token })).status, 403);
      assert.equal((await call(w.url('/onlineEndpoints/tok-svc/token'), { method: 'POST', token: nobody.token })).status, 403);
    });

    it('key rotation: after regenerating Primary the old primary is 401 on the very next request; Secondary keeps working', async () => {
      const before = await keysOf(w, 'echo-key');
      const regen = await call<{ keyType: string; key: string }>(w.url('/onlineEndpoints/echo-key/regenerateKeys'), { method: 'POST', token: w.admin, body: { keyType: 'Primary' } });
      assert.equal(regen.status, 200, JSON.stringify(regen.body));
      secrets.push(regen.body.key);
      assert.equal(regen.body.keyType, 'Primary');
      assert.notEqual(regen.body.key, before.primaryKey);
      assert.equal((await score(server.url, 'echo-key', { r: 1 }, before.primaryKey)).status, 401);
      assert.equal((await score(server.url, 'echo-key', { r: 1 }, before.secondaryKey)).status, 200);
      assert.equal((await score(server.url, 'echo-key', { r: 1 }, regen.body.key)).status, 200);
      const after = await keysOf(w, 'echo-key');
      assert.equal(after.primaryKey, regen.body.key);
      assert.equal(after.secondaryKey, before.secondaryKey);
    });

    it("a caller-given key works; a key past its expiry is 401; bad regenerate bodies are 400s", async () => {
      const chosen = `my-own-key-${'x'.repeat(30)}`;
      secrets.push(chosen);
      // Long enough to regenerate and score with it first on a loaded machine; then waited out.
      const expiresAt = new Date(Date.now() + 5000).toISOString();
      const regen = await call(w.url('/onlineEndpoints/echo-key/regenerateKeys'), { method: 'POST', token: w.admin, body: { keyType: 'Secondary', keyValue: chosen, expiresAt } });
      assert.equal(regen.status, 200, JSON.stringify(regen.body));
      assert.equal((await score(server.url, 'echo-key', {}, chosen)).status, 200);
      const deadline = Date.now() + 30_000;
      let status = 200;
      while (status === 200 && Date.now() < deadline) {
        await sleep(100);
        status = (await score(server.url, 'echo-key', {}, chosen)).status;
      }
      assert.equal(status, 401);
      const listed = await call<{ keys: { keyType: string; expiresAt: string | null }[] }>(w.url('/onlineEndpoints/echo-key/listKeys'), { method: 'POST', token: w.admin });
      assert.equal(listed.body.keys.find((k) => k.keyType === 'Secondary')?.expiresAt, expiresAt);
      for (const bad of [{}, { keyType: 'Tertiary' }, { keyType: 'Primary', keyValue: 'short' }, { keyType: 'Primary', keyValue: `${'a'.repeat(40)}!` }, { keyType: 'Primary', expiresAt: '2001-01-01T00:00:00Z' }, { keyType: 'Primary', expiresAt: 'tomorrow' }, { keyType: 'Primary', extra: 1 }]) {
        const res = await call(w.url('/onlineEndpoints/echo-key/regenerateKeys'), { method: 'POST', token: w.admin, body: bad });
        assert.equal(res.status, 400, JSON.stringify(bad));
        assert.doesNotMatch(JSON.stringify(res.body), /aaaaaaaaaa/);
      }
    });

    it('token auth: a service token scores its service only; an expired one, a management token or a key is 401', async () => {
      await deploy(w, 'tok-two', scriptBody('score.mjs', JS_ECHO, { target: 'cluster', tokenAuthEnabled: true }));
      const t = await call<{ accessToken: string; tokenType: string; expiryTimeUtc: string; refreshAfterTimeUtc: string }>(w.url('/onlineEndpoints/tok-svc/token'), { method: 'POST', token: w.admin });
      assert.equal(t.status, 200);
      secrets.push(t.body.accessToken);
      assert.equal(t.body.tokenType, 'Bearer');
      const life = Date.parse(t.body.expiryTimeUtc) - Date.now();
      assert.ok(life > 3500_000 && life <= 3600_000, String(life));
      const refresh = Date.parse(t.body.refreshAfterTimeUtc) - Date.now();
      assert.ok(refresh > 1700_000 && refresh <= 1800_000, String(refresh));
      const claims = JSON.parse(Buffer.from(t.body.accessToken.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
      assert.equal(claims.aud, `${server.url}/api/v1/service/tok-svc`);
      assert.equal(typeof claims.service_id, 'string');
      assert.equal((await score(server.url, 'tok-svc', { t: 1 }, t.body.accessToken)).status, 200);
      assert.equal((await score(server.url, 'tok-svc', { t: 1 }, t.body.accessToken)).status, 200);
      const foreign = await score(server.url, 'tok-two', { t: 1 }, t.body.accessToken);
      assert.equal(foreign.status, 401);
      assert.match(foreign.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.equal((await score(server.url, 'tok-svc', { t: 1 }, w.admin)).status, 401);
      const keys = await keysOf(w, 'tok-svc');
      secrets.push(keys.primaryKey, keys.secondaryKey);
      assert.equal((await score(server.url, 'tok-svc', { t: 1 }, keys.primaryKey)).status, 401);
      // An expired token, signed with the server's own current key.
      const { services } = server;
      const key = services.keys.signingKey(server.tenantId);
      const now = Math.floor(Date.now() / 1000);
      const expired = signJwt(
        { aud: claims.aud, iss: claims.iss, sub: claims.sub, tid: server.tenantId, service_id: claims.service_id, iat: now - 7200, nbf: now - 7200, exp: now - 3600 },
        key.alg,
        key.kid,
        key.privateKey!,
      );
      assert.equal((await score(server.url, 'tok-svc', { t: 1 }, expired)).status, 401);
      // The token operation refuses services without token auth.
      assert.equal((await call(w.url('/onlineEndpoints/echo-key/token'), { method: 'POST', token: w.admin })).status, 400);
    });

    it('aad auth: a workspace-audience access token whose principal holds score/action scores; without it 403; a Data Scientist may score, a Reader may not; a management token is 401', async () => {
      await deploy(w, 'aad-svc', scriptBody('score.mjs', JS_ECHO, { authMode: 'aad' }));
      const adminWs = await workspaceToken(server, 'admin', ADMIN_PASSWORD);
      assert.equal((await score(server.url, 'aad-svc', { a: 1 }, adminWs)).status, 200);
      // The management audience is not the data plane's: a management token cannot score.
      const management = await score(server.url, 'aad-svc', { a: 1 }, w.admin);
      assert.equal(management.status, 401);
      assert.match(errorOf(management.body).message, /workspace audience/);
      const plain = await newUser(server, w.admin, 'aad-plain');
      const denied = await score(server.url, 'aad-svc', { a: 1 }, await workspaceToken(server, 'aad-plain', plain.password));
      assert.equal(denied.status, 403);
      assert.match(errorOf(denied.body).message, /onlineEndpoints\/score\/action/);
      const reader = await newUser(server, w.admin, 'aad-reader');
      await assignRole(server, w.admin, w.ws, reader.id, READER);
      assert.equal((await score(server.url, 'aad-svc', { a: 1 }, await workspaceToken(server, 'aad-reader', reader.password))).status, 403);
      const scientist = await newUser(server, w.admin, 'aad-scientist');
      await assignRole(server, w.admin, `${w.ws}/onlineEndpoints/aad-svc`, scientist.id, DATA_SCIENTIST);
      assert.equal((await score(server.url, 'aad-svc', { a: 1 }, await workspaceToken(server, 'aad-scientist', scientist.password))).status, 200);
      assert.equal((await score(server.url, 'aad-svc', { a: 1 }, 'not-a-jwt')).status, 401);
      assert.equal((await score(server.url, 'aad-svc', { a: 1 })).status, 401);
      // The caller is authenticated before the body is read: no credential and a body over
      // the limit is 401, not 413.
      assert.equal((await score(server.url, 'aad-svc', { blob: 'y'.repeat(2 * 1024 * 1024) })).status, 401);
    });

    it('a Python service: print output reaches getLogs; an init() that raises leaves it Failed with the error (409 to scoring)', async () => {
      await deploy(w, 'py-echo', scriptBody('score.py', PY_ECHO));
      const scored = await score(server.url, 'py-echo', { p: [1, 2] });
      assert.equal(scored.status, 200, JSON.stringify(scored.body));
      assert.deepEqual(scored.body, { echo: { p: [1, 2] } });
      const deadline = Date.now() + 30_000;
      let content = '';
      while (!content.includes('scored') && Date.now() < deadline) {
        content = ((await call<{ content: string }>(w.url('/onlineEndpoints/py-echo/getLogs'), { method: 'POST', token: w.admin })).body.content) ?? '';
        if (!content.includes('scored')) await sleep(50);
      }
      assert.match(content, /python echo ready/);
      assert.match(content, /scored/);
      const broken = await putService(w, 'py-broken', scriptBody('score.py', 'def init():\n    raise ValueError("the weights are missing")\n\ndef run(raw):\n    return 1\n'));
      assert.equal(broken.status, 201);
      const failed = await waitForState(w, 'py-broken', 'Failed');
      assert.match(String((failed.properties as Record<string, unknown>).error), /the weights are missing/);
      const logs = await call<{ content: string }>(w.url('/onlineEndpoints/py-broken/getLogs'), { method: 'POST', token: w.admin });
      assert.equal(logs.status, 200);
      assert.match(logs.body.content, /the weights are missing/);
      const refused = await score(server.url, 'py-broken', {});
      assert.equal(refused.status, 409);
      // Fixing the script brings it back.
      await deploy(w, 'py-broken', scriptBody('score.py', PY_ECHO));
      assert.equal((await score(server.url, 'py-broken', { ok: true })).status, 200);
    });

    it('management changes are audited, and no key or token appears in any log line', async () => {
      const audit = await call<{ value: { operation: string }[] }>(`${server.url}/admin/auditRecords`, { token: w.admin });
      assert.equal(audit.status, 200);
      assert.ok(JSON.stringify(audit.body).includes('onlineEndpoints/write'));
      const logs = server.logs.join('\n');
      assert.ok(secrets.length >= 6);
      for (const secret of secrets) assert.ok(!logs.includes(secret), 'a key or token was logged');
      const records = JSON.stringify(audit.body);
      for (const secret of secrets) assert.ok(!records.includes(secret), 'a key or token was audited');
    });
  });
}
