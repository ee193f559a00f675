/** The sandbox's settings, as `tessera serve` and the TESSERA_SANDBOX_* variables give them. */

/**
 * `required`: a deployment fails (saying why) when its sandbox cannot be made.
 * `auto` (default): sandboxed when the kernel allows, else plain processes, logged loudly.
 * `off`: plain processes (the server's OS user; see direct.ts).
 */
export type SandboxMode = 'required' | 'auto' | 'off';

/**
 * `none` (default): a network namespace of its own, and no socket but AF_UNIX: nothing
 * on the host (the server's port, the database) or beyond is reachable.
 * `loopback`: a network namespace of its own with a working loopback interface (the
 * worker's processes may talk to each other over 127.0.0.1); still nothing on the host.
 * `all`: the host's network, as an unsandboxed process has it.
 */
export type SandboxNetwork = 'none' | 'loopback' | 'all';

export const SANDBOX_MODES: readonly SandboxMode[] = ['required', 'auto', 'off'];
export const SANDBOX_NETWORKS: readonly SandboxNetwork[] = ['none', 'loopback', 'all'];

export interface SandboxPolicy {
  mode: SandboxMode;
  network: SandboxNetwork;
  /** Size cap of each worker's private /tmp (a tmpfs, counted in its memory), MiB. */
  tmpSizeMb: number;
  /** Processes and threads per worker (cgroup pids.max; RLIMIT_NPROC without cgroups). */
  maxProcesses: number;
  /** Open files per worker process (RLIMIT_NOFILE). */
  maxOpenFiles: number;
  /** Run ONNX models in a sandboxed worker process instead of the server's process. */
  isolateOnnx: boolean;
  /** The bubblewrap executable. */
  bwrap: string;
  /** A cgroup v2 directory delegated to the server (TESSERA_SANDBOX_CGROUP); absent: found from /proc/self/cgroup. */
  cgroup?: string;
}

export const DEFAULT_SANDBOX: SandboxPolicy = {
  mode: 'auto',
  network: 'none',
  tmpSizeMb: 256,
  maxProcesses: 256,
  maxOpenFiles: 1024,
  isolateOnnx: false,
  bwrap: 'bwrap',
};
