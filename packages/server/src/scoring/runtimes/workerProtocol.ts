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

export function encodeAnswer(answer: Answer): string {
  return answer.ok ? OK + answer.json : REFUSED + answer.message;
}

export function decodeAnswer(message: string): ScoreOutcome {
  if (message.startsWith(OK)) return { ok: true, json: message.slice(1) };
  if (message.startsWith(REFUSED)) return { ok: false, reason: 'client', message: message.slice(1) };
  return { ok: false, reason: 'crash', message: 'the worker sent an unreadable answer' };
}
