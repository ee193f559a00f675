/**
 * Control groups for sandboxed workers: one group per worker process, with its memory,
 * process count and CPU share capped. Two layouts are understood:
 *
 * - cgroup v2, when the server's own group (or TESSERA_SANDBOX_CGROUP) is delegated to
 *   it: that group's `cgroup.subtree_control` already enables `memory` and `pids`, or the
 *   given directory is writable and holds no process of its own so that they can be
 *   enabled (systemd's `Delegate=yes`);
 * - cgroup v1, when the `pids` and `memory` hierarchies are mounted and the server's
 *   group in each is writable (root in a container, as here).
 *
 * When neither is possible the sandbox falls back to rlimits (limits.ts), which cannot
 * bound the number of processes of root.
 *
 * A worker joins its group before anything of it runs: the launcher's first process
 * writes its own pid into `cgroup.procs` and only then execs bubblewrap.
 */
import fs from 'node:fs';
import path from 'node:path';

export type CgroupVersion = 'v1' | 'v2';

/** What one worker's group caps. */
export interface CgroupLimits {
  memoryBytes: number;
  maxProcesses: number;
  /** CPU cores (fractions allowed); 0 or less: not capped. */
  cpuCores: number;
}

/** One worker's group: the files its first process joins, and what to do after it ends. */
export interface WorkerCgroup {
  /** `cgroup.procs` files (one per v1 hierarchy, one for v2) the process writes its pid into. */
  readonly procsFiles: string[];
  /** Whether the kernel killed something in the group for running out of memory. */
  outOfMemory(): boolean;
  /** Kills whatever is left in the group and removes it. Never rejects. */
  remove(): Promise<void>;
}

/** Where this server's sandbox groups are made. */
export interface CgroupRoot {
  readonly version: CgroupVersion;
  /** The directories (one per v1 hierarchy) under which worker groups are made. */
  readonly parents: string[];
  create(name: string, limits: CgroupLimits): WorkerCgroup;
  /** Removes the server's own sandbox directories (at close). Never rejects. */
  dispose(): Promise<void>;
}

interface Mount {
  type: string;
  point: string;
  /** The group path inside the hierarchy that the mount's root shows (mountinfo's "root"). */
  root: string;
  options: string[];
}

function mounts(): Mount[] {
  const text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  const found: Mount[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const fields = left.split(' ');
    const [type, , superOptions] = right.split(' ');
    if (type !== 'cgroup' && type !== 'cgroup2') continue;
    found.push({ type, point: unescape(fields[4] ?? ''), root: unescape(fields[3] ?? '/'), options: (superOptions ?? '').split(',') });
  }
  return found;
}

/** mountinfo escapes spaces and such as octal. */
function unescape(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** This process's group per hierarchy: v1 controller name (or '' for v2) → path. */
function ownGroups(): Map<string, string> {
  const groups = new Map<string, string>();
  for (const line of fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!match) continue;
    for (const controller of match[1]!.split(',')) groups.set(controller, match[2]!);
  }
  return groups;
}

/** The directory of `group` as seen through `mount`, when the mount shows it. */
function directoryOf(mount: Mount, group: string): string | undefined {
  const relative = path.posix.relative(mount.root, group);
  if (relative.startsWith('..')) return undefined;
  return path.join(mount.point, relative);
}

function writable(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function readNumber(file: string, key: string): number {
  try {
    const line = fs.readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${key} `));
    return line ? Number(line.split(' ')[1]) : 0;
  } catch {
    return 0;
  }
}

/** Kills every process listed in a group's `cgroup.procs` until none is left (v1 has no cgroup.kill). */
function killAll(dir: string): void {
  for (let round = 0; round < 20; round++) {
    let pids: number[];
    try {
      pids = fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return;
    }
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
  }
}

/** rmdir fails (EBUSY) while a killed process is still being torn down: retry for a second, then leave it. */
async function removeDir(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      killAll(dir);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

class V2Root implements CgroupRoot {
  readonly version = 'v2' as const;
  constructor(private readonly base: string) {}

  get parents(): string[] {
    return [this.base];
  }

  create(name: string, limits: CgroupLimits): WorkerCgroup {
    const dir = path.join(this.base, name);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'memory.max'), String(limits.memoryBytes));
    // Swap would let a worker exceed its memory silently; the kernel refuses the write without swap accounting.
    tryWrite(path.join(dir, 'memory.swap.max'), '0');
    fs.writeFileSync(path.join(dir, 'pids.max'), String(limits.maxProcesses));
    if (limits.cpuCores > 0) tryWrite(path.join(dir, 'cpu.max'), `${Math.max(1000, Math.round(limits.cpuCores * 100_000))} 100000`);
    return {
      procsFiles: [path.join(dir, 'cgroup.procs')],
      outOfMemory: () => readNumber(path.join(dir, 'memory.events'), 'oom_kill') > 0,
      remove: async () => {
        tryWrite(path.join(dir, 'cgroup.kill'), '1');
        await removeDir(dir);
      },
    };
  }

  async dispose(): Promise<void> {
    await removeDir(this.base);
  }
}

class V1Root implements CgroupRoot {
  readonly version = 'v1' as const;
  constructor(
    private readonly pids: string,
    private readonly memory: string,
    private readonly cpu: string | undefined,
  ) {}

  get parents(): string[] {
    return [this.pids, this.memory, ...(this.cpu ? [this.cpu] : [])];
  }

  create(name: string, limits: CgroupLimits): WorkerCgroup {
    const made: string[] = [];
    try {
      const pids = path.join(this.pids, name);
      fs.mkdirSync(pids);
      made.push(pids);
      fs.writeFileSync(path.join(pids, 'pids.max'), String(limits.maxProcesses));
      const memory = path.join(this.memory, name);
      fs.mkdirSync(memory);
      made.push(memory);
      fs.writeFileSync(path.join(memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
      // With swap accounting, memory+swap gets the same cap: no escape into swap.
      tryWrite(path.join(memory, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
      if (this.cpu && limits.cpuCores > 0) {
        const cpu = path.join(this.cpu, name);
        fs.mkdirSync(cpu);
        made.push(cpu);
        tryWrite(path.join(cpu, 'cpu.cfs_period_us'), '100000');
        tryWrite(path.join(cpu, 'cpu.cfs_quota_us'), String(Math.max(1000, Math.round(limits.cpuCores * 100_000))));
      }
    } catch (error) {
      for (const dir of made) tryRmdir(dir);
      throw error;
    }
    const memory = made[1]!;
    return {
      procsFiles: made.map((dir) => path.join(dir, 'cgroup.procs')),
      outOfMemory: () => readNumber(path.join(memory, 'memory.oom_control'), 'oom_kill') > 0,
      remove: async () => {
        for (const dir of made) killAll(dir);
        await Promise.all(made.map(removeDir));
      },
    };
  }

  async dispose(): Promise<void> {
    await Promise.all(this.parents.map(removeDir));
  }
}

function tryWrite(file: string, value: string): boolean {
  try {
    fs.writeFileSync(file, value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds where this server may make sandbox groups and makes its own directory there
 * (`tessera-<pid>`, removed by `dispose`). `configured`: a v2 directory the operator
 * delegated (TESSERA_SANDBOX_CGROUP). Resolves to the reason when there is none.
 */
export function openCgroupRoot(configured?: string): CgroupRoot | string {
  const name = `tessera-sandbox-${process.pid}`;
  let all: Mount[];
  let own: Map<string, string>;
  try {
    all = mounts();
    own = ownGroups();
  } catch (error) {
    return `the cgroup mounts cannot be read (${(error as Error).message})`;
  }
  const reasons: string[] = [];

  // v2: a delegated directory, or the server's own group when it is delegated.
  const unified = all.find((m) => m.type === 'cgroup2');
  const v2Base = configured ?? (unified && own.has('') ? directoryOf(unified, own.get('')!) : undefined);
  if (v2Base) {
    const controllers = readText(path.join(v2Base, 'cgroup.subtree_control')) ?? '';
    const enabled = (c: string) => controllers.split(/\s+/).includes(c);
    if (!enabled('memory') || !enabled('pids')) tryWrite(path.join(v2Base, 'cgroup.subtree_control'), '+memory +pids +cpu');
    const after = readText(path.join(v2Base, 'cgroup.subtree_control')) ?? '';
    if (after.includes('memory') && after.includes('pids') && writable(v2Base)) {
      const base = path.join(v2Base, name);
      try {
        fs.mkdirSync(base, { recursive: true });
        if (!tryWrite(path.join(base, 'cgroup.subtree_control'), `+memory +pids${after.includes('cpu') ? ' +cpu' : ''}`)) throw new Error('its controllers cannot be enabled');
        return new V2Root(base);
      } catch (error) {
        tryRmdir(base);
        reasons.push(`cgroup v2 at ${v2Base}: ${(error as Error).message}`);
      }
    } else reasons.push(`cgroup v2${v2Base ? ` at ${v2Base}` : ''} does not delegate the memory and pids controllers`);
  }

  // v1: the pids and memory hierarchies, each at the server's own group.
  const v1 = (controller: string): string | undefined => {
    const mount = all.find((m) => m.type === 'cgroup' && m.options.includes(controller));
    const group = own.get(controller);
    if (!mount || group === undefined) return undefined;
    const dir = directoryOf(mount, group);
    return dir && writable(dir) ? dir : undefined;
  };
  const pids = v1('pids');
  const memory = v1('memory');
  if (pids && memory) {
    const cpu = v1('cpu');
    const made: string[] = [];
    try {
      for (const dir of [pids, memory, ...(cpu ? [cpu] : [])]) {
        const base = path.join(dir, name);
        fs.mkdirSync(base, { recursive: true });
        made.push(base);
      }
      // v1 memory: children count towards their parent's usage (hierarchical accounting).
      tryWrite(path.join(made[1]!, 'memory.use_hierarchy'), '1');
      return new V1Root(made[0]!, made[1]!, made[2]);
    } catch (error) {
      for (const dir of made) tryRmdir(dir);
      reasons.push(`cgroup v1: ${(error as Error).message}`);
    }
  } else reasons.push('no writable cgroup v1 pids and memory hierarchies');
  return reasons.join('; ');
}

function tryRmdir(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    // Not empty or gone: nothing more to do at once.
  }
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
