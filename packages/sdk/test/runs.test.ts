/**
 * The client side of computes and runs, against a loopback server that records what it
 * is sent: compute bodies with identities, a submitted job's command and code, the
 * refusals made before anything is sent, command-line quoting, and the offline run that
 * Run.getContext() gives outside a job.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { Compute } from '../src/compute.js';
import { Experiment, newRunId } from '../src/experiment.js';
import { Run } from '../src/run.js';
import { MAX_CODE_BYTES } from '../src/codeSnapshot.js';
import { quoteArgument, scriptCommand, splitCommandLine } from '../src/commandLine.js';
import { RunError } from '../src/errors.js';
import { TokenAuthentication } from '../src/tokenAuthentication.js';
import { Workspace } from '../src/workspace.js';

interface Request {
  method: string;
  path: string;
  body: Record<string, unknown>;
}
let requests: Request[] = [];
let base: string;
const server = http.createServer((req, res) => {
  let text = '';
  req.on('data', (d: Buffer) => (text += d.toString()));
  req.on('end', () => {
    const url = new URL(req.url!, 'http://x');
    const body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    requests.push({ method: req.method!, path: url.pathname, body });
    const name = url.pathname.split('/').pop()!;
    res.writeHead(req.method === 'PUT' ? 201 : 200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: url.pathname, name, ...body }));
  });
});
const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-sdk-runs-'));
  dirs.push(dir);
  return dir;
}
let ws: Workspace;

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  ws = Workspace.fromIds({ subscriptionId: 'sub-1', resourceGroup: 'ml', name: 'ws1', auth: new TokenAuthentication(() => ({ token: 't', expiresOn: Date.now() / 1000 + 3600 })), serverUrl: base });
});
after(() => {
  server.closeAllConnections();
  server.close();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  requests = [];
});

const W = '/subscriptions/sub-1/resourceGroups/ml/providers/Microsoft.MachineLearningServices/workspaces/ws1';

describe('Compute.create', () => {
  test('bare identity names become resource IDs in the workspace resource group; the type defaults to UserAssigned', async () => {
    const full = '/subscriptions/sub-1/resourceGroups/other/providers/Microsoft.ManagedIdentity/userAssignedIdentities/shared';
    await Compute.create(ws, 'cpu', { computeType: 'AmlCompute', userAssignedIdentities: ['trainer', full], maxConcurrentRuns: 2, description: 'd' });
    assert.equal(requests[0]!.method, 'PUT');
    assert.equal(requests[0]!.path, `${W}/computes/cpu`);
    assert.deepEqual(requests[0]!.body, {
      properties: { computeType: 'AmlCompute', description: 'd', properties: { maxConcurrentRuns: 2 } },
      identity: {
        type: 'UserAssigned',
        userAssignedIdentities: { '/subscriptions/sub-1/resourceGroups/ml/providers/Microsoft.ManagedIdentity/userAssignedIdentities/trainer': {}, [full]: {} },
      },
    });
  });

  test('contradictions are refused before any request', async () => {
    await assert.rejects(Compute.create(ws, 'cpu', { computeType: 'AmlCompute', identityType: 'UserAssigned' }), /needs at least one user-assigned identity/);
    await assert.rejects(Compute.create(ws, 'cpu', { computeType: 'AmlCompute', identityType: 'SystemAssigned', userAssignedIdentities: ['x'] }), /need the identity type UserAssigned/);
    await assert.rejects(Compute.create(ws, 'cpu', { computeType: 'Kubernetes' as 'AmlCompute' }), /compute type must be one of/);
    await assert.rejects(Compute.create(ws, 'cpu', { computeType: 'AmlCompute', maxConcurrentRuns: 0 }), /whole number from 1/);
    await assert.rejects(Compute.create(ws, '..', { computeType: 'AmlCompute' }), /compute name must be a non-empty name/);
    await assert.rejects(Compute.create(ws, 'cpu', { computeType: 'AmlCompute', userAssignedIdentities: ['../x'] }), /identity name must be a non-empty name without slashes/);
    assert.equal(requests.length, 0);
  });
});

describe('Experiment.submit', () => {
  test('sends the command, the code (without node_modules, .git, __pycache__) and the options', async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, 'lib'));
    for (const skipped of ['node_modules', '.git', path.join('lib', '__pycache__')]) {
      fs.mkdirSync(path.join(dir, skipped), { recursive: true });
      fs.writeFileSync(path.join(dir, skipped, 'x'), 'skipped');
    }
    fs.writeFileSync(path.join(dir, 'train.py'), 'print(1)\n');
    fs.writeFileSync(path.join(dir, 'lib', 'util.py'), 'X = 1\n');
    const run = await new Experiment(ws, 'mnist').submit({
      compute: 'cpu',
      script: 'train.py',
      sourceDirectory: dir,
      arguments: ['--name', "it's a b", ''],
      environment: 'python-3',
      environmentVariables: { EPOCHS: '3' },
      displayName: 'first',
      timeoutSec: 60,
    });
    assert.match(run.id, /^mnist_\d{10}_[0-9a-f]{8}$/);
    const sent = requests[0]!;
    assert.equal(sent.path, `${W}/jobs/${run.id}`);
    const props = sent.body.properties as Record<string, unknown>;
    assert.equal(props.command, `python train.py --name 'it'\\''s a b' ''`);
    assert.deepEqual(splitCommandLine(props.command as string), ['python', 'train.py', '--name', "it's a b", '']);
    assert.deepEqual(Object.keys(props.codeFiles as object), ['lib/util.py', 'train.py']);
    assert.equal(Buffer.from((props.codeFiles as Record<string, string>)['train.py']!, 'base64').toString(), 'print(1)\n');
    assert.equal(props.computeId, 'cpu');
    assert.equal(props.experimentName, 'mnist');
    assert.equal(props.environmentId, 'python-3');
    assert.deepEqual(props.environmentVariables, { EPOCHS: '3' });
    assert.deepEqual(props.limits, { timeout: 60 });
    assert.equal(props.jobType, 'Command');
  });

  test('without a source directory the script folder is the code, and node scripts run with node', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'train.mjs'), 'console.log(1)\n');
    await new Experiment(ws, 'js').submit({ compute: 'cpu', script: path.join(dir, 'train.mjs') });
    const props = requests[0]!.body.properties as Record<string, unknown>;
    assert.equal(props.command, 'node train.mjs');
    assert.deepEqual(Object.keys(props.codeFiles as object), ['train.mjs']);
  });

  test('refusals before sending: script kind, missing script, oversized code, bad names and values', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'train.py'), '');
    const exp = new Experiment(ws, 'e');
    const refused = (message: RegExp) => (e: unknown) => e instanceof RunError && e.code === 'InvalidSubmission' && message.test(e.message);
    await assert.rejects(exp.submit({ compute: 'cpu', script: 'train.sh', sourceDirectory: dir }), refused(/must be Python \(\.py\) or JavaScript/));
    await assert.rejects(exp.submit({ compute: 'cpu', script: 'missing.py', sourceDirectory: dir }), refused(/is not a file in the source directory/));
    await assert.rejects(exp.submit({ compute: 'cpu', script: path.join(dir, 'nope.py') }), refused(/does not exist/));
    await assert.rejects(exp.submit({ compute: 'cpu', script: 'train.py', sourceDirectory: path.join(dir, 'nope') }), refused(/is not a file in the source directory|does not exist/));
    await assert.rejects(exp.submit({ compute: 'cpu', script: 'train.py', sourceDirectory: dir, environmentVariables: { 'BAD-NAME': 'x' } }), refused(/not a valid name/));
    await assert.rejects(exp.submit({ compute: 'cpu', script: 'train.py', sourceDirectory: dir, runId: 'a/b' }), refused(/run id/));
    await assert.rejects(exp.submit({ compute: 'cpu', script: 'train.py', sourceDirectory: dir, timeoutSec: 1.5 }), refused(/timeoutSec/));
    await assert.rejects(exp.submit({ compute: 'cpu', command: 'python train.py\nrm -rf /' }), refused(/one line without control characters/));
    await assert.rejects(exp.submit({ compute: 'cpu' }), refused(/Give a script or a command/));
    fs.writeFileSync(path.join(dir, 'data.bin'), Buffer.alloc(MAX_CODE_BYTES));
    fs.writeFileSync(path.join(dir, 'more.bin'), Buffer.alloc(10));
    await assert.rejects(exp.submit({ compute: 'cpu', script: 'train.py', sourceDirectory: dir }), refused(/holds 16\.0 MiB of files, more than the 16 MiB a job's code may have/));
    assert.throws(() => new Experiment(ws, '<b>bold</b>'), /experiment name must be/);
    assert.equal(requests.length, 0);
  });
});

describe('command lines', () => {
  test('each argument comes back from a shell-like split exactly', () => {
    const hostile = ['plain', 'two words', "it's", '"dq"', 'back\\slash', '$HOME', '`id`', '; rm -rf /', '', '\t', 'ünïcode', "'", "''", 'a\nb'];
    const line = scriptCommand('src/train.py', hostile);
    assert.deepEqual(splitCommandLine(line), ['python', 'src/train.py', ...hostile]);
  });

  test('plain words stay unquoted; other scripts are refused', () => {
    assert.equal(quoteArgument('--lr=0.1'), '--lr=0.1');
    assert.equal(quoteArgument('a b'), "'a b'");
    assert.throws(() => scriptCommand('run.sh'), /must be Python/);
    assert.throws(() => splitCommandLine("python 'x"), /unclosed single quote/);
  });

  test('run ids are made of letters, digits, _ and -', () => {
    assert.match(newRunId('mnist.v2 <x>', 1_767_225_600_000), /^mnist_v2__x__1767225600_[0-9a-f]{8}$/);
  });
});

describe('Run.getContext outside a run', () => {
  test('gives an offline run whose log() prints name: value', async () => {
    const run = Run.getContext({ env: {} });
    assert.match(run.id, /^OfflineRun_[0-9a-f-]{36}$/);
    assert.equal(run.isOffline, true);
    const printed: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (printed.push(chunk), true)) as typeof process.stdout.write;
    try {
      run.log('accuracy', 0.93);
      run.logList('loss', [0.5, 0.25]);
      await run.flush();
    } finally {
      process.stdout.write = write;
    }
    assert.deepEqual(printed, ['accuracy: 0.93\n', 'loss: 0.5\n', 'loss: 0.25\n']);
  });

  test('what needs the server is refused as OfflineRun; bad metric values are refused everywhere', async () => {
    const run = Run.getContext({ env: {} });
    await assert.rejects(run.getStatus(), (e) => e instanceof RunError && e.code === 'OfflineRun' && /outside a submitted job/.test(e.message));
    assert.throws(() => run.workspace, /has no workspace/);
    assert.throws(() => run.log('', 1), /metric name/);
    assert.throws(() => run.log('x', Number.NaN), /finite number or a string/);
    assert.throws(() => run.log('x', 1, { step: -1 }), /whole number from 0/);
  });

  test('allowOffline: false, or a partial run environment, is NotInRun naming what is missing', () => {
    assert.throws(() => Run.getContext({ env: {}, allowOffline: false }), (e) => e instanceof RunError && e.code === 'NotInRun');
    assert.throws(() => Run.getContext({ env: { AZUREML_RUN_ID: 'r' } }), /AZUREML_RUN_TOKEN, AZUREML_SERVICE_ENDPOINT/);
  });

  test('inside a run: a Run on the run token, logging in batches that flush() sends', async () => {
    const env = {
      AZUREML_RUN_ID: 'ctx_run',
      AZUREML_RUN_TOKEN: 'run-token',
      AZUREML_RUN_TOKEN_EXPIRY: String(Math.floor(Date.now() / 1000) + 3600),
      AZUREML_SERVICE_ENDPOINT: base,
      AZUREML_ARM_SUBSCRIPTION: 'sub-1',
      AZUREML_ARM_RESOURCEGROUP: 'ml',
      AZUREML_ARM_WORKSPACE_NAME: 'ws1',
      AZUREML_ARM_PROJECT_NAME: 'mnist',
    };
    const run = Run.getContext({ env });
    assert.equal(run.id, 'ctx_run');
    assert.equal(run.experimentName, 'mnist');
    run.log('acc', 0.5, { step: 1 });
    run.log('acc', 0.75, { step: 2 });
    await run.flush();
    assert.equal(requests.length, 1);
    assert.equal(requests[0]!.path, `${W}/jobs/ctx_run/metrics`);
    assert.deepEqual(requests[0]!.body, { metrics: [{ name: 'acc', value: 0.5, step: 1 }, { name: 'acc', value: 0.75, step: 2 }] });
  });
});
