/**
 * Regression tests of the management side's security review: deploying a model needs read
 * on it (no existence oracle), ML Server names cannot be squatted and its workspace is
 * deleted only by an Owner, deletes free model files, file/folder clashes are refused at
 * upload, deployment errors name no server path, key values give no cross-service oracle,
 * and bodies are not read before authentication or past an operation's limit. Both stores.
 */
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { call, STORE_KINDS } from './helpers.js';
import { armPaths, assignRole, errorOf, newUser, startArmServer, type ArmTestServer } from './arm-helpers.js';
import { sha256, uploadVersion } from './model-helpers.js';
import { JS_ECHO, deploy, keysOf, makeWorkspace, putService, scriptBody, type Workspace } from './web-service-helpers.js';
import { publicDeploymentError } from '../src/workspace/webServices.js';

const CONTRIBUTOR = 'b24988ac-6180-42a0-ab88-20f7382dd24c';
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';

for (const kind of STORE_KINDS) {
  describe(`management hardening (${kind})`, () => {
    let server: ArmTestServer;
    let w: Workspace;

    before(async () => {
      server = await startArmServer(kind);
      w = await makeWorkspace(server);
    });
    after(async () => {
      await server.close();
    });

    it('deploying a model needs read on it, and a refusal is the same whether or not it exists', async () => {
      assert.equal((await uploadVersion(w.url('/models/secret/versions/1'), w.admin, [{ path: 'weights.bin', content: 'TOP-SECRET' }])).status, 201);
      const eve = await newUser(server, w.admin, 'eve-models');
      await assignRole(server, w.admin, `${w.ws}/onlineEndpoints/exfil`, eve.id, CONTRIBUTOR);
      for (const ref of ['secret', 'secret:1', 'no-such-model', 'no-such-model:3']) {
        const res = await putService(w, 'exfil', scriptBody('score.mjs', JS_ECHO, { models: [ref] }), eve.token);
        assert.equal(res.status, 403, `${ref}: ${JSON.stringify(res.body)}`);
        assert.equal(errorOf(res.body).code, 'AuthorizationFailed');
        assert.match(errorOf(res.body).message, new RegExp(`the model '${ref}'`));
      }
      assert.equal((await call(w.url('/onlineEndpoints/exfil'), { token: w.admin })).status, 404);
      // With read on the model, the same PUT deploys; a missing model is then a 404.
      await assignRole(server, w.admin, `${w.ws}/models/secret`, eve.id, READER);
      const ok = await putService(w, 'exfil', scriptBody('score.mjs', JS_ECHO, { models: ['secret'] }), eve.token);
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
      assert.deepEqual((await call<Record<string, unknown>>(w.url('/onlineEndpoints/exfil'), { token: w.admin })).status, 200);
    });

    it('an Azure ML service cannot take an ML Server name; the ML Server workspace is deleted only by an Owner', async () => {
      const published = await call(`${server.url}/services/add/1.0`, {
        method: 'POST',
        token: w.admin,
        body: { code: 'z = x + y', inputParameterDefinitions: [{ name: 'x', type: 'numeric' }, { name: 'y', type: 'numeric' }], outputParameterDefinitions: [{ name: 'z', type: 'numeric' }] },
      });
      assert.equal(published.status, 201, JSON.stringify(published.body));
      const p = armPaths(server);
      const mlws = p.ws('mlserver', 'mlserver');
      const eve = await newUser(server, w.admin, 'eve-squat');
      await assignRole(server, w.admin, p.rg('mlserver'), eve.id, CONTRIBUTOR);
      for (const url of [p.url(`${mlws}/onlineEndpoints/add`), w.url('/onlineEndpoints/add')]) {
        const squat = await call(url, { method: 'PUT', token: url.includes('mlserver') ? eve.token : w.admin, body: scriptBody('score.mjs', JS_ECHO) });
        assert.equal(squat.status, 409, JSON.stringify(squat.body));
        assert.match(errorOf(squat.body).message, /Machine Learning Server/);
      }
      const next = await call(`${server.url}/services/add/2.0`, {
        method: 'POST',
        token: w.admin,
        body: { code: 'z = x * y', inputParameterDefinitions: [{ name: 'x', type: 'numeric' }, { name: 'y', type: 'numeric' }], outputParameterDefinitions: [{ name: 'z', type: 'numeric' }] },
      });
      assert.equal(next.status, 201, JSON.stringify(next.body));
      for (const scope of [mlws, p.rg('mlserver')]) {
        const refused = await call(p.url(scope), { method: 'DELETE', token: eve.token });
        assert.equal(refused.status, 409, JSON.stringify(refused.body));
        assert.match(errorOf(refused.body).message, /Owner/);
      }
      assert.equal((await call<unknown[]>(`${server.url}/services/add`, { token: w.admin })).body.length, 2);
      // An Owner may.
      assert.equal((await call(p.url(mlws), { method: 'DELETE', token: w.admin })).status, 200);
      assert.equal((await call(`${server.url}/services/add`, { token: w.admin })).status, 404);
    });

    it('deleting a workspace or a group removes the model files nothing else holds', async () => {
      const modelDir = server.services.config.modelDir;
      const a = await makeWorkspace(server, 'rg-del-a', 'ws-del-a');
      const b = await makeWorkspace(server, 'rg-del-b', 'ws-del-b');
      const shared = 'shared bytes of two workspaces';
      const onlyA = 'bytes only workspace a holds';
      const onlyB = 'bytes only workspace b holds';
      assert.equal((await uploadVersion(a.url('/models/m/versions/1'), a.admin, [{ path: 'x/s.bin', content: shared }, { path: 'x/a.bin', content: onlyA }])).status, 201);
      assert.equal((await uploadVersion(b.url('/models/m/versions/1'), b.admin, [{ path: 's.bin', content: shared }, { path: 'b.bin', content: onlyB }])).status, 201);
      const blob = (content: string) => path.join(modelDir, 'blobs', sha256(content).slice(0, 2), sha256(content));
      // Lay out a's tree (as a deployment would) to see it removed too.
      const version = await server.services.workspace.models.resolve((await server.services.workspace.workspaces.get(server.tenantId, server.subscriptionId, 'rg-del-a', 'ws-del-a')).row.id, 'm:1');
      const tree = await server.services.workspace.models.materialize(version);
      assert.ok(fs.existsSync(tree));
      assert.equal((await call(armPaths(server).url(a.ws), { method: 'DELETE', token: a.admin })).status, 200);
      assert.equal(fs.existsSync(blob(onlyA)), false);
      assert.equal(fs.existsSync(tree), false);
      assert.equal(fs.existsSync(blob(shared)), true);
      assert.equal(fs.existsSync(blob(onlyB)), true);
      assert.equal((await call(armPaths(server).url(armPaths(server).rg('rg-del-b')), { method: 'DELETE', token: b.admin })).status, 200);
      assert.equal(fs.existsSync(blob(shared)), false);
      assert.equal(fs.existsSync(blob(onlyB)), false);
    });

    it('a path that is also a folder, or a segment over 255 bytes, is refused at upload', async () => {
      for (const files of [
        [{ path: 'a', content: '1' }, { path: 'a/b', content: '2' }],
        [{ path: 'a/b/c', content: '1' }, { path: 'a/b', content: '2' }],
        [{ path: `${'é'.repeat(128)}/x`, content: '1' }],
      ]) {
        const res = await uploadVersion(w.url('/models/clash/versions/1'), w.admin, files);
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(errorOf(res.body).code, 'InvalidParameter');
      }
      assert.equal((await call(w.url('/models/clash'), { token: w.admin })).status, 404);
      assert.equal((await uploadVersion(w.url('/models/clash/versions/1'), w.admin, [{ path: 'a/b', content: '1' }, { path: 'ab', content: '2' }, { path: 'a/c/d', content: '3' }])).status, 201);
    });

    it('a deployment error shows no server path (the log keeps it)', async () => {
      assert.equal(publicDeploymentError("EEXIST: file already exists, mkdir '/tmp/x/models/trees/.building-1/a'"), "EEXIST: file already exists, mkdir '…/a'");
      assert.equal(publicDeploymentError('File "/srv/deploy/score.py", line 3'), 'File "…/score.py", line 3');
      assert.equal(publicDeploymentError('see http://127.0.0.1:5/a/b and 1/2'), 'see http://127.0.0.1:5/a/b and 1/2');
      const failing = `import fs from 'node:fs';\nexport function init() { fs.readFileSync('${path.join(server.services.config.modelDir, 'no-such-file')}'); }\nexport function run() { return 1; }\n`;
      const res = await putService(w, 'fails-with-path', scriptBody('score.mjs', failing));
      assert.equal(res.status, 201, JSON.stringify(res.body));
      for (let i = 0; i < 600; i++) {
        const got = await call<{ properties: Record<string, unknown> }>(w.url('/onlineEndpoints/fails-with-path'), { token: w.admin });
        if (got.body.properties.provisioningState === 'Failed' || got.body.properties.state === 'Failed' || JSON.stringify(got.body).includes('no-such-file')) {
          const text = JSON.stringify(got.body);
          if (!text.includes('no-such-file')) continue;
          assert.ok(!text.includes(server.services.config.modelDir), text);
          assert.ok(server.logs.some((l) => l.includes(server.services.config.modelDir) && l.includes('no-such-file')));
          return;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.fail('the deployment never failed');
    });

    it("a chosen key value may equal another service's key, with no oracle; the service's own other key is refused", async () => {
      await deploy(w, 'keys-one', scriptBody('score.mjs', JS_ECHO));
      await deploy(w, 'keys-two', scriptBody('score.mjs', JS_ECHO));
      const two = await keysOf(w, 'keys-two');
      const regen = (name: string, keyValue: string) => call(w.url(`/onlineEndpoints/${name}/regenerateKeys`), { method: 'POST', token: w.admin, body: { keyType: 'Primary', keyValue } });
      assert.equal((await regen('keys-one', two.primaryKey)).status, 200);
      assert.equal((await keysOf(w, 'keys-one')).primaryKey, two.primaryKey);
      const own = await regen('keys-two', two.secondaryKey);
      assert.equal(own.status, 409, JSON.stringify(own.body));
    });

    it('bodies are not read before authentication, nor past the operation’s limit', async () => {
      const invalid = `{"code": "${'x'.repeat(2_000_000)}"`;
      const p = armPaths(server);
      for (const [method, url] of [
        ['POST', `${server.url}/services/a/1`],
        ['PATCH', `${server.url}/services/a/1`],
        ['POST', `${server.url}/api/a/1`],
        ['PUT', w.url('/onlineEndpoints/unauth')],
      ] as const) {
        const res = await fetch(url, { method, body: url.includes('/api/') ? invalid.slice(0, 500_000) : invalid, headers: { 'content-type': 'application/json' } });
        const text = await res.text();
        assert.equal(res.status, 401, `${method} ${url}: ${text}`);
      }
      const big = JSON.stringify({ location: 'westeurope', tags: { t: 'x'.repeat(3_000_000) } });
      const tooLarge = await call(p.url(p.rg('rg-big')), { method: 'PUT', token: w.admin, body: big });
      assert.equal(tooLarge.status, 413, JSON.stringify(tooLarge.body));
      // The web service PUT keeps its larger limit.
      const script = `export function run() { return ${JSON.stringify('y'.repeat(900_000))}.length; }\n`;
      assert.equal((await putService(w, 'big-script', scriptBody('score.mjs', script))).status, 201);
    });
  });
}
