/**
 * The sandbox for the code web services run: which isolation is in force (probed once
 * at start: can bubblewrap make its namespaces here, may the server make cgroups), and
 * the `Isolation` each runtime starts its workers through.
 *
 * @example
 *   const sandbox = new Sandbox(policy, runtimeDir);
 *   await sandbox.start();                         // probes; never rejects
 *   sandbox.describe();                            // "sandbox: bubblewrap (--sandbox auto), network none, limits by cgroup v1, …"
 *   const prepared = await sandbox.scripts.prepare({ directory, models, mounts, programs });
 *   const worker = prepared.spawn({ command: prepared.program('python3'), args, env, … });
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { runtimeRootArguments, SandboxIsolation } from './bubblewrap.js';
import { openCgroupRoot, type CgroupRoot } from './cgroups.js';
import { DirectIsolation } from './direct.js';
import type { Isolation, IsolationKind, PreparedDeployment, PreparedJob, PrepareJobRequest, PrepareRequest } from './isolation.js';
import type { SandboxPolicy } from './policy.js';
import { ProgramResolver } from './programs.js';
import { seccompFilter, seccompSupported } from './seccomp.js';

export type { HostModel, Isolation, IsolationKind, LaunchedWorker, PreparedDeployment, PreparedJob, PrepareJobRequest, PrepareRequest, RuntimeMount, WorkerCommand } from './isolation.js';
export { JOB_WORK_DIR } from './isolation.js';
export { DirectIsolation } from './direct.js';
export { APP_DIR } from './bubblewrap.js';
export * from './policy.js';

/** What the probe found. */
export interface SandboxStatus {
  mode: SandboxPolicy['mode'];
  /** Whether entry scripts run sandboxed. */
  sandboxed: boolean;
  /** Why not, when the mode asked for it (auto or required). */
  reason?: string;
  /** How memory and processes are capped in the sandbox. */
  limits?: 'cgroup v1' | 'cgroup v2' | 'rlimits';
  /** Why there are no cgroup limits, when there are none. */
  cgroupReason?: string;
}

/** Runs bubblewrap with the sandbox's own arguments on `/bin/true`: what every worker will need. */
function probeBubblewrap(policy: SandboxPolicy): Promise<string | undefined> {
  if (!seccompSupported()) return Promise.resolve(`no seccomp filter for the ${os.arch()} architecture`);
  return new Promise((resolve) => {
    const args = ['--unshare-user', '--unshare-ipc', '--unshare-pid', '--unshare-uts', '--unshare-cgroup-try'];
    if (policy.network !== 'all') args.push('--unshare-net');
    args.push('--uid', '1000', '--gid', '1000', '--die-with-parent', '--new-session', '--cap-drop', 'ALL', ...runtimeRootArguments());
    args.push('--proc', '/proc', '--dev', '/dev', '--size', String(1024 * 1024), '--tmpfs', '/tmp', '--seccomp', '3', '--', '/usr/bin/true');
    let child;
    try {
      child = spawn(policy.bwrap, args, { env: { PATH: '/usr/bin:/bin' }, stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    } catch (error) {
      resolve(`${policy.bwrap} cannot be started (${(error as Error).message})`);
      return;
    }
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < 2000) stderr += d.toString();
    });
    const filter = child.stdio[3] as Writable;
    filter.on('error', () => undefined);
    filter.end(seccompFilter({ allowInet: policy.network !== 'none' }));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(error.code === 'ENOENT' ? `bubblewrap is not installed (${policy.bwrap} not found; Debian: apt-get install bubblewrap)` : `${policy.bwrap} cannot be started (${error.message})`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(undefined);
      else resolve(`${policy.bwrap} cannot make the sandbox here (${signal ?? `exit ${code}`}: ${stderr.trim().split('\n')[0] ?? ''})`);
    });
  });
}

/** An isolation whose choice waits for the probe: sandboxed, plain, or refused (required and impossible). */
class ProbedIsolation implements Isolation {
  constructor(
    private readonly owner: Sandbox,
    readonly kindWanted: 'scripts' | 'onnx',
  ) {}

  get kind(): 'sandbox' | 'process' {
    return this.owner.status.sandboxed ? 'sandbox' : 'process';
  }

  async prepare(request: PrepareRequest): Promise<PreparedDeployment> {
    const chosen = await this.owner.chosen();
    return chosen.prepare(request);
  }

  async prepareJob(request: PrepareJobRequest): Promise<PreparedJob> {
    const chosen = await this.owner.chosen();
    return chosen.prepareJob(request);
  }
}

export class Sandbox {
  status: SandboxStatus;
  private probing?: Promise<void>;
  private cgroups?: CgroupRoot;
  private isolation?: Isolation;
  private readonly direct = new DirectIsolation();
  private readonly programs = new ProgramResolver();
  /** The isolation of Python and JavaScript workers. */
  readonly scripts: Isolation;
  /** The isolation of ONNX workers when `isolateOnnx`; else ONNX runs in the server's process. */
  readonly onnx: Isolation | undefined;

  constructor(
    readonly policy: SandboxPolicy,
    private readonly runtimeDir: string,
  ) {
    this.status = { mode: policy.mode, sandboxed: false };
    this.scripts = new ProbedIsolation(this, 'scripts');
    this.onnx = policy.isolateOnnx ? new ProbedIsolation(this, 'onnx') : undefined;
  }

  /** Probes once (bubblewrap, cgroups); {@link describe} says what it found. Never rejects. */
  start(): Promise<void> {
    this.probing ??= this.probe();
    return this.probing;
  }

  private async probe(): Promise<void> {
    const { policy } = this;
    if (policy.mode === 'off') {
      this.isolation = this.direct;
      this.status = { mode: 'off', sandboxed: false };
      return;
    }
    const reason = await probeBubblewrap(policy);
    if (reason !== undefined) {
      this.status = { mode: policy.mode, sandboxed: false, reason };
      if (policy.mode === 'auto') this.isolation = this.direct;
      return;
    }
    fs.mkdirSync(this.runtimeDir, { recursive: true, mode: 0o700 });
    const root = openCgroupRoot(policy.cgroup);
    if (typeof root === 'string') {
      this.status = { mode: policy.mode, sandboxed: true, limits: 'rlimits', cgroupReason: root };
    } else {
      this.cgroups = root;
      this.status = { mode: policy.mode, sandboxed: true, limits: `cgroup ${root.version}` };
    }
    this.isolation = new SandboxIsolation(policy, this.cgroups, this.programs, path.join(this.runtimeDir));
  }

  /** The isolation in force (after the probe); rejects when the sandbox is required and impossible. */
  async chosen(): Promise<Isolation> {
    await this.start();
    if (this.isolation) return this.isolation;
    throw new Error(`the sandbox is required (--sandbox required) but cannot be made: ${this.status.reason ?? 'unknown reason'}`);
  }

  /** What a service of `runtime` shows as its `isolation`. */
  kindFor(runtime: string): IsolationKind | 'unavailable' {
    if (runtime === 'onnx' && !this.onnx) return 'in-process';
    if (this.status.sandboxed) return 'sandbox';
    return this.policy.mode === 'required' ? 'unavailable' : 'process';
  }

  /** Whether the server's log should carry {@link describe} as a warning. */
  get degraded(): boolean {
    return this.policy.mode !== 'off' && (!this.status.sandboxed || this.status.cgroupReason !== undefined);
  }

  /** One line for `tessera serve` and the server's log. */
  describe(): string {
    const { status, policy } = this;
    if (policy.mode === 'off') return 'sandbox: off (--sandbox off): entry scripts run as the server\'s OS user';
    if (!status.sandboxed) {
      return policy.mode === 'auto'
        ? `sandbox: UNAVAILABLE (--sandbox auto): entry scripts run unisolated: ${status.reason}`
        : `sandbox: REQUIRED BUT UNAVAILABLE: entry-script deployments will fail: ${status.reason}`;
    }
    const onnx = policy.isolateOnnx ? 'ONNX sandboxed too' : 'ONNX in the server process';
    let limits = `limits by ${status.limits}`;
    if (status.cgroupReason !== undefined) {
      limits += ` (no cgroups: ${status.cgroupReason}${process.getuid?.() === 0 ? '; as root the number of processes per worker is NOT bounded' : ''})`;
    }
    return `sandbox: bubblewrap (--sandbox ${policy.mode}), network ${policy.network}, ${limits}, ${onnx}`;
  }

  /** Removes the server's cgroup directories (after every worker stopped). */
  async close(): Promise<void> {
    await this.cgroups?.dispose();
  }
}
