/**
 * Web services from the SDK against a live server: InferenceConfig and the deployment
 * configurations, deployModel of a Python echo, a JavaScript echo and an ONNX model,
 * waitForDeployment, run under each auth mode (key, token, aad, none), keys and their
 * rotation, service tokens, logs, update, delete; and the errors a user meets.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CliAuthentication,
  ClusterWebservice,
  InferenceConfig,
  InstanceWebservice,
  Model,
  TesseraApiError,
  Webservice,
  WebserviceDeploymentError,
  Workspace,
  deployModel,
} from '@tessera/sdk';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/testServer.js';
import { removeTempDirs, tempDir } from './helpers/tempDirs.js';
import { tesseraJson } from './helpers/cli.js';
import { linearRegressionModel } from './helpers/onnxModel.js';
import { JS_ECHO, PY_BROKEN, PY_ECHO } from './helpers/echoScripts.js';


let server: TestServer;
let ws: Workspace;
let scripts: string;

/** Writes `content` as `fileName` in the scripts directory; returns its path. */
function script(fileName: string, content: string): string {
  const file = path.join(scripts, fileName);
  fs.writeFileSync(file, content);
  return file;
}

/** POSTs `body` to a service's scoring URL with `credential`, outside the SDK. */
async function rawScore(name: string, body: unknown, credential?: string): Promise<number> {
  const res = await fetch(`${server.url}/api/v1/service/${name}/score`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(credential ? { authorization: `Bearer ${credential}` } : {}) },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  return res.status;
}

before(async () => {
  server = await startTestServer();
  const env = { TESSERA_CONFIG_DIR: tempDir('config') };
  await tesseraJson(['login', '--server', server.url, '-u', 'admin', '-p', ADMIN_PASSWORD], env);
  await tesseraJson(['group', 'create', '-n', 'ml', '-l', 'local'], env);
  await tesseraJson(['ml', 'workspace', 'create', '-w', 'ws1', '-g', 'ml'], env);
  const auth = new CliAuthentication({ configDir: env.TESSERA_CONFIG_DIR });
  ws = await Workspace.get({ name: 'ws1', subscriptionId: server.running.bootstrap.subscriptionId, resourceGroup: 'ml', auth });
  scripts = tempDir('scripts');
});

after(async () => {
  await server.close();
  removeTempDirs();
});

describe('InferenceConfig and deployment configurations', () => {
  test('the runtime follows from the entry script; no script is an ONNX deployment', () => {
    assert.equal(new InferenceConfig({ entryScript: script('score.py', PY_ECHO) }).runtime, 'python');
    const js = new InferenceConfig({ entryScript: script('score.mjs', JS_ECHO), runtime: 'javascript' });
    assert.deepEqual([js.runtime, js.entryScript], ['javascript', { fileName: 'score.mjs', content: JS_ECHO }]);
    assert.equal(new InferenceConfig({ entryScript: script('score.ts', JS_ECHO) }).runtime, 'javascript');
    assert.equal(new InferenceConfig({ entryScript: script('score.js', JS_ECHO) }).runtime, 'javascript');
    assert.deepEqual([new InferenceConfig({}).runtime, new InferenceConfig({}).entryScript], ['onnx', undefined]);
    assert.equal(new InferenceConfig({ runtime: 'onnx' }).runtime, 'onnx');
  });

  test('a runtime that contradicts the script, a script runtime without a script, an unknown extension or a missing file are refused', () => {
    assert.throws(() => new InferenceConfig({ entryScript: script('score.py', PY_ECHO), runtime: 'javascript' }), (e) => e instanceof TypeError && /contradicts the entry script 'score.py'/.test(e.message));
    assert.throws(() => new InferenceConfig({ entryScript: script('score.mjs', JS_ECHO), runtime: 'onnx' }), TypeError);
    assert.throws(() => new InferenceConfig({ runtime: 'python' }), (e) => e instanceof TypeError && /needs an entry script/.test(e.message));
    assert.throws(() => new InferenceConfig({ entryScript: script('score.rb', 'puts 1') }), (e) => e instanceof TypeError && /must end in \.py/.test(e.message));
    assert.equal(new InferenceConfig({ entryScript: script('score.cjs', 'exports.run = (x) => x;') }).runtime, 'javascript');
    assert.throws(() => new InferenceConfig({ entryScript: script('score.PY', 'x') }), (e) => e instanceof TypeError && /in lower case/.test(e.message));
    assert.throws(() => new InferenceConfig({ runtime: 'ruby' as never }), /runtime must be one of/);
    assert.throws(() => new InferenceConfig({ entryScript: path.join(scripts, 'absent.py') }), /absent\.py does not exist/);
  });

  test('deployConfiguration sets the target and keeps Azure ML\'s options', () => {
    assert.deepEqual(InstanceWebservice.deployConfiguration({ cpuCores: 1, memoryGb: 0.5, authEnabled: true }), { cpuCores: 1, memoryGb: 0.5, authEnabled: true, target: 'instance' });
    assert.deepEqual(ClusterWebservice.deployConfiguration({ authEnabled: false, tokenAuthEnabled: true, replicas: 2 }), { authEnabled: false, tokenAuthEnabled: true, replicas: 2, target: 'cluster' });
  });
});

describe('Webservice (SDK)', () => {
  test('a Python echo on a cluster with key auth: deploy, wait, run, keys and their rotation, logs', async () => {
    const progress: string[] = [];
    const service = await deployModel({
      workspace: ws,
      name: 'py-echo',
      models: [],
      inferenceConfig: new InferenceConfig({ entryScript: script('score.py', PY_ECHO) }),
      deploymentConfig: ClusterWebservice.deployConfiguration({ authEnabled: true, cpuCores: 1, memoryGb: 1, description: 'echo', tags: { team: 'a' } }),
    });
    assert.equal(service.state, 'Transitioning');
    await service.waitForDeployment({ showOutput: (line) => progress.push(line) });
    assert.equal(service.state, 'Healthy');
    assert.equal(progress.at(-1), 'py-echo: Healthy');
    assert.equal(service.authMode, 'key');
    assert.equal(service.scoringUri, `${server.url}/api/v1/service/py-echo/score`);
    assert.equal(service.swaggerUri, `${server.url}/api/v1/service/py-echo/swagger.json`);
    assert.deepEqual(service.tags, { team: 'a' });

    assert.deepEqual(await service.run({ a: 1 }), { echo: { a: 1 } });
    assert.deepEqual(await service.run('{"b": [1, 2]}'), { echo: { b: [1, 2] } }, 'a string is a JSON document');

    const keys = await service.getKeys();
    assert.match(keys.primaryKey, /^tssk_/);
    assert.notEqual(keys.primaryKey, keys.secondaryKey);
    assert.equal(await rawScore('py-echo', { a: 1 }, keys.primaryKey), 200);

    // A second handle caches the primary key; after rotation its run() still succeeds.
    const stale = await Webservice.get(ws, 'py-echo');
    await stale.run({ warm: true });
    const rotated = await service.regenKey('Primary');
    assert.equal(rotated.keyType, 'Primary');
    assert.notEqual(rotated.key, keys.primaryKey);
    assert.equal(await rawScore('py-echo', { a: 1 }, keys.primaryKey), 401, 'the old primary key stops working');
    assert.equal(await rawScore('py-echo', { a: 1 }, keys.secondaryKey), 200, 'the other key keeps working');
    assert.deepEqual(await stale.run({ after: 'rotation' }), { echo: { after: 'rotation' } });
    const chosen = 'my-own-secondary-key-0123456789-abcdef';
    await service.regenKey('Secondary', chosen);
    assert.equal((await service.getKeys()).secondaryKey, chosen);
    await assert.rejects(service.regenKey('Secondary', 'short'), (e) => e instanceof TesseraApiError && e.status === 400 && /keyValue/.test(e.message));

    assert.match(await service.getLogs(), /python echo ready/);
    await assert.rejects(service.getToken(), (e) => e instanceof TesseraApiError && e.status === 400 && /Token auth is not enabled/.test(e.message));
    const log = server.logText();
    for (const secret of [keys.primaryKey, keys.secondaryKey, rotated.key, chosen]) assert.ok(!log.includes(secret), 'no key in the server log');
  });

  test('a JavaScript echo with token auth: getToken, run with a cached service token', async () => {
    const service = await Webservice.deploy({
      workspace: ws,
      name: 'js-token',
      models: [],
      inferenceConfig: new InferenceConfig({ entryScript: script('echo.mjs', JS_ECHO) }),
      deploymentConfig: ClusterWebservice.deployConfiguration({ authEnabled: false, tokenAuthEnabled: true }),
    });
    await service.waitForDeployment();
    assert.equal(service.authMode, 'token');
    const [token, refreshBy] = await service.getToken();
    assert.ok(refreshBy instanceof Date && refreshBy.getTime() > Date.now(), 'refreshBy is in the future');
    assert.equal(await rawScore('js-token', { a: 1 }, token), 200);
    assert.equal(await rawScore('js-token', { a: 1 }), 401);
    assert.deepEqual(await service.run({ x: 'y' }), { echo: { x: 'y' } });
    const tokenCalls = () => server.requests().filter((r) => r.path.includes('/onlineEndpoints/js-token/token')).length;
    const before = tokenCalls();
    await service.run({ again: true });
    assert.equal(tokenCalls(), before, 'the service token is reused until its refresh time');
    assert.match(await service.getLogs(), /js echo ready/);
  });

  test('an ONNX model on an instance with aad auth, from a registered Model object', async () => {
    const file = path.join(tempDir('onnx'), 'model.onnx');
    fs.writeFileSync(file, await linearRegressionModel({ weights: [[1], [2], [3]], bias: [0.5] }));
    const model = await Model.register({ workspace: ws, modelPath: file, modelName: 'linear' });
    // Azure's spelling: Model.deploy.
    const service = await Model.deploy({
      workspace: ws,
      name: 'onnx-aad',
      models: [model],
      inferenceConfig: new InferenceConfig({ runtime: 'onnx' }),
      deploymentConfig: InstanceWebservice.deployConfiguration({ aad: true }),
    });
    await service.waitForDeployment();
    assert.deepEqual([service.authMode, service.properties.runtime, service.properties.models], ['aad', 'onnx', ['linear:1']]);
    assert.deepEqual(await service.run({ inputs: { X: [[1, 1, 1], [0, 0, 1]] } }), { outputs: { Y: [[6.5], [3.5]] } });
    await assert.rejects(service.run({ inputs: { X: [[1, 2]] } }), (e) => e instanceof TesseraApiError && e.status === 400 && /refused the input/.test(e.message));
    assert.equal(await rawScore('onnx-aad', { inputs: { X: [[1, 1, 1]] } }), 401);
  });

  test('no auth on an instance, then update to key auth keeps the script this object deployed', async () => {
    const service = await deployModel({
      workspace: ws,
      name: 'js-open',
      models: ['linear:1'],
      inferenceConfig: new InferenceConfig({ entryScript: script('open.js', JS_ECHO) }),
      deploymentConfig: InstanceWebservice.deployConfiguration({ cpuCores: 0.5, memoryGb: 0.5 }),
    });
    await service.waitForDeployment();
    assert.equal(service.authMode, 'none');
    assert.equal(await rawScore('js-open', { a: 1 }), 200);
    assert.deepEqual(await service.run([1, 2, 3]), { echo: [1, 2, 3] });

    await service.update({ authEnabled: true, description: 'now with keys' });
    await service.waitForDeployment();
    assert.deepEqual([service.authMode, service.properties.description, service.properties.cpuCores, service.properties.models], ['key', 'now with keys', 0.5, ['linear:1']]);
    assert.equal(await rawScore('js-open', { a: 1 }), 401);
    assert.deepEqual(await service.run({ a: 1 }), { echo: { a: 1 } });

    const loaded = await Webservice.get(ws, 'js-open');
    await assert.rejects(loaded.update({ replicas: 2 }), /runs an entry script, which the server does not return: pass inferenceConfig/);
    await loaded.update({ replicas: 2, inferenceConfig: new InferenceConfig({ entryScript: script('open.js', JS_ECHO) }) });
    assert.equal((await loaded.waitForDeployment()).properties.replicas, 2);
    assert.equal(loaded.authMode, 'key', 'the auth mode stays when not changed');
  });

  test('list and serialize', async () => {
    const names = (await Webservice.list(ws)).map((s) => s.name).sort();
    assert.deepEqual(names, ['js-open', 'js-token', 'onnx-aad', 'py-echo']);
    assert.deepEqual((await Webservice.list(ws, { target: 'cluster' })).map((s) => s.name).sort(), ['js-token', 'py-echo']);
    assert.deepEqual((await Webservice.list(ws, { modelName: 'linear' })).map((s) => s.name).sort(), ['js-open', 'onnx-aad']);
    const serialized = (await Webservice.get(ws, 'py-echo')).serialize();
    assert.equal(serialized.id, `${ws.id}/onlineEndpoints/py-echo`);
    assert.equal(serialized.state, 'Healthy');
    assert.ok(!JSON.stringify(serialized).includes('tssk_'), 'serialize() holds no key');
  });
});

describe('Webservice errors', () => {
  test('a deployment whose init() raises: waitForDeployment throws with the error and the logs', async () => {
    const service = await deployModel({
      workspace: ws,
      name: 'py-broken',
      models: [],
      inferenceConfig: new InferenceConfig({ entryScript: script('broken.py', PY_BROKEN) }),
    });
    await assert.rejects(service.waitForDeployment(), (e) => {
      assert.ok(e instanceof WebserviceDeploymentError);
      assert.equal(e.code, 'DeploymentFailed');
      assert.equal(e.state, 'Failed');
      assert.match(e.serviceError ?? '', /ValueError: weights file is corrupt/);
      assert.match(e.logs, /loading the weights/);
      assert.match(e.message, /failed to deploy: .*ValueError[\s\S]*Logs:[\s\S]*loading the weights/);
      return true;
    });
    await assert.rejects(service.run({ a: 1 }), (e) => e instanceof TesseraApiError && e.status === 409);
  });

  test('run, get and delete on a deleted service are 404s', async () => {
    const service = await deployModel({ workspace: ws, name: 'short-lived', models: [], inferenceConfig: new InferenceConfig({ entryScript: script('gone.mjs', JS_ECHO) }) });
    await service.waitForDeployment();
    await service.delete();
    await assert.rejects(service.run({ a: 1 }), (e) => e instanceof TesseraApiError && e.status === 404);
    await assert.rejects(Webservice.get(ws, 'short-lived'), (e) => e instanceof TesseraApiError && e.status === 404 && e.code === 'ResourceNotFound');
    await assert.rejects(service.delete(), (e) => e instanceof TesseraApiError && e.status === 404);
  });

  test("the server's auth rules surface as 400s with its message", async () => {
    const inferenceConfig = new InferenceConfig({ entryScript: script('rules.mjs', JS_ECHO) });
    await assert.rejects(
      deployModel({ workspace: ws, name: 'key-and-token', models: [], inferenceConfig, deploymentConfig: ClusterWebservice.deployConfiguration({ authEnabled: true, tokenAuthEnabled: true }) }),
      (e) => e instanceof TesseraApiError && e.status === 400 && /Key auth and token auth cannot be combined/.test(e.message),
    );
    await assert.rejects(
      deployModel({ workspace: ws, name: 'token-instance', models: [], inferenceConfig, deploymentConfig: InstanceWebservice.deployConfiguration({ tokenAuthEnabled: true }) }),
      (e) => e instanceof TesseraApiError && e.status === 400 && /Token auth is not available on instance targets/.test(e.message),
    );
    await assert.rejects(
      deployModel({ workspace: ws, name: 'no-onnx', models: [], inferenceConfig: new InferenceConfig({}) }),
      (e) => e instanceof TesseraApiError && e.status === 400 && /ONNX model/.test(e.message),
    );
    await assert.rejects(
      deployModel({ workspace: ws, name: 'no-model', models: ['absent:1'], inferenceConfig }),
      (e) => e instanceof TesseraApiError && e.status === 404,
    );
  });

  test('an existing name needs overwrite; bad names and bad input never reach the server', async () => {
    const inferenceConfig = new InferenceConfig({ entryScript: script('again.mjs', JS_ECHO) });
    await assert.rejects(deployModel({ workspace: ws, name: 'py-echo', models: [], inferenceConfig }), /exists in this workspace: pass overwrite: true/);
    const replaced = await deployModel({ workspace: ws, name: 'py-echo', models: [], inferenceConfig, overwrite: true, deploymentConfig: ClusterWebservice.deployConfiguration() });
    await replaced.waitForDeployment();
    assert.equal(replaced.properties.runtime, 'javascript');
    assert.throws(() => new Webservice(ws, '../evil'), TypeError);
    assert.throws(() => new Webservice(ws, 'Upper'), /is invalid/);
    await assert.rejects(replaced.run('{not json'), (e) => e instanceof TypeError && /not a JSON document/.test(e.message));
    await assert.rejects(replaced.run(undefined), TypeError);
    await assert.rejects(replaced.regenKey('Tertiary' as never), TypeError);
  });
});
