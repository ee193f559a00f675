/**
 * Runs end to end against a live server and its built-in node: `ml run submit` of a
 * script and its folder (arguments passed exactly, node_modules left out), output
 * followed once per line, metrics, artifacts downloaded, a model registered from the
 * run's outputs; `ml job create --file` and the `ml job` aliases; failed and canceled
 * runs; code in a run acting with its run token (its own run only) and with the
 * compute's managed identity; and clear refusals of bad input.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CliAuthentication, Model, Run, Workspace, type JobResource } from '@tessera/sdk';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/testServer.js';
import { removeTempDirs, tempDir } from './helpers/tempDirs.js';
import { tessera, tesseraJson } from './helpers/cli.js';

let server: TestServer;
let env: Record<string, string>;
let workspace: Workspace;
const ws = ['-w', 'ws1', '-g', 'ml'];
/** Arguments that a shell would mangle: each must reach the script as it is. */
const HOSTILE_ARGS = ['plain', 'two words', "it's", '"dq"', '$HOME', '`id`', '; rm -rf /', '', 'ünïcode', '--flag=x y', '*'];

const TRAIN_MJS = `import fs from 'node:fs';
import { Run } from '@tessera/sdk';
import { value } from './lib/helper.mjs';
const run = Run.getContext();
console.log('ARGS ' + JSON.stringify(process.argv.slice(2)));
console.log('EPOCHS ' + process.env.EPOCHS);
console.log('HELPER ' + value);
console.log('CONTEXT ' + run.id + ' offline=' + run.isOffline);
for (let i = 0; i < 3; i++) run.log('loss', 1 / (i + 1), { step: i });
run.log('accuracy', 0.9);
await run.flush();
fs.mkdirSync('outputs', { recursive: true });
fs.writeFileSync('outputs/model.txt', 'weights');
fs.writeFileSync('extra.txt', 'uploaded');
await run.uploadFile('outputs/extra.txt', 'extra.txt');
try {
  await new Run(run.workspace, 'someone_elses_run').getStatus();
  console.log('OTHER allowed');
} catch (e) {
  console.log('OTHER ' + e.status + ' ' + e.code);
}
console.log('DONE');
`;

before(async () => {
  server = await startTestServer();
  env = { TESSERA_CONFIG_DIR: tempDir('config') };
  await tesseraJson(['login', '--server', server.url, '-u', 'admin', '-p', ADMIN_PASSWORD], env);
  await tesseraJson(['group', 'create', '-n', 'ml', '-l', 'local'], env);
  await tesseraJson(['ml', 'workspace', 'create', '-w', 'ws1', '-g', 'ml'], env);
  await tesseraJson(['ml', 'compute', 'create', ...ws, '--name', 'cpu', '--type', 'amlcompute'], env);
  const trainer = await tesseraJson(['identity', 'create', '-g', 'ml', '-n', 'trainer'], env);
  const scope = `/subscriptions/${server.running.bootstrap.subscriptionId}/resourceGroups/ml/providers/Microsoft.MachineLearningServices/workspaces/ws1`;
  await tesseraJson(['role', 'assignment', 'create', '--assignee', String(trainer.principalId), '--role', 'Reader', '--scope', scope], env);
  await tesseraJson(['ml', 'compute', 'create', ...ws, '--name', 'idc', '--type', 'amlcompute', '--user-assigned-identities', 'trainer'], env);
  workspace = await Workspace.get({ name: 'ws1', resourceGroup: 'ml', subscriptionId: server.running.bootstrap.subscriptionId, auth: new CliAuthentication({ configDir: env.TESSERA_CONFIG_DIR }) });
});

after(async () => {
  await server.close();
  removeTempDirs();
});

/** A source folder holding `files`. */
function sourceDir(files: Record<string, string>): string {
  const dir = tempDir('src');
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

async function fails(args: string[], code: number, message: RegExp, options: { cwd?: string } = {}): Promise<void> {
  const result = await tessera(args, env, options);
  assert.equal(result.code, code, `${args.join(' ')}: ${result.stderr}`);
  assert.match(result.stderr, /^ERROR: /);
  assert.match(result.stderr, message);
  assert.ok(!result.stderr.includes('    at '), 'no stack trace');
}

/** Lines of `text` that start with `marker `. */
const marked = (text: string, marker: string) => text.split('\n').filter((l) => l === marker || l.startsWith(`${marker} `));

describe('tessera ml run', () => {
  let runId: string;

  test('submit a script with its folder and exact arguments; logs -f prints each line once until it ends', async () => {
    const dir = sourceDir({ 'train.mjs': TRAIN_MJS, 'lib/helper.mjs': 'export const value = 42;\n', 'node_modules/big/x.js': 'x'.repeat(1000) });
    const submitted = await tesseraJson<JobResource>(['ml', 'run', 'submit', ...ws, '--compute', 'cpu', '--script', 'train.mjs', '--source-directory', dir, '--experiment-name', 'mnist', '--env', 'EPOCHS=3', '--', ...HOSTILE_ARGS], env);
    runId = submitted.name;
    assert.match(runId, /^mnist_\d{10}_[0-9a-f]{8}$/);
    assert.equal(submitted.properties.experimentName, 'mnist');
    assert.equal(submitted.properties.computeId.split('/').pop(), 'cpu');

    const followed = await tessera(['ml', 'run', 'logs', ...ws, '--name', runId, '-f'], env);
    assert.equal(followed.code, 0, followed.stderr);
    assert.deepEqual(marked(followed.stdout, 'ARGS'), [`ARGS ${JSON.stringify(HOSTILE_ARGS)}`]);
    assert.deepEqual(marked(followed.stdout, 'EPOCHS'), ['EPOCHS 3']);
    assert.deepEqual(marked(followed.stdout, 'HELPER'), ['HELPER 42']);
    assert.deepEqual(marked(followed.stdout, 'CONTEXT'), [`CONTEXT ${runId} offline=false`]);
    assert.deepEqual(marked(followed.stdout, 'OTHER'), ['OTHER 403 AuthorizationFailed'], 'the run token acts for its own run only');
    assert.deepEqual(marked(followed.stdout, 'DONE'), ['DONE']);

    const again = await tessera(['ml', 'run', 'logs', ...ws, '--name', runId], env);
    assert.deepEqual(marked(again.stdout, 'ARGS'), marked(followed.stdout, 'ARGS'));
    const shown = await tesseraJson<JobResource>(['ml', 'run', 'show', ...ws, '--name', runId], env);
    assert.equal(shown.properties.status, 'Completed');
    assert.equal(shown.properties.exitCode, 0);
    assert.match(shown.properties.command, /^node train\.mjs plain 'two words' /);
  });

  test('metrics, list, download (all, or by prefix) and a model registered from the outputs', async () => {
    const metrics = await tesseraJson<{ name: string; step: number; value: number }[]>(['ml', 'run', 'metrics', ...ws, '--name', runId], env);
    assert.deepEqual(metrics.filter((m) => m.name === 'loss').map((m) => [m.step, m.value]), [[0, 1], [1, 0.5], [2, 1 / 3]]);
    assert.deepEqual(metrics.filter((m) => m.name === 'accuracy').map((m) => m.value), [0.9]);
    assert.deepEqual(await new Run(workspace, runId).getMetrics().then((m) => m.accuracy), 0.9);

    const listed = await tesseraJson<JobResource[]>(['ml', 'run', 'list', ...ws, '--experiment-name', 'mnist', '--status', 'Completed'], env);
    assert.ok(listed.some((r) => r.name === runId));
    assert.deepEqual(await tesseraJson<JobResource[]>(['ml', 'run', 'list', ...ws, '--experiment-name', 'nothing-here'], env), []);

    const out = tempDir('download');
    const all = await tesseraJson<{ files: string[] }>(['ml', 'run', 'download', ...ws, '--name', runId, '--download-path', out], env);
    assert.ok(all.files.includes(path.join(out, 'outputs', 'model.txt')));
    assert.equal(fs.readFileSync(path.join(out, 'outputs', 'model.txt'), 'utf8'), 'weights');
    assert.equal(fs.readFileSync(path.join(out, 'outputs', 'extra.txt'), 'utf8'), 'uploaded');
    const some = await tesseraJson<{ files: string[] }>(['ml', 'run', 'download', ...ws, '--name', runId, '--download-path', tempDir('d2'), '--path', 'outputs/extra'], env);
    assert.equal(some.files.length, 1);

    const run = await Run.get(workspace, runId);
    const v1 = await run.registerModel('from-run', { path: 'outputs/model.txt' });
    const v2 = await run.registerModel('from-run', { path: 'outputs/model.txt' });
    assert.deepEqual([v1.version, v2.version], [1, 2]);
    assert.equal((await Model.get(workspace, 'from-run')).version, 2);

    // az ml model create --path azureml://jobs/…, as the CLI spells it
    const uri = `azureml://jobs/${runId}/outputs/artifacts/paths/outputs/model.txt`;
    const v3 = await tesseraJson<{ version: number }>(['ml', 'model', 'register', ...ws, '--name', 'from-run', '--path', uri], env);
    assert.equal(v3.version, 3);
    const fetched = tempDir('fetched');
    await tessera(['ml', 'model', 'download', ...ws, '--name', 'from-run', '--version', '3', '--target-dir', fetched], env);
    assert.deepEqual(fs.readFileSync(path.join(fetched, 'model.txt'), 'utf8'), 'weights');
    const missing = await tessera(['ml', 'model', 'register', ...ws, '--name', 'from-run', '--path', `azureml://jobs/${runId}/outputs/artifacts/paths/outputs/none.txt`], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^ERROR: \(\w+\) /);
  });

  test('Python: python <script.py>, the arguments exact', async () => {
    const dir = sourceDir({ 'train.py': 'import json, sys\nprint("ARGS " + json.dumps(sys.argv[1:], ensure_ascii=False, separators=(",", ":")))\n' });
    const result = await tessera(['ml', 'run', 'submit', ...ws, '--compute', 'cpu', '--script', path.join(dir, 'train.py'), '--stream', '--', ...HOSTILE_ARGS], env);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(marked(result.stdout, 'ARGS'), [`ARGS ${JSON.stringify(HOSTILE_ARGS)}`]);
    assert.match(result.stdout, /"status": "Completed"/);
  });

  test('a failing script: --stream exits 1 naming the status; show has the exit code', async () => {
    const dir = sourceDir({ 'fail.mjs': "console.log('about to fail');\nprocess.exit(3);\n" });
    const result = await tessera(['ml', 'run', 'submit', ...ws, '--compute', 'cpu', '--script', 'fail.mjs', '--source-directory', dir, '--stream'], env);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /about to fail/);
    assert.match(result.stderr, /^ERROR: the run \S+ ended Failed/);
    const id = /the run (\S+) ended/.exec(result.stderr)![1]!;
    assert.equal((await tesseraJson<JobResource>(['ml', 'run', 'show', ...ws, '--name', id], env)).properties.exitCode, 3);
  });

  test('cancel a running run; job stream then exits 1 with Canceled', async () => {
    const dir = sourceDir({ 'sleep.mjs': "console.log('sleeping');\nsetTimeout(() => {}, 120000);\n" });
    const run = await tesseraJson<JobResource>(['ml', 'run', 'submit', ...ws, '--compute', 'cpu', '--script', 'sleep.mjs', '--source-directory', dir], env);
    const r = new Run(workspace, run.name);
    for (const deadline = Date.now() + 60_000; (await r.getStatus()) !== 'Running' && Date.now() < deadline; ) await new Promise((res) => setTimeout(res, 200));
    const canceled = await tesseraJson<JobResource>(['ml', 'run', 'cancel', ...ws, '--name', run.name], env);
    assert.ok(['Canceled', 'Running'].includes(canceled.properties.status));
    await fails(['ml', 'job', 'stream', ...ws, '--name', run.name], 1, /ended Canceled/);
  });
});

describe('tessera ml job', () => {
  test('create --file job.yml --stream, then show, list, stream and download as az ml spells them', async () => {
    const dir = sourceDir({
      'src/train.mjs': "import fs from 'node:fs';\nconsole.log('JOB ' + process.env.GREETING + ' ' + process.argv.slice(2).join('|'));\nfs.mkdirSync('outputs', { recursive: true });\nfs.writeFileSync('outputs/result.txt', 'ok');\n",
      'job.yml': "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\ntype: command\ncommand: node train.mjs --mode \"fast run\"\ncode: ./src\ncompute: azureml:cpu\nexperiment_name: yml-jobs\ndisplay_name: from yaml\ntags: {source: yml}\nenvironment_variables:\n  GREETING: hello\nlimits:\n  timeout: 300\n",
    });
    const created = await tessera(['ml', 'job', 'create', ...ws, '--file', 'job.yml', '--name', 'yml_job_1', '--stream'], env, { cwd: dir });
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^JOB hello --mode\|fast run$/m);
    const shown = await tesseraJson<JobResource>(['ml', 'job', 'show', ...ws, '--name', 'yml_job_1'], env);
    assert.equal(shown.properties.status, 'Completed');
    assert.equal(shown.properties.displayName, 'from yaml');
    assert.deepEqual(shown.properties.tags, { source: 'yml' });
    assert.equal(shown.properties.experimentName, 'yml-jobs');
    assert.ok((await tesseraJson<JobResource[]>(['ml', 'job', 'list', ...ws, '--experiment-name', 'yml-jobs'], env)).some((j) => j.name === 'yml_job_1'));
    const streamed = await tessera(['ml', 'job', 'stream', ...ws, '--name', 'yml_job_1'], env);
    assert.equal(streamed.code, 0, streamed.stderr);
    assert.match(streamed.stdout, /^JOB hello/m);
    const out = tempDir('jobdl');
    await tesseraJson(['ml', 'job', 'download', ...ws, '--name', 'yml_job_1', '--download-path', out], env);
    assert.equal(fs.readFileSync(path.join(out, 'outputs', 'result.txt'), 'utf8'), 'ok');

    await fails(['ml', 'job', 'create', ...ws, '--file', 'job.yml', '--name', 'yml_job_1'], 1, /\(\w+\)/, { cwd: dir });
  });
});

describe('code in a run', () => {
  test("signs in with the compute's managed identity (MsiAuthentication) and reads what its role allows", async () => {
    const dir = sourceDir({
      'msi.mjs': `import { MsiAuthentication, Workspace } from '@tessera/sdk';
const auth = new MsiAuthentication({ clientId: process.env.DEFAULT_IDENTITY_CLIENT_ID });
const ws = Workspace.fromIds({ subscriptionId: process.env.AZUREML_ARM_SUBSCRIPTION, resourceGroup: process.env.AZUREML_ARM_RESOURCEGROUP, name: process.env.AZUREML_ARM_WORKSPACE_NAME, auth, serverUrl: process.env.AZUREML_SERVICE_ENDPOINT });
console.log('WS ' + (await ws.getDetails()).name);
try { await ws.request('PUT', '/computes/made-by-reader', { properties: { computeType: 'AmlCompute' } }); console.log('WRITE allowed'); }
catch (e) { console.log('WRITE ' + e.status); }
`,
    });
    const result = await tessera(['ml', 'run', 'submit', ...ws, '--compute', 'idc', '--script', 'msi.mjs', '--source-directory', dir, '--stream'], env);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.deepEqual(marked(result.stdout, 'WS'), ['WS ws1']);
    assert.deepEqual(marked(result.stdout, 'WRITE'), ['WRITE 403'], 'a Reader identity cannot write');
  });
});

describe('tessera ml run refuses bad input clearly', () => {
  test('usage errors before any request', async () => {
    const dir = sourceDir({ 'train.py': 'print(1)\n', 'run.sh': 'echo\n' });
    await fails(['ml', 'run', 'submit', ...ws, '--compute', 'cpu', '--script', 'missing.py', '--source-directory', dir], 2, /The script 'missing.py' is not a file in the source directory/);
    await fails(['ml', 'run', 'submit', ...ws, '--compute', 'cpu', '--script', path.join(dir, 'nope.py')], 2, /does not exist/);
    await fails(['ml', 'run', 'submit', ...ws, '--compute', 'cpu', '--script', 'run.sh', '--source-directory', dir], 2, /must be Python \(\.py\) or JavaScript/);
    await fails(['ml', 'run', 'submit', ...ws, '--compute', 'cpu', '--script', 'train.py', '--source-directory', dir, '--env', 'NO_EQUALS'], 2, /Each --env must be NAME=value/);
    await fails(['ml', 'run', 'submit', ...ws, '--compute', 'cpu', '--script', 'train.py', '--source-directory', dir, '--experiment-name', '<b>x</b>'], 2, /experiment name must be/);
    const big = sourceDir({ 'train.py': 'print(1)\n' });
    fs.writeFileSync(path.join(big, 'data.bin'), Buffer.alloc(17 * 1024 * 1024));
    await fails(['ml', 'run', 'submit', ...ws, '--compute', 'cpu', '--script', 'train.py', '--source-directory', big], 2, /holds 17\.0 MiB of files, more than the 16 MiB a job's code may have/);
    await fails(['ml', 'run', 'show', ...ws, '--name', '..'], 1, /run id must be a non-empty name/);
  });

  test('server refusals carry their code', async () => {
    const dir = sourceDir({ 'train.py': 'print(1)\n' });
    await fails(['ml', 'run', 'submit', ...ws, '--compute', '<img src=x>', '--script', 'train.py', '--source-directory', dir], 1, /\(\w+\)/);
    await fails(['ml', 'run', 'submit', ...ws, '--compute', 'no-such-compute', '--script', 'train.py', '--source-directory', dir], 1, /\(\w+\)/);
    await fails(['ml', 'run', 'show', ...ws, '--name', 'no_such_run'], 1, /\(ResourceNotFound\)/);
    await fails(['ml', 'run', 'show', ...ws, '--name', '<script>'], 1, /\((ResourceNotFound|InvalidParameter)\)/);
  });
});
