/**
 * The ONNX runtime: one onnxruntime-node InferenceSession over the service's one `.onnx`
 * file, shared by the service's concurrent requests (a session may run several at once).
 * `{"inputs": {name: nested arrays}}` → `{"outputs": {name: nested arrays}}`, every input
 * checked against the model's declared names, element types and shapes first.
 *
 * Limits: the memory limit cannot be enforced (the session lives in the server's process;
 * its native allocations are outside V8's heap limits), and a native run cannot be
 * interrupted: a request past its timeout is answered `timeout` while the run finishes
 * in the background. An answer past `RuntimeSpec.answerLimit` (or with more than a quarter
 * as many output elements) is refused as `client`: converting it could exhaust V8's
 * string or heap limits in the server's own thread.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { truncate } from './environment.js';
import { TensorInputError, fromTensor, toTensor } from './onnxTensors.js';
import { DEFAULT_ANSWER_LIMIT, type LogSink, type RuntimeSpec, type ScoreInput, type ScoreOutcome, type ServiceRuntime } from './types.js';

export class OnnxRuntime implements ServiceRuntime {
  readonly kind = 'onnx' as const;
  private session?: ort.InferenceSession;
  /** The session's tensor inputs by name (read once: feedsOf checks every request against them). */
  private inputs = new Map<string, ort.InferenceSession.ValueMetadata>();
  private stopping?: Promise<void>;
  private readonly inFlight = new Set<{ run: Promise<unknown>; end: (outcome: ScoreOutcome) => void }>();
  private readonly answerLimit: number;

  constructor(
    private readonly spec: RuntimeSpec,
    private readonly log: LogSink,
  ) {
    this.answerLimit = spec.answerLimit ?? DEFAULT_ANSWER_LIMIT;
  }

  async start(): Promise<void> {
    if (this.session || this.stopping) throw new Error('the runtime was already started');
    const file = modelFileOf(this.spec);
    let session: ort.InferenceSession;
    try {
      // One thread per run: concurrency comes from the service's parallel requests, and
      // the machine's few cores are shared with the server and the other services.
      session = await ort.InferenceSession.create(file, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
    } catch (error) {
      throw new Error(`the ONNX model ${path.basename(file)} could not be loaded: ${truncate(describe(error), 500)}`);
    }
    if (this.stopping) {
      await session.release();
      throw new Error('the runtime was stopped while starting');
    }
    this.session = session;
    this.inputs = new Map(session.inputMetadata.map((m) => [m.name, m]));
    const inputs = session.inputMetadata.map((m) => `${m.name}${m.isTensor ? ` ${m.type}[${m.shape.join(',')}]` : ''}`).join(', ');
    this.log(`onnx session loaded ${path.basename(file)}; inputs: ${inputs}; outputs: ${session.outputNames.join(', ')}`, 'system');
  }

  score(input: ScoreInput, timeoutMs: number): Promise<ScoreOutcome> {
    const session = this.session;
    if (this.stopping) return Promise.resolve({ ok: false, reason: 'crash', message: 'the service is stopping' });
    if (!session) return Promise.resolve({ ok: false, reason: 'crash', message: 'the runtime is not started' });
    let feeds: Record<string, ort.Tensor>;
    try {
      feeds = feedsOf(input.body, session, this.inputs);
    } catch (error) {
      const message = error instanceof TensorInputError ? error.message : `the input could not be made into tensors: ${truncate(describe(error), 1000)}`;
      return Promise.resolve({ ok: false, reason: 'client', message });
    }
    return new Promise<ScoreOutcome>((resolve) => {
      let settled = false;
      const end = (outcome: ScoreOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.inFlight.delete(entry);
        resolve(outcome);
      };
      const timer = setTimeout(() => end({ ok: false, reason: 'timeout', message: `the model ran past the request timeout of ${timeoutMs} ms` }), timeoutMs);
      const run = session.run(feeds).then(
        (results) => end(answerOf(results, this.answerLimit)),
        (error: unknown) => end({ ok: false, reason: 'client', message: `the model refused the input: ${truncate(describe(error), 1000)}` }),
      );
      const entry = { run, end };
      this.inFlight.add(entry);
    });
  }

  /** Ends the requests in flight as `crash`, waits for their native runs, then releases the session. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const runs = [...this.inFlight].map((entry) => {
        entry.end({ ok: false, reason: 'crash', message: 'the service is stopping' });
        return entry.run;
      });
      await Promise.allSettled(runs);
      await this.session?.release();
      this.session = undefined;
    })();
    return this.stopping;
  }
}

/** The model's `.onnx` file: the first model's path if it is a file, or the one `.onnx` file in its directory. */
function modelFileOf(spec: RuntimeSpec): string {
  if (spec.models.length !== 1) throw new Error(`an ONNX service needs exactly one model, not ${spec.models.length}`);
  const model = spec.models[0]!;
  let stat;
  try {
    stat = statSync(model.path);
  } catch {
    throw new Error(`the model ${model.name}:${model.version} is missing (${model.path})`);
  }
  if (stat.isFile()) {
    if (!model.path.toLowerCase().endsWith('.onnx')) throw new Error(`the model ${model.name}:${model.version} is not an .onnx file`);
    return model.path;
  }
  const candidates = readdirSync(model.path, { withFileTypes: true }).filter((e) => e.isFile() && e.name.toLowerCase().endsWith('.onnx'));
  if (candidates.length !== 1) {
    throw new Error(`the model ${model.name}:${model.version} must hold exactly one .onnx file, not ${candidates.length}`);
  }
  return path.join(model.path, candidates[0]!.name);
}

function feedsOf(body: string, session: ort.InferenceSession, declared: ReadonlyMap<string, ort.InferenceSession.ValueMetadata>): Record<string, ort.Tensor> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new TensorInputError('the body is not JSON; send {"inputs": {inputName: nested arrays}}');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new TensorInputError('the body must be a JSON object: {"inputs": {inputName: nested arrays}}');
  const { inputs, ...rest } = parsed as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw new TensorInputError(`unknown field(s) ${extra.map((k) => `'${truncate(k, 64)}'`).join(', ')}; send {"inputs": {inputName: nested arrays}}`);
  if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) throw new TensorInputError('"inputs" must be an object mapping each input name to nested arrays');
  const given = inputs as Record<string, unknown>;
  const expected = () => session.inputMetadata.map((m) => `${m.name}${m.isTensor ? ` ${m.type}[${m.shape.join(',')}]` : ''}`).join(', ');
  const unknown = Object.keys(given).filter((name) => !declared.has(name));
  if (unknown.length > 0) throw new TensorInputError(`unknown input(s) ${unknown.map((k) => `'${truncate(k, 64)}'`).join(', ')}; the model's inputs are: ${expected()}`);
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, metadata] of declared) {
    if (!Object.hasOwn(given, name)) throw new TensorInputError(`missing input '${name}'; the model's inputs are: ${expected()}`);
    if (!metadata.isTensor) throw new TensorInputError(`input '${name}' is not a tensor; this runtime only feeds tensors`);
    feeds[name] = toTensor(name, given[name], metadata.type, metadata.shape);
  }
  return feeds;
}

/**
 * The run's outputs as the answer's JSON, or a `client` outcome when they are not tensors
 * or too large. Never throws (it runs in a promise handler nobody else catches).
 */
function answerOf(results: ort.InferenceSession.ReturnType, answerLimit: number): ScoreOutcome {
  const maxElements = Math.floor(answerLimit / 4);
  let elements = 0;
  for (const [name, value] of Object.entries(results)) {
    if (!(value instanceof ort.Tensor)) return { ok: false, reason: 'client', message: `output '${name}' is not a tensor; this runtime only returns tensors` };
    elements += value.size;
  }
  const tooLarge = (what: string): ScoreOutcome => ({ ok: false, reason: 'client', message: `the model's output is too large to answer: ${what}` });
  if (elements > maxElements) return tooLarge(`${elements} elements (at most ${maxElements})`);
  let json: string;
  try {
    const outputs: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(results)) outputs[name] = fromTensor(value as ort.Tensor);
    json = JSON.stringify({ outputs });
  } catch (error) {
    return tooLarge(truncate(describe(error), 200));
  }
  return json.length <= answerLimit ? { ok: true, json } : tooLarge(`more than ${answerLimit} bytes`);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
