/**
 * Wrong, missing, oversized and hostile input to the web-service management API, and the
 * link to models: an ONNX service from a registered model, and a model in use cannot be
 * deleted (409). On both stores.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { call, STORE_KINDS } from './helpers.js';
import { errorOf, startArmServer, type ArmTestServer } from './arm-helpers.js';
import { uploadVersion } from './model-helpers.js';
import { linearRegressionModel } from './onnx/buildModel.js';
import { JS_ECHO, deploy, makeWorkspace, putService, score, scriptBody, type Workspace } from './web-service-helpers.js';

for (const kind of STORE_KINDS) {
  describe(`web services: bad input and models (${kind})`, () => {
    let server: ArmTestServer;
    let w: Workspace;

    before(async () => {
      server = await startArmServer(kind);
      w = await makeWorkspace(server);
    });
    after(async () => {
      await server.close();
    });

    it('names outside the rules are 400', async () => {
      for (const name of ['ab', 'Upper-case', '1starts-with-digit', 'ends-with-', 'has_underscore', 'x'.repeat(33), 'dot.ted']) {
        const res = await putService(w, encodeURIComponent(name), scriptBody('score.mjs', JS_ECHO));
        assert.equal(res.status, 400, `${name}: ${JSON.stringify(res.body)}`);
      }
    });

    it('wrong, missing and hostile bodies are 400s that name the field', async () => {
      const cases: [unknown, RegExp][] = [
        [[], /JSON object/],
        ['"text"', /JSON object/],
        [{ properties: { entryScript: { fileName: 'score.rb', content: 'x' } } }, /\.py/],
        // The runtimes load by the exact extension: an upper-case one would deploy and always fail.
        [{ properties: { entryScript: { fileName: 'score.PY', content: 'x' } } }, /in lower case/],
        [{ properties: { entryScript: { fileName: 'score.Mjs', content: 'x' } } }, /in lower case/],
        [{ properties: { entryScript: { fileName: '../score.py', content: 'x' } } }, /fileName/],
        [{ properties: { entryScript: { fileName: 'score.py' } } }, /content/],
        [{ properties: { entryScript: { fileName: 'score.py', content: 'a\u0000b' } } }, /NUL/],
        [{ properties: { entryScript: 'score.py' } }, /entryScript/],
        [{ properties: {} }, /models/],
        [{ properties: { models: 'iris:1', entryScript: { fileName: 'score.py', content: 'x' } } }, /models/],
        [{ properties: { models: ['iris:0'], entryScript: { fileName: 'score.py', content: 'x' } } }, /models/],
        [{ properties: { models: ['a', 'A:2'], entryScript: { fileName: 'score.py', content: 'x' } } }, /more than once/],
        [scriptBody('score.mjs', JS_ECHO, { replicas: 9 }), /replicas/],
        [scriptBody('score.mjs', JS_ECHO, { replicas: 1.5 }), /replicas/],
        [scriptBody('score.mjs', JS_ECHO, { memoryGb: 17 }), /memoryGb/],
        [scriptBody('score.mjs', JS_ECHO, { memoryGb: '1' }), /memoryGb/],
        [scriptBody('score.mjs', JS_ECHO, { scoringTimeoutMs: 10 }), /scoringTimeoutMs/],
        [scriptBody('score.mjs', JS_ECHO, { maxQueueSize: -1 }), /maxQueueSize/],
        [scriptBody('score.mjs', JS_ECHO, { target: 'kubernetes' }), /target/],
        [scriptBody('score.mjs', JS_ECHO, { authMode: 'password' }), /authMode/],
        [scriptBody('score.mjs', JS_ECHO, { authEnabled: 'yes' }), /authEnabled/],
        [scriptBody('score.mjs', JS_ECHO, { unknownThing: 1 }), /unknownThing/],
        [{ ...scriptBody('score.mjs', JS_ECHO), name: 'another-name' }, /name/],
        [{ ...scriptBody('score.mjs', JS_ECHO), tags: { a: 1 } }, /tag/],
      ];
      for (const [body, message] of cases) {
        const res = await putService(w, 'bad-body', body);
        assert.equal(res.status, 400, `${JSON.stringify(body).slice(0, 120)}: ${res.status} ${JSON.stringify(res.body)}`);
        assert.match(errorOf(res.body).message, message);
      }
      assert.equal((await call(w.url('/onlineEndpoints/bad-body'), { token: w.admin })).status, 404);
    });

    it('a model that does not exist is a 404; a script over 1 MiB is a 400; a body over the limit is a 413', async () => {
      const missing = await putService(w, 'no-model', scriptBody('score.py', 'def run(r): return 1', { models: ['ghost:1'] }));
      assert.equal(missing.status, 404, JSON.stringify(missing.body));
      const big = await putService(w, 'big-script', scriptBody('score.py', `# ${'x'.repeat(1024 * 1024)}`));
      assert.equal(big.status, 400);
      assert.match(errorOf(big.body).message, /1 MiB/);
      const huge = await putService(w, 'big-script', scriptBody('score.py', `# ${'"'.repeat(2_200_000)}`));
      assert.equal(huge.status, 413);
      // Other ARM operations keep the server's ordinary body limit.
      const bigKeys = await call(w.url('/onlineEndpoints/any-name/regenerateKeys'), { method: 'POST', token: w.admin, body: { keyType: 'Primary', pad: 'p'.repeat(200_000) } });
      assert.equal(bigKeys.status, 413);
    });

    it('actions on a missing service are 404; unexpected action bodies are 400', async () => {
      for (const action of ['listKeys', 'regenerateKeys', 'token', 'getLogs']) {
        const res = await call(w.url(`/onlineEndpoints/ghost-svc/${action}`), { method: 'POST', token: w.admin, body: action === 'regenerateKeys' ? { keyType: 'Primary' } : {} });
        assert.equal(res.status, 404, action);
      }
      await deploy(w, 'body-check', scriptBody('score.mjs', JS_ECHO));
      assert.equal((await call(w.url('/onlineEndpoints/body-check/listKeys'), { method: 'POST', token: w.admin, body: { surprise: true } })).status, 400);
      assert.equal((await call(w.url('/onlineEndpoints/body-check/getLogs'), { method: 'POST', token: w.admin, body: { tail: 0 } })).status, 400);
      const tail = await call<{ content: string }>(w.url('/onlineEndpoints/body-check/getLogs'), { method: 'POST', token: w.admin, body: { tail: 1 } });
      assert.equal(tail.status, 200);
      assert.equal(tail.body.content.trim().split('\n').length, 1);
    });

    it('an ONNX service from a registered model scores; the model version in use cannot be deleted (409) until the service goes', async () => {
      const model = linearRegressionModel({ weights: [[1], [2], [3]], bias: [0.5] });
      const up = await uploadVersion(w.url('/models/linear/versions/1'), w.admin, [{ path: 'model.onnx', content: Buffer.from(model) }]);
      assert.equal(up.status, 201, JSON.stringify(up.body));
      const body = await deploy(w, 'onnx-svc', { properties: { models: ['linear'] } });
      const props = body.properties as Record<string, unknown>;
      assert.equal(props.runtime, 'onnx');
      assert.deepEqual(props.models, ['linear:1']);
      const swagger = await call(`${server.url}/api/v1/service/onnx-svc/swagger.json`);
      assert.equal(swagger.status, 200);
      const scored = await score(server.url, 'onnx-svc', { inputs: { X: [[1, 1, 1]] } });
      assert.equal(scored.status, 200, JSON.stringify(scored.body));
      const outputs = (scored.body as { outputs: Record<string, number[][]> }).outputs;
      const [value] = Object.values(outputs);
      assert.ok(Math.abs(value![0]![0]! - 6.5) < 1e-5, JSON.stringify(outputs));
      const wrongShape = await score(server.url, 'onnx-svc', { inputs: { X: [[1, 1]] } });
      assert.equal(wrongShape.status, 400);
      const refused = await call(w.url('/models/linear/versions/1'), { method: 'DELETE', token: w.admin });
      assert.equal(refused.status, 409);
      assert.match(errorOf(refused.body).message, /onnx-svc/);
      assert.equal((await call(w.url('/models/linear'), { method: 'DELETE', token: w.admin })).status, 409);
      assert.equal((await call(w.url('/onlineEndpoints/onnx-svc'), { method: 'DELETE', token: w.admin })).status, 200);
      assert.equal((await call(w.url('/models/linear/versions/1'), { method: 'DELETE', token: w.admin })).status, 200);
    });

    it('a service without a script needs a model holding a .onnx file', async () => {
      const up = await uploadVersion(w.url('/models/notes/versions/1'), w.admin, [{ path: 'readme.txt', content: 'not a model' }]);
      assert.equal(up.status, 201);
      const res = await putService(w, 'no-onnx', { properties: { models: ['notes:1'] } });
      assert.equal(res.status, 400);
      assert.match(errorOf(res.body).message, /\.onnx/);
    });
  });
}
