/**
 * The contract between the scoring gateway and the runtimes that run a service's model
 * or entry script. A runtime knows nothing of HTTP, auth or the store: it is given a
 * directory laid out for it and answers one request at a time per worker.
 */

import type { Isolation } from '../../sandbox/index.js';

/** Which runtime serves a service. */
export type RuntimeKind = 'onnx' | 'javascript' | 'python';

/**
 * How an entry script is called. `azureml`: Azure ML's contract, `init()` once and
 * `run(input)` per request. `mlserver`: Machine Learning Server's published code, where
 * `initCode` runs once and `code` runs per request with the declared inputs bound as
 * variables, and the declared outputs are read back from variables of those names.
 */
export type ScriptContract =
  | { kind: 'azureml' }
  | { kind: 'mlserver'; initCode?: string; inputs: ParameterDefinition[]; outputs: ParameterDefinition[] };

/** A declared input or output of a Machine Learning Server service. */
export interface ParameterDefinition {
  name: string;
  /** ML Server's types: numeric, integer, logical, character, vector, matrix, data.frame. */
  type: string;
}

/** One model the service uses, as laid out for the runtime. */
export interface RuntimeModel {
  name: string;
  version: number;
  /** Absolute path of the model's directory (a folder model) or file (a one-file model). */
  path: string;
}

export interface RuntimeSpec {
  /** The service's id (a GUID): names workers and log lines. */
  serviceId: string;
  serviceName: string;
  kind: RuntimeKind;
  /**
   * A private directory for this service replica, already created. The entry script lies
   * in it as `entryScript`. Workers see it read-only (in the sandbox as /var/azureml-app)
   * and write to their own /tmp. Scripts find their models through `AZUREML_MODEL_DIR` (as
   * in Azure ML: with one model, the directory holding its files; with several, their
   * deepest common directory, `…/azureml-models` in the sandbox; see sandbox/modelDir.ts)
   * and `TESSERA_MODELS` (JSON: [{name, version, path}]).
   */
  directory: string;
  /** The entry script's file name inside `directory` (`score.py`, `score.mjs`, …); none for ONNX. */
  entryScript?: string;
  contract: ScriptContract;
  models: RuntimeModel[];
  /** Parallel workers (processes; ONNX in-process: sessions); each answers one request at a time. */
  workers: number;
  /** Memory limit per worker, in MiB. */
  memoryMb: number;
  /** CPU cores per worker (a cap where the sandbox has control groups); 0 or absent: none. */
  cpuCores?: number;
  /**
   * How worker processes start (the sandbox, or plain child processes when absent). ONNX
   * uses it only when given: without, it runs in the server's process.
   */
  isolation?: Isolation;
  /** How long `init()` may take before the deployment fails. */
  initTimeoutMs: number;
  /** The Python executable for `python` runtimes. */
  python: string;
  /**
   * The largest answer, in bytes (default `DEFAULT_ANSWER_LIMIT`): Python, the answer's
   * line on the worker's answer pipe; JavaScript, the answer's JSON in UTF-16 code units;
   * ONNX, the answer's JSON, and at most a quarter as many output elements. A larger
   * answer fails its request: from a script as `crash` (the worker is restarted: it may
   * be stuck writing the rest), from a model as `client`.
   */
  answerLimit?: number;
}

/** The answer limit when a spec sets none: 16 MiB. */
export const DEFAULT_ANSWER_LIMIT = 16 * 1024 * 1024;

/** The answer limit for a scoring body limit: 16 times the largest request, at least `DEFAULT_ANSWER_LIMIT`. */
export function answerLimitFor(bodyLimit: number): number {
  return Math.max(DEFAULT_ANSWER_LIMIT, 16 * bodyLimit);
}

/** What a request carries to a runtime: the raw body as sent (Azure ML hands `run` the raw JSON string). */
export interface ScoreInput {
  body: string;
}

export type ScoreOutcome =
  /** The answer, already serialized as JSON. */
  | { ok: true; json: string }
  /**
   * A failure of this request only. `client`: the input was wrong (a wrong ONNX shape,
   * a run() that raised on the input) → 400; `crash`: the worker died or ran out of
   * memory and is being restarted → 502; `timeout`: the worker was stopped and is being
   * restarted → 504.
   */
  | { ok: false; reason: 'client' | 'crash' | 'timeout'; message: string };

/** A sink for a service's log lines (runtime stdout/stderr, restarts, init errors). */
export type LogSink = (line: string, stream: 'stdout' | 'stderr' | 'system') => void;

export interface ServiceRuntime {
  readonly kind: RuntimeKind;
  /** Starts the workers and runs `init()`; rejects with a message fit for the service's logs if it fails. */
  start(): Promise<void>;
  /**
   * Runs one request on a free worker. The caller (the gateway's queue) never has more
   * requests in flight than `spec.workers`. Never rejects: every failure is an outcome.
   */
  score(input: ScoreInput, timeoutMs: number): Promise<ScoreOutcome>;
  /** Stops every worker; requests in flight end as `crash`. Idempotent. */
  stop(): Promise<void>;
}

export type RuntimeFactory = (spec: RuntimeSpec, log: LogSink) => ServiceRuntime;
