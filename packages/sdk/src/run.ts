/**
 * A run (a job, `W/jobs/{runId}`), as Azure ML's `Run` had it: its status and details,
 * waiting for it with its output, canceling it, its metrics, artifacts and logs, a model
 * registered from its outputs, and {@link Run.getContext} for the code a run runs, which
 * acts with the run's own token (or, outside a run, prints what it would log).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathSegment } from './armPaths.js';
import { RunError } from './errors.js';
import { Model } from './model.js';
import { AzureMLTokenAuthentication, RUN_ENV } from './runTokenAuthentication.js';
import { Workspace } from './workspace.js';

/** A run's status; the last three are final. */
export type RunStatus = 'Queued' | 'Preparing' | 'Running' | 'Completed' | 'Failed' | 'Canceled';
/** The statuses a run ends in. */
export const FINAL_RUN_STATUSES: readonly RunStatus[] = ['Completed', 'Failed', 'Canceled'];

/** A job, as the server returns it. */
export interface JobResource {
  id: string;
  name: string;
  type: 'Microsoft.MachineLearningServices/workspaces/jobs';
  properties: {
    jobType: 'Command';
    status: RunStatus;
    command: string;
    computeId: string;
    experimentName: string;
    displayName: string;
    description: string;
    tags: Record<string, string>;
    environmentId: string;
    startTimeUtc?: string;
    endTimeUtc?: string;
    error?: { code: string; message: string };
    exitCode?: number;
  };
  systemData: { createdAt: string; createdBy: string; createdByType: string };
}

/** One line of a run's output. */
export interface RunLogLine {
  seq: number;
  time: string;
  stream: string;
  text: string;
}

/** A page of a run's output: the lines after a cursor, the next cursor, and whether the output is whole. */
export interface RunLogPage {
  value: RunLogLine[];
  next: number;
  /** The run has ended and every line is in. */
  complete: boolean;
}

/** A metric value as logged. */
export type MetricValue = number | string;

/** One logged value of a metric. */
export interface RunMetric {
  name: string;
  step: number;
  value: MetricValue;
  time: string;
}

/** A file the run uploaded (or that the node uploaded from its `outputs/`). */
export interface RunArtifact {
  path: string;
  size: number;
  createdOn: string;
}

/** Options of {@link Run.waitForCompletion}. */
export interface RunWaitOptions {
  /** Print the run's output as it arrives: `true` to stdout, or a function that takes each line. */
  showOutput?: boolean | ((line: string) => void);
  /** Give up (a {@link RunError} `WaitTimeout`) after this long; default: wait as long as it takes. */
  timeoutMs?: number;
  /** Reject with a {@link RunError} `RunFailed` when the run ends Failed; default true. */
  raiseOnError?: boolean;
}

/** How often a waiting client asks. */
export const RUN_POLL_MS = 500;
/** Metrics are sent in batches of at most this many, and at most this long after they are logged. */
const METRIC_BATCH = 100;
const METRIC_DELAY_MS = 250;
/** Uploads and downloads may take long: ten minutes. */
const TRANSFER_TIMEOUT_MS = 10 * 60_000;

/**
 * A run's output made safe to print: control characters (which could drive a terminal)
 * become spaces, but for line breaks and tabs; each line ends with a line break.
 */
export function printableLogText(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/\r\n/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, ' ');
  return clean.endsWith('\n') ? clean : `${clean}\n`;
}

/** An artifact path the server could take: relative, `/`-separated, no `.`/`..` segment, no control character. */
function checkArtifactPath(name: string): string {
  if (typeof name !== 'string' || name === '' || name.length > 1024 || name.startsWith('/') || /[\\\u0000-\u001f\u007f]/.test(name) || name.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new TypeError(`The artifact path '${String(name).slice(0, 100)}' must be relative, with '/' between non-empty names and no '.' or '..'.`);
  }
  return name;
}

/** A metric name: non-empty, at most 255 characters, no control character. */
function checkMetricName(name: string): string {
  if (typeof name !== 'string' || name === '' || name.length > 255 || /[\u0000-\u001f\u007f]/.test(name)) throw new TypeError('A metric name must be 1 to 255 characters without control characters.');
  return name;
}

function checkMetricValue(value: MetricValue): MetricValue {
  if (typeof value === 'number' ? !Number.isFinite(value) : typeof value !== 'string') throw new TypeError('A metric value must be a finite number or a string.');
  return value;
}

/** Writes a download to `dest` through a temporary file, so a failed one leaves nothing. */
async function saveStream(res: Response, dest: string): Promise<void> {
  if (!res.body) throw new Error(`The server sent no content for ${dest}.`);
  await fsp.mkdir(path.dirname(dest), { recursive: true });
  const temp = `${dest}.download-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  try {
    await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), fs.createWriteStream(temp));
    await fsp.rename(temp, dest);
  } finally {
    await fsp.rm(temp, { force: true });
  }
}

/**
 * A run in a workspace, or an offline one (see {@link Run.getContext}).
 * @example
 * const run = await new Experiment(ws, 'mnist').submit({ compute: 'cpu', script: 'train.py' });
 * await run.waitForCompletion({ showOutput: true });
 * console.log(await run.getMetrics());
 */
export class Run {
  private resource: JobResource | undefined;
  private readonly pending: { name: string; value: MetricValue; step?: number }[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private flushError: unknown;

  /** A handle on the run `id` of `workspace` (undefined for an offline run); load it with {@link Run.get} or {@link refresh}. */
  constructor(
    private readonly ws: Workspace | undefined,
    readonly id: string,
    resource?: JobResource,
  ) {
    if (ws !== undefined) pathSegment(id, 'run id');
    this.resource = resource;
  }

  /** Whether this is an offline run (code run outside a submitted job). */
  get isOffline(): boolean {
    return this.ws === undefined;
  }

  /** The run's workspace; a {@link RunError} `OfflineRun` for an offline run. */
  get workspace(): Workspace {
    if (this.ws === undefined) throw this.offline('has no workspace');
    return this.ws;
  }

  /** The run's experiment, when known (loaded, or from the run's environment). */
  get experimentName(): string | undefined {
    return this.resource?.properties.experimentName ?? this.contextExperiment;
  }

  private contextExperiment: string | undefined;

  /** The run `id` of `workspace`, loaded (404 {@link TesseraApiError} when absent). */
  static async get(workspace: Workspace, id: string): Promise<Run> {
    return new Run(workspace, id).refresh();
  }

  /** The workspace's runs the caller may read, optionally of one experiment or status. */
  static async list(workspace: Workspace, filter: { experimentName?: string; status?: RunStatus } = {}): Promise<Run[]> {
    const query = new URLSearchParams();
    if (filter.experimentName !== undefined) query.set('experimentName', filter.experimentName);
    if (filter.status !== undefined) query.set('status', filter.status);
    const q = query.toString();
    const page = await workspace.request<{ value: JobResource[] }>('GET', `/jobs${q === '' ? '' : `?${q}`}`);
    return page.value.map((r) => new Run(workspace, r.name, r));
  }

  /**
   * The run this code runs in: inside a submitted run (AZUREML_RUN_ID, AZUREML_RUN_TOKEN,
   * AZUREML_SERVICE_ENDPOINT and the AZUREML_ARM_* variables set) a Run acting with the
   * run token; outside one, an offline run (id `OfflineRun_…`) whose log() prints
   * `name: value` to stdout, or with `allowOffline: false` a {@link RunError} `NotInRun`.
   * A partial run environment is an error rather than an offline run, so no metric is lost unseen.
   * @example
   * const run = Run.getContext();
   * run.log('accuracy', 0.93);
   * await run.flush();
   */
  static getContext(options: { allowOffline?: boolean; env?: NodeJS.ProcessEnv } = {}): Run {
    const env = options.env ?? process.env;
    const inRun = Object.values(RUN_ENV).some((name) => name !== RUN_ENV.tokenExpiry && env[name] !== undefined && env[name] !== '');
    if (!inRun) {
      if (options.allowOffline === false) throw new RunError('NotInRun', `Not inside a submitted run: ${RUN_ENV.runId} is not set.`);
      return new Run(undefined, `OfflineRun_${crypto.randomUUID()}`);
    }
    const auth = AzureMLTokenAuthentication.fromEnvironment(env);
    const { subscriptionId, resourceGroupName, workspaceName, experimentName, runId } = auth.scope;
    const workspace = Workspace.fromIds({ subscriptionId, resourceGroup: resourceGroupName, name: workspaceName, auth, serverUrl: auth.server });
    const run = new Run(workspace, runId);
    run.contextExperiment = experimentName;
    return run;
  }

  /** What the server said of the run when last loaded; load it first. */
  get properties(): JobResource['properties'] {
    if (!this.resource) throw new Error(`Run '${this.id}' is not loaded: await run.refresh() first.`);
    return this.resource.properties;
  }

  /** Reads the run again. */
  async refresh(): Promise<this> {
    this.resource = await this.workspace.request<JobResource>('GET', this.path(''));
    return this;
  }

  /** The run's status now. */
  async getStatus(): Promise<RunStatus> {
    return (await this.refresh()).properties.status;
  }

  /** The run's view now: command, compute, times, error, exit code. */
  async getDetails(): Promise<JobResource> {
    await this.refresh();
    return this.resource!;
  }

  /** Asks the run to stop (a final run stays as it is); resolves with its view. */
  async cancel(): Promise<JobResource> {
    this.resource = await this.workspace.request<JobResource>('POST', this.path('/cancel'));
    return this.resource;
  }

  /** The run's output lines after the cursor `after` (from the start when absent). */
  getLogs(options: { after?: number } = {}): Promise<RunLogPage> {
    return this.workspace.request<RunLogPage>('GET', this.path(`/logs${options.after === undefined ? '' : `?after=${options.after}`}`));
  }

  /**
   * Polls until the run ends; with `showOutput`, prints its output as it arrives (each
   * line once). Resolves with the final view; rejects with a {@link RunError} `RunFailed`
   * for a Failed run (unless `raiseOnError` is false) and `WaitTimeout` past `timeoutMs`.
   */
  async waitForCompletion(options: RunWaitOptions = {}): Promise<JobResource> {
    const print = options.showOutput === true ? (line: string) => process.stdout.write(line) : options.showOutput || undefined;
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    let cursor: number | undefined;
    for (;;) {
      if (print) cursor = await this.printNewLogs(cursor, print);
      const status = await this.getStatus();
      if (FINAL_RUN_STATUSES.includes(status)) {
        if (print) await this.printRemainingLogs(cursor, print);
        if (status === 'Failed' && options.raiseOnError !== false) {
          const error = this.resource!.properties.error;
          throw new RunError('RunFailed', `The run ${this.id} failed: ${error ? `(${error.code}) ${error.message}` : 'no reason given'}.`, this.id);
        }
        return this.resource!;
      }
      if (Date.now() >= deadline) throw new RunError('WaitTimeout', `The run ${this.id} is still ${status} after ${Math.round(options.timeoutMs! / 1000)} s.`, this.id);
      await sleep(Math.min(RUN_POLL_MS, Math.max(0, deadline - Date.now())));
    }
  }

  /** Prints the lines after `cursor` (several pages if need be); returns the new cursor. */
  async printNewLogs(cursor: number | undefined, print: (line: string) => void): Promise<number | undefined> {
    for (;;) {
      const page = await this.getLogs({ after: cursor });
      for (const line of page.value) print(printableLogText(line.text));
      if (page.value.length === 0 || page.next === cursor) return cursor ?? page.next;
      cursor = page.next;
    }
  }

  /** After the run ended: prints what is left until the server says the output is whole (a few seconds at most). */
  private async printRemainingLogs(cursor: number | undefined, print: (line: string) => void): Promise<void> {
    const until = Date.now() + 10_000;
    for (;;) {
      const page = await this.getLogs({ after: cursor });
      for (const line of page.value) print(printableLogText(line.text));
      if (page.value.length > 0) cursor = page.next;
      if ((page.complete && page.value.length === 0) || Date.now() > until) return;
      if (page.value.length === 0) await sleep(RUN_POLL_MS);
    }
  }

  /**
   * Logs a metric value (at `step`, when given). Values are sent in batches, soon after
   * they are logged: `await run.flush()` before the process exits on its own terms.
   * An offline run prints `name: value` instead.
   */
  log(name: string, value: MetricValue, options: { step?: number } = {}): void {
    checkMetricName(name);
    checkMetricValue(value);
    if (options.step !== undefined && (!Number.isInteger(options.step) || options.step < 0)) throw new TypeError('A metric step must be a whole number from 0.');
    if (this.ws === undefined) {
      process.stdout.write(`${name}: ${value}\n`);
      return;
    }
    this.pending.push({ name, value, ...(options.step !== undefined ? { step: options.step } : {}) });
    if (this.pending.length >= METRIC_BATCH) void this.flush().catch(() => undefined);
    else this.flushTimer ??= setTimeout(() => void this.flush().catch(() => undefined), METRIC_DELAY_MS);
  }

  /** Logs each of `values` as one step of the metric `name` (steps 0, 1, …). */
  logList(name: string, values: readonly MetricValue[]): void {
    if (!Array.isArray(values)) throw new TypeError('logList takes an array of values.');
    values.forEach((value, step) => this.log(name, value, { step }));
  }

  /**
   * Sends every metric logged so far; rejects with the failure of this or an earlier
   * background send (which is then forgotten).
   */
  async flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const batch = this.pending.splice(0);
    const previous = this.flushing;
    this.flushing = (async () => {
      await previous.catch(() => undefined);
      for (let i = 0; i < batch.length; i += METRIC_BATCH) {
        await this.workspace.request('POST', this.path('/metrics'), { metrics: batch.slice(i, i + METRIC_BATCH) });
      }
    })();
    try {
      await this.flushing;
    } catch (err) {
      this.flushError ??= err;
    }
    const error = this.flushError;
    this.flushError = undefined;
    if (error !== undefined) throw error;
  }

  /** Every logged metric value, in the order logged. */
  async listMetrics(): Promise<RunMetric[]> {
    return (await this.workspace.request<{ value: RunMetric[] }>('GET', this.path('/metrics'))).value;
  }

  /** The metrics as Azure ML's `get_metrics()` has them: a metric logged once is its value, one logged more often the list of its values. */
  async getMetrics(): Promise<Record<string, MetricValue | MetricValue[]>> {
    const byName = new Map<string, MetricValue[]>();
    for (const m of await this.listMetrics()) byName.set(m.name, [...(byName.get(m.name) ?? []), m.value]);
    return Object.fromEntries([...byName].map(([name, values]) => [name, values.length === 1 ? values[0]! : values]));
  }

  /** Uploads the local file `localPath` as the artifact `name` (e.g. `outputs/model.onnx`). An offline run says so and uploads nothing. */
  async uploadFile(name: string, localPath: string): Promise<RunArtifact[] | undefined> {
    checkArtifactPath(name);
    const stat = await fsp.stat(localPath).catch(() => undefined);
    if (!stat?.isFile()) throw new Error(`The file ${path.resolve(localPath)} does not exist or is not a file.`);
    if (this.ws === undefined) {
      process.stdout.write(`uploadFile: ${name} (offline run: not uploaded)\n`);
      return undefined;
    }
    const form = new FormData();
    form.append('file', await fs.openAsBlob(localPath), name);
    return (await this.workspace.requestMultipart<{ value: RunArtifact[] }>('POST', this.path('/artifacts'), form, TRANSFER_TIMEOUT_MS)).value;
  }

  /** The run's artifacts. */
  async listArtifacts(): Promise<RunArtifact[]> {
    return (await this.workspace.request<{ value: RunArtifact[] }>('GET', this.path('/artifacts'))).value;
  }

  /** The artifacts' paths (Azure ML's `get_file_names()`). */
  async getFileNames(): Promise<string[]> {
    return (await this.listArtifacts()).map((a) => a.path);
  }

  /** Downloads the artifact `name` to `localPath` (into it, under the artifact's file name, when it is a folder); returns the file written. */
  async downloadFile(name: string, localPath: string): Promise<string> {
    checkArtifactPath(name);
    let dest = path.resolve(localPath);
    if ((await fsp.stat(dest).catch(() => undefined))?.isDirectory()) dest = path.join(dest, name.split('/').pop()!);
    await saveStream(await this.workspace.requestStream(this.path(`/artifacts?path=${encodeURIComponent(name)}`), TRANSFER_TIMEOUT_MS), dest);
    return dest;
  }

  /** Downloads every artifact whose path starts with `prefix` (all, for `''`) into `dir`, keeping their paths; returns the files written. */
  async downloadFiles(prefix: string, dir: string): Promise<string[]> {
    const target = path.resolve(dir);
    const written: string[] = [];
    for (const artifact of await this.listArtifacts()) {
      if (!artifact.path.startsWith(prefix)) continue;
      const dest = path.resolve(target, ...artifact.path.split('/'));
      // A hostile server could send '../x': nothing is written outside `dir`.
      if (!dest.startsWith(target + path.sep)) throw new Error(`The server sent the unsafe artifact path '${artifact.path.slice(0, 100)}'.`);
      await saveStream(await this.workspace.requestStream(this.path(`/artifacts?path=${encodeURIComponent(artifact.path)}`), TRANSFER_TIMEOUT_MS), dest);
      written.push(dest);
    }
    return written;
  }

  /**
   * Registers the artifact (or artifact folder) `path` as a new version of the model
   * `name` (`modelUri: azureml://jobs/{runId}/outputs/artifacts/paths/{path}`), numbered
   * as {@link Model.register} numbers versions.
   */
  registerModel(name: string, options: { path: string; description?: string; tags?: Record<string, string>; version?: number }): Promise<Model> {
    const artifact = checkArtifactPath(options.path.replace(/\/+$/, ''));
    return Model.registerFromUri({
      workspace: this.workspace,
      modelName: name,
      modelUri: `azureml://jobs/${this.id}/outputs/artifacts/paths/${artifact}`,
      description: options.description,
      tags: options.tags,
      version: options.version,
    });
  }

  /** The run's view (or, offline, its id), for printing. */
  toJSON(): JobResource | { id: string; offline?: true } {
    return this.resource ?? (this.ws === undefined ? { id: this.id, offline: true } : { id: this.id });
  }

  private offline(what: string): RunError {
    return new RunError('OfflineRun', `The offline run ${this.id} ${what}: this code runs outside a submitted job (Run.getContext() found no AZUREML_RUN_ID).`, this.id);
  }

  private path(rest: string): string {
    if (this.ws === undefined) throw this.offline('cannot reach the server');
    return `/jobs/${pathSegment(this.id, 'run id')}${rest}`;
  }
}
