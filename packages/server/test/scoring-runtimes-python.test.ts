/**
 * The Python runtime with real python3 processes: Azure ML's init/run contract, Machine
 * Learning Server's initCode/code contract, and every way a script can fail (raise, exit,
 * os._exit, segfault, MemoryError, hang): each fails only its own request, and the next succeeds.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { hostScriptPath } from '../src/scoring/runtimes/pythonRuntime.js';
import { CUT_MARKER, MAX_LOG_LINE_BYTES } from '../src/scoring/runtimes/lineSplitter.js';
import { answer, eventually, failure, sandbox, score, type Sandbox } from './scoring-runtimes-helpers.js';
import type { ServiceRuntime } from '../src/scoring/runtimes/types.js';

const SCRIPT = `
import ctypes, json, os, sys, time

def init():
    global model
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "weights.json")) as f:
        model = json.load(f)
    print("init done", flush=True)

def run(raw_data):
    data = json.loads(raw_data)
    mode = data.get("mode")
    if mode == "echo":
        return {"raw": raw_data, "scaled": [x * model["scale"] for x in data.get("values", [])]}
    if mode == "env":
        return {"secret": os.environ.get("TESSERA_TEST_SECRET"), "modelDir": os.environ["AZUREML_MODEL_DIR"], "cwd": os.getcwd(), "path0": sys.path[0]}
    if mode == "log":
        print("hello from run")
        print("trouble from run", file=sys.stderr)
        return "logged"
    if mode == "raise":
        raise ValueError("bad value %s" % data.get("value"))
    if mode == "set":
        return {1, 2}
    if mode == "nan":
        return float("nan")
    if mode == "exit":
        sys.exit(4)
    if mode == "_exit":
        os._exit(5)
    if mode == "segfault":
        ctypes.string_at(0)
    if mode == "oom":
        hoard = []
        while True:
            hoard.append(bytearray(16 * 1024 * 1024))
    if mode == "hang":
        while True:
            time.sleep(1)
    if mode == "meet":
        open(data["me"], "w").close()
        while not os.path.exists(data["other"]):
            time.sleep(0.01)
        return data["me"]
    raise KeyError(mode)
`;

describe('python runtime', () => {
  let box: Sandbox;
  let runtime: ServiceRuntime;
  let logs: { line: string; stream: string }[];
  let bystander: ServiceRuntime;
  let modelDir: string;

  before(async () => {
    box = sandbox();
    modelDir = path.join(box.dir, 'models', 'scaler', '2');
    mkdirSync(modelDir, { recursive: true });
    box.write('models/scaler/2/weights.json', '{"scale": 3}');
    box.write('score.py', SCRIPT);
    box.write('other.py', 'def run(raw_data):\n    return {"length": len(raw_data)}\n');
    process.env.TESSERA_TEST_SECRET = 'do-not-leak';
    ({ runtime, logs } = await box.start({
      kind: 'python',
      entryScript: 'score.py',
      models: [{ name: 'scaler', version: 2, path: path.join(modelDir, 'weights.json') }],
      workers: 2,
      memoryMb: 512,
    }));
    ({ runtime: bystander } = await box.start({ kind: 'python', entryScript: 'other.py' }));
  });
  after(async () => {
    delete process.env.TESSERA_TEST_SECRET;
    await box.cleanup();
  });

  const stillWorks = async () => {
    assert.deepEqual(answer(await score(runtime, { mode: 'echo', values: [1, 2] })), { raw: '{"mode":"echo","values":[1,2]}', scaled: [3, 6] });
    assert.deepEqual(answer(await score(bystander, '"abc"')), { length: 5 });
  };

  it('runs from the compiled build with host.py found in the source tree', () => {
    assert.match(hostScriptPath(), /src[\\/]scoring[\\/]runtimes[\\/]python[\\/]host\.py$/);
  });

  it('a body with line breaks, or that looks like a protocol line, reaches run() exactly as sent', async () => {
    for (const raw of ['{"mode": "echo",\n "values": [1,\r\n 2]}', '{"mode":"echo","values":[], "x": "\\nJ0 {}\\nE1 \\"no\\""}', '{"mode":"echo"} ']) {
      assert.equal((answer(await score(runtime, raw)) as { raw: string }).raw, raw);
    }
    await stillWorks();
  });

  it('calls init() once per worker and run(raw_data) with the body as a string; the answer is json.dumps of the result', async () => {
    await stillWorks();
    assert.equal(logs.filter((l) => l.stream === 'stdout' && l.line === 'init done').length, 2);
  });

  it('print() goes to stdout log lines and stderr to stderr', async () => {
    assert.equal(answer(await score(runtime, { mode: 'log' })), 'logged');
    await eventually(() => logs.some((l) => l.stream === 'stdout' && l.line === 'hello from run'), 'the stdout line');
    await eventually(() => logs.some((l) => l.stream === 'stderr' && l.line === 'trouble from run'), 'the stderr line');
  });

  it('gives the script AZUREML_MODEL_DIR, its directory first on sys.path and as cwd, never the server environment', async () => {
    const env = answer(await score(runtime, { mode: 'env' })) as Record<string, unknown>;
    assert.deepEqual(env, { secret: null, modelDir, cwd: box.dir, path0: box.dir });
  });

  it('a run() that raises fails its request as client, naming the exception, and the next succeeds', async () => {
    assert.deepEqual(failure(await score(runtime, { mode: 'raise', value: 7 })), { ok: false, reason: 'client', message: 'run() raised ValueError: bad value 7' });
    await eventually(() => logs.some((l) => l.stream === 'stderr' && l.line.startsWith('Traceback')), 'the traceback in the logs');
    // run() gets the body as sent, but only a JSON body reaches it.
    assert.match(failure(await score(runtime, 'not json')).message, /^the body is not JSON: JSONDecodeError/);
    assert.match(failure(await score(runtime, { mode: 'set' })).message, /the value run\(\) returned is not JSON-serializable: TypeError: Object of type set/);
    assert.match(failure(await score(runtime, { mode: 'nan' })).message, /not JSON-serializable: ValueError: Out of range float values/);
    assert.match(failure(await score(runtime, '{"mode": ')).message, /^the body is not JSON: JSONDecodeError/);
    await stillWorks();
  });

  for (const [mode, expected] of [
    ['exit', /the worker exited with code 4/],
    ['_exit', /the worker exited with code 5/],
    ['segfault', /the worker was killed by SIGSEGV/],
    ['oom', /the worker ran out of memory \(limit 512 MiB\)/],
  ] as const) {
    it(`a worker that dies (${mode}) fails its request as crash, is replaced, and the next request succeeds`, async () => {
      const outcome = failure(await score(runtime, { mode }));
      assert.equal(outcome.reason, 'crash');
      assert.match(outcome.message, expected);
      await stillWorks();
      await stillWorks();
    });
  }

  it('a run() that hangs times out; the process is killed and replaced', async () => {
    const outcome = failure(await score(runtime, { mode: 'hang' }, 400));
    assert.equal(outcome.reason, 'timeout');
    await stillWorks();
    await eventually(() => logs.some((l) => l.stream === 'system' && /ran past the request timeout/.test(l.line)), 'the restart log line');
  });

  it('two workers answer two requests at once', async () => {
    const a = path.join(box.dir, 'py-a');
    const b = path.join(box.dir, 'py-b');
    const [first, second] = await Promise.all([score(runtime, { mode: 'meet', me: a, other: b }), score(runtime, { mode: 'meet', me: b, other: a })]);
    assert.equal(answer(first), a);
    assert.equal(answer(second), b);
  });

  it('refuses to start when the script cannot load or init() fails or hangs, saying why', async () => {
    box.write('syntax.py', 'def run(:\n');
    box.write('norun.py', 'def init():\n    pass\n');
    box.write('initraises.py', 'def init():\n    raise FileNotFoundError("no model here")\ndef run(d):\n    return d\n');
    box.write('inithangs.py', 'import time\ndef init():\n    time.sleep(60)\ndef run(d):\n    return d\n');
    box.write('initexits.py', 'import sys\ndef init():\n    sys.exit(2)\ndef run(d):\n    return d\n');
    box.write('importexits.py', 'import sys\nsys.exit(3)\n');
    const cases: [Parameters<Sandbox['create']>[0], RegExp][] = [
      [{ kind: 'python', entryScript: 'syntax.py' }, /loading the entry script raised SyntaxError/],
      [{ kind: 'python', entryScript: 'norun.py' }, /defines no run\(\) function/],
      [{ kind: 'python', entryScript: 'initraises.py' }, /^init\(\) raised FileNotFoundError: no model here$/],
      [{ kind: 'python', entryScript: 'inithangs.py', initTimeoutMs: 500 }, /init\(\) did not finish within 500 ms/],
      [{ kind: 'python', entryScript: 'initexits.py' }, /stopped during init\(\): the worker exited with code 2/],
      [{ kind: 'python', entryScript: 'importexits.py' }, /loading the entry script raised SystemExit: 3/],
      [{ kind: 'python', entryScript: 'score.mjs' }, /ending in \.py/],
      [{ kind: 'python', entryScript: 'missing.py' }, /entry script missing\.py is missing/],
      [{ kind: 'python', entryScript: 'other.py', python: path.join(box.dir, 'no-such-python') }, /could not be started/],
    ];
    for (const [spec, expected] of cases) {
      const { runtime: failing } = box.create(spec);
      await assert.rejects(failing.start(), { message: expected });
    }
    await stillWorks();
  });

  it('stop() during a request ends it as crash, later requests too, and is idempotent', async () => {
    const { runtime: doomed } = await box.start({ kind: 'python', entryScript: 'score.py', models: [{ name: 'scaler', version: 2, path: modelDir }] });
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
      box.write('code.py', 'print("adding", a)\nseen = "leftover" in globals()\nleftover = 1\nresult = scale(a) + offset + len(b)\nhistory.append(a)\n');
      ({ runtime: ml } = await box.start({
        kind: 'python',
        entryScript: 'code.py',
        contract: {
          kind: 'mlserver',
          initCode: 'factor = 10\noffset = 1\nhistory = []\ndef scale(x):\n    return x * factor\n',
          inputs: [{ name: 'a', type: 'numeric' }, { name: 'b', type: 'character' }],
          outputs: [{ name: 'result', type: 'numeric' }, { name: 'seen', type: 'logical' }, { name: 'never', type: 'numeric' }],
        },
      }));
    });

    it('runs code in a copy of initCode\'s namespace with the inputs bound, and reads the outputs and the console back', async () => {
      const expected = { outputs: { result: 24, seen: false, never: null }, console: 'adding 2\n' };
      assert.deepEqual(answer(await score(ml, { a: 2, b: 'abc' })), expected);
      assert.deepEqual(answer(await score(ml, { a: 2, b: 'abc' })), expected);
    });

    it('refuses missing, unknown and malformed inputs, raising code and unserializable outputs, then still answers', async () => {
      assert.match(failure(await score(ml, { a: 1 })).message, /missing input parameter\(s\): b/);
      assert.match(failure(await score(ml, { a: 1, b: 'x', c: 3 })).message, /unknown input parameter\(s\): c; the service declares: a, b/);
      assert.match(failure(await score(ml, [1])).message, /must be a JSON object of the input parameters/);
      assert.match(failure(await score(ml, '{')).message, /the body is not JSON/);
      assert.deepEqual(failure(await score(ml, { a: 1, b: null })), { ok: false, reason: 'client', message: "code raised TypeError: object of type 'NoneType' has no len()" });
      box.write('setcode.py', 'big = {1, 2}\n');
      const { runtime: sets } = await box.start({ kind: 'python', entryScript: 'setcode.py', contract: { kind: 'mlserver', inputs: [], outputs: [{ name: 'big', type: 'numeric' }] } });
      assert.match(failure(await score(sets, {})).message, /output 'big' is not JSON-serializable: TypeError/);
      assert.deepEqual(answer(await score(ml, { a: 0, b: '' })), { outputs: { result: 1, seen: false, never: null }, console: 'adding 0\n' });
    });

    it('refuses to start when initCode raises', async () => {
      const { runtime: bad } = box.create({ kind: 'python', entryScript: 'code.py', contract: { kind: 'mlserver', initCode: 'raise RuntimeError("no init")', inputs: [], outputs: [] } });
      await assert.rejects(bad.start(), { message: /^initCode raised RuntimeError: no init$/ });
    });
  });

  describe('output limits and process groups', () => {
    const LIMIT = 1024 * 1024;
    const LOUD = `
import json, os, subprocess, sys, time

def init():
    sleeper = subprocess.Popen(["sleep", "1000"])
    with open("init-child.pid", "w") as f:
        f.write(str(sleeper.pid))

def run(body):
    raw = json.loads(body)
    if raw == "flood":
        chunk = "x" * (1 << 20)
        for _ in range(3):
            sys.stdout.write(chunk)
        sys.stdout.flush()
        print(" end of the flood")
        sys.stderr.write("e" * (1 << 20) + " end\\n")
        sys.stderr.flush()
        print("after the flood")
        return "flooded"
    if raw == "accents":
        print("\u00e9" * 10000)
        return "accented"
    if raw.startswith("answer "):
        return "y" * int(raw.split()[1])
    if raw == "spawn and die":
        sleeper = subprocess.Popen(["sleep", "1000"])
        with open("run-child.pid", "w") as f:
            f.write(str(sleeper.pid))
        os._exit(1)
    return "plain"
`;
    let loud: ServiceRuntime;
    let loudLogs: { line: string; stream: string }[];
    before(async () => {
      box.write('loud.py', LOUD);
      ({ runtime: loud, logs: loudLogs } = await box.start({ kind: 'python', entryScript: 'loud.py', answerLimit: LIMIT }));
    });

    it('a line without end on stdout or stderr is cut to 16 KiB and marked; the server and the worker carry on', async () => {
      assert.equal(answer(await score(loud, JSON.stringify('flood'))), 'flooded');
      await eventually(() => loudLogs.some((l) => l.line === 'after the flood'), 'the line after the flood');
      await eventually(() => loudLogs.some((l) => l.stream === 'stderr' && l.line.endsWith(CUT_MARKER)), 'the cut stderr line');
      const cut = loudLogs.filter((l) => l.line.endsWith(CUT_MARKER)).map((l) => [l.stream, l.line]);
      assert.deepEqual(cut.sort(), [
        ['stderr', `${'e'.repeat(MAX_LOG_LINE_BYTES)}${CUT_MARKER}`],
        ['stdout', `${'x'.repeat(MAX_LOG_LINE_BYTES)}${CUT_MARKER}`],
      ]);
      for (const l of loudLogs) assert.ok(Buffer.byteLength(l.line) <= MAX_LOG_LINE_BYTES + Buffer.byteLength(CUT_MARKER), `a ${l.line.length}-character log line`);
      assert.equal(answer(await score(loud, JSON.stringify('plain'))), 'plain');
    });

    it('a cut line ends on a whole UTF-8 character', async () => {
      assert.equal(answer(await score(loud, JSON.stringify('accents'))), 'accented');
      await eventually(() => loudLogs.some((l) => l.line.startsWith('\u00e9')), 'the accented line');
      assert.equal(loudLogs.find((l) => l.line.startsWith('\u00e9'))!.line, `${'\u00e9'.repeat(MAX_LOG_LINE_BYTES / 2)}${CUT_MARKER}`);
    });

    it('an answer past the answer limit fails as crash, the worker is restarted, and an answer within it passes', async () => {
      const outcome = failure(await score(loud, JSON.stringify(`answer ${2 * LIMIT}`)));
      assert.equal(outcome.reason, 'crash');
      assert.match(outcome.message, new RegExp(`^the answer was larger than ${LIMIT} bytes; it is being restarted$`));
      assert.equal(answer(await score(loud, JSON.stringify(`answer ${LIMIT / 2}`))), 'y'.repeat(LIMIT / 2));
      await eventually(() => loudLogs.some((l) => l.stream === 'system' && /the answer was larger than/.test(l.line)), 'the restart log line');
    });

    it('processes a script starts die with its worker: on a crash and on stop()', async () => {
      const initChild = Number(readFileSync(path.join(box.dir, 'init-child.pid'), 'utf8'));
      assert.ok(isRunning(initChild), 'the sleep started by init() runs while its worker does');
      const outcome = failure(await score(loud, JSON.stringify('spawn and die')));
      assert.equal(outcome.reason, 'crash');
      const runChild = Number(readFileSync(path.join(box.dir, 'run-child.pid'), 'utf8'));
      await eventually(() => !isRunning(runChild), 'the crashed worker\'s child to be gone');
      await eventually(() => !isRunning(initChild), 'the crashed worker\'s init child to be gone');
      // The replacement's init() started another sleep; stop() ends it with its worker.
      await eventually(() => Number(readFileSync(path.join(box.dir, 'init-child.pid'), 'utf8')) !== initChild, 'the replacement worker');
      assert.equal(answer(await score(loud, JSON.stringify('plain'))), 'plain');
      const replacementChild = Number(readFileSync(path.join(box.dir, 'init-child.pid'), 'utf8'));
      assert.ok(isRunning(replacementChild));
      await loud.stop();
      await eventually(() => !isRunning(replacementChild), 'the stopped worker\'s child to be gone');
    });
  });
});

/** Whether a process is alive (a zombie waiting to be reaped counts as gone). */
function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
