/**
 * The host of one isolated ONNX worker process (`--isolate-onnx`; started by
 * onnxWorkerRuntime.ts, in the sandbox or as a plain child process): opens the session
 * over the model file its configuration names, then answers requests one at a time over
 * the host protocol (../hostChannel.mts). A model that crashes the native runtime, or a
 * run that never ends, takes this process down, never the server.
 */
import type * as ort from 'onnxruntime-node';
import { EXIT_OUT_OF_MEMORY, EXIT_UNCAUGHT, openChannel, parseRequest } from '../hostChannel.mjs';
import { declaredInputs, describe, loadedLine, openSession, runOnce } from '../onnxSession.js';

/** The first line on fd 3 (onnxWorkerRuntime.ts writes it). */
export interface OnnxHostConfig {
  /** The model file, as this process sees it. */
  modelFile: string;
  answerLimit: number;
}

let config: OnnxHostConfig | undefined;
let session: ort.InferenceSession | undefined;
let inputs = new Map<string, ort.InferenceSession.ValueMetadata>();
const queued: string[] = [];

async function serve(line: string): Promise<void> {
  const { id, body } = parseRequest(line);
  const outcome = await runOnce(session!, inputs, body, config!.answerLimit);
  channel.answer(id, outcome.ok ? outcome : { ok: false, message: outcome.message });
}

async function start(given: OnnxHostConfig): Promise<void> {
  config = given;
  try {
    session = await openSession(given.modelFile);
  } catch (error) {
    channel.send({ initError: describe(error) });
    channel.exit(0);
    return;
  }
  inputs = declaredInputs(session);
  // The load line goes to the service's logs through stdout.
  console.log(loadedLine(given.modelFile, session));
  channel.send({ ready: true });
  for (const line of queued.splice(0)) void serve(line).catch(fatal);
}

function fatal(error: unknown): void {
  const outOfMemory = error instanceof RangeError && /allocation failed|Array buffer allocation|Invalid typed array length/i.test(error.message);
  console.error(`the worker ${outOfMemory ? 'ran out of memory' : 'failed'}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  if (!outOfMemory) channel.send({ fatal: describe(error) });
  channel.exit(outOfMemory ? EXIT_OUT_OF_MEMORY : EXIT_UNCAUGHT);
}

process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);
const channel = openChannel((line) => {
  if (config === undefined) void start(JSON.parse(line) as OnnxHostConfig);
  else if (session === undefined) queued.push(line);
  else void serve(line).catch(fatal);
});
