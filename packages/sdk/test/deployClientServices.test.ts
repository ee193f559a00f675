/**
 * DeployClient's service methods against a real server: publish with the builder (Python
 * and JavaScript, init code, a model file), consume (and the operationId method), swagger,
 * getDetails, list, get, redeploy, delete; what the server refuses arrives as a
 * TesseraApiError with its status and code.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DeployClient } from '../src/deployClient.js';
import { TesseraApiError } from '../src/errors.js';
import type { ConsumeResult } from '../src/mlServerServices.js';
import { ADMIN_PASSWORD, startLiveServer, type LiveServer } from './helpers/liveServer.js';

let server: LiveServer;
let client: DeployClient;
let tmp: string;

before(async () => {
  server = await startLiveServer();
  client = new DeployClient(server.url, { use: 'MLServer', auth: ['admin', ADMIN_PASSWORD] });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-sdk-model-'));
});

after(async () => {
  await client.logout();
  await server.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function rejectsWith(promise: Promise<unknown>, status: number, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof TesseraApiError, String(err));
    assert.equal(err.status, status, err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('DeployClient services', () => {
  test('deploys Python code with init code and a model file, and consumes it (also through the operationId method)', async () => {
    const modelPath = path.join(tmp, 'weights.json');
    fs.writeFileSync(modelPath, JSON.stringify({ w: 4 }));
    const svc = await client
      .service('scale')
      .version('1.0')
      .runtime('Python')
      .initStr("import json, os\nwith open(os.path.join(os.environ['AZUREML_MODEL_DIR'], 'weights.json')) as f:\n    w = json.load(f)['w']\n")
      .codeStr('y = w * x')
      .inputs({ x: 'numeric' })
      .outputs({ y: 'numeric' })
      .models(modelPath)
      .description('scales x')
      .operationId('scaleIt')
      .deploy();
    assert.deepEqual([svc.name, svc.version, svc.details.modelFileName, svc.details.state], ['scale', '1.0', 'weights.json', 'Healthy']);
    const result = await svc.consume({ x: 2.5 });
    assert.deepEqual(result, { success: true, errorMessage: '', consoleOutput: '', changedFiles: [], outputParameters: { y: 10 }, outputFiles: {} });
    const byOperation = svc.scaleIt as (inputs: Record<string, unknown>) => Promise<ConsumeResult>;
    assert.deepEqual((await byOperation({ x: 1 })).outputParameters, { y: 4 });
    const doc = await svc.swagger();
    assert.deepEqual(Object.keys(doc.paths as object), ['/api/scale/1.0']);
    assert.equal((await svc.getDetails()).description, 'scales x');
  });

  test('deploys JavaScript side by side with a second version; lists, gets the latest, redeploys, deletes', async () => {
    await client.service('greet').version('1').runtime('JavaScript').codeStr('text = `hello ${who}`;').inputs({ who: 'character' }).outputs({ text: 'character' }).deploy();
    const v2 = await client.service('greet').version('2').runtime('JavaScript').initStr("const greeting = 'hi';").codeStr('text = `${greeting} ${who}`; console.log(text);').inputs({ who: 'character' }).outputs({ text: 'character' }).deploy();
    assert.deepEqual(await v2.consume({ who: 'ada' }), { success: true, errorMessage: '', consoleOutput: 'hi ada\n', changedFiles: [], outputParameters: { text: 'hi ada' }, outputFiles: {} });
    assert.deepEqual((await client.listServices('greet')).map((d) => d.version), ['1', '2']);
    assert.deepEqual((await client.listServices('greet', '1')).map((d) => d.version), ['1']);
    assert.ok((await client.listServices()).some((d) => d.name === 'scale'));
    assert.equal((await client.getService('greet')).version, '2', 'the latest without a version');
    const v1 = await client.getService('greet', { version: '1' });
    assert.equal((await v1.consume({ who: 'bob' })).outputParameters.text, 'hello bob');

    const redeployed = await client.redeployService('greet', '1', { code: 'text = `bye ${who}`;', description: 'farewell' });
    assert.equal(redeployed.details.description, 'farewell');
    assert.equal((await redeployed.consume({ who: 'bob' })).outputParameters.text, 'bye bob');
    const viaBuilder = await client.service('greet').version('1').codeStr('text = who.toUpperCase();').redeploy();
    assert.equal((await viaBuilder.consume({ who: 'bob' })).outputParameters.text, 'BOB');

    await client.deleteService('greet', { version: '1' });
    assert.deepEqual((await client.listServices('greet')).map((d) => d.version), ['2']);
    await rejectsWith(client.getService('greet', { version: '1' }), 404, /no version '1'/);
  });

  test('a code error is success false; refusals are TesseraApiErrors with the server\'s status', async () => {
    const svc = await client.service('div').version('1').codeStr('q = a / b').inputs({ a: 'numeric', b: 'numeric' }).outputs({ q: 'numeric' }).deploy();
    const failed = await svc.consume({ a: 1, b: 0 });
    assert.equal(failed.success, false);
    assert.match(failed.errorMessage, /ZeroDivisionError/);
    await rejectsWith(svc.consume({ a: 1, b: '2' }), 400, /'b' is declared numeric/);
    await rejectsWith(client.service('div').version('1').codeStr('q = 1').deploy(), 409, /already exists/);
    await rejectsWith(client.service('bad name').version('1').codeStr('q = 1').deploy(), 400, /service name .* invalid/);
    await rejectsWith(client.service('broken').version('1').codeStr('q = (').deploy(), 400, /SyntaxError/);
    await assert.rejects(client.service('nover').codeStr('x = 1').deploy(), /Give the service 'nover' a version/);
    await assert.rejects(client.deleteService('div', {} as { version: string }), /give the version of 'div'/);
    assert.ok(!server.log().includes((await client.getToken()).token), 'the access token is never logged');
  });
});
