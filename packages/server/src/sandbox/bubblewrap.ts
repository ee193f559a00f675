/**
 * The sandboxed isolation: every worker process runs under bubblewrap with new user,
 * PID, IPC, UTS, cgroup and (unless `--sandbox-network all`) network namespaces, all
 * capabilities dropped, a new session (no TIOCSTI into the server's terminal), and the
 * seccomp filter of seccomp.ts. Its filesystem is a fresh tmpfs showing only:
 *
 *   /usr (and the /bin, /lib… links), a few files of /etc   read-only: the runtime
 *   the program's installation outside /usr (a virtualenv)   read-only
 *   /opt/tessera/…                                        read-only: the runtime's host script
 *   /var/azureml-app                                      read-only: the deployment's directory
 *   /var/azureml-app/azureml-models/<name>/<version>      read-only: each of its models
 *   /tmp                                                  writable, a tmpfs of tmpSizeMb
 *   /proc (its own PID namespace), /dev (null, zero, random, urandom, tty)
 *
 * so no data directory, master key, database file, other service's model or server
 * environment (/proc/1/environ is bubblewrap's, whose environment is the worker's own).
 * It dies with the server (--die-with-parent), and everything it started dies with it:
 * the PID namespace ends when its first process does. Limits come from a control group
 * per worker when the server may make one (cgroups.ts), else from rlimits (prlimit).
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { CgroupRoot } from './cgroups.js';
import { killGroup } from './direct.js';
import { JOB_WORK_DIR, type HostModel, type Isolation, type LaunchedWorker, type PreparedDeployment, type PreparedJob, type PrepareJobRequest, type PrepareRequest, type WorkerCommand } from './isolation.js';
import { modelDirOf } from './modelDir.js';
import type { SandboxPolicy } from './policy.js';
import type { ProgramResolver, ResolvedProgram } from './programs.js';
import { seccompFilter } from './seccomp.js';

/** Where the deployment's directory is inside, as in an Azure ML inference container. */
export const APP_DIR = '/var/azureml-app';
const MODELS_DIR = 'azureml-models';
/** The sandbox's one user, whom the files it is shown belong to. */
const SANDBOX_UID = 1000;
/** The bubblewrap fd the seccomp program is read from (stdio index 5). */
const SECCOMP_FD = 5;

/** Files of /etc a runtime may read (the dynamic linker's cache, time zone, certificates). */
const ETC = ['ld.so.cache', 'ld.so.conf', 'ld.so.conf.d', 'localtime', 'ssl', 'ca-certificates', 'alternatives', 'nsswitch.conf', 'host.conf', 'mime.types'];
/** Top-level directories that merged-/usr systems make links into /usr. */
const USR_LINKS = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'];

/**
 * The first process of a cgroup-limited worker: joins each group (writing its own pid)
 * before it execs the rest, so that nothing of the worker ever runs outside them.
 */
const JOIN_CGROUPS = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"';

export class SandboxIsolation implements Isolation {
  readonly kind = 'sandbox' as const;
  private readonly seccomp: Buffer;
  /** Jobs share the host's network: their filter allows internet sockets. */
  private readonly jobSeccomp: Buffer;
  private readonly etcDir: string;
  private readonly baseArgs: string[];
  private readonly jobArgs: string[];

  constructor(
    private readonly policy: SandboxPolicy,
    private readonly cgroups: CgroupRoot | undefined,
    private readonly programs: ProgramResolver,
    runtimeDir: string,
  ) {
    this.seccomp = seccompFilter({ allowInet: policy.network !== 'none' });
    this.jobSeccomp = seccompFilter({ allowInet: true });
    // A passwd and group naming the sandbox's user: some libraries look themselves up.
    this.etcDir = path.join(runtimeDir, '.sandbox-etc');
    fs.mkdirSync(this.etcDir, { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(this.etcDir, 'passwd'), `root:x:0:0::/:/usr/sbin/nologin\nsandbox:x:${SANDBOX_UID}:${SANDBOX_UID}::/tmp:/usr/sbin/nologin\nnobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n`);
    fs.writeFileSync(path.join(this.etcDir, 'group'), `root:x:0:\nsandbox:x:${SANDBOX_UID}:\nnogroup:x:65534:\n`);
    this.baseArgs = this.commonArgs(policy.network);
    this.jobArgs = this.commonArgs('all');
  }

  /** What every worker's bubblewrap is given, whatever its deployment. */
  private commonArgs(network: SandboxPolicy['network']): string[] {
    const { tmpSizeMb } = this.policy;
    const args = ['--unshare-user', '--unshare-ipc', '--unshare-pid', '--unshare-uts', '--unshare-cgroup-try'];
    if (network !== 'all') args.push('--unshare-net');
    args.push('--uid', String(SANDBOX_UID), '--gid', String(SANDBOX_UID), '--hostname', 'tessera-sandbox');
    args.push('--die-with-parent', '--new-session', '--cap-drop', 'ALL');
    args.push(...runtimeRootArguments());
    for (const name of ETC) args.push('--ro-bind-try', `/etc/${name}`, `/etc/${name}`);
    for (const name of safeReaddir('/etc').filter((n) => /^python3(\.\d+)?$/.test(n))) args.push('--ro-bind', `/etc/${name}`, `/etc/${name}`);
    args.push('--ro-bind', path.join(this.etcDir, 'passwd'), '/etc/passwd', '--ro-bind', path.join(this.etcDir, 'group'), '/etc/group');
    if (network !== 'none') args.push('--ro-bind-try', '/etc/hosts', '/etc/hosts', '--ro-bind-try', '/etc/resolv.conf', '/etc/resolv.conf');
    args.push('--proc', '/proc', '--dev', '/dev');
    args.push('--size', String(tmpSizeMb * 1024 * 1024), '--tmpfs', '/tmp');
    return args;
  }

  private async resolvePrograms(names: readonly string[]): Promise<Map<string, ResolvedProgram>> {
    const resolved = new Map<string, ResolvedProgram>();
    for (const name of names) resolved.set(name, await this.programs.resolve(name));
    return resolved;
  }

  async prepare(request: PrepareRequest): Promise<PreparedDeployment> {
    const resolved = await this.resolvePrograms(request.programs);
    const args = [...this.baseArgs];
    for (const root of rootsOf(resolved)) args.push('--ro-bind', root, root);
    for (const mount of request.mounts) {
      if (!mount.target.startsWith('/opt/tessera/')) throw new Error(`a runtime mount must go under /opt/tessera, not ${mount.target}`);
      args.push('--ro-bind', mount.source, mount.target);
    }
    args.push('--ro-bind', request.directory, APP_DIR);
    const models = await this.layOutModels(request.directory, request.models, args);
    args.push('--chdir', APP_DIR, '--seccomp', String(SECCOMP_FD));
    return {
      kind: 'sandbox',
      directory: APP_DIR,
      models: models.map(({ name, version, path: p }) => ({ name, version, path: p })),
      modelDir: modelDirOf(models, APP_DIR),
      baseEnv: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/tmp', TMPDIR: '/tmp', LANG: 'C.UTF-8', ...(process.env.TZ ? { TZ: process.env.TZ } : {}) },
      pathOf: (mount) => mount.target,
      program: (name) => executableOf(resolved, name),
      spawn: (command) => this.spawnWorker(args, command, this.seccomp),
    };
  }

  async prepareJob(request: PrepareJobRequest): Promise<PreparedJob> {
    const resolved = await this.resolvePrograms(request.programs);
    const args = [...this.jobArgs];
    for (const root of rootsOf(resolved)) args.push('--ro-bind', root, root);
    args.push('--bind', request.workDir, JOB_WORK_DIR);
    for (const mount of request.mounts) {
      if (!mount.target.startsWith('/opt/tessera/') && !mount.target.startsWith('/mnt/azureml/')) throw new Error(`a job mount must go under /opt/tessera or /mnt/azureml, not ${mount.target}`);
      args.push('--ro-bind', mount.source, mount.target);
    }
    args.push('--chdir', JOB_WORK_DIR, '--seccomp', String(SECCOMP_FD));
    return {
      kind: 'sandbox',
      workDir: JOB_WORK_DIR,
      baseEnv: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/tmp', TMPDIR: '/tmp', LANG: 'C.UTF-8', ...(process.env.TZ ? { TZ: process.env.TZ } : {}) },
      pathOf: (mount) => mount.target,
      program: (name) => executableOf(resolved, name),
      spawn: (command) => this.spawnWorker(args, command, this.jobSeccomp),
    };
  }

  /**
   * Each model is shown at `azureml-models/<name>/<version>` in the deployment's directory
   * (a folder there, or its one file in that folder), as Azure ML lays models out. The
   * mount points are made in the (read-only shown) directory first.
   */
  private async layOutModels(directory: string, models: readonly HostModel[], args: string[]): Promise<HostModel[]> {
    const inside: HostModel[] = [];
    for (const model of models) {
      const relative = path.join(MODELS_DIR, model.name, String(model.version));
      const point = path.join(directory, relative);
      await fs.promises.mkdir(point, { recursive: true, mode: 0o755 });
      if (model.isDirectory) {
        args.push('--ro-bind', model.path, path.posix.join(APP_DIR, relative));
        inside.push({ ...model, path: path.posix.join(APP_DIR, relative) });
      } else {
        const file = path.basename(model.path);
        await fs.promises.writeFile(path.join(point, file), '', { flag: 'a', mode: 0o644 });
        args.push('--ro-bind', model.path, path.posix.join(APP_DIR, relative, file));
        inside.push({ ...model, path: path.posix.join(APP_DIR, relative, file) });
      }
    }
    return inside;
  }

  private spawnWorker(bwrapArgs: string[], command: WorkerCommand, seccomp: Buffer): LaunchedWorker {
    const { maxProcesses, maxOpenFiles, tmpSizeMb, bwrap } = this.policy;
    const memoryBytes = command.memoryMb * 1024 * 1024;
    const group = this.cgroups?.create(`${command.label.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 80)}-${crypto.randomBytes(4).toString('hex')}`, {
      memoryBytes,
      maxProcesses,
      cpuCores: command.cpuCores,
    });
    const argv: string[] = [];
    if (group) argv.push('/bin/sh', '-c', JOIN_CGROUPS, 'sh', ...group.procsFiles, '--');
    argv.push('prlimit', `--nofile=${maxOpenFiles}:${maxOpenFiles}`, '--core=0:0', `--fsize=${tmpSizeMb * 1024 * 1024}`);
    // Without a group, the address space stands in for memory (with the slack the program
    // reserves but does not use), and RLIMIT_NPROC for pids.max: the kernel does not apply
    // it to root, so a server running as root has no bound on processes then.
    if (!group) argv.push(`--as=${(command.memoryMb + command.addressSpaceSlackMb) * 1024 * 1024}`, `--nproc=${maxProcesses}`);
    argv.push('--', bwrap, ...bwrapArgs, '--', command.command, ...command.args);
    const child = spawn(argv[0]!, argv.slice(1), { env: command.env, detached: true, stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe'] });
    const seccompPipe = (child.stdio as unknown as (Writable | null)[])[SECCOMP_FD]!;
    seccompPipe.on('error', () => undefined);
    seccompPipe.end(seccomp);
    let finished: Promise<{ outOfMemory: boolean }> | undefined;
    return {
      child,
      finish: () => {
        finished ??= (async () => {
          killGroup(child.pid);
          if (!group) return { outOfMemory: false };
          const outOfMemory = group.outOfMemory();
          await group.remove();
          return { outOfMemory };
        })();
        return finished;
      },
    };
  }
}

/** The installations the programs need shown, each once. */
function rootsOf(resolved: Map<string, ResolvedProgram>): Set<string> {
  const roots = new Set<string>();
  for (const program of resolved.values()) for (const root of program.roots) roots.add(root);
  return roots;
}

function executableOf(resolved: Map<string, ResolvedProgram>, name: string): string {
  const found = resolved.get(name);
  if (!found) throw new Error(`the program ${name} was not prepared`);
  return found.executable;
}

/** /usr read-only, and the top-level links into it (or the directories, on a system without merged /usr). */
export function runtimeRootArguments(): string[] {
  const args = ['--ro-bind', '/usr', '/usr'];
  for (const name of USR_LINKS) {
    const at = `/${name}`;
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(at);
    } catch {
      continue;
    }
    if (stat.isSymbolicLink()) args.push('--symlink', fs.readlinkSync(at), at);
    else if (stat.isDirectory()) args.push('--ro-bind', at, at);
  }
  return args;
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
