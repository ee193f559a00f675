/**
 * `tessera ml run submit|list|show|cancel|logs|download|metrics`: runs, submitted from a
 * script and its folder (as Azure ML's ScriptRunConfig), followed, and read back. The
 * workspace is `-w`/`-g` (with `--subscription`), or else config.json.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import path from 'node:path';
import { Experiment, Run, RunError, type JobResource, type RunStatus, type Workspace } from '@tessera/sdk';
import { defaultExperimentName } from '../jobFile.js';
import { UsageError } from '../usageError.js';
import { print, printing } from './action.js';
import { modelCommand, workspaceOf, type WorkspaceOptions } from './mlModel.js';

export const RUN_STATUSES: readonly RunStatus[] = ['Queued', 'Preparing', 'Running', 'Completed', 'Failed', 'Canceled'];

interface SubmitOptions extends WorkspaceOptions {
  compute: string;
  script: string;
  experimentName?: string;
  sourceDirectory?: string;
  environment?: string;
  env?: Record<string, string>;
  displayName?: string;
  stream?: boolean;
}

/** `--env K=V`, repeated. */
function parseEnv(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  const key = eq < 0 ? value : value.slice(0, eq);
  if (eq < 0 || !/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(key)) throw new InvalidArgumentError("Each --env must be NAME=value, the name of letters, digits and '_', not starting with a digit.");
  return { ...previous, [key]: value.slice(eq + 1) };
}

/** Writes a run's output to stdout as it arrives. */
const writeOut = (text: string) => void process.stdout.write(text);

/**
 * Prints the run's output until it ends; resolves with its final view, or rejects when it
 * ended Failed or Canceled (as `az ml job stream` does).
 */
export async function streamRun(run: Run): Promise<JobResource> {
  const view = await run.waitForCompletion({ showOutput: writeOut, raiseOnError: false });
  const { status, error } = view.properties;
  if (status !== 'Completed') throw new Error(`the run ${run.id} ended ${status}${error ? `: (${error.code}) ${error.message}` : ''}.`);
  return view;
}

/** Submits through the SDK; what it refuses before sending is a usage error. */
export async function submitted<T>(submit: () => Promise<T>): Promise<T> {
  try {
    return await submit();
  } catch (err) {
    if (err instanceof RunError && err.code === 'InvalidSubmission') throw new UsageError(err.message);
    if (err instanceof TypeError) throw new UsageError(err.message);
    throw err;
  }
}

/** The run `--name` names. */
async function runOf(o: WorkspaceOptions & { name: string }): Promise<Run> {
  return new Run(await workspaceOf(o), o.name);
}

/** `show`, `list`, `cancel`, `logs`, `download` and `metrics`, under `parent` (`ml run`, and `ml job` as az spells them). */
export function registerRunReaders(parent: Command, kind: 'run' | 'job'): void {
  modelCommand(parent, 'list', `list the workspace's ${kind}s you can read`)
    .option('--experiment-name <name>', 'only this experiment')
    .addOption(new Option('--status <status>', 'only this status').choices(RUN_STATUSES))
    .action(
      printing(async (o: WorkspaceOptions & { experimentName?: string; status?: RunStatus }) => {
        const runs = await Run.list(await workspaceOf(o), { experimentName: o.experimentName, status: o.status });
        return runs.map((r) => r.toJSON());
      }, 'run'),
    );

  modelCommand(parent, 'show', `show a ${kind}: status, command, compute, times, error`)
    .requiredOption('-n, --name <id>', `${kind} name (the run id)`)
    .action(printing(async (o: WorkspaceOptions & { name: string }) => (await runOf(o)).getDetails(), 'run'));

  modelCommand(parent, 'cancel', `cancel a ${kind} (a finished one stays as it is)`)
    .requiredOption('-n, --name <id>', `${kind} name (the run id)`)
    .action(printing(async (o: WorkspaceOptions & { name: string }) => (await runOf(o)).cancel(), 'run'));

  const logs = kind === 'run' ? modelCommand(parent, 'logs', "print a run's output").option('-f, --follow', 'keep printing new lines until the run ends') : modelCommand(parent, 'stream', "print a job's output until it ends (exit status 1 if it does not complete)");
  logs.requiredOption('-n, --name <id>', `${kind} name (the run id)`).action(async (o: WorkspaceOptions & { name: string; follow?: boolean }) => {
    const run = await runOf(o);
    if (kind === 'job') await streamRun(run);
    else if (o.follow) await run.waitForCompletion({ showOutput: writeOut, raiseOnError: false });
    else await run.printNewLogs(undefined, writeOut);
  });

  modelCommand(parent, 'download', `download a ${kind}'s artifacts (outputs/…, logs) into a folder`)
    .requiredOption('-n, --name <id>', `${kind} name (the run id)`)
    .option('--download-path <dir>', 'folder to write into (default: the current folder)')
    .option('--path <prefix>', 'only the artifacts whose path starts with this, e.g. outputs/')
    .action(
      printing(async (o: WorkspaceOptions & { name: string; downloadPath?: string; path?: string }) => {
        const run = await runOf(o);
        return { name: run.id, files: await run.downloadFiles(o.path ?? '', path.resolve(o.downloadPath ?? '.')) };
      }),
    );

  if (kind === 'run') {
    modelCommand(parent, 'metrics', "list a run's logged metrics (name, step, value, time)")
      .requiredOption('-n, --name <id>', 'run id')
      .action(printing(async (o: WorkspaceOptions & { name: string }) => (await runOf(o)).listMetrics()));
  }
}

/** Adds `run` under `ml`. */
export function registerMlRun(ml: Command): void {
  const run = ml.command('run').description('runs: submit a script with its folder, follow it, read its metrics and artifacts');

  modelCommand(run, 'submit', 'submit a Python or JavaScript script as a run (arguments for it after --)')
    .requiredOption('--compute <name>', 'compute to run on')
    .requiredOption('--script <file>', 'train.py, train.mjs, … (relative to --source-directory, or a path to it)')
    .option('--experiment-name <name>', "experiment (default: the source directory's name)")
    .option('--source-directory <dir>', "the folder whose files are the run's code (default: the script's folder)")
    .option('--environment <name>', 'a node environment')
    .option('--env <NAME=value>', 'an environment variable for the run (repeatable)', parseEnv)
    .option('--display-name <text>', 'display name')
    .option('--stream', 'print the output until the run ends (exit status 1 if it does not complete)')
    .argument('[args...]', 'arguments for the script (after --)')
    .action(async (args: string[], o: SubmitOptions, command: Command) => {
        const workspace: Workspace = await workspaceOf(o);
        const source = o.sourceDirectory ?? path.dirname(path.resolve(o.script));
        const experiment = await submitted(async () => new Experiment(workspace, o.experimentName ?? defaultExperimentName(source)));
        const submittedRun = await submitted(() =>
          experiment.submit({
            compute: o.compute,
            script: o.script,
            arguments: args,
            sourceDirectory: o.sourceDirectory,
            environment: o.environment,
            environmentVariables: o.env,
            displayName: o.displayName,
          }),
        );
        print(o.stream ? await streamRun(submittedRun) : submittedRun.toJSON(), command);
      });

  registerRunReaders(run, 'run');
}
