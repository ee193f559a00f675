/**
 * How a runtime's worker processes are started: the contract between the runtimes
 * (scoring/runtimes/) and the sandbox. A runtime asks its `Isolation` to `prepare` a
 * deployment (its directory, its models and the runtime's own files), gets back the
 * paths as the worker will see them, and spawns each worker through the result. The
 * sandboxed isolation (bubblewrap.ts) shows the worker only those paths; the process
 * isolation (direct.ts) is today's behaviour, a plain child process of the server.
 */
import type { ChildProcess } from 'node:child_process';

/** What the service view shows as `isolation`. `in-process`: ONNX in the server's process. */
export type IsolationKind = 'sandbox' | 'process' | 'in-process';

/** A model as laid out on the host: a folder, or one file. */
export interface HostModel {
  name: string;
  version: number;
  path: string;
  isDirectory: boolean;
}

/** A host file or directory the worker's program needs (its host script, its package.json). */
export interface RuntimeMount {
  source: string;
  /** Where the sandbox shows it (an absolute path under /opt/tessera). */
  target: string;
}

export interface PrepareRequest {
  /** The deployment's directory on the host (the entry script is in it). */
  directory: string;
  models: HostModel[];
  /** The runtime's own files, shown read-only. */
  mounts: RuntimeMount[];
  /** Executables the worker runs (their installation is shown read-only when outside /usr). */
  programs: string[];
}

/** One worker process to start. */
export interface WorkerCommand {
  /** The program, as {@link PreparedDeployment.program} gave it. */
  command: string;
  args: string[];
  /** The whole environment of the worker: nothing of the server's is added. */
  env: Record<string, string>;
  /** The worker's memory cap, MiB. */
  memoryMb: number;
  /** Extra virtual address space the program reserves beyond what it uses (V8: about 1 GiB), MiB. */
  addressSpaceSlackMb: number;
  cpuCores: number;
  /** Names its control group and log lines ("svc1-python-1"). */
  label: string;
}

/** A started worker process: stdio 0 ignored, 1 and 2 its output, 3 requests in, 4 answers out. */
export interface LaunchedWorker {
  readonly child: ChildProcess;
  /** After the process exited: ends what it left behind, and says whether it ran out of memory. Never rejects. */
  finish(): Promise<{ outOfMemory: boolean }>;
}

export interface PreparedDeployment {
  readonly kind: 'sandbox' | 'process';
  /** The deployment's directory as the worker sees it. */
  readonly directory: string;
  /** The models as the worker sees them (what TESSERA_MODELS lists). */
  readonly models: { name: string; version: number; path: string }[];
  /** `AZUREML_MODEL_DIR` as the worker sees it. */
  readonly modelDir: string;
  /** Variables the worker's environment starts from (PATH, HOME, TMPDIR…). */
  readonly baseEnv: Record<string, string>;
  /** Where a runtime mount's source is seen. */
  pathOf(mount: RuntimeMount): string;
  /** The executable to run for a program given to prepare(). */
  program(name: string): string;
  spawn(command: WorkerCommand): LaunchedWorker;
}

/** A job (a run) to prepare: its writable working directory and what it is shown read-only. */
export interface PrepareJobRequest {
  /** The run's working directory on the host: its code, and where it writes (outputs/). */
  workDir: string;
  /** Shown read-only; targets under /opt/tessera/ or /mnt/azureml/. */
  mounts: RuntimeMount[];
  programs: string[];
}

/** A prepared job: one process (tree) to start. */
export interface PreparedJob {
  readonly kind: 'sandbox' | 'process';
  /** The working directory as the job sees it. */
  readonly workDir: string;
  readonly baseEnv: Record<string, string>;
  pathOf(mount: RuntimeMount): string;
  program(name: string): string;
  spawn(command: WorkerCommand): LaunchedWorker;
}

/** Where a job's working directory is inside the sandbox, as on Azure ML compute (`/mnt/azureml/…`). */
export const JOB_WORK_DIR = '/mnt/azureml/wd';

export interface Isolation {
  readonly kind: 'sandbox' | 'process';
  /** Lays the deployment out for its workers; rejects with a reason fit for the service's logs. */
  prepare(request: PrepareRequest): Promise<PreparedDeployment>;
  /**
   * Lays a job out. Jobs share the host's network (they call the server and the node's
   * identity endpoint on loopback); everything else is confined as a worker is.
   */
  prepareJob(request: PrepareJobRequest): Promise<PreparedJob>;
}
