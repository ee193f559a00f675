/**
 * `tessera ml job create --file job.yml` (az ml's command job) and `ml job
 * show|list|cancel|stream|download`, as `az ml job` spells them: the same runs as `ml run`.
 */
import type { Command } from 'commander';
import { Experiment } from '@tessera/sdk';
import { readJobFile } from '../jobFile.js';
import { print } from './action.js';
import { modelCommand, workspaceOf, type WorkspaceOptions } from './mlModel.js';
import { registerRunReaders, streamRun, submitted } from './mlRun.js';

/** Adds `job` under `ml`. */
export function registerMlJob(ml: Command): void {
  const job = ml.command('job').description('jobs as az ml has them: create from a job.yml, show, list, cancel, stream, download');

  modelCommand(job, 'create', 'submit a command job described by a YAML file (az ml job.yml)')
    .requiredOption('-f, --file <job.yml>', 'the job file')
    .option('-n, --name <id>', "the job's name (run id; default: the file's name: or a new one)")
    .option('--stream', 'print the output until the job ends (exit status 1 if it does not complete)')
    .action(async (o: WorkspaceOptions & { file: string; name?: string; stream?: boolean }, command: Command) => {
      // The file is checked whole before anything is asked of the server.
      const spec = readJobFile(o.file);
      const workspace = await workspaceOf(o);
      const run = await submitted(() =>
        new Experiment(workspace, spec.experimentName).submit({
          compute: spec.compute,
          command: spec.command,
          sourceDirectory: spec.code,
          environment: spec.environment,
          environmentVariables: spec.environmentVariables,
          displayName: spec.displayName,
          description: spec.description,
          tags: spec.tags,
          timeoutSec: spec.timeoutSec,
          runId: o.name ?? spec.name,
        }),
      );
      print(o.stream ? await streamRun(run) : run.toJSON(), command);
    });

  registerRunReaders(job, 'job');
}
