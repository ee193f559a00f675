/**
 * Quotas: web services, workers, memory and model storage, each limited per workspace and
 * per principal (across workspaces); refusals are 409 QuotaExceeded naming the limit, the
 * scope, the usage and the request; updates that grow nothing pass at the limit; deletes
 * free quota; concurrent creates cannot overshoot; administrators' defaults and overrides
 * raise and lower limits, with bad input a 400 and non-administrators a 403. Both stores.
 */
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { call, STORE_KINDS, type JsonResponse } from './helpers.js';
import { armPaths, assignRole, errorOf, newUser, startArmServer, type ArmTestServer } from './arm-helpers.js';
import { JS_ECHO, makeWorkspace, putService, scriptBody, type Workspace } from './web-service-helpers.js';
import { filesUnder, sha256, uploadVersion } from './model-helpers.js';
import { ConfigError, resolveConfig } from '../src/config.js';

const DATA_SCIENTIST = 'f6c7c914-8db3-469d-8ca1-694a8f32e121';
const CONTRIBUTOR = 'b24988ac-6180-42a0-ab88-20f7382dd24c';
const GIB = 1024 ** 3;

type Body = Record<string, unknown>;

interface UsageLine {
  name: string;
  currentValue: number;
  limit: number | null;
  unit: string;
}

/** A JavaScript echo service of `replicas` workers of `memoryGb` each. */
function service(replicas = 1, memoryGb = 0.5, description = ''): Body {
  return scriptBody('score.mjs', JS_ECHO, { replicas, memoryGb, description });
}

/** Asserts a 409 QuotaExceeded whose message matches `message`; returns the message. */
function refused(res: JsonResponse, message: RegExp): string {
  assert.equal(res.status, 409, JSON.stringify(res.body));
  const error = errorOf(res.body);
  assert.equal(error.code, 'QuotaExceeded');
  assert.match(error.message, message);
  return error.message;
}

function created(res: JsonResponse, status: 200 | 201 = 201): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
}

for (const kind of STORE_KINDS) {
  describe(`quotas (${kind})`, () => {
    let server: ArmTestServer;
    let admin: string;
    let modelDir: string;

    const quota = {
      put: (suffix: string, body: unknown, token = admin) => call(`${server.url}/admin/quotas${suffix}`, { method: 'PUT', token, body }),
      delete: (suffix: string, token = admin) => call(`${server.url}/admin/quotas${suffix}`, { method: 'DELETE', token }),
      get: <T = Body>(suffix = '', token = admin) => call<T>(`${server.url}/admin/quotas${suffix}`, { token }),
    };
    /** Sets a workspace's override; throws unless 200. */
    async function limitWorkspace(w: Workspace, limits: Body): Promise<void> {
      const res = await quota.put(`/workspaces${w.ws}`, limits);
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    /** Sets a principal's override; throws unless 200. */
    async function limitPrincipal(objectId: string, limits: Body): Promise<void> {
      const res = await quota.put(`/principals/${objectId}`, limits);
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    const modelUrl = (w: Workspace, name: string, version: number) => w.url(`/models/${name}/versions/${version}`);
    const upload = (w: Workspace, name: string, version: number, bytes: number | Buffer, token = w.admin) =>
      uploadVersion(modelUrl(w, name, version), token, [{ path: 'weights.bin', content: typeof bytes === 'number' ? Buffer.alloc(bytes, version) : bytes }]);

    before(async () => {
      server = await startArmServer(kind);
      admin = (await makeWorkspace(server, 'rg-q', 'ws-q0')).admin;
      modelDir = server.services.config.modelDir;
    });
    after(async () => {
      await server.close();
    });

    it('services: a workspace at its limit refuses the next web service with 409 QuotaExceeded naming the limit; deleting one frees it', async () => {
      const w = await makeWorkspace(server, 'rg-q', 'ws-services');
      await limitWorkspace(w, { services: 2 });
      created(await putService(w, 'q-svc-a', service()));
      created(await putService(w, 'q-svc-b', service()));
      refused(await putService(w, 'q-svc-c', service()), /^The workspace 'ws-services' would use 3 web services; its quota is 2 \(in use: 2\)\..*'services'/);
      assert.equal((await call(w.url('/onlineEndpoints/q-svc-c'), { token: admin })).status, 404, 'nothing was created');
      created(await putService(w, 'q-svc-a', service(1, 0.5, 'changed')), 200);
      assert.equal((await call(w.url('/onlineEndpoints/q-svc-b'), { method: 'DELETE', token: admin })).status, 200);
      created(await putService(w, 'q-svc-c', service()));
    });

    it('workers: replicas add up per workspace; an update that grows nothing passes at the limit, one that grows is refused, one that shrinks passes', async () => {
      const w = await makeWorkspace(server, 'rg-q', 'ws-workers');
      await limitWorkspace(w, { workers: 3 });
      created(await putService(w, 'q-wrk-a', service(2)));
      refused(await putService(w, 'q-wrk-b', service(2)), /^The workspace 'ws-workers' would use 4 workers; its quota is 3 \(in use: 2\)/);
      created(await putService(w, 'q-wrk-b', service(1)));
      created(await putService(w, 'q-wrk-a', service(2, 0.5, 'same size, at the limit')), 200);
      refused(await putService(w, 'q-wrk-a', service(3)), /would use 4 workers; its quota is 3 \(in use: 3\)/);
      created(await putService(w, 'q-wrk-a', service(1)), 200);
      created(await putService(w, 'q-wrk-c', service(1)));
    });

    it('memory: replicas × memoryGb add up per workspace, in GB', async () => {
      const w = await makeWorkspace(server, 'rg-q', 'ws-memory');
      await limitWorkspace(w, { memoryGb: 2 });
      created(await putService(w, 'q-mem-a', service(2, 0.75)));
      refused(await putService(w, 'q-mem-b', service(1, 1)), /^The workspace 'ws-memory' would use 2\.5 GB of memory; its quota is 2 GB \(in use: 1\.5 GB\)/);
      created(await putService(w, 'q-mem-b', service(1, 0.5)));
      refused(await putService(w, 'q-mem-a', service(2, 1)), /would use 2\.5 GB of memory; its quota is 2 GB \(in use: 2 GB\)/);
      assert.equal((await call(w.url('/onlineEndpoints/q-mem-b'), { method: 'DELETE', token: admin })).status, 200);
      created(await putService(w, 'q-mem-a', service(2, 1)), 200);
    });

    it('model storage: version sizes add up per workspace; a refused upload leaves no version and no stored bytes; deleting a version frees it', async () => {
      const w = await makeWorkspace(server, 'rg-q', 'ws-storage');
      await limitWorkspace(w, { modelStorageBytes: 1000 });
      created((await upload(w, 'm', 1, 600)) as JsonResponse);
      const blobsBefore = filesUnder(path.join(modelDir, 'blobs'));
      const refusedBytes = Buffer.alloc(500, 0x7e);
      refused((await upload(w, 'm', 2, refusedBytes)) as JsonResponse, /^The workspace 'ws-storage' would use at least 1100 bytes of model storage; its quota is 1000 bytes \(in use: 600 bytes\)/);
      assert.equal((await call(modelUrl(w, 'm', 2), { token: admin })).status, 404);
      assert.deepEqual(filesUnder(path.join(modelDir, 'blobs')), blobsBefore, 'the refused bytes were not kept');
      assert.ok(!filesUnder(path.join(modelDir, 'blobs')).some((f) => f.endsWith(sha256(refusedBytes))));
      assert.deepEqual(filesUnder(path.join(modelDir, 'tmp')), []);
      // A large upload is stopped as soon as it passes the quota, not stored first.
      refused((await upload(w, 'm', 2, 4 * 1024 * 1024)) as JsonResponse, /model storage; its quota is 1000 bytes/);
      assert.deepEqual(filesUnder(path.join(modelDir, 'blobs')), blobsBefore);
      created((await upload(w, 'm', 2, 400)) as JsonResponse);
      refused((await upload(w, 'm', 3, 1)) as JsonResponse, /in use: 1000 bytes/);
      assert.equal((await call(modelUrl(w, 'm', 1), { method: 'DELETE', token: admin })).status, 200);
      created((await upload(w, 'm', 3, 600)) as JsonResponse);
    });

    it('per principal: services, workers, memory and model storage count across workspaces and are refused naming the principal', async () => {
      const a = await makeWorkspace(server, 'rg-q', 'ws-pa');
      const b = await makeWorkspace(server, 'rg-q', 'ws-pb');
      const user = await newUser(server, admin, 'quota-user');
      for (const w of [a, b]) await assignRole(server, admin, w.ws, user.id, DATA_SCIENTIST);
      await limitPrincipal(user.id, { services: 2, workers: 3, memoryGb: 3, modelStorageBytes: 1000 });

      created(await putService(a, 'q-pr-a', service(1, 1), user.token));
      created(await putService(b, 'q-pr-b', service(1, 1), user.token));
      refused(await putService(a, 'q-pr-c', service(1, 1), user.token), /^The principal 'quota-user' would use 3 web services; its quota is 2 \(in use: 2\)/);
      // The workspace has room: another principal may still deploy there.
      created(await putService(a, 'q-pr-admin', service()));
      refused(await putService(a, 'q-pr-a', service(3, 1), user.token), /^The principal 'quota-user' would use 4 workers; its quota is 3 \(in use: 2\)/);
      refused(await putService(a, 'q-pr-a', service(2, 1.5), user.token), /^The principal 'quota-user' would use 4 GB of memory; its quota is 3 GB \(in use: 2 GB\)/);
      created(await putService(a, 'q-pr-a', service(2, 1), user.token), 200);
      // An update is charged to the service's creator, whoever makes it.
      refused(await putService(b, 'q-pr-b', service(2, 1)), /^The principal 'quota-user' would use 4 workers/);

      created((await upload(a, 'pm', 1, 600, user.token)) as JsonResponse);
      refused((await upload(b, 'pm', 1, 500, user.token)) as JsonResponse, /^The principal 'quota-user' would use at least 1100 bytes of model storage; its quota is 1000 bytes \(in use: 600 bytes\)/);
      created((await upload(b, 'pm', 1, 500)) as JsonResponse);

      const usage = await quota.get<{ scope: string; id: string; displayName: string; value: UsageLine[] }>(`/usage?principal=${user.id.toUpperCase()}`);
      assert.equal(usage.status, 200, JSON.stringify(usage.body));
      assert.deepEqual([usage.body.scope, usage.body.id, usage.body.displayName], ['principal', user.id, 'quota-user']);
      assert.deepEqual(usage.body.value, [
        { name: 'services', currentValue: 2, limit: 2, unit: 'Count' },
        { name: 'workers', currentValue: 3, limit: 3, unit: 'Count' },
        { name: 'memoryGb', currentValue: 3, limit: 3, unit: 'GB' },
        { name: 'modelStorageBytes', currentValue: 600, limit: 1000, unit: 'Bytes' },
      ]);
      assert.equal((await call(b.url('/onlineEndpoints/q-pr-b'), { method: 'DELETE', token: user.token })).status, 200);
      created(await putService(a, 'q-pr-c', service(1, 1), user.token));
    });

    it("Machine Learning Server publishing counts: each version is a service, its model file is storage; a refusal leaves nothing behind", async () => {
      const user = await newUser(server, admin, 'quota-publisher');
      await assignRole(server, admin, `/subscriptions/${server.subscriptionId}`, user.id, DATA_SCIENTIST);
      await limitPrincipal(user.id, { services: 1, modelStorageBytes: 100 });
      const code = { runtimeType: 'JavaScript', code: 'z = x + 1;', inputParameterDefinitions: [{ name: 'x', type: 'numeric' }], outputParameterDefinitions: [{ name: 'z', type: 'numeric' }] };
      const publish = (version: string, body: Body) => call(`${server.url}/services/q-inc/${version}`, { method: 'POST', token: user.token, body });
      const first = await publish('1.0', code);
      assert.equal(first.status, 201, JSON.stringify(first.body));
      refused(await publish('2.0', code), /^The principal 'quota-publisher' would use 2 web services; its quota is 1 \(in use: 1\)/);
      const patched = await call(`${server.url}/services/q-inc/1.0`, { method: 'PATCH', token: user.token, body: { description: 'at the limit' } });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      await limitPrincipal(user.id, { services: 2, modelStorageBytes: 100 });
      const modelFile = { fileName: 'big.bin', content: Buffer.alloc(200, 1).toString('base64') };
      refused(await publish('2.0', { ...code, modelFile }), /^The principal 'quota-publisher' would use at least 200 bytes of model storage; its quota is 100 bytes \(in use: 0 bytes\)/);
      assert.equal((await call(`${server.url}/services/q-inc/2.0`, { token: user.token })).status, 404);
      const ws = `${armPaths(server).rg('mlserver')}/providers/Microsoft.MachineLearningServices/workspaces/mlserver`;
      assert.equal((await call(armPaths(server).url(`${ws}/models/mlserver.q-inc.2.0`), { token: admin })).status, 404, 'no model file was registered');
    });

    it('concurrent creates cannot overshoot: of six racing PUTs under a limit of two, exactly two succeed', async () => {
      const w = await makeWorkspace(server, 'rg-q', 'ws-race');
      await limitWorkspace(w, { services: 2 });
      const results = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => putService(w, `q-race-${i}`, service())));
      assert.deepEqual(results.map((r) => r.status).sort(), [201, 201, 409, 409, 409, 409], JSON.stringify(results.map((r) => r.body)));
      const list = await call<{ value: unknown[] }>(w.url('/onlineEndpoints'), { token: admin });
      assert.equal(list.body.value.length, 2);
    });

    it('an administrator lowers and raises a workspace override: below usage, updates that grow nothing still pass and creates are refused; removing it restores the default', async () => {
      const w = await makeWorkspace(server, 'rg-q', 'ws-override');
      created(await putService(w, 'q-ovr-a', service()));
      created(await putService(w, 'q-ovr-b', service()));
      const set = await quota.put(`/workspaces${w.ws}`, { services: 1, workers: null });
      assert.equal(set.status, 200, JSON.stringify(set.body));
      assert.deepEqual(set.body, {
        scope: 'workspace',
        id: w.ws,
        displayName: 'ws-override',
        limits: { services: 1, workers: null },
        updatedAt: set.body.updatedAt,
        updatedBy: (set.body as { updatedBy: string }).updatedBy,
        effective: { services: 1, workers: null, memoryGb: 128, modelStorageBytes: 100 * GIB },
      });
      created(await putService(w, 'q-ovr-a', service(1, 0.5, 'updated below a lowered limit')), 200);
      refused(await putService(w, 'q-ovr-c', service()), /would use 3 web services; its quota is 1 \(in use: 2\)/);
      await limitWorkspace(w, { services: 3 });
      created(await putService(w, 'q-ovr-c', service()));
      refused(await putService(w, 'q-ovr-d', service()), /its quota is 3 \(in use: 3\)/);
      const overview = await quota.get<{ overrides: { scope: string; id: string; limits: Body }[] }>();
      assert.deepEqual(overview.body.overrides.find((o) => o.id === w.ws)?.limits, { services: 3 });
      assert.equal((await quota.delete(`/workspaces${w.ws}`)).status, 204);
      assert.equal((await quota.delete(`/workspaces${w.ws}`)).status, 404);
      created(await putService(w, 'q-ovr-d', service()));
    });

    it('the stored default applies where no override does, per scope kind, over the configuration; deleting it restores the configuration', async () => {
      const w = await makeWorkspace(server, 'rg-q', 'ws-default');
      const user = await newUser(server, admin, 'quota-default-user');
      await assignRole(server, admin, w.ws, user.id, DATA_SCIENTIST);
      const set = await quota.put('/default', { workspace: { services: 1 }, principal: { workers: 1 } });
      assert.equal(set.status, 200, JSON.stringify(set.body));
      const defaults = (set.body as { defaults: Record<string, Body> }).defaults;
      assert.deepEqual(defaults.workspace, { services: 1, workers: 64, memoryGb: 128, modelStorageBytes: 100 * GIB });
      assert.deepEqual(defaults.principal, { services: 50, workers: 1, memoryGb: 128, modelStorageBytes: 100 * GIB });
      refused(await putService(w, 'q-def-a', service(2), user.token), /^The principal 'quota-default-user' would use 2 workers; its quota is 1 \(in use: 0\)/);
      created(await putService(w, 'q-def-a', service(1), user.token));
      refused(await putService(w, 'q-def-b', service()), /^The workspace 'ws-default' would use 2 web services; its quota is 1/);
      const overview = await quota.get<{ configured: Record<string, Body>; overrides: { scope: string; id: string }[] }>();
      assert.equal(overview.body.configured.workspace!.services, 50);
      assert.deepEqual(overview.body.overrides.filter((o) => o.scope === 'default').map((o) => o.id), ['principal', 'workspace']);
      assert.equal((await quota.delete('/default')).status, 204);
      assert.equal((await quota.delete('/default')).status, 404);
      created(await putService(w, 'q-def-b', service()));
      created(await putService(w, 'q-def-a', service(2), user.token), 200);
    });

    it('usage: a workspace against its limits, in the shape of Azure usage lists', async () => {
      const w = await makeWorkspace(server, 'rg-q', 'ws-usage');
      created(await putService(w, 'q-use-a', service(2, 0.25)));
      created((await upload(w, 'u', 1, 1234)) as JsonResponse);
      const res = await quota.get<{ scope: string; id: string; displayName: string; value: UsageLine[] }>(`/usage?workspace=${encodeURIComponent(w.ws)}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body, {
        scope: 'workspace',
        id: w.ws,
        displayName: 'ws-usage',
        value: [
          { name: 'services', currentValue: 1, limit: 50, unit: 'Count' },
          { name: 'workers', currentValue: 2, limit: 64, unit: 'Count' },
          { name: 'memoryGb', currentValue: 0.5, limit: 128, unit: 'GB' },
          { name: 'modelStorageBytes', currentValue: 1234, limit: 100 * GIB, unit: 'Bytes' },
        ],
      });
    });

    it("deleting a workspace forgets its override: one made again under the same name starts from the default", async () => {
      const w = await makeWorkspace(server, 'rg-q', 'ws-gone');
      await limitWorkspace(w, { services: 0 });
      refused(await putService(w, 'q-gone', service()), /its quota is 0/);
      assert.equal((await call(armPaths(server).url(w.ws), { method: 'DELETE', token: admin })).status, 200);
      const overview = await quota.get<{ overrides: { id: string }[] }>();
      assert.ok(!overview.body.overrides.some((o) => o.id === w.ws));
      const again = await makeWorkspace(server, 'rg-q', 'ws-gone');
      created(await putService(again, 'q-gone', service()));
    });

    it('bad admin input is a 400 naming the problem, never a 500: wrong types, negative, fractional, oversized, unknown fields, markup in ids, missing', async () => {
      const user = await newUser(server, admin, 'quota-bad-input');
      const w = await makeWorkspace(server, 'rg-q', 'ws-bad');
      const bodies: unknown[] = [
        { services: '8' },
        { services: true },
        { services: 1.5 },
        { services: -1 },
        { services: 1e12 },
        { modelStorageBytes: 2 ** 53 },
        '{"memoryGb": 1e400}',
        { workers: {} },
        { workers: [1] },
        { services: 1, unknown: 2 },
        '{"__proto__": {"services": 1}}',
        [],
        'null',
        '"text"',
        '{"services": 1,',
      ];
      for (const body of bodies) {
        for (const suffix of [`/principals/${user.id}`, `/workspaces${w.ws}`]) {
          const res = await call(`${server.url}/admin/quotas${suffix}`, { method: 'PUT', token: admin, body: body as object });
          assert.equal(res.status, 400, `${suffix} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
          assert.match(errorOf(res.body).code, /^(InvalidParameter|InvalidRequestContent)$/);
        }
      }
      const defaults: unknown[] = [{ workspace: { services: -1 } }, { everyone: {} }, { workspace: 5 }, { principal: { workers: 'many' } }];
      for (const body of defaults) assert.equal((await quota.put('/default', body)).status, 400, JSON.stringify(body));
      const missing = await call(`${server.url}/admin/quotas/principals/${user.id}`, { method: 'PUT', token: admin });
      assert.equal(missing.status, 400, JSON.stringify(missing.body));
      const ids = [
        '/principals/%3Cscript%3Ealert(1)%3C%2Fscript%3E',
        '/principals/not-a-guid',
        `/principals/${'a'.repeat(300)}`,
        `/principals/${'a'.repeat(2000)}`,
        `/principals/${'0'.repeat(8)}-0000-4000-8000-000000000000/extra`,
        `/workspaces/${'a/'.repeat(1000)}`,
        '/workspaces/%3Cscript%3E',
        '/workspaces/subscriptions/not-a-guid/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w',
        `/workspaces/subscriptions/${server.subscriptionId}/resourceGroups/rg-q`,
        `/workspaces${w.ws}/onlineEndpoints/x`,
        `/workspaces/subscriptions/${server.subscriptionId}/resourceGroups/rg-q/providers/Microsoft.MachineLearningServices/workspaces/%3Cb%3E`,
        `/workspaces/subscriptions/${server.subscriptionId}/resourceGroups/rg-q/providers/Microsoft.MachineLearningServices/workspaces/a%00b`,
      ];
      for (const suffix of ids) {
        for (const method of ['PUT', 'DELETE']) {
          const res = await call(`${server.url}/admin/quotas${suffix}`, { method, token: admin, ...(method === 'PUT' ? { body: { services: 1 } } : {}) });
          assert.equal(res.status, 400, `${method} ${suffix}: ${JSON.stringify(res.body)}`);
          assert.doesNotMatch(JSON.stringify(res.body), /<script|<b>/);
        }
      }
      assert.equal((await quota.put('/workspaces/', { services: 1 })).status, 404, 'no resource ID: no such endpoint');
      const queries = ['', '?workspace=%3Cscript%3E', `?principal=${user.id}&workspace=${encodeURIComponent(w.ws)}`, '?principal=nobody', '?other=1', `?workspace=${'x'.repeat(2000)}`];
      for (const q of queries) assert.equal((await quota.get(`/usage${q}`)).status, 400, q);
      // Well-formed but absent: 404.
      assert.equal((await quota.put(`/principals/00000000-0000-4000-8000-000000000000`, { services: 1 })).status, 404);
      assert.equal((await quota.put(`/workspaces${armPaths(server).ws('rg-q', 'ws-none')}`, { services: 1 })).status, 404);
      assert.equal((await quota.get(`/usage?workspace=${encodeURIComponent(armPaths(server).ws('rg-none', 'ws-none'))}`)).status, 404);
      assert.ok(!server.logs.some((l) => /"status":5\d\d/.test(l)), 'no request answered 5xx');
    });

    it('non-administrators get 403 on every quota route; a Contributor at the root may read but not change them', async () => {
      const user = await newUser(server, admin, 'quota-nobody');
      const w = await makeWorkspace(server, 'rg-q', 'ws-403');
      const routes: [string, string, unknown?][] = [
        ['GET', ''],
        ['GET', `/usage?principal=${user.id}`],
        ['PUT', '/default', { workspace: { services: 100 } }],
        ['DELETE', '/default'],
        ['PUT', `/workspaces${w.ws}`, { services: 100 }],
        ['DELETE', `/workspaces${w.ws}`],
        ['PUT', `/principals/${user.id}`, { services: 100 }],
        ['DELETE', `/principals/${user.id}`],
      ];
      for (const [method, suffix, body] of routes) {
        const res = await call(`${server.url}/admin/quotas${suffix}`, { method, token: user.token, ...(body === undefined ? {} : { body }) });
        assert.equal(res.status, 403, `${method} ${suffix}: ${JSON.stringify(res.body)}`);
        assert.equal(errorOf(res.body).code, 'AuthorizationFailed');
      }
      const contributor = await newUser(server, admin, 'quota-contributor');
      await assignRole(server, admin, '/', contributor.id, CONTRIBUTOR);
      assert.equal((await quota.get('', contributor.token)).status, 200);
      assert.equal((await quota.put(`/principals/${contributor.id}`, { services: 100 }, contributor.token)).status, 403);
      assert.equal((await quota.delete('/default', contributor.token)).status, 403);
    });
  });
}

describe('quota configuration', () => {
  it('TESSERA_QUOTA_* set the per-workspace defaults, TESSERA_QUOTA_PRINCIPAL_* the per-principal ones (else the workspace values); bad values stop start-up', () => {
    assert.deepEqual(resolveConfig({}, {}).quotas, {
      workspace: { services: 50, workers: 64, memoryGb: 128, modelStorageBytes: 100 * GIB },
      principal: { services: 50, workers: 64, memoryGb: 128, modelStorageBytes: 100 * GIB },
    });
    const config = resolveConfig({}, { TESSERA_QUOTA_SERVICES: '10', TESSERA_QUOTA_WORKERS: 'unlimited', TESSERA_QUOTA_MODEL_STORAGE_GB: '2', TESSERA_QUOTA_PRINCIPAL_MEMORY_GB: '0' });
    assert.deepEqual(config.quotas, {
      workspace: { services: 10, workers: null, memoryGb: 128, modelStorageBytes: 2 * GIB },
      principal: { services: 10, workers: null, memoryGb: 0, modelStorageBytes: 2 * GIB },
    });
    for (const [name, value] of [
      ['TESSERA_QUOTA_SERVICES', '-1'],
      ['TESSERA_QUOTA_WORKERS', '1.5'],
      ['TESSERA_QUOTA_MEMORY_GB', 'lots'],
      ['TESSERA_QUOTA_MODEL_STORAGE_GB', '99999999'],
      ['TESSERA_QUOTA_PRINCIPAL_SERVICES', '1000000'],
    ] as const) {
      assert.throws(() => resolveConfig({}, { [name]: value }), (err: unknown) => err instanceof ConfigError && err.message.includes(name), `${name}=${value}`);
    }
  });
});
