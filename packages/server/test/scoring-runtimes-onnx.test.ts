/**
 * The ONNX runtime with real onnxruntime-node over models written by test/onnx/buildModel.ts:
 * nested arrays in and out, every way an input can be wrong, and which models it refuses,
 * each rule held twice: in the server's process (the default) and isolated in sandboxed
 * worker processes (`--isolate-onnx`, real bubblewrap). Then what only isolation gives: a
 * run past its timeout is ended, and the memory limit holds.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildModel, identityModel, int64DoubleModel, linearRegressionModel, sumAndProductModel } from './onnx/buildModel.js';
import { answer, failure, sandbox, score, type Sandbox } from './scoring-runtimes-helpers.js';
import type { ServiceRuntime } from '../src/scoring/runtimes/types.js';
import { DEFAULT_SANDBOX, Sandbox as ScriptSandbox, type Isolation } from '../src/sandbox/index.js';
import { OnnxRuntime, OnnxWorkerRuntime } from '../src/scoring/runtimes/index.js';

/** A sandbox that must be made (`required`): without bubblewrap these suites fail, never pass unisolated. */
async function requiredSandbox(runtimeDir: string): Promise<ScriptSandbox> {
  const made = new ScriptSandbox({ ...DEFAULT_SANDBOX, mode: 'required', isolateOnnx: true }, runtimeDir);
  await made.start();
  assert.ok(made.status.sandboxed, made.describe());
  return made;
}

for (const mode of ['in-process', 'isolated'] as const) describe(`onnx runtime (${mode})`, () => {
  let box: Sandbox;
  let linear: ServiceRuntime;
  let isolation: Isolation | undefined;
  let made: ScriptSandbox | undefined;
  const model = (file: string) => [{ name: 'm', version: 1, path: path.join(box.dir, file) }];

  before(async () => {
    box = sandbox(mode === 'isolated' ? () => ({ isolation }) : undefined);
    if (mode === 'isolated') {
      made = await requiredSandbox(mkdtempSync(path.join(os.tmpdir(), 'tessera-onnx-runtime-')));
      isolation = made.onnx;
    }
    box.write('linear.onnx', linearRegressionModel({ weights: [[1], [2], [3]], bias: [0.5] }));
    ({ runtime: linear } = await box.start({ kind: 'onnx', models: model('linear.onnx'), workers: 2 }));
    assert.ok(linear instanceof (mode === 'isolated' ? OnnxWorkerRuntime : OnnxRuntime));
  });
  after(async () => {
    await box.cleanup();
    await made?.close();
  });

  it('refuses as client an output past the answer limit (by element count or JSON size) instead of building it, and still answers', async () => {
    // Expand: a one-element input and a requested shape make an output of any size (an output bomb).
    const expand = buildModel({
      name: 'expand',
      inputs: [{ name: 'V', type: 'float', shape: [1] }, { name: 'S', type: 'int64', shape: [1] }],
      outputs: [{ name: 'Y', type: 'float', shape: ['N'] }],
      nodes: [{ op: 'Expand', inputs: ['V', 'S'], outputs: ['Y'] }],
    });
    box.write('expand.onnx', expand);
    const limit = 1024 * 1024;
    const { runtime } = await box.start({ kind: 'onnx', models: model('expand.onnx'), answerLimit: limit });
    assert.deepEqual(answer(await score(runtime, { inputs: { V: [0.5], S: [3] } })), { outputs: { Y: [0.5, 0.5, 0.5] } });
    assert.deepEqual(failure(await score(runtime, { inputs: { V: [0.5], S: [300_000] } })), {
      ok: false,
      reason: 'client',
      message: `the model's output is too large to answer: 300000 elements (at most ${limit / 4})`,
    });
    // Within the element cap, but each 0.1 takes 20 characters of JSON: past the byte limit.
    assert.deepEqual(failure(await score(runtime, { inputs: { V: [0.1], S: [200_000] } })), {
      ok: false,
      reason: 'client',
      message: `the model's output is too large to answer: more than ${limit} bytes`,
    });
    assert.equal((answer(await score(runtime, { inputs: { V: [2], S: [1000] } })) as { outputs: { Y: number[] } }).outputs.Y.length, 1000);
  });

  it('answers {"outputs": {...}} as nested arrays for a batch of any size', async () => {
    assert.deepEqual(answer(await score(linear, { inputs: { X: [[1, 1, 1], [0, 0, 1], [2, 0, 0]] } })), { outputs: { Y: [[6.5], [3.5], [2.5]] } });
    assert.deepEqual(answer(await score(linear, { inputs: { X: [[1, 0, 0]] } })), { outputs: { Y: [[1.5]] } });
  });

  it('feeds two inputs and returns two outputs', async () => {
    box.write('sp.onnx', sumAndProductModel());
    const { runtime } = await box.start({ kind: 'onnx', models: model('sp.onnx') });
    assert.deepEqual(answer(await score(runtime, { inputs: { A: [[1, 2], [3, 4]], B: [[5, 6], [7, 8]] } })), {
      outputs: { Sum: [[6, 8], [10, 12]], Product: [[5, 12], [21, 32]] },
    });
  });

  it('takes int64 as numbers, refuses unsafe integers and fractions, and answers large results as strings', async () => {
    box.write('i64.onnx', int64DoubleModel());
    const { runtime } = await box.start({ kind: 'onnx', models: model('i64.onnx') });
    assert.deepEqual(answer(await score(runtime, { inputs: { Counts: [1, -2, 4503599627370495] } })), { outputs: { Doubled: [2, -4, 9007199254740990] } });
    assert.deepEqual(answer(await score(runtime, { inputs: { Counts: [9007199254740991] } })), { outputs: { Doubled: ['18014398509481982'] } });
    const unsafe = failure(await score(runtime, '{"inputs": {"Counts": [9007199254740993]}}'));
    assert.equal(unsafe.reason, 'client');
    assert.match(unsafe.message, /input 'Counts'.*int64\[N\].*safe integers/);
    assert.match(failure(await score(runtime, { inputs: { Counts: [1.5] } })).message, /the value\[0\] is 1.5/);
  });

  it('carries float64, int32, bool and string tensors', async () => {
    const cases: [Parameters<typeof identityModel>[0], unknown, string][] = [
      ['double', [0.1, 1e300], 'numbers'],
      ['int32', [[1, -2147483648]], '32-bit integers'],
      ['bool', [true, false], 'true or false'],
      ['string', ['a', 'é'], 'strings'],
    ];
    for (const [type, value, expects] of cases) {
      const shape = Array.isArray((value as unknown[])[0]) ? ['N', 2] : ['N'];
      box.write(`id-${type}.onnx`, identityModel(type, shape));
      const { runtime } = await box.start({ kind: 'onnx', models: model(`id-${type}.onnx`) });
      assert.deepEqual(answer(await score(runtime, { inputs: { Input: value } })), { outputs: { Output: value } }, type);
      const wrong = shape.length === 2 ? [[1, 'x']] : ['x', 2];
      const refused = failure(await score(runtime, { inputs: { Input: type === 'string' ? [1, 2] : wrong } }));
      assert.equal(refused.reason, 'client');
      assert.match(refused.message, new RegExp(`input 'Input'.*${expects}`), type);
    }
    const { runtime } = await box.start({ kind: 'onnx', models: model('id-int32.onnx') });
    assert.match(failure(await score(runtime, { inputs: { Input: [[1, 2147483648]] } })).message, /the value\[0\]\[1\] is 2147483648/);
  });

  it('refuses a wrong input with a message naming the input and the expected shape', async () => {
    const refusals: [unknown, RegExp][] = [
      [{ inputs: { X: [[1, 2]] } }, /input 'X': dimension 1 has size 2, not 3; the model expects float32\[N, 3\]/],
      [{ inputs: { X: [1, 2, 3] } }, /input 'X': got 1 dimension\(s\) \[3\]; the model expects float32\[N, 3\]/],
      [{ inputs: { X: [[[1, 2, 3]]] } }, /input 'X': got 3 dimension\(s\)/],
      [{ inputs: { X: [[1, 2, 3], [4, 5]] } }, /input 'X': ragged array: the value\[1\] has 2 elements where 3 are expected/],
      [{ inputs: { X: [[1, 2, 3], 4] } }, /ragged array: the value\[1\] has no array/],
      [{ inputs: { X: [[1, 2, [3]]] } }, /ragged array: the value\[0\]\[2\] is nested deeper/],
      [{ inputs: { X: [[1, '2', 3]] } }, /input 'X': the value\[0\]\[1\] is "2", not one of numbers/],
      [{ inputs: { X: [[1, null, 3]] } }, /the value\[0\]\[1\] is null/],
      [{ inputs: { X: [] } }, /input 'X': got 1 dimension\(s\) \[0\]/],
      [{ inputs: { X: 5 } }, /input 'X': got 0 dimension\(s\)/],
      [{ inputs: {} }, /missing input 'X'; the model's inputs are: X float32\[N,3\]/],
      [{ inputs: { X: [[1, 2, 3]], Z: [1] } }, /unknown input\(s\) 'Z'; the model's inputs are: X float32\[N,3\]/],
      [{ inputs: [[1, 2, 3]] }, /"inputs" must be an object/],
      [{ X: [[1, 2, 3]] }, /unknown field\(s\) 'X'/],
      [{}, /"inputs" must be an object/],
      [[1, 2], /the body must be a JSON object/],
      ['null', /the body must be a JSON object/],
      ['{"inputs": ', /the body is not JSON/],
      ['', /the body is not JSON/],
      [{ inputs: { X: JSON.parse('['.repeat(40) + ']'.repeat(40)) } }, /nested deeper than 32 levels/],
      [{ inputs: { ['k'.repeat(5000)]: 1 } }, /unknown input\(s\) 'k{64}…/],
    ];
    for (const [body, expected] of refusals) {
      const outcome = failure(await score(linear, body));
      assert.equal(outcome.reason, 'client', JSON.stringify(body).slice(0, 80));
      assert.match(outcome.message, expected);
      assert.ok(outcome.message.length < 1500);
    }
    // and the runtime keeps answering
    assert.deepEqual(answer(await score(linear, { inputs: { X: [[0, 0, 0]] } })), { outputs: { Y: [[0.5]] } });
  });

  it('answers concurrent requests with the right result each', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => [i, 0, 0]);
    const outcomes = await Promise.all(rows.map((row) => score(linear, { inputs: { X: [row] } })));
    outcomes.forEach((outcome, i) => assert.deepEqual(answer(outcome), { outputs: { Y: [[i + 0.5]] } }));
  });

  it('finds the one .onnx file of a folder model', async () => {
    const folder = path.join(box.dir, 'folder-model');
    mkdirSync(folder);
    box.write('folder-model/model.onnx', linearRegressionModel({ weights: [[2, 0], [0, 2]], bias: [1, -1] }));
    box.write('folder-model/README.txt', 'not a model');
    const { runtime } = await box.start({ kind: 'onnx', models: [{ name: 'f', version: 3, path: folder }] });
    assert.deepEqual(answer(await score(runtime, { inputs: { X: [[1, 2]] } })), { outputs: { Y: [[3, 3]] } });
  });

  it('refuses to start without exactly one loadable .onnx model, saying why', async () => {
    const twoFiles = path.join(box.dir, 'two');
    mkdirSync(twoFiles);
    box.write('two/a.onnx', sumAndProductModel());
    box.write('two/b.onnx', sumAndProductModel());
    const noFile = path.join(box.dir, 'empty');
    mkdirSync(noFile);
    box.write('garbage.onnx', 'this is not protobuf');
    box.write('model.pkl', 'pickle');
    const cases: [Parameters<Sandbox['create']>[0], RegExp][] = [
      [{ kind: 'onnx', models: [{ name: 'two', version: 1, path: twoFiles }] }, /must hold exactly one \.onnx file, not 2/],
      [{ kind: 'onnx', models: [{ name: 'empty', version: 1, path: noFile }] }, /must hold exactly one \.onnx file, not 0/],
      [{ kind: 'onnx', models: [{ name: 'gone', version: 1, path: path.join(box.dir, 'nope.onnx') }] }, /the model gone:1 is missing/],
      [{ kind: 'onnx', models: model('garbage.onnx') }, /the ONNX model garbage\.onnx could not be loaded/],
      [{ kind: 'onnx', models: model('model.pkl') }, /is not an \.onnx file/],
      [{ kind: 'onnx', models: [] }, /exactly one model, not 0/],
    ];
    for (const [spec, expected] of cases) {
      const { runtime } = box.create(spec);
      await assert.rejects(runtime.start(), { message: expected });
    }
  });

  it('stop() ends the runtime: later requests fail as crash, and stop() is idempotent', async () => {
    const { runtime } = await box.start({ kind: 'onnx', models: model('linear.onnx') });
    const inFlight = score(runtime, { inputs: { X: Array.from({ length: 2000 }, () => [1, 2, 3]) } });
    await Promise.all([runtime.stop(), runtime.stop()]);
    const outcome = await inFlight;
    assert.ok(outcome.ok || outcome.reason === 'crash', 'a request in flight either finished or ended as crash');
    assert.deepEqual(failure(await score(runtime, { inputs: { X: [[1, 2, 3]] } })), { ok: false, reason: 'crash', message: 'the service is stopping' });
    await runtime.stop();
    // another runtime over the same model is unaffected
    assert.deepEqual(answer(await score(linear, { inputs: { X: [[1, 1, 1]] } })), { outputs: { Y: [[6.5]] } });
  });
});

/** Y = ReduceSum(MatMul(E, E)) with E = Expand(V, S): a tiny request that runs as long (and takes as much memory) as S says. */
function heavyModel(): Uint8Array {
  return buildModel({
    name: 'heavy',
    inputs: [{ name: 'V', type: 'float', shape: [1] }, { name: 'S', type: 'int64', shape: [2] }],
    outputs: [{ name: 'Y', type: 'float', shape: [] }],
    nodes: [
      { op: 'Expand', inputs: ['V', 'S'], outputs: ['E'] },
      { op: 'MatMul', inputs: ['E', 'E'], outputs: ['P'] },
      { op: 'ReduceSum', inputs: ['P'], outputs: ['Y'], intAttributes: { keepdims: 0 } },
    ],
  });
}

describe('onnx runtime, isolated: what only a worker process gives', () => {
  let box: Sandbox;
  let made: ScriptSandbox;
  const model = () => [{ name: 'heavy', version: 1, path: path.join(box.dir, 'heavy.onnx') }];

  before(async () => {
    made = await requiredSandbox(mkdtempSync(path.join(os.tmpdir(), 'tessera-onnx-runtime-')));
    box = sandbox(() => ({ isolation: made.onnx }));
    box.write('heavy.onnx', heavyModel());
  });
  after(async () => {
    await box.cleanup();
    await made.close();
  });

  it('the model answers small requests (the rules below are about large ones)', async () => {
    const { runtime } = await box.start({ kind: 'onnx', models: model() });
    // 2×2 of 3s: each product element is 18, four of them.
    assert.deepEqual(answer(await score(runtime, { inputs: { V: [3], S: [2, 2] } })), { outputs: { Y: 72 } });
  });

  it('a run past its timeout ends its worker, which is restarted and answers the next request', async () => {
    const { runtime, logs } = await box.start({ kind: 'onnx', models: model() });
    // 3000×3000 times itself: tens of seconds on one core, far past a 300 ms timeout.
    const slow = failure(await score(runtime, { inputs: { V: [1], S: [3000, 3000] } }, 300));
    assert.equal(slow.reason, 'timeout');
    assert.match(slow.message, /the worker is being restarted/);
    assert.ok(logs.some((l) => /onnx worker 1 ran past the request timeout and is being restarted/.test(l.line)));
    assert.deepEqual(answer(await score(runtime, { inputs: { V: [1], S: [1, 1] } })), { outputs: { Y: 1 } });
  });

  it('the memory limit holds for native allocations: past it the worker dies as out of memory, not the server', async () => {
    const { runtime, logs } = await box.start({ kind: 'onnx', models: model(), memoryMb: 64 });
    // Two 6000×6000 float tensors: about 290 MB of native memory, past 64 MiB and the runtime's own.
    const hog = failure(await score(runtime, { inputs: { V: [1], S: [6000, 6000] } }, 60_000));
    assert.equal(hog.reason, 'crash');
    assert.match(hog.message, /^the worker ran out of memory \(limit 64 MiB\); it is being restarted$/);
    assert.deepEqual(answer(await score(runtime, { inputs: { V: [2], S: [1, 1] } })), { outputs: { Y: 4 } });
    assert.ok(logs.some((l) => l.stream === 'system' && /onnx worker 1 stopped/.test(l.line)), 'the restart is in the service\'s logs');
  });
});

