/**
 * The host of one JavaScript worker process of a Tessera web service (started by
 * javascriptRuntime.ts, in the sandbox or as a plain child process): loads the entry
 * script, runs its init once, then answers requests one at a time over the host
 * protocol (processWorker.ts: fd 3 in, fd 4 out, one line per message). The
 * script's console goes to this process's stdout and stderr: the service's logs.
 *
 * Node's built-ins and ../hostChannel.mts only: the sandbox shows the runtimes directory
 * at /opt/tessera/runtimes. `.mts`, so that it loads as an ES module wherever it lies.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';
import vm from 'node:vm';
import { EXIT_OUT_OF_MEMORY, EXIT_UNCAUGHT, openChannel, parseRequest, type HostAnswer } from '../hostChannel.mjs';

/** The first line on fd 3 (javascriptRuntime.ts writes it). */
export interface JavascriptHostConfig {
  directory: string;
  /** azureml: the module to load (absolute path; `.ts` already transpiled to `.mjs`). */
  modulePath?: string;
  /** mlserver: the per-request code, the init code, and the names they exchange. */
  mlserver?: { code: string; initCode: string; inputs: string[]; outputs: string[]; initBindings: string[] };
}

type Answer = HostAnswer;

const MAX_MESSAGE = 1000;

/** `TypeError: boom`, for an Error from any realm (vm contexts have their own Error), or the thrown value. */
function describe(error: unknown): string {
  let text: string;
  if (error !== null && typeof error === 'object' && 'message' in error) {
    const name = 'name' in error && typeof error.name === 'string' ? error.name : 'Error';
    text = `${name}: ${String(error.message)}`;
  } else text = `a non-Error value: ${format('%o', error)}`;
  return text.length <= MAX_MESSAGE ? text : `${text.slice(0, MAX_MESSAGE)}…`;
}

/** Logs the stack of a script's error (to the service's logs) and describes it (for the answer). */
function report(what: string, error: unknown): string {
  const stack = error !== null && typeof error === 'object' && 'stack' in error ? String(error.stack) : describe(error);
  console.error(`${what} raised ${stack}`);
  return `${what} raised ${describe(error)}`;
}

function toJson(value: unknown, what: string): Answer {
  try {
    return { ok: true, json: JSON.stringify(value === undefined ? null : value) ?? 'null' };
  } catch (error) {
    return { ok: false, message: `${what} is not JSON-serializable: ${describe(error)}` };
  }
}

function parseBody(body: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(body) as unknown };
  } catch (error) {
    return { ok: false, message: `the body is not JSON: ${describe(error)}` };
  }
}

type Handler = (body: string) => Promise<Answer>;

/** Azure ML's contract: `init()` once, `run(input)` per request, both possibly async. */
async function loadAzureml(modulePath: string): Promise<Handler> {
  let loaded: Record<string, unknown>;
  try {
    loaded = modulePath.endsWith('.cjs')
      ? (createRequire(modulePath)(modulePath) as Record<string, unknown>)
      : ((await import(pathToFileURL(modulePath).href)) as Record<string, unknown>);
  } catch (error) {
    throw new Error(report('loading the entry script', error));
  }
  const fallback = (loaded.default ?? {}) as Record<string, unknown>;
  const pick = (name: string): unknown => loaded[name] ?? fallback[name];
  const init = pick('init');
  const run = pick('run');
  if (typeof run !== 'function') throw new Error('the entry script exports no run() function');
  if (init !== undefined && typeof init !== 'function') throw new Error('the entry script exports an init that is not a function');
  if (typeof init === 'function') {
    try {
      await init();
    } catch (error) {
      throw new Error(report('init()', error));
    }
  }
  return async (body) => {
    const input = parseBody(body);
    if (!input.ok) return input;
    let result: unknown;
    try {
      result = await run(input.value);
    } catch (error) {
      // Out of memory is the worker's end, not the input's fault.
      if (isAllocationFailure(error)) throw error;
      return { ok: false, message: report('run()', error) };
    }
    return toJson(result, 'the value run() returned');
  };
}

/** Globals a vm context lacks that scripts commonly use (vm contexts only have the language's built-ins). */
function nodeGlobals(directory: string, console: Console): Record<string, unknown> {
  return {
    console,
    require: createRequire(path.join(directory, 'noop.js')),
    __dirname: directory,
    process,
    Buffer,
    URL,
    TextEncoder,
    TextDecoder,
    structuredClone,
    setTimeout,
    clearTimeout,
    setInterval,
    clearInterval,
    setImmediate,
    clearImmediate,
  };
}

/** A console whose lines go to the service's logs and, when given, to one request's console output. */
function scriptConsole(capture?: string[]): Console {
  const line = (stream: NodeJS.WriteStream) => (...args: unknown[]) => {
    const text = format(...args);
    capture?.push(text);
    stream.write(`${text}\n`);
  };
  const out = line(process.stdout);
  const err = line(process.stderr);
  return { ...console, log: out, info: out, debug: out, warn: err, error: err, trace: err } as Console;
}

/**
 * Machine Learning Server's contract: `initCode` once into an init context; per request
 * a fresh context holding the init context's globals and top-level bindings, with the
 * inputs bound as variables; `code` runs there and the outputs are read back by name.
 */
function loadMlserver(spec: NonNullable<JavascriptHostConfig['mlserver']>, directory: string): Handler {
  const initSandbox = vm.createContext(nodeGlobals(directory, scriptConsole()));
  try {
    new vm.Script(spec.initCode, { filename: 'initCode.js' }).runInContext(initSandbox);
  } catch (error) {
    throw new Error(report('initCode', error));
  }
  // `let`, `const` and `class` at the top of initCode are not properties of the context's
  // global object; read them by name (the runtime found the names by parsing initCode).
  const initBindings: Record<string, unknown> = {};
  for (const name of spec.initBindings) initBindings[name] = vm.runInContext(name, initSandbox);
  const code = new vm.Script(spec.code, { filename: 'code.js' });
  return async (body) => {
    const parsed = parseBody(body);
    if (!parsed.ok) return parsed;
    const inputs = parsed.value;
    if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) return { ok: false, message: 'the body must be a JSON object of the input parameters' };
    const given = inputs as Record<string, unknown>;
    const unknown = Object.keys(given).filter((name) => !spec.inputs.includes(name));
    if (unknown.length > 0) return { ok: false, message: `unknown input parameter(s): ${unknown.join(', ')}; the service declares: ${spec.inputs.join(', ') || 'none'}` };
    const missing = spec.inputs.filter((name) => !Object.hasOwn(given, name));
    if (missing.length > 0) return { ok: false, message: `missing input parameter(s): ${missing.join(', ')}` };
    const captured: string[] = [];
    const sandbox = Object.create(null) as Record<string, unknown>;
    Object.defineProperties(sandbox, Object.getOwnPropertyDescriptors(initSandbox));
    Object.assign(sandbox, initBindings, nodeGlobals(directory, scriptConsole(captured)));
    for (const name of spec.inputs) sandbox[name] = given[name];
    const context = vm.createContext(sandbox);
    try {
      await code.runInContext(context);
    } catch (error) {
      return { ok: false, message: report('code', error) };
    }
    const outputs: Record<string, unknown> = {};
    for (const name of spec.outputs) outputs[name] = vm.runInContext(`typeof ${name} === 'undefined' ? null : ${name}`, context);
    for (const [name, value] of Object.entries(outputs)) {
      const json = toJson(value, `output '${name}'`);
      if (!json.ok) return json;
    }
    const console = captured.length > 0 ? `${captured.join('\n')}\n` : '';
    return toJson({ outputs, console }, 'the outputs');
  };
}

/** An error that escaped the script ends the worker, saying what it was (the runtime restarts it). */
function fatal(error: unknown): void {
  const outOfMemory = isAllocationFailure(error);
  console.error(`the worker ${outOfMemory ? 'ran out of memory' : 'failed'}: ${error instanceof Error ? (error.stack ?? error.message) : describe(error)}`);
  // Out of memory, the exit status says it (processWorker.ts names the limit).
  if (!outOfMemory) channel.send({ fatal: describe(error) });
  channel.exit(outOfMemory ? EXIT_OUT_OF_MEMORY : EXIT_UNCAUGHT);
}

/** A failed allocation (a Buffer past the address-space limit): the worker is out of memory, as a Python MemoryError. */
function isAllocationFailure(error: unknown): boolean {
  return error instanceof RangeError && /allocation failed|Array buffer allocation|Invalid typed array length/i.test(error.message);
}

let data: JavascriptHostConfig | undefined;
let handle: Handler | undefined;
const queued: string[] = [];

async function serve(line: string): Promise<void> {
  const { id, body } = parseRequest(line);
  channel.answer(id, await handle!(body));
}

async function start(config: JavascriptHostConfig): Promise<void> {
  data = config;
  try {
    handle = data.mlserver ? loadMlserver(data.mlserver, data.directory) : await loadAzureml(data.modulePath!);
  } catch (error) {
    channel.send({ initError: error instanceof Error ? error.message : String(error) });
    channel.exit(0);
    return;
  }
  channel.send({ ready: true });
  for (const line of queued.splice(0)) void serve(line).catch(fatal);
}

process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);
const channel = openChannel((line) => {
  if (data === undefined) void start(JSON.parse(line) as JavascriptHostConfig);
  else if (handle === undefined) queued.push(line);
  else void serve(line).catch(fatal);
});
