/**
 * examples/, run exactly as examples/README.md tells a newcomer to: `tessera` installed
 * with `npm install -g` into a prefix whose bin is on the PATH, the server and account in
 * TESSERA_SERVER, TESSERA_USER and TESSERA_PASSWORD, then `bash examples/deploy.sh`,
 * `node examples/deploy.mjs …` and `node examples/mlserver/publish-and-consume.mjs` as
 * child processes. Each is judged by its real effects: what the service answered, the
 * scoring requests the server logged (key accepted, old key refused, new key accepted),
 * and nothing left behind.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/testServer.js';
import { removeTempDirs, tempDir } from './helpers/tempDirs.js';
import { installCli, pathWithoutTessera, run, REPO_ROOT } from './helpers/install.js';
import { tessera, tesseraJson } from './helpers/cli.js';

/** The rows every example scores, and the species each is. */
const ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [6.4, 3.2, 4.5, 1.5],
  [6.3, 3.3, 6.0, 2.5],
];
const SPECIES = ['setosa', 'versicolor', 'virginica'];

let server: TestServer;
let binDir: string;
/** What a user has set before running an example. */
let userEnv: Record<string, string>;
/** The model's weights, as make-model.mjs declares them (the file itself is binary). */
let weights: number[][];
/** The test's own CLI session, to look at what the examples left. */
let checkerConfigDir: string;
let bias: number[];

before(async () => {
  server = await startTestServer();
  binDir = await installCli(tempDir('prefix'));
  userEnv = {
    PATH: `${binDir}${path.delimiter}${pathWithoutTessera()}`,
    TESSERA_CONFIG_DIR: tempDir('config'),
    TESSERA_SERVER: server.url,
    TESSERA_USER: 'admin',
    TESSERA_PASSWORD: ADMIN_PASSWORD,
  };
  checkerConfigDir = tempDir('checker');
  await tesseraJson(['login', '--server', server.url, '-u', 'admin', '-p', ADMIN_PASSWORD], { TESSERA_CONFIG_DIR: checkerConfigDir });
  ({ WEIGHTS: weights, BIAS: bias } = (await import(path.join(REPO_ROOT, 'examples/model/make-model.mjs'))) as { WEIGHTS: number[][]; BIAS: number[] });
});

after(async () => {
  await server?.close();
  removeTempDirs();
});

/** Softmax(row · W + B), computed here in double precision. */
function expectedProbabilities(row: number[]): number[] {
  const logits = bias.map((b, c) => b + row.reduce((sum, v, f) => sum + v * weights[f]![c]!, 0));
  const top = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - top));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

/** Every probability within `tolerance` of the expected one, row by row. */
function assertProbabilities(actual: number[][], tolerance: number): void {
  assert.equal(actual.length, ROWS.length);
  ROWS.forEach((row, i) => expectedProbabilities(row).forEach((p, c) => assert.ok(Math.abs(actual[i]![c]! - p) <= tolerance, `row ${i}, class ${c}: ${actual[i]![c]} is not ${p}`)));
}

/** The JSON of the script's `answer: …` line. */
function answerOf(stdout: string): Record<string, unknown> {
  const line = stdout.split('\n').find((l) => l.trim().startsWith('answer: '));
  assert.ok(line, `no answer line in:\n${stdout}`);
  return JSON.parse(line.trim().slice('answer: '.length)) as Record<string, unknown>;
}

/** The statuses of the scoring requests the server logged for `service`, in order. */
function scoringStatuses(service: string): number[] {
  return server.requests().filter((r) => r.method === 'POST' && r.path === `/api/v1/service/${service}/score`).map((r) => r.status);
}

/** Neither the password nor any service key (`tssk_…`) was printed. */
function assertNoSecret(output: string): void {
  assert.ok(!output.includes(ADMIN_PASSWORD), 'the password was printed');
  assert.doesNotMatch(output, /tssk_/, 'a key was printed');
}

/** The resource group exists, as the CLI sees it (signed in as the test, not as an example). */
async function groupExists(name: string): Promise<boolean> {
  const result = await tessera(['group', 'exists', '-n', name], { TESSERA_CONFIG_DIR: checkerConfigDir });
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim() === 'true';
}

describe('make-model.mjs', () => {
  test('writes the iris model as an ONNX file with node alone, and a usage error without an output path', async () => {
    const out = path.join(tempDir('model'), 'iris.onnx');
    const made = await run('node', ['examples/model/make-model.mjs', out], userEnv);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stderr, /input features float\[N,4\], output probabilities float\[N,3\]/);
    assert.equal(fs.readFileSync(out)[0], 0x08, 'a ModelProto starts with its ir_version field');
    const usage = await run('node', ['examples/model/make-model.mjs'], userEnv);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /usage: node make-model\.mjs OUTPUT\.onnx/);
  });
});

// One after the other: the server checks one sign-in per account at a time (a second at
// the same moment is told to retry), as it should.
describe('the walkthroughs', () => {
  test('deploy.sh serves the ONNX model with key auth: the answer is the model\'s, the old key is refused after regen-key and the new one accepted; nothing is left', async () => {
    const result = await run('bash', ['examples/deploy.sh'], userEnv);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const { outputs } = answerOf(result.stdout) as { outputs: { probabilities: number[][] } };
    assertProbabilities(outputs.probabilities, 1e-5); // float32 on onnxruntime
    assert.deepEqual(scoringStatuses('iris-onnx'), [200, 401, 200]);
    assert.match(result.stdout, /the old primary key is refused: 401\n.*the new primary key is accepted: 200/);
    assertNoSecret(result.stdout + result.stderr);
    assert.equal(await groupExists('tessera-examples'), false);
  });

  test('deploy.mjs examples/score.mjs: the JavaScript entry script answers, the regenerated key works and the old one is refused; nothing is left', async () => {
    const result = await run('node', ['examples/deploy.mjs', 'examples/score.mjs'], userEnv);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const answer = answerOf(result.stdout) as { species: string[]; probabilities: number[][] };
    assert.deepEqual(answer.species, SPECIES);
    assertProbabilities(answer.probabilities, 1e-4); // rounded to 4 places
    assert.deepEqual(scoringStatuses('iris-js-sdk'), [200, 401, 200]);
    assertNoSecret(result.stdout + result.stderr);
    assert.equal(await groupExists('tessera-examples-sdk'), false);
  });

  test('deploy.mjs examples/score.py: the Python entry script (standard library only) gives the same answer', async () => {
    const result = await run('node', ['examples/deploy.mjs', 'examples/score.py'], userEnv);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const answer = answerOf(result.stdout) as { species: string[]; probabilities: number[][] };
    assert.deepEqual(answer.species, SPECIES);
    assertProbabilities(answer.probabilities, 1e-4);
    assert.deepEqual(scoringStatuses('iris-py-sdk'), [200, 401, 200]);
    assertNoSecret(result.stdout + result.stderr);
    assert.equal(await groupExists('tessera-examples-sdk'), false);
  });

  test('publish-and-consume.mjs publishes the Python code with its model file, both consumes answer the logistic model\'s value, and the service is deleted', async () => {
    const result = await run('node', ['examples/mlserver/publish-and-consume.mjs'], userEnv);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const coef = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'examples/mlserver/transmission.json'), 'utf8')) as Record<string, number>;
    const expected = 1 / (1 + Math.exp(-(coef.intercept! + coef.hp! * 120 + coef.wt! * 2.8)));
    const answers = result.stdout.split('\n').filter((l) => l.trim().startsWith('answer: ')).map((l) => (JSON.parse(l.trim().slice(8)) as { answer: number }).answer);
    assert.equal(answers.length, 2);
    for (const answer of answers) assert.ok(Math.abs(answer - expected) < 1e-9, `${answer} is not ${expected}`);
    const consumes = server.requests().filter((r) => r.path === '/api/manualTransmission/1.0');
    assert.deepEqual(consumes.map((r) => `${r.method} ${r.status}`), ['POST 200', 'POST 200']);
    const gone = server.requests().filter((r) => r.method === 'DELETE' && r.path === '/services/manualTransmission/1.0');
    assert.deepEqual(gone.map((r) => r.status), [200]);
    assertNoSecret(result.stdout + result.stderr);
  });
});

// Three wrong passwords for admin in all, after the walkthroughs: a fourth in a row would
// be delayed by the server's brute-force rule (a right password resets the count).
describe('deploy.sh: bad input', () => {
  test('a missing variable is a usage error naming it, before anything is sent', async () => {
    const before = server.requests().length;
    const { TESSERA_PASSWORD: _unset, ...withoutPassword } = userEnv;
    const result = await run('bash', ['examples/deploy.sh'], withoutPassword);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^deploy\.sh: set TESSERA_PASSWORD: /);
    assert.equal(server.requests().length, before);
  });

  test('a wrong password stops at the sign-in with the server\'s reason, creating nothing and printing no password', async () => {
    const result = await run('bash', ['examples/deploy.sh'], { ...userEnv, TESSERA_PASSWORD: 'Not-the-password-42' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Invalid username or password[\s\S]*deploy\.sh: sign-in failed/);
    assert.ok(!(result.stdout + result.stderr).includes('Not-the-password-42'));
    assert.doesNotMatch(result.stdout, /^2\. /m);
    assert.equal(await groupExists('tessera-examples'), false);
  });

  test('without tessera on the PATH it says where to get it', async () => {
    const result = await run('bash', ['examples/deploy.sh'], { ...userEnv, PATH: pathWithoutTessera() });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /the tessera command is not on the PATH: see docs\/installation\.md/);
  });
});

describe('deploy.mjs: bad input', () => {
  test('a missing variable exits 2 naming it; a wrong password exits 1 saying the sign-in failed', async () => {
    const { TESSERA_SERVER: _unset, ...withoutServer } = userEnv;
    const missing = await run('node', ['examples/deploy.mjs'], withoutServer);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^deploy\.mjs: set TESSERA_SERVER: /);
    const wrong = await run('node', ['examples/deploy.mjs'], { ...userEnv, TESSERA_PASSWORD: 'Not-the-password-42' });
    assert.equal(wrong.code, 1);
    assert.equal(wrong.stderr, 'deploy.mjs: sign-in failed: Invalid username or password.\n');
  });
});

describe('mlserver/publish-and-consume.mjs: bad input', () => {
  test('a missing variable exits 2 naming it; a wrong password exits 1 saying the sign-in failed', async () => {
    const { TESSERA_USER: _unset, ...withoutUser } = userEnv;
    const missing = await run('node', ['examples/mlserver/publish-and-consume.mjs'], withoutUser);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^publish-and-consume\.mjs: set TESSERA_USER: /);
    const result = await run('node', ['examples/mlserver/publish-and-consume.mjs'], { ...userEnv, TESSERA_PASSWORD: 'Not-the-password-42' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^publish-and-consume\.mjs: sign-in failed: /);
    assert.ok(!result.stderr.includes('Not-the-password-42'));
  });
});
