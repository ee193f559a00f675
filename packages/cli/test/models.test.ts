/**
 * The model registry from the SDK (Workspace, Model) and the CLI (`ml workspace
 * download-config`, `ml model …`) against a live server: config.json written and found
 * from a subdirectory, a file and a folder registered (versions numbered automatically),
 * listed, shown, downloaded byte for byte, deleted; and clear errors for bad input.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CliAuthentication, Model, TesseraApiError, Workspace, type ArmResource } from '@tessera/sdk';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/testServer.js';
import { removeTempDirs, tempDir } from './helpers/tempDirs.js';
import { tessera, tesseraJson } from './helpers/cli.js';

let server: TestServer;
let env: Record<string, string>;
let sub: string;
let auth: CliAuthentication;
const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

before(async () => {
  server = await startTestServer();
  sub = server.running.bootstrap.subscriptionId;
  env = { TESSERA_CONFIG_DIR: tempDir('config') };
  await tesseraJson(['login', '--server', server.url, '-u', 'admin', '-p', ADMIN_PASSWORD], env);
  await tesseraJson(['group', 'create', '-n', 'ml', '-l', 'local'], env);
  await tesseraJson(['ml', 'workspace', 'create', '-w', 'ws1', '-g', 'ml'], env);
  auth = new CliAuthentication({ configDir: env.TESSERA_CONFIG_DIR });
});

after(async () => {
  await server.close();
  removeTempDirs();
});

describe('Workspace (SDK)', () => {
  test('get, getDetails with discoveryUrl, writeConfig and fromConfig from a subdirectory', async () => {
    const ws = await Workspace.get({ name: 'ws1', subscriptionId: sub, resourceGroup: 'ml', auth });
    assert.equal(ws.name, 'ws1');
    assert.equal(ws.serverUrl, server.url);
    assert.equal(ws.id, `/subscriptions/${sub}/resourceGroups/ml/providers/Microsoft.MachineLearningServices/workspaces/ws1`);
    const details = await ws.getDetails();
    assert.equal(details.properties.discoveryUrl, server.url);
    const dir = tempDir('project');
    const file = await ws.writeConfig({ path: path.join(dir, '.azureml') });
    assert.equal(file, path.join(dir, '.azureml', 'config.json'));
    const written = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>;
    assert.deepEqual(written, { subscription_id: sub, resource_group: 'ml', workspace_name: 'ws1', tenant_id: server.running.bootstrap.tenantId, server_url: server.url });
    const deep = path.join(dir, 'src', 'train');
    fs.mkdirSync(deep, { recursive: true });
    const found = await Workspace.fromConfig({ path: deep, auth });
    assert.equal(found.id, ws.id);
    assert.equal((await found.getDetails()).name, 'ws1');
  });

  test('fromConfig without a config file, and get of a missing workspace, fail clearly', async () => {
    await assert.rejects(Workspace.fromConfig({ path: tempDir('empty'), auth }), /No workspace configuration found: looked for config.json and .azureml\/config.json/);
    const bad = tempDir('bad');
    fs.writeFileSync(path.join(bad, 'config.json'), '{"subscription_id": "x"}');
    await assert.rejects(Workspace.fromConfig({ path: bad, auth }), /has no 'resource_group'/);
    await assert.rejects(Workspace.get({ name: 'nope', subscriptionId: sub, resourceGroup: 'ml', auth }), (e) => e instanceof TesseraApiError && e.status === 404 && e.code === 'ResourceNotFound');
  });

  test('request() calls the management API under the workspace and throws typed errors', async () => {
    const ws = await Workspace.get({ name: 'ws1', subscriptionId: sub, resourceGroup: 'ml', auth });
    assert.deepEqual(await ws.request<{ value: unknown[] }>('GET', '/models'), { value: [] });
    await assert.rejects(ws.request('GET', '/models/none'), (e) => e instanceof TesseraApiError && e.code === 'ResourceNotFound');
    assert.throws(() => ws.request('GET', 'models'), TypeError);
  });
});

describe('Model (SDK)', () => {
  const onnx = crypto.randomBytes(4096);
  const weights = crypto.randomBytes(10_000);

  test('register a file then a folder (versions 1 and 2), list, get, download, delete', async () => {
    const ws = await Workspace.get({ name: 'ws1', subscriptionId: sub, resourceGroup: 'ml', auth });
    const dir = tempDir('model');
    fs.writeFileSync(path.join(dir, 'model.onnx'), onnx);
    const folder = path.join(dir, 'folder');
    fs.mkdirSync(path.join(folder, 'weights'), { recursive: true });
    fs.writeFileSync(path.join(folder, 'weights', 'w.bin'), weights);
    fs.writeFileSync(path.join(folder, 'model.onnx'), onnx);

    const one = await Model.register({ workspace: ws, modelPath: path.join(dir, 'model.onnx'), modelName: 'iris', description: 'a file', tags: { team: 'a' } });
    assert.equal(one.version, 1);
    assert.equal(one.sha256, sha256(onnx));
    assert.equal(one.properties.kind, 'file');
    assert.deepEqual(one.properties.tags, { team: 'a' });
    assert.equal(one.id, `${ws.id}/models/iris/versions/1`);
    const two = await Model.register({ workspace: ws, modelPath: folder, modelName: 'iris' });
    assert.equal(two.version, 2);
    assert.equal(two.properties.kind, 'folder');
    assert.deepEqual(two.properties.files.map((f) => f.path), ['model.onnx', 'weights/w.bin']);

    const listed = await Model.list(ws);
    assert.deepEqual(listed.map((m) => `${m.name}:${m.version}`), ['iris:2', 'iris:1']);
    const latest = await Model.get(ws, 'iris');
    assert.equal(latest.version, 2);

    const out = tempDir('download');
    const file = await new Model(ws, 'iris', 1).download({ targetDir: out });
    assert.equal(file, path.join(out, 'model.onnx'));
    assert.deepEqual(fs.readFileSync(file), onnx);
    await assert.rejects(new Model(ws, 'iris', 1).download({ targetDir: out }), /exists: pass overwrite/);
    const tree = await latest.download({ targetDir: path.join(out, 'v2') });
    assert.deepEqual(fs.readFileSync(path.join(tree, 'weights', 'w.bin')), weights);

    await assert.rejects(Model.register({ workspace: ws, modelPath: folder, modelName: 'iris', version: 2 }), (e) => e instanceof TesseraApiError && e.status === 409);
    await one.delete();
    await assert.rejects(Model.get(ws, 'iris', 1), (e) => e instanceof TesseraApiError && e.status === 404);
    await Model.deleteAll(ws, 'iris');
    assert.deepEqual(await Model.list(ws), []);
  });

  test('register refuses a missing path and an empty folder before any request', async () => {
    const ws = await Workspace.get({ name: 'ws1', subscriptionId: sub, resourceGroup: 'ml', auth });
    await assert.rejects(Model.register({ workspace: ws, modelPath: '/does/not/exist', modelName: 'x' }), /does not exist/);
    await assert.rejects(Model.register({ workspace: ws, modelPath: tempDir('void'), modelName: 'x' }), /holds no file/);
  });
});

describe('tessera ml model / ml workspace download-config', () => {
  test('download-config writes config.json; model commands find it from a subdirectory', async () => {
    const project = tempDir('cli-project');
    const written = await tesseraJson<{ path: string }>(['ml', 'workspace', 'download-config', '-w', 'ws1', '-g', 'ml', '--path', project], env);
    assert.equal(written.path, path.join(project, 'config.json'));
    const config = JSON.parse(fs.readFileSync(written.path, 'utf8')) as Record<string, string>;
    assert.equal(config.workspace_name, 'ws1');
    assert.equal(config.server_url, server.url);
    const shown = await tesseraJson<ArmResource>(['ml', 'workspace', 'show', '-w', 'ws1', '-g', 'ml'], env);
    assert.equal(shown.properties.discoveryUrl, server.url);

    const sub = path.join(project, 'nested');
    fs.mkdirSync(sub);
    const data = crypto.randomBytes(2048);
    fs.writeFileSync(path.join(sub, 'enc.bin'), data);
    const registered = await tesseraJson<{ name: string; version: number; sha256: string }>(['ml', 'model', 'register', '--name', 'encoder', '--path', 'enc.bin', '--description', 'cli'], env, { cwd: sub });
    assert.deepEqual([registered.name, registered.version, registered.sha256], ['encoder', 1, sha256(data)]);
  });

  test('register, list, show, download, delete with -w/-g', async () => {
    const dir = tempDir('cli-model');
    const data = crypto.randomBytes(3000);
    fs.writeFileSync(path.join(dir, 'm.onnx'), data);
    const w = ['-w', 'ws1', '-g', 'ml'];
    const v3 = await tesseraJson<{ version: number }>(['ml', 'model', 'register', ...w, '--name', 'cli', '--path', path.join(dir, 'm.onnx'), '--version', '3'], env);
    assert.equal(v3.version, 3);
    const v4 = await tesseraJson<{ version: number }>(['ml', 'model', 'register', ...w, '--name', 'cli', '--path', path.join(dir, 'm.onnx')], env);
    assert.equal(v4.version, 4, 'the next version after the latest');
    const list = await tesseraJson<{ name: string; version: number }[]>(['ml', 'model', 'list', ...w, '--name', 'cli'], env);
    assert.deepEqual(list.map((m) => m.version), [4, 3]);
    const shown = await tesseraJson<{ version: number; size: number }>(['ml', 'model', 'show', ...w, '--name', 'cli', '--version', '3'], env);
    assert.deepEqual([shown.version, shown.size], [3, data.length]);
    const out = path.join(dir, 'out');
    const downloaded = await tesseraJson<{ path: string }>(['ml', 'model', 'download', ...w, '--name', 'cli', '--version', '3', '--target-dir', out], env);
    assert.deepEqual(fs.readFileSync(downloaded.path), data);
    const del = await tessera(['ml', 'model', 'delete', ...w, '--name', 'cli', '--version', '3'], env);
    assert.equal(del.code, 0, del.stderr);
    const gone = await tessera(['ml', 'model', 'show', ...w, '--name', 'cli', '--version', '3'], env);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /ResourceNotFound/);
    assert.equal((await tessera(['ml', 'model', 'delete', ...w, '--name', 'cli'], env)).code, 0);
  });

  test('bad input: a bad version is a usage error (2), -w without -g and no config.json (2), no config.json (2), a conflict (1)', async () => {
    const bad = await tessera(['ml', 'model', 'show', '-w', 'ws1', '-g', 'ml', '--name', 'x', '--version', '0'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--version must be a whole number from 1/);
    const half = await tessera(['ml', 'model', 'list', '-w', 'ws1'], env);
    assert.equal(half.code, 2);
    const noConfig = await tessera(['ml', 'model', 'list'], env, { cwd: tempDir('nowhere') });
    assert.equal(noConfig.code, 2);
    assert.match(noConfig.stderr, /No workspace configuration found/);
    const dir = tempDir('conflict');
    fs.writeFileSync(path.join(dir, 'a.bin'), 'a');
    const args = ['ml', 'model', 'register', '-w', 'ws1', '-g', 'ml', '--name', 'twice', '--path', path.join(dir, 'a.bin'), '--version', '1'];
    assert.equal((await tessera(args, env)).code, 0);
    const again = await tessera(args, env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /Conflict/);
  });
});
