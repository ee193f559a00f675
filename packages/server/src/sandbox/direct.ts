/**
 * `--sandbox off`: each worker is a plain child process of the server, as before the
 * sandbox existed. Only a few variables of the server's environment pass into the
 * worker's (PATH, HOME, locale…; never a database URL or a secret), but the worker runs
 * as the server's OS user: it can read whatever that user can, including the data
 * directory, its master key and the server's environment through /proc/<ppid>/environ.
 * Deploy only scripts you would run as the server.
 */
import { spawn } from 'node:child_process';
import { modelDirOf } from './modelDir.js';
import type { Isolation, LaunchedWorker, PreparedDeployment, PreparedJob, PrepareJobRequest, PrepareRequest, WorkerCommand } from './isolation.js';

/** Variables that say how to run programs, never what the server knows. */
const PASSED_THROUGH = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TMPDIR', 'VIRTUAL_ENV', 'PYTHONPATH', 'PYTHONHOME', 'LD_LIBRARY_PATH'];

export function passedThroughEnvironment(from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED_THROUGH) {
    const value = from[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

export class DirectIsolation implements Isolation {
  readonly kind = 'process' as const;

  prepare(request: PrepareRequest): Promise<PreparedDeployment> {
    const { directory, models } = request;
    return Promise.resolve({
      kind: 'process',
      directory,
      models: models.map(({ name, version, path }) => ({ name, version, path })),
      modelDir: modelDirOf(models, directory),
      baseEnv: passedThroughEnvironment(),
      pathOf: (mount) => mount.source,
      program: (name) => name,
      spawn: (command) => spawnDirect(command, directory),
    });
  }

  prepareJob(request: PrepareJobRequest): Promise<PreparedJob> {
    return Promise.resolve({
      kind: 'process',
      workDir: request.workDir,
      baseEnv: passedThroughEnvironment(),
      pathOf: (mount) => mount.source,
      program: (name) => name,
      spawn: (command) => spawnDirect(command, request.workDir),
    });
  }
}

function spawnDirect(command: WorkerCommand, directory: string): LaunchedWorker {
  // Its own process group (detached), so that killing the group also ends the processes
  // the script started.
  const child = spawn(command.command, command.args, { cwd: directory, env: command.env, detached: true, stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'] });
  return {
    child,
    finish: () => {
      killGroup(child.pid);
      return Promise.resolve({ outOfMemory: false });
    },
  };
}

/** SIGKILL to a process group; nothing if it is gone. */
export function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is gone already (ESRCH).
  }
}
