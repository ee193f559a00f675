/**
 * Experiments, as Azure ML's `Experiment` had them: a name in a workspace under which
 * runs are submitted (`PUT W/jobs/{runId}`, the code inline) and listed.
 */
import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { codeFilesOf } from './codeSnapshot.js';
import { interpreterOf, scriptCommand } from './commandLine.js';
import type { Compute } from './compute.js';
import { RunError } from './errors.js';
import { Run, type JobResource, type RunStatus } from './run.js';
import type { Workspace } from './workspace.js';

/** What to run (Azure ML's ScriptRunConfig, with the compute and the environment by name). */
export interface RunConfig {
  /** The compute's name, resource ID or {@link Compute}. */
  compute: string | Compute;
  /** The script (`.py`, `.mjs`, `.js`, `.cjs`), relative to `sourceDirectory` (or a path to it from here). Give this or `command`. */
  script?: string;
  /** The script's arguments, each passed exactly. */
  arguments?: readonly string[];
  /** A whole command line instead of `script` (`python train.py --epochs 3`), split by the server as a shell would. */
  command?: string;
  /** The folder whose files are the job's code; default: the script's folder (with `command`: no code). */
  sourceDirectory?: string;
  /** A node environment's name. */
  environment?: string;
  environmentVariables?: Record<string, string>;
  displayName?: string;
  description?: string;
  tags?: Record<string, string>;
  /** End the run after this many seconds. */
  timeoutSec?: number;
  /** The run id; default `{experiment}_{epoch seconds}_{8 hex}`. */
  runId?: string;
}

const EXPERIMENT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;
const RUN_ID = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,254}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Whether `name` is a valid experiment name (1 to 255 letters, digits, `_`, `-`, `.`, not starting with `-` or `.`). */
export function isExperimentName(name: string): boolean {
  return EXPERIMENT_NAME.test(name);
}

/**
 * A new run id for `experiment`: `{experiment}_{epoch seconds}_{8 hex}`, with every
 * character but letters, digits, `_` and `-` made `_`.
 * @example newRunId('mnist.v2') // 'mnist_v2_1767225600_3f9a0c1b'
 */
export function newRunId(experiment: string, nowMs = Date.now()): string {
  const safe = experiment.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 200);
  return `${safe}_${Math.floor(nowMs / 1000)}_${crypto.randomBytes(4).toString('hex')}`;
}

function invalid(message: string): RunError {
  return new RunError('InvalidSubmission', message);
}

/** `file` with `/` separators, relative to `root`, when it is inside it. */
function inside(root: string, file: string): string | undefined {
  const rel = path.relative(root, file);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep).join('/');
}

/** The code's root folder and the script's path in it. */
async function locateScript(script: string, sourceDirectory: string | undefined): Promise<{ root: string; script: string }> {
  const isFile = async (p: string) => (await fsp.stat(p).catch(() => undefined))?.isFile() === true;
  if (sourceDirectory === undefined) {
    const abs = path.resolve(script);
    if (!(await isFile(abs))) throw invalid(`The script ${abs} does not exist.`);
    return { root: path.dirname(abs), script: path.basename(abs) };
  }
  const root = path.resolve(sourceDirectory);
  for (const candidate of [path.resolve(root, script), path.resolve(script)]) {
    const rel = inside(root, candidate);
    if (rel !== undefined && (await isFile(candidate))) return { root, script: rel };
  }
  throw invalid(`The script '${script.slice(0, 200)}' is not a file in the source directory ${root}.`);
}

function checkStrings(value: Record<string, string> | undefined, what: string, keyRule?: RegExp): void {
  if (value === undefined) return;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(`${what} must be an object of strings.`);
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw invalid(`${what}: the value of '${key.slice(0, 100)}' must be a string.`);
    if (keyRule && !keyRule.test(key)) throw invalid(`${what}: '${key.slice(0, 100)}' is not a valid name (letters, digits and '_', not starting with a digit).`);
  }
}

/**
 * An experiment of a workspace.
 * @example
 * const run = await new Experiment(ws, 'mnist').submit({ compute: 'cpu', script: 'train.py', sourceDirectory: './src', arguments: ['--epochs', '3'] });
 * await run.waitForCompletion({ showOutput: true });
 */
export class Experiment {
  constructor(
    readonly workspace: Workspace,
    readonly name: string,
  ) {
    if (typeof name !== 'string' || !EXPERIMENT_NAME.test(name)) {
      throw new TypeError("An experiment name must be 1 to 255 letters, digits, '_', '-' or '.', starting with a letter, digit or '_'.");
    }
  }

  /**
   * Submits a run: the source directory's files travel with it (see {@link codeFilesOf}).
   * Refusals before sending are {@link RunError} `InvalidSubmission`; the server's are
   * {@link TesseraApiError} (409 when the run id is taken).
   */
  async submit(config: RunConfig): Promise<Run> {
    const runId = config.runId ?? newRunId(this.name);
    if (!RUN_ID.test(runId)) throw invalid(`The run id '${runId.slice(0, 100)}' must be 1 to 255 letters, digits, '_' or '-'.`);
    if ((config.script === undefined) === (config.command === undefined)) throw invalid('Give a script or a command (one of them).');
    let command: string;
    let root: string | undefined;
    let script: string | undefined;
    if (config.script !== undefined) {
      if (interpreterOf(config.script) === undefined) throw invalid(`The script '${config.script.slice(0, 200)}' must be Python (.py) or JavaScript (.mjs, .js, .cjs).`);
      if (config.arguments !== undefined && (!Array.isArray(config.arguments) || config.arguments.some((a) => typeof a !== 'string'))) throw invalid('The arguments must be strings.');
      const located = await locateScript(config.script, config.sourceDirectory);
      root = located.root;
      script = located.script;
      command = scriptCommand(located.script, config.arguments ?? []);
    } else {
      if (config.arguments !== undefined) throw invalid('Arguments go with a script; a command carries its own.');
      command = config.command!.trim();
      if (command === '' || /[\u0000-\u001f\u007f]/.test(command)) throw invalid('The command must be one line without control characters.');
      root = config.sourceDirectory === undefined ? undefined : path.resolve(config.sourceDirectory);
    }
    checkStrings(config.environmentVariables, 'environmentVariables', ENV_NAME);
    checkStrings(config.tags, 'tags');
    if (config.timeoutSec !== undefined && (!Number.isInteger(config.timeoutSec) || config.timeoutSec < 1)) throw invalid('timeoutSec must be a whole number of seconds from 1.');
    const compute = typeof config.compute === 'string' ? config.compute : config.compute?.name;
    if (typeof compute !== 'string' || compute === '') throw invalid('Give the compute to run on (its name).');

    const properties: Record<string, unknown> = { jobType: 'Command', command, computeId: compute, experimentName: this.name };
    if (root !== undefined) {
      const codeFiles = await codeFilesOf(root);
      if (script !== undefined && !Object.hasOwn(codeFiles, script)) throw invalid(`The script ${script} is in a folder that is left out of a job's code (node_modules, .git, __pycache__).`);
      properties.codeFiles = codeFiles;
    }
    if (config.environment !== undefined) properties.environmentId = config.environment;
    if (config.environmentVariables !== undefined) properties.environmentVariables = config.environmentVariables;
    if (config.displayName !== undefined) properties.displayName = config.displayName;
    if (config.description !== undefined) properties.description = config.description;
    if (config.tags !== undefined) properties.tags = config.tags;
    if (config.timeoutSec !== undefined) properties.limits = { timeout: config.timeoutSec };
    const view = await this.workspace.request<JobResource>('PUT', `/jobs/${encodeURIComponent(runId)}`, { properties });
    return new Run(this.workspace, view.name ?? runId, view);
  }

  /** The experiment's runs the caller may read, optionally of one status. */
  listRuns(filter: { status?: RunStatus } = {}): Promise<Run[]> {
    return Run.list(this.workspace, { experimentName: this.name, status: filter.status });
  }
}
