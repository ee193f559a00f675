/**
 * `tessera ml service …` against a live server, as a user runs it: create (waiting, or
 * --no-wait then wait), list, show, list-keys, regen-key, get-token, invoke, get-logs,
 * delete, with -w/-g or a config.json; and the errors: missing flags and bad JSON are
 * usage errors (2), an unknown service or a failed deployment is 1 with a clear message.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/testServer.js';
import { removeTempDirs, tempDir } from './helpers/tempDirs.js';
import { tessera, tesseraJson } from './helpers/cli.js';
import { JS_ECHO, PY_BROKEN, PY_ECHO } from './helpers/echoScripts.js';
import { linearRegressionModel } from './helpers/onnxModel.js';

interface ServiceOut {
  name: string;
  state: string;
  authMode: string;
  target: string;
  runtime: string;
  models: string[];
  scoringUri: string;
  error: string | null;
}

let server: TestServer;
let env: Record<string, string>;
let dir: string;
const W = ['-w', 'ws1', '-g', 'ml'];

before(async () => {
  server = await startTestServer();
  env = { TESSERA_CONFIG_DIR: tempDir('config') };
  await tesseraJson(['login', '--server', server.url, '-u', 'admin', '-p', ADMIN_PASSWORD], env);
  await tesseraJson(['group', 'create', '-n', 'ml', '-l', 'local'], env);
  await tesseraJson(['ml', 'workspace', 'create', ...W], env);
  dir = tempDir('service-files');
  fs.writeFileSync(path.join(dir, 'score.py'), PY_ECHO);
  fs.writeFileSync(path.join(dir, 'score.mjs'), JS_ECHO);
  fs.writeFileSync(path.join(dir, 'broken.py'), PY_BROKEN);
  fs.writeFileSync(path.join(dir, 'model.onnx'), await linearRegressionModel({ weights: [[1], [1]], bias: [1] }));
  fs.writeFileSync(path.join(dir, 'input.json'), '{"inputs": {"X": [[2, 3]]}}');
  fs.writeFileSync(path.join(dir, 'bad.json'), '{"inputs": ');
});

after(async () => {
  await server.close();
  removeTempDirs();
});

describe('tessera ml service', () => {
  test('create a Python echo on a cluster (key auth), invoke, list-keys, regen-key, get-logs, show, list', async () => {
    const created = await tesseraJson<ServiceOut>(['ml', 'service', 'create', ...W, '--name', 'cli-py', '--entry-script', path.join(dir, 'score.py'), '--target', 'cluster', '--cpu-cores', '0.5', '--tags', 'team=a'], env);
    assert.deepEqual([created.name, created.state, created.authMode, created.runtime], ['cli-py', 'Healthy', 'key', 'python']);
    assert.equal(created.scoringUri, `${server.url}/api/v1/service/cli-py/score`);

    const answer = await tesseraJson(['ml', 'service', 'invoke', ...W, '--name', 'cli-py', '--input-data', '{"a": [1, 2]}'], env);
    assert.deepEqual(answer, { echo: { a: [1, 2] } });
    assert.deepEqual(await tesseraJson(['ml', 'service', 'invoke', ...W, '--name', 'cli-py', '--input-data', '"just a string"'], env), { echo: 'just a string' });

    const keys = await tesseraJson<{ primaryKey: string; secondaryKey: string }>(['ml', 'service', 'list-keys', ...W, '--name', 'cli-py'], env);
    assert.match(keys.primaryKey, /^tssk_/);
    const primary = await tessera(['ml', 'service', 'list-keys', ...W, '--name', 'cli-py', '--query', 'primaryKey', '-o', 'tsv'], env);
    assert.equal(primary.stdout, `${keys.primaryKey}\n`);
    const chosen = 'cli-chosen-secondary-key-0123456789abcdef';
    const regen = await tesseraJson<{ keyType: string; key: string }>(['ml', 'service', 'regen-key', ...W, '--name', 'cli-py', '--key-type', 'Secondary', '--key-value', chosen], env);
    assert.deepEqual([regen.keyType, regen.key], ['Secondary', chosen]);
    const fresh = await tesseraJson<{ keyType: string; key: string }>(['ml', 'service', 'regen-key', ...W, '--name', 'cli-py', '--key-type', 'Primary'], env);
    assert.notEqual(fresh.key, keys.primaryKey);
    const after = await tesseraJson<{ primaryKey: string; secondaryKey: string }>(['ml', 'service', 'list-keys', ...W, '--name', 'cli-py'], env);
    assert.deepEqual(after, { primaryKey: fresh.key, secondaryKey: chosen });
    assert.deepEqual(await tesseraJson(['ml', 'service', 'invoke', ...W, '--name', 'cli-py', '--input-data', '{"after": 1}'], env), { echo: { after: 1 } });

    const logs = await tessera(['ml', 'service', 'get-logs', ...W, '--name', 'cli-py', '-o', 'tsv'], env);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /python echo ready/);
    assert.match(JSON.parse((await tessera(['ml', 'service', 'get-logs', ...W, '--name', 'cli-py', '--tail', '5'], env)).stdout) as string, /python echo ready/);

    const shown = await tesseraJson<ServiceOut & { tags: Record<string, string> }>(['ml', 'service', 'show', ...W, '--name', 'cli-py'], env);
    assert.deepEqual([shown.state, shown.target, shown.tags], ['Healthy', 'cluster', { team: 'a' }]);
    const table = await tessera(['ml', 'service', 'list', ...W, '-o', 'table'], env);
    // az's few columns for a service, not its 26 fields.
    assert.match(table.stdout, /^Name\s+Target\s+AuthMode\s+State\s+ScoringUri\n/);
    assert.match(table.stdout, /\ncli-py\s+cluster\s+key\s+Healthy\s+http:\/\/127\.0\.0\.1:\d+\/api\/v1\/service\/cli-py\/score\n/);
    assert.ok(!table.stdout.includes('tssk_'), 'no key in the table');
    assert.match(table.stdout, /cli-py/);
    const log = server.logText();
    for (const secret of [keys.primaryKey, keys.secondaryKey, chosen, fresh.key]) assert.ok(!log.includes(secret), 'no key in the server log');
  });

  test('token auth: create with --no-wait, wait, get-token, invoke', async () => {
    const created = await tesseraJson<ServiceOut>(['ml', 'service', 'create', ...W, '-n', 'cli-token', '--entry-script', path.join(dir, 'score.mjs'), '--target', 'cluster', '--auth-mode', 'token', '--no-wait'], env);
    assert.equal(created.state, 'Transitioning');
    const waited = await tessera(['ml', 'service', 'wait', ...W, '-n', 'cli-token'], env);
    assert.equal(waited.code, 0, waited.stderr);
    assert.equal((JSON.parse(waited.stdout) as ServiceOut).state, 'Healthy');
    assert.match(waited.stderr, /cli-token: Healthy/, 'progress goes to stderr');
    const token = await tesseraJson<{ accessToken: string; tokenType: string; refreshAfterTimeUtc: string }>(['ml', 'service', 'get-token', ...W, '-n', 'cli-token'], env);
    assert.equal(token.tokenType, 'Bearer');
    assert.ok(Date.parse(token.refreshAfterTimeUtc) > Date.now());
    const scored = await fetch(`${server.url}/api/v1/service/cli-token/score`, { method: 'POST', headers: { authorization: `Bearer ${token.accessToken}`, 'content-type': 'application/json' }, body: '{"t": 1}' });
    assert.deepEqual([scored.status, await scored.json()], [200, { echo: { t: 1 } }]);
    assert.deepEqual(await tesseraJson(['ml', 'service', 'invoke', ...W, '-n', 'cli-token', '--input-data', '[1]'], env), { echo: [1] });
  });

  test('an ONNX model with aad auth from config.json: register, create, invoke from a file, list by model, delete', async () => {
    const project = tempDir('project');
    await tesseraJson(['ml', 'workspace', 'download-config', ...W, '--path', project], env);
    const cwd = { cwd: project };
    await tesseraJson(['ml', 'model', 'register', '--name', 'lin', '--path', path.join(dir, 'model.onnx')], env, cwd);
    const created = await tesseraJson<ServiceOut>(['ml', 'service', 'create', '-n', 'cli-onnx', '-m', 'lin:1', '--auth-mode', 'aad'], env, cwd);
    assert.deepEqual([created.state, created.authMode, created.runtime, created.models], ['Healthy', 'aad', 'onnx', ['lin:1']]);
    assert.deepEqual(await tesseraJson(['ml', 'service', 'invoke', '-n', 'cli-onnx', '--input-file', path.join(dir, 'input.json')], env, cwd), { outputs: { Y: [[6]] } });
    assert.deepEqual(await tesseraJson(['ml', 'service', 'invoke', '-n', 'cli-onnx', '--input-data', `@${path.join(dir, 'input.json')}`], env, cwd), { outputs: { Y: [[6]] } });
    const byModel = await tesseraJson<ServiceOut[]>(['ml', 'service', 'list', '--model-name', 'lin'], env, cwd);
    assert.deepEqual(byModel.map((s) => s.name), ['cli-onnx']);
    const refused = await tessera(['ml', 'service', 'invoke', '-n', 'cli-onnx', '--input-data', '{"inputs": {"X": [[1]]}}'], env, cwd);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^ERROR: \(InvalidRequestContent\) The service refused the input/);

    const del = await tessera(['ml', 'service', 'delete', '-n', 'cli-onnx'], env, cwd);
    assert.deepEqual([del.code, del.stdout], [0, '']);
    const gone = await tessera(['ml', 'service', 'show', '-n', 'cli-onnx'], env, cwd);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /ResourceNotFound/);
  });

  test('a failed deployment exits 1 with the init error and the logs; wait says the same', async () => {
    const failed = await tessera(['ml', 'service', 'create', ...W, '-n', 'cli-broken', '--entry-script', path.join(dir, 'broken.py')], env);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /ERROR: The web service 'cli-broken' failed to deploy: .*ValueError: weights file is corrupt/);
    assert.match(failed.stderr, /loading the weights/);
    const waited = await tessera(['ml', 'service', 'wait', ...W, '-n', 'cli-broken'], env);
    assert.equal(waited.code, 1);
    assert.match(waited.stderr, /failed to deploy/);
    const invoked = await tessera(['ml', 'service', 'invoke', ...W, '-n', 'cli-broken', '--input-data', '{}'], env);
    assert.equal(invoked.code, 1);
    assert.match(invoked.stderr, /\(Conflict\) .*not Healthy/);
  });

  test('unknown services are clear errors with exit status 1', async () => {
    for (const command of ['show', 'delete', 'wait', 'list-keys', 'get-token', 'get-logs']) {
      const result = await tessera(['ml', 'service', command, ...W, '-n', 'no-such-svc'], env);
      assert.equal(result.code, 1, command);
      assert.match(result.stderr, /^ERROR: \(ResourceNotFound\) .*no-such-svc/, command);
    }
    const invoked = await tessera(['ml', 'service', 'invoke', ...W, '-n', 'no-such-svc', '--input-data', '{}'], env);
    assert.equal(invoked.code, 1);
    assert.match(invoked.stderr, /ResourceNotFound/);
  });

  test('refusals exit 1 with the message: token auth on an instance (server), an ONNX service without a model (server), a bad name, an existing name', async () => {
    const onInstance = await tessera(['ml', 'service', 'create', ...W, '-n', 'cli-tok-inst', '--entry-script', path.join(dir, 'score.mjs'), '--auth-mode', 'token'], env);
    assert.equal(onInstance.code, 1);
    assert.match(onInstance.stderr, /\(InvalidParameter\) Token auth is not available on instance targets/);
    const noModel = await tessera(['ml', 'service', 'create', ...W, '-n', 'cli-nomodel'], env);
    assert.equal(noModel.code, 1);
    assert.match(noModel.stderr, /ONNX model/);
    // The instance target's default (no authentication) is never silent; --auth-mode none says it is meant.
    assert.match(noModel.stderr, /^WARNING: The service 'cli-nomodel' will answer anyone who can reach the server, without a key or token/m);
    const meant = await tessera(['ml', 'service', 'create', ...W, '-n', 'cli-nomodel', '--auth-mode', 'none'], env);
    assert.equal(meant.code, 1);
    assert.ok(!meant.stderr.includes('WARNING'), meant.stderr);
    const badName = await tessera(['ml', 'service', 'show', ...W, '-n', 'Bad_Name'], env);
    assert.equal(badName.code, 1);
    assert.match(badName.stderr, /The web service name 'Bad_Name' is invalid/);
    const exists = await tessera(['ml', 'service', 'create', ...W, '-n', 'cli-py', '--entry-script', path.join(dir, 'score.mjs')], env);
    assert.equal(exists.code, 1);
    assert.match(exists.stderr, /exists in this workspace: pass overwrite/);
  });

  test('usage errors exit 2: missing flags, bad choices and numbers, bad JSON, both or neither input', async () => {
    const cases: [string[], RegExp][] = [
      [['ml', 'service', 'show', ...W], /required option '-n, --name <name>' not specified/],
      [['ml', 'service', 'regen-key', ...W, '-n', 'cli-py'], /required option '--key-type <type>' not specified/],
      [['ml', 'service', 'regen-key', ...W, '-n', 'cli-py', '--key-type', 'Tertiary'], /Allowed choices are Primary, Secondary/],
      [['ml', 'service', 'create', ...W, '-n', 'x-svc', '--auth-mode', 'password'], /Allowed choices are key, token, aad, none/],
      [['ml', 'service', 'create', ...W, '-n', 'x-svc', '--replicas', 'two'], /whole number from 1/],
      [['ml', 'service', 'create', ...W, '-n', 'x-svc', '--memory-gb', '-1'], /positive number/],
      [['ml', 'service', 'create', ...W, '-n', 'x-svc', '--entry-script', path.join(dir, 'score.py'), '--runtime', 'javascript'], /contradicts the entry script 'score.py'/],
      [['ml', 'service', 'create', ...W, '-n', 'x-svc', '--entry-script', path.join(dir, 'input.json')], /must end in \.py/],
      [['ml', 'service', 'invoke', ...W, '-n', 'cli-py', '--input-data', '{"a": '], /--input-data: the value is not valid JSON/],
      [['ml', 'service', 'invoke', ...W, '-n', 'cli-py', '--input-file', path.join(dir, 'bad.json')], /--input-file: the file '.*bad\.json' is not valid JSON/],
      [['ml', 'service', 'invoke', ...W, '-n', 'cli-py', '--input-file', path.join(dir, 'absent.json')], /cannot read the file/],
      [['ml', 'service', 'invoke', ...W, '-n', 'cli-py'], /exactly one of --input-data and --input-file/],
      [['ml', 'service', 'invoke', ...W, '-n', 'cli-py', '--input-data', '{}', '--input-file', path.join(dir, 'input.json')], /exactly one of --input-data and --input-file/],
      [['ml', 'service', 'list', '-w', 'ws1'], /No workspace configuration found.* Or name the workspace with -w\/--workspace-name and -g\/--resource-group/],
    ];
    for (const [args, message] of cases) {
      const result = await tessera(args, env);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message, args.join(' '));
    }
    const noConfig = await tessera(['ml', 'service', 'list'], env, { cwd: tempDir('nowhere') });
    assert.equal(noConfig.code, 2, 'nothing names the workspace: a usage error');
    assert.match(noConfig.stderr, /No workspace configuration found/);
  });
});
