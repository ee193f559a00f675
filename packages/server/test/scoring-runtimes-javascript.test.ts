/**
 * The JavaScript runtime with real worker processes: Azure ML's init/run contract from
 * .mjs, .js, .cjs and .ts scripts, Machine Learning Server's initCode/code contract, and
 * every way a script can fail: each fails only its own request, and the next succeeds.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { answer, eventually, failure, sandbox, score, type Sandbox } from './scoring-runtimes-helpers.js';
import type { ServiceRuntime } from '../src/scoring/runtimes/types.js';
import { CUT_MARKER, MAX_LOG_LINE_BYTES } from '../src/scoring/runtimes/lineSplitter.js';

/** One script with a behaviour per `mode`, so that each failure can be followed by a good request. */
const SCRIPT = `
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const here = (name) => fileURLToPath(new URL(name, import.meta.url));
let calls = 0;
export async function init() {
  await new Promise((r) => setTimeout(r, 10));
  globalThis.initialised = 'yes';
  console.log('init done, models in ' + process.env.AZUREML_MODEL_DIR);
}
export async function run(input) {
  calls += 1;
  switch (input.mode) {
    case 'echo': return { echo: input.value, initialised: globalThis.initialised, calls };
    case 'env': return { secret: process.env.TESSERA_TEST_SECRET ?? null, modelDir: process.env.AZUREML_MODEL_DIR, models: JSON.parse(process.env.TESSERA_MODELS) };
    case 'throw': throw new TypeError('bad value ' + input.value);
    case 'throw-long': throw new Error('x'.repeat(5000));
    case 'throw-string': throw 'just a string';
    case 'hang': for (;;) {}
    case 'oom': { const hoard = []; for (;;) hoard.push(new Array(100000).fill(Math.random())); }
    case 'exit': process.exit(3);
    case 'undefined': return undefined;
    case 'late-throw': setTimeout(() => { throw new Error('thrown after answering'); }, 10); return 'soon';
    case 'bigint': return { n: 10n };
    case 'log': console.log('hello from run'); console.error('trouble from run'); return 'logged';
    case 'meet': {
      writeFileSync(here(input.me), '');
      while (!existsSync(here(input.other))) await new Promise((r) => setTimeout(r, 10));
      return input.me;
    }
    default: throw new RangeError('unknown mode ' + input.mode);
  }
}
`;

describe('javascript runtime', () => {
  let box: Sandbox;
  let runtime: ServiceRuntime;
  let logs: { line: string; stream: string }[];
  let bystander: ServiceRuntime;

  before(async () => {
    box = sandbox();
    box.write('score.mjs', SCRIPT);
    box.write('other.cjs', 'module.exports = { run: (input) => ({ doubled: input.n * 2 }) };');
    process.env.TESSERA_TEST_SECRET = 'do-not-leak';
    ({ runtime, logs } = await box.start({ kind: 'javascript', entryScript: 'score.mjs', memoryMb: 64, workers: 2 }));
    ({ runtime: bystander } = await box.start({ kind: 'javascript', entryScript: 'other.cjs' }));
  });
  after(async () => {
    delete process.env.TESSERA_TEST_SECRET;
    await box.cleanup();
  });

  const stillWorks = async () => {
    assert.deepEqual((answer(await score(runtime, { mode: 'echo', value: [1, 'two'] })) as { echo: unknown }).echo, [1, 'two']);
    assert.deepEqual(answer(await score(bystander, { n: 21 })), { doubled: 42 });
  };

  it('runs init() once per worker and run(input) per request with the parsed body', async () => {
    const result = answer(await score(runtime, { mode: 'echo', value: { a: [1, 2] } })) as Record<string, unknown>;
    assert.deepEqual(result.echo, { a: [1, 2] });
    assert.equal(result.initialised, 'yes');
    assert.equal(logs.filter((l) => l.line.startsWith('init done')).length, 2);
  });

  it('a body with line breaks, or with protocol lines inside its strings, arrives whole', async () => {
    const raw = '{"mode": "echo",\n "value": ["\\nJ0 {}\\nE1 \\"no\\"", 2]}\r\n';
    assert.deepEqual((answer(await score(runtime, raw)) as { echo: unknown }).echo, ['\nJ0 {}\nE1 "no"', 2]);
    await stillWorks();
  });

  it('answers undefined as null', async () => {
    assert.deepEqual(await score(runtime, { mode: 'undefined' }), { ok: true, json: 'null' });
  });

  it('sends console.log to stdout log lines and console.error to stderr', async () => {
    assert.equal(answer(await score(runtime, { mode: 'log' })), 'logged');
    await eventually(() => logs.some((l) => l.stream === 'stdout' && l.line === 'hello from run'), 'the stdout line');
    await eventually(() => logs.some((l) => l.stream === 'stderr' && l.line === 'trouble from run'), 'the stderr line');
  });

  it('gives the script AZUREML_MODEL_DIR and its models, never the server environment', async () => {
    const result = answer(await score(runtime, { mode: 'env' })) as Record<string, unknown>;
    assert.equal(result.secret, null);
    assert.equal(result.modelDir, box.dir);
    assert.deepEqual(result.models, []);
  });

  it('a script that throws fails its request as client, with the error, and the next succeeds', async () => {
    const thrown = failure(await score(runtime, { mode: 'throw', value: 7 }));
    assert.deepEqual(thrown, { ok: false, reason: 'client', message: 'run() raised TypeError: bad value 7' });
    await eventually(() => logs.some((l) => l.stream === 'stderr' && l.line.startsWith('run() raised TypeError: bad value 7')), 'the stack in the logs');
    const long = failure(await score(runtime, { mode: 'throw-long' }));
    assert.ok(long.message.length <= 1100, 'a long message is cut');
    assert.match(failure(await score(runtime, { mode: 'throw-string' })).message, /run\(\) raised a non-Error value: 'just a string'/);
    assert.match(failure(await score(runtime, { mode: 'bigint' })).message, /the value run\(\) returned is not JSON-serializable: TypeError/);
    assert.match(failure(await score(runtime, '{"mode": ')).message, /^the body is not JSON: SyntaxError/);
    await stillWorks();
  });

  it('a script that hangs times out; the worker is replaced and the next request succeeds', async () => {
    const outcome = failure(await score(runtime, { mode: 'hang' }, 300));
    assert.equal(outcome.reason, 'timeout');
    assert.match(outcome.message, /timeout of 300 ms/);
    await stillWorks();
    await stillWorks();
    await eventually(() => logs.some((l) => l.stream === 'system' && /ran past the request timeout/.test(l.line)), 'the restart log line');
  });

  it('a script that eats memory crashes its worker, which is replaced', async () => {
    const outcome = failure(await score(runtime, { mode: 'oom' }));
    assert.equal(outcome.reason, 'crash');
    assert.match(outcome.message, /ran out of memory \(limit 64 MiB\)/);
    await stillWorks();
    await stillWorks();
  });

  it('process.exit() in the script is a crash, and the worker is replaced', async () => {
    const outcome = failure(await score(runtime, { mode: 'exit' }));
    assert.equal(outcome.reason, 'crash');
    assert.match(outcome.message, /exited with code 3/);
    await stillWorks();
    await stillWorks();
  });

  it('a worker that dies while idle (an error thrown after run() answered) is replaced', async () => {
    assert.equal(answer(await score(runtime, { mode: 'late-throw' })), 'soon');
    await eventually(() => logs.some((l) => l.stream === 'system' && /stopped: the worker failed: Error: thrown after answering/.test(l.line)), 'the worker to stop');
    await stillWorks();
  });

  it('two workers answer two requests at once', async () => {
    const [a, b] = await Promise.all([
      score(runtime, { mode: 'meet', me: 'js-a', other: 'js-b' }),
      score(runtime, { mode: 'meet', me: 'js-b', other: 'js-a' }),
    ]);
    assert.equal(answer(a), 'js-a');
    assert.equal(answer(b), 'js-b');
  });

  it('loads .js as an ES module and .ts after transpiling it', async () => {
    box.write('plain.js', 'export function run(input) { return { plain: input }; }');
    const { runtime: plain } = await box.start({ kind: 'javascript', entryScript: 'plain.js' });
    assert.deepEqual(answer(await score(plain, [1])), { plain: [1] });
    box.write('typed.ts', 'interface In { x: number }\nlet factor: number = 0;\nexport async function init(): Promise<void> { factor = 3; }\nexport const run = (input: In): number => input.x * factor;\n');
    const { runtime: typed } = await box.start({ kind: 'javascript', entryScript: 'typed.ts' });
    assert.equal(answer(await score(typed, { x: 5 })), 15);
    assert.ok(existsSync(path.join(box.dir, 'typed.ts.mjs')));
  });

  it('refuses to start when the script cannot load or init() fails or hangs, saying why', async () => {
    box.write('syntax.mjs', 'export function run( {');
    box.write('norun.mjs', 'export function init() {}');
    box.write('initthrows.mjs', 'export function init() { throw new Error("no model here"); }\nexport function run() {}');
    box.write('inithangs.mjs', 'export function init() { for (;;) {} }\nexport function run() {}');
    box.write('initexits.mjs', 'export function init() { process.exit(2); }\nexport function run() {}');
    box.write('bad.ts', 'export function run(: number {');
    box.write('score.rb', 'puts 1');
    const cases: [Parameters<Sandbox['create']>[0], RegExp][] = [
      [{ kind: 'javascript', entryScript: 'syntax.mjs' }, /loading the entry script raised SyntaxError/],
      [{ kind: 'javascript', entryScript: 'norun.mjs' }, /exports no run\(\) function/],
      [{ kind: 'javascript', entryScript: 'initthrows.mjs' }, /^init\(\) raised Error: no model here$/],
      [{ kind: 'javascript', entryScript: 'inithangs.mjs', initTimeoutMs: 300 }, /init\(\) did not finish within 300 ms/],
      [{ kind: 'javascript', entryScript: 'initexits.mjs' }, /stopped during init\(\): the worker exited with code 2/],
      [{ kind: 'javascript', entryScript: 'bad.ts' }, /the entry script bad\.ts does not compile/],
      [{ kind: 'javascript', entryScript: 'score.rb' }, /must end in \.js, \.mjs, \.cjs, \.ts/],
      [{ kind: 'javascript', entryScript: 'missing.mjs' }, /entry script missing\.mjs is missing/],
      [{ kind: 'javascript', entryScript: '../score.mjs' }, /needs an entry script file name/],
      [{ kind: 'javascript' }, /needs an entry script file name/],
    ];
    for (const [spec, expected] of cases) {
      const { runtime: failing } = box.create(spec);
      await assert.rejects(failing.start(), { message: expected });
    }
    await stillWorks();
  });

  it('stop() during a request ends it as crash, later requests too, and is idempotent', async () => {
    const { runtime: doomed } = await box.start({ kind: 'javascript', entryScript: 'score.mjs' });
    const inFlight = score(doomed, { mode: 'hang' });
    await new Promise((r) => setTimeout(r, 50));
    await Promise.all([doomed.stop(), doomed.stop()]);
    assert.deepEqual(await inFlight, { ok: false, reason: 'crash', message: 'the service is stopping' });
    assert.equal(failure(await score(doomed, { mode: 'echo' })).reason, 'crash');
    await doomed.stop();
    await stillWorks();
  });

  describe('Machine Learning Server contract', () => {
    let ml: ServiceRuntime;
    before(async () => {
      box.write('code.js', 'console.log("adding", a);\nseen = typeof leftover;\nleftover = 1;\nresult = scale(a) + offset + b.length;\nlet extra = factor * 2;\n');
      ({ runtime: ml } = await box.start({
        kind: 'javascript',
        entryScript: 'code.js',
        contract: {
          kind: 'mlserver',
          initCode: 'const factor = 10;\nvar offset = 1;\nfunction scale(x) { return x * factor; }\n',
          inputs: [{ name: 'a', type: 'numeric' }, { name: 'b', type: 'character' }],
          outputs: [{ name: 'result', type: 'numeric' }, { name: 'extra', type: 'numeric' }, { name: 'seen', type: 'character' }, { name: 'never', type: 'numeric' }],
        },
      }));
    });

    it('runs code with the inputs bound and initCode\'s names in scope, and reads the outputs back', async () => {
      const expected = { outputs: { result: 24, extra: 20, seen: 'undefined', never: null }, console: 'adding 2\n' };
      assert.deepEqual(answer(await score(ml, { a: 2, b: 'abc' })), expected);
      // a fresh context per request: what one request assigned is gone in the next
      assert.deepEqual(answer(await score(ml, { a: 2, b: 'abc' })), expected);
    });

    it('refuses missing, unknown and malformed inputs, a throwing code and unserializable outputs, then still answers', async () => {
      assert.match(failure(await score(ml, { a: 1 })).message, /missing input parameter\(s\): b/);
      assert.match(failure(await score(ml, { a: 1, b: 'x', c: 3 })).message, /unknown input parameter\(s\): c; the service declares: a, b/);
      assert.match(failure(await score(ml, [1, 2])).message, /must be a JSON object of the input parameters/);
      assert.match(failure(await score(ml, 'nope')).message, /the body is not JSON/);
      assert.deepEqual(failure(await score(ml, { a: 1, b: null })), { ok: false, reason: 'client', message: "code raised TypeError: Cannot read properties of null (reading 'length')" });
      box.write('bigcode.js', 'big = 10n;');
      const { runtime: big } = await box.start({ kind: 'javascript', entryScript: 'bigcode.js', contract: { kind: 'mlserver', inputs: [], outputs: [{ name: 'big', type: 'numeric' }] } });
      assert.match(failure(await score(big, {})).message, /output 'big' is not JSON-serializable: TypeError/);
      assert.deepEqual(answer(await score(ml, { a: 0, b: '' })), { outputs: { result: 1, extra: 20, seen: 'undefined', never: null }, console: 'adding 0\n' });
    });

    it('refuses to start when initCode throws or a parameter is not an identifier', async () => {
      const { runtime: bad } = box.create({ kind: 'javascript', entryScript: 'code.js', contract: { kind: 'mlserver', initCode: 'throw new Error("no init")', inputs: [], outputs: [] } });
      await assert.rejects(bad.start(), { message: /^initCode raised Error: no init$/ });
      const { runtime: badName } = box.create({ kind: 'javascript', entryScript: 'code.js', contract: { kind: 'mlserver', inputs: [{ name: 'a-b', type: 'numeric' }], outputs: [] } });
      await assert.rejects(badName.start(), /parameter name 'a-b' is not a JavaScript identifier/);
    });
  });

  describe('output limits', () => {
    const LIMIT = 1024 * 1024;
    let loud: ServiceRuntime;
    let loudLogs: { line: string; stream: string }[];
    before(async () => {
      box.write(
        'loud.mjs',
        `export function run(input) {
  if (input.mode === 'flood') {
    const chunk = 'x'.repeat(1 << 20);
    for (let i = 0; i < 3; i++) process.stdout.write(chunk);
    process.stdout.write(' end of the flood\\n');
    process.stderr.write('e'.repeat(1 << 20) + '\\n');
    console.log('after the flood');
    return 'flooded';
  }
  if (input.mode === 'answer') return 'y'.repeat(input.size);
  return 'plain';
}`,
      );
      ({ runtime: loud, logs: loudLogs } = await box.start({ kind: 'javascript', entryScript: 'loud.mjs', answerLimit: LIMIT }));
    });

    it('a line without end on stdout or stderr is cut to 16 KiB and marked; the worker carries on', async () => {
      assert.equal(answer(await score(loud, { mode: 'flood' })), 'flooded');
      await eventually(() => loudLogs.some((l) => l.line === 'after the flood'), 'the line after the flood');
      await eventually(() => loudLogs.some((l) => l.stream === 'stderr' && l.line.endsWith(CUT_MARKER)), 'the cut stderr line');
      const cut = loudLogs.filter((l) => l.line.endsWith(CUT_MARKER)).map((l) => [l.stream, l.line]);
      assert.deepEqual(cut.sort(), [
        ['stderr', `${'e'.repeat(MAX_LOG_LINE_BYTES)}${CUT_MARKER}`],
        ['stdout', `${'x'.repeat(MAX_LOG_LINE_BYTES)}${CUT_MARKER}`],
      ]);
      assert.equal(answer(await score(loud, { mode: 'plain' })), 'plain');
    });

    it('an answer past the answer limit fails as crash, the worker is restarted, and an answer within it passes', async () => {
      const outcome = failure(await score(loud, { mode: 'answer', size: 2 * LIMIT }));
      assert.equal(outcome.reason, 'crash');
      assert.match(outcome.message, new RegExp(`^the answer was larger than ${LIMIT} bytes`));
      await eventually(() => loudLogs.some((l) => l.stream === 'system' && /stopped: the answer was larger than/.test(l.line)), 'the restart log line');
      assert.equal(answer(await score(loud, { mode: 'answer', size: LIMIT / 2 })), 'y'.repeat(LIMIT / 2));
    });
  });
});
