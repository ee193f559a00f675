/**
 * The model registry over the management API: register a file and a folder (multipart),
 * digests and sizes, identical content stored once on disk, versions newest first, 409 on
 * an existing version, show, download of the exact bytes, delete of versions and models
 * (blobs removed when nothing references them, kept while another version shares them),
 * materialize for runtimes, the usage check's 409, RBAC, and the workspace's discoveryUrl.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { STORE_KINDS, call } from './helpers.js';
import { adminToken, armPaths, assignRole, errorOf, newUser, startArmServer, type ArmTestServer } from './arm-helpers.js';
import { filesUnder, sha256, uploadVersion } from './model-helpers.js';

interface Version {
  id: string;
  name: string;
  type: string;
  properties: {
    modelName: string;
    version: number;
    description: string;
    tags: Record<string, string>;
    sha256: string;
    size: number;
    kind: string;
    files: { path: string; size: number; sha256: string }[];
    createdBy: string;
    createdAt: string;
  };
}

for (const kind of STORE_KINDS) {
  describe(`model registry [${kind}]`, () => {
    let server: ArmTestServer;
    let admin: string;
    let p: ReturnType<typeof armPaths>;
    let ws: string;
    let modelDir: string;
    const onnx = crypto.randomBytes(3000);
    const weights = crypto.randomBytes(5000);
    const config = Buffer.from('{"layers": 3}\n');

    before(async () => {
      server = await startArmServer(kind);
      admin = await adminToken(server);
      p = armPaths(server);
      modelDir = server.services.config.modelDir;
      assert.equal((await call(p.url(p.rg('ml')), { method: 'PUT', token: admin, body: { location: 'local' } })).status, 201);
      ws = p.ws('ml', 'ws1');
      assert.equal((await call(p.url(ws), { method: 'PUT', token: admin, body: {} })).status, 201);
    });
    after(() => server.close());

    const versionUrl = (name: string, v: string | number, query?: string) => p.url(`${ws}/models/${name}/versions/${v}`, query ? `api-version=2024-04-01&${query}` : undefined);

    it('the workspace envelope carries discoveryUrl, the server public URL', async () => {
      const res = await call<{ properties: { discoveryUrl: string } }>(p.url(ws), { token: admin });
      assert.equal(res.status, 200);
      assert.equal(res.body.properties.discoveryUrl, server.url);
    });

    it('registers a one-file model: 201, its digest, size, kind and files', async () => {
      const res = await uploadVersion(versionUrl('iris', 1), admin, [{ path: 'model.onnx', content: onnx }], { description: 'first', tags: '{"stage":"dev"}' });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const v = res.body as unknown as Version;
      assert.equal(v.id, `${ws}/models/iris/versions/1`);
      assert.equal(v.name, '1');
      assert.equal(v.type, 'Microsoft.MachineLearningServices/workspaces/models/versions');
      assert.equal(v.properties.modelName, 'iris');
      assert.equal(v.properties.version, 1);
      assert.equal(v.properties.kind, 'file');
      assert.equal(v.properties.sha256, sha256(onnx));
      assert.equal(v.properties.size, onnx.length);
      assert.deepEqual(v.properties.files, [{ path: 'model.onnx', size: onnx.length, sha256: sha256(onnx) }]);
      assert.equal(v.properties.description, 'first');
      assert.deepEqual(v.properties.tags, { stage: 'dev' });
      assert.match(v.properties.createdBy, /^[0-9a-f-]{36}$/);
      assert.ok(!Number.isNaN(Date.parse(v.properties.createdAt)));
    });

    it('registers a folder: the digest is over the sorted "sha256  path" lines', async () => {
      const res = await uploadVersion(versionUrl('iris', 2), admin, [
        { path: 'weights/w.bin', content: weights },
        { path: 'config.json', content: config },
        { path: 'model.onnx', content: onnx },
      ]);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const v = res.body as unknown as Version;
      assert.equal(v.properties.kind, 'folder');
      const lines = [
        ['config.json', config],
        ['model.onnx', onnx],
        ['weights/w.bin', weights],
      ].map(([name, data]) => `${sha256(data as Buffer)}  ${name as string}\n`);
      assert.equal(v.properties.sha256, sha256(lines.join('')));
      assert.equal(v.properties.size, onnx.length + weights.length + config.length);
      assert.deepEqual(v.properties.files.map((f) => f.path), ['config.json', 'model.onnx', 'weights/w.bin']);
    });

    it('stores identical content once on disk, and leaves no temporary file', () => {
      const blobs = filesUnder(path.join(modelDir, 'blobs'));
      assert.deepEqual(blobs, [sha256(config), sha256(onnx), sha256(weights)].map((h) => path.join(h.slice(0, 2), h)).sort());
      assert.deepEqual(fs.readFileSync(path.join(modelDir, 'blobs', sha256(onnx).slice(0, 2), sha256(onnx))), onnx);
      assert.deepEqual(filesUnder(path.join(modelDir, 'tmp')), []);
    });

    it('an existing version is 409 and the stored one is unchanged', async () => {
      const res = await uploadVersion(versionUrl('IRIS', 1), admin, [{ path: 'other.onnx', content: 'different' }]);
      assert.equal(res.status, 409);
      assert.equal(errorOf(res.body).code, 'Conflict');
      assert.match(errorOf(res.body).message, /Version 1 of model 'iris' already exists/);
      const shown = await call<Version>(versionUrl('iris', 1), { token: admin });
      assert.equal(shown.body.properties.sha256, sha256(onnx));
      assert.equal(filesUnder(path.join(modelDir, 'blobs')).length, 3, 'the refused content was not kept');
    });

    it('lists versions newest first, models with their latest version, and shows each', async () => {
      assert.equal((await uploadVersion(versionUrl('encoder', 7), admin, [{ path: 'enc.bin', content: weights }])).status, 201);
      const versions = await call<{ value: Version[] }>(p.url(`${ws}/models/iris/versions`), { token: admin });
      assert.equal(versions.status, 200);
      assert.deepEqual(versions.body.value.map((v) => v.properties.version), [2, 1]);
      const models = await call<{ value: { id: string; name: string; type: string; properties: { latestVersion: number; description: string; createdAt: string } }[] }>(p.url(`${ws}/models`), { token: admin });
      assert.equal(models.status, 200);
      assert.deepEqual(models.body.value.map((m) => [m.name, m.properties.latestVersion]), [['encoder', 7], ['iris', 2]]);
      assert.equal(models.body.value[1]!.type, 'Microsoft.MachineLearningServices/workspaces/models');
      assert.equal(models.body.value[1]!.id, `${ws}/models/iris`);
      const one = await call<{ name: string; properties: { latestVersion: number } }>(p.url(`${ws}/models/Iris`), { token: admin });
      assert.equal(one.status, 200);
      assert.equal(one.body.name, 'iris');
      assert.equal(one.body.properties.latestVersion, 2);
      const v = await call<Version>(versionUrl('iris', 2), { token: admin });
      assert.equal(v.status, 200);
      assert.equal(v.body.properties.files.length, 3);
    });

    it('downloads each file with ?path=: the exact bytes, octet-stream, length and a safe disposition', async () => {
      const res = await fetch(versionUrl('iris', 2, 'path=weights/w.bin'), { headers: { authorization: `Bearer ${admin}` } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/octet-stream');
      assert.equal(res.headers.get('content-length'), String(weights.length));
      assert.equal(res.headers.get('content-disposition'), `attachment; filename="w.bin"; filename*=UTF-8''w.bin`);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), weights);
      const missing = await call(versionUrl('iris', 2, 'path=nope.bin'), { token: admin });
      assert.equal(missing.status, 404);
      assert.equal(errorOf(missing.body).code, 'ResourceNotFound');
    });

    it('resolve() finds name:version and name (latest); materialize() lays versions out for runtimes', async () => {
      const { models, workspaces } = server.services.workspace;
      const record = await workspaces.get(server.tenantId, server.subscriptionId, 'ml', 'ws1');
      const latest = await models.resolve(record.row.id, 'iris');
      assert.equal(latest.version, 2);
      const first = await models.resolve(record.row.id, 'IRIS:1');
      assert.equal(first.version, 1);
      assert.equal(first.workspaceId, record.row.id);
      await assert.rejects(models.resolve(record.row.id, 'iris:9'), (e: { code?: string }) => e.code === 'ResourceNotFound');
      await assert.rejects(models.resolve(record.row.id, 'iris:x'), (e: { code?: string }) => e.code === 'InvalidParameter');
      await assert.rejects(models.resolve(record.row.id, 'nothing'), (e: { code?: string }) => e.code === 'ResourceNotFound');

      const [file, again] = await Promise.all([models.materialize(first), models.materialize(first)]);
      assert.equal(file, again);
      assert.equal(file, path.join(modelDir, 'trees', first.sha256, 'model.onnx'));
      assert.deepEqual(fs.readFileSync(file), onnx);
      const dirs = await Promise.all([models.materialize(latest), models.materialize(latest), models.materialize(latest)]);
      assert.ok(dirs.every((d) => d === path.join(modelDir, 'trees', latest.sha256)));
      assert.deepEqual(filesUnder(dirs[0]!), ['config.json', 'model.onnx', path.join('weights', 'w.bin')]);
      assert.deepEqual(fs.readFileSync(path.join(dirs[0]!, 'weights', 'w.bin')), weights);
      assert.deepEqual(fs.readdirSync(path.join(modelDir, 'trees')).filter((n) => n.startsWith('.')), [], 'no half-built tree is left');
    });

    it('a delete of a version in use is 409 naming the services', async () => {
      const { models } = server.services.workspace;
      const record = await server.services.workspace.workspaces.get(server.tenantId, server.subscriptionId, 'ml', 'ws1');
      const inUse = (await models.resolve(record.row.id, 'iris:1')).id;
      models.setUsageCheck(async (ids) => (ids.includes(inUse) ? ['echo', 'scorer'] : []));
      try {
        const one = await call(versionUrl('iris', 1), { method: 'DELETE', token: admin });
        assert.equal(one.status, 409);
        assert.match(errorOf(one.body).message, /'echo', 'scorer'/);
        const all = await call(p.url(`${ws}/models/iris`), { method: 'DELETE', token: admin });
        assert.equal(all.status, 409);
        assert.equal((await call(versionUrl('iris', 1), { token: admin })).status, 200, 'nothing was deleted');
      } finally {
        models.setUsageCheck(async () => []);
      }
    });

    it('deleting a version keeps blobs another version shares and removes the rest', async () => {
      const del = await call(versionUrl('iris', 2), { method: 'DELETE', token: admin });
      assert.equal(del.status, 200);
      assert.equal((await call(versionUrl('iris', 2), { token: admin })).status, 404);
      const blobs = filesUnder(path.join(modelDir, 'blobs')).map((b) => path.basename(b));
      assert.ok(blobs.includes(sha256(onnx)), 'iris:1 still holds model.onnx');
      assert.ok(blobs.includes(sha256(weights)), 'encoder:7 still holds the same bytes as weights/w.bin');
      assert.ok(!blobs.includes(sha256(config)), 'config.json was only in iris:2');
      const versions = await call<{ value: Version[] }>(p.url(`${ws}/models/iris/versions`), { token: admin });
      assert.deepEqual(versions.body.value.map((v) => v.properties.version), [1]);
    });

    it('deleting a model removes every version and its unshared blobs; then it is 404', async () => {
      assert.equal((await call(p.url(`${ws}/models/iris`), { method: 'DELETE', token: admin })).status, 200);
      assert.equal((await call(p.url(`${ws}/models/iris`), { token: admin })).status, 404);
      assert.equal((await call(p.url(`${ws}/models/iris/versions`), { token: admin })).status, 404);
      assert.equal((await call(p.url(`${ws}/models/iris`), { method: 'DELETE', token: admin })).status, 404);
      assert.deepEqual(filesUnder(path.join(modelDir, 'blobs')).map((b) => path.basename(b)), [sha256(weights)]);
      assert.equal((await call(p.url(`${ws}/models/encoder`), { method: 'DELETE', token: admin })).status, 200);
      assert.deepEqual(filesUnder(path.join(modelDir, 'blobs')), []);
      assert.deepEqual(filesUnder(path.join(modelDir, 'trees')), [], 'trees of deleted versions are removed');
    });

    it('a version registered after its content was collected is stored again', async () => {
      assert.equal((await uploadVersion(versionUrl('iris', 3), admin, [{ path: 'model.onnx', content: onnx }])).status, 201);
      const res = await fetch(versionUrl('iris', 3, 'path=model.onnx'), { headers: { authorization: `Bearer ${admin}` } });
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), onnx);
    });

    it('RBAC: a Reader lists, shows and downloads but cannot register or delete; no role is 403', async () => {
      const reader = await newUser(server, admin, `reader-${kind}`);
      const stranger = await newUser(server, admin, `stranger-${kind}`);
      await assignRole(server, admin, ws, reader.id, 'Reader');
      assert.equal((await call(p.url(`${ws}/models`), { token: reader.token })).status, 200);
      assert.equal((await call(versionUrl('iris', 3), { token: reader.token })).status, 200);
      const bytes = await fetch(versionUrl('iris', 3, 'path=model.onnx'), { headers: { authorization: `Bearer ${reader.token}` } });
      assert.equal(bytes.status, 200);
      assert.deepEqual(Buffer.from(await bytes.arrayBuffer()), onnx);
      const put = await uploadVersion(versionUrl('iris', 4), reader.token, [{ path: 'm.onnx', content: 'x' }]);
      assert.equal(put.status, 403);
      assert.equal(errorOf(put.body).code, 'AuthorizationFailed');
      assert.equal((await call(versionUrl('iris', 3), { method: 'DELETE', token: reader.token })).status, 403);
      assert.equal((await call(p.url(`${ws}/models/iris`), { method: 'DELETE', token: reader.token })).status, 403);

      for (const url of [p.url(`${ws}/models`), p.url(`${ws}/models/iris`), versionUrl('iris', 3), versionUrl('iris', 3, 'path=model.onnx')]) {
        const res = await call(url, { token: stranger.token });
        assert.equal(res.status, 403, url);
      }
      assert.equal((await uploadVersion(versionUrl('iris', 4), stranger.token, [{ path: 'm.onnx', content: 'x' }])).status, 403);

      const scientist = await newUser(server, admin, `scientist-${kind}`);
      await assignRole(server, admin, ws, scientist.id, 'AzureML Data Scientist');
      assert.equal((await uploadVersion(versionUrl('iris', 4), scientist.token, [{ path: 'm.onnx', content: 'x' }])).status, 201);
      assert.equal((await call(versionUrl('iris', 4), { method: 'DELETE', token: scientist.token })).status, 200);
      assert.deepEqual(filesUnder(path.join(modelDir, 'tmp')), []);
    });
  });
}
