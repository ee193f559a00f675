/**
 * What both ONNX runtimes share (in the server's process, onnxRuntime.ts; in a worker
 * process, onnx/host.mts): which file a service's model is, how a session is made, and
 * the request and answer conversions. Imports onnxruntime-node and nothing of the
 * server beyond this directory: the sandbox shows this directory to the ONNX host.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { truncate } from './environment.js';
import { TensorInputError, fromTensor, toTensor } from './onnxTensors.js';
import type { RuntimeModel, ScoreOutcome } from './types.js';

export { TensorInputError };

/** A session over one model file, one thread per run: concurrency comes from the service's parallel requests. */
export async function openSession(file: string): Promise<ort.InferenceSession> {
  try {
    // The machine's few cores are shared with the server and the other services.
    return await ort.InferenceSession.create(file, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
  } catch (error) {
    throw new Error(`the ONNX model ${path.basename(file)} could not be loaded: ${truncate(describe(error), 500)}`);
  }
}

/** "X float32[N,3], …": the session's inputs, for messages and the load log line. */
export function describeInputs(session: ort.InferenceSession): string {
  return session.inputMetadata.map((m) => `${m.name}${m.isTensor ? ` ${m.type}[${m.shape.join(',')}]` : ''}`).join(', ');
}

/** The log line of a loaded session. */
export function loadedLine(file: string, session: ort.InferenceSession): string {
  return `onnx session loaded ${path.basename(file)}; inputs: ${describeInputs(session)}; outputs: ${session.outputNames.join(', ')}`;
}

/** The tensor inputs a session declares, by name (read once: feedsOf checks every request against them). */
export function declaredInputs(session: ort.InferenceSession): Map<string, ort.InferenceSession.ValueMetadata> {
  return new Map(session.inputMetadata.map((m) => [m.name, m]));
}

/**
 * Runs one request's body on the session: the answer, or a `client` outcome for a wrong
 * input or a refused run. Never rejects.
 */
export async function runOnce(session: ort.InferenceSession, declared: ReadonlyMap<string, ort.InferenceSession.ValueMetadata>, body: string, answerLimit: number): Promise<ScoreOutcome> {
  let feeds: Record<string, ort.Tensor>;
  try {
    feeds = feedsOf(body, session, declared);
  } catch (error) {
    const message = error instanceof TensorInputError ? error.message : `the input could not be made into tensors: ${truncate(describe(error), 1000)}`;
    return { ok: false, reason: 'client', message };
  }
  let results: ort.InferenceSession.ReturnType;
  try {
    results = await session.run(feeds);
  } catch (error) {
    return { ok: false, reason: 'client', message: `the model refused the input: ${truncate(describe(error), 1000)}` };
  }
  return answerOf(results, answerLimit);
}

/** The model's `.onnx` file: the first model's path if it is a file, or the one `.onnx` file in its directory. */
export function modelFileOf(models: readonly RuntimeModel[]): string {
  if (models.length !== 1) throw new Error(`an ONNX service needs exactly one model, not ${models.length}`);
  const model = models[0]!;
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
  const expected = () => describeInputs(session);
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

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
