/**
 * What javascriptRuntime.ts and a JavaScript worker thread (javascriptWorker.ts) say to
 * each other. The worker data and the start-up messages are objects; on the hot path a
 * request is its body (a string) and an answer one string, its first character saying
 * which kind: strings cross a message port cheaper than objects (no structured clone of
 * properties), and a worker runs one request at a time, so no id is needed.
 */
import type { ScoreOutcome } from './types.js';

/** What javascriptRuntime.ts hands the worker. */
export interface JavascriptWorkerData {
  directory: string;
  /** The longest answer JSON the worker sends, in UTF-16 code units (RuntimeSpec.answerLimit). */
  answerLimit: number;
  /** azureml: the module to load (absolute path; `.ts` already transpiled to `.mjs`). */
  modulePath?: string;
  /** mlserver: the per-request code, the init code, and the names they exchange. */
  mlserver?: { code: string; initCode: string; inputs: string[]; outputs: string[]; initBindings: string[] };
}

/** The worker's messages: once `ready` or `initError`, then one encoded answer per request. */
export type WorkerMessage = { kind: 'ready' } | { kind: 'initError'; message: string } | string;

/** One request's result in the worker: the JSON answer, or why the input was refused. */
export type Answer = { ok: true; json: string } | { ok: false; message: string };

const OK = 'J';
const REFUSED = 'E';
const TOO_LARGE = 'L';

/** The answer as the worker sends it; one past `limit` is not sent, only its size. */
export function encodeAnswer(answer: Answer, limit: number): string {
  if (!answer.ok) return REFUSED + answer.message;
  return answer.json.length <= limit ? OK + answer.json : `${TOO_LARGE}the answer was larger than ${limit} bytes (${answer.json.length} characters)`;
}

/** The worker's answer as an outcome; `crash` (a too-large or unreadable answer) means the runtime restarts the worker. */
export function decodeAnswer(message: string): ScoreOutcome {
  if (message.startsWith(OK)) return { ok: true, json: message.slice(1) };
  if (message.startsWith(REFUSED)) return { ok: false, reason: 'client', message: message.slice(1) };
  if (message.startsWith(TOO_LARGE)) return { ok: false, reason: 'crash', message: message.slice(1) };
  return { ok: false, reason: 'crash', message: 'the worker sent an unreadable answer' };
}
