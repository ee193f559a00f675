/**
 * The sandbox's seccomp filter, as the classic BPF program bubblewrap installs with
 * `--seccomp FD` just before it runs the entry script's host. It refuses the calls a
 * scoring process never needs and an attacker would: debugging other processes
 * (ptrace, process_vm_*), mounting and namespaces (mount, unshare, setns, clone with
 * namespace flags), kernel keys, BPF, perf, modules, kexec, reboot, swap, the clock,
 * io_uring. Everything else is allowed: the namespaces, the read-only view and the
 * limits do the rest. With no network, sockets other than AF_UNIX are refused too.
 *
 * A call from another ABI (i386 through int 0x80, x32) kills the process: its numbers
 * differ, and a filter that checked only one table would let them through.
 */
import os from 'node:os';

/** Linux's numbers for the calls the filter names, per architecture. */
interface SyscallTable {
  /** AUDIT_ARCH_* as seccomp reports it in `seccomp_data.arch`. */
  auditArch: number;
  /** x86_64's x32 ABI sets this bit in the call number. */
  x32Bit?: number;
  denied: Record<string, number>;
  socket: number;
  clone: number;
  /** Refused with ENOSYS so that libc and libuv fall back to what is allowed. */
  unsupported: Record<string, number>;
}

const X86_64: SyscallTable = {
  auditArch: 0xc000003e,
  x32Bit: 0x40000000,
  denied: {
    ptrace: 101, process_vm_readv: 310, process_vm_writev: 311, kcmp: 312,
    mount: 165, umount2: 166, pivot_root: 155, chroot: 161, unshare: 272, setns: 308,
    open_tree: 428, move_mount: 429, fsopen: 430, fsconfig: 431, fsmount: 432, fspick: 433, mount_setattr: 442,
    kexec_load: 246, kexec_file_load: 320, init_module: 175, finit_module: 313, delete_module: 176,
    bpf: 321, perf_event_open: 298, userfaultfd: 323, keyctl: 250, add_key: 248, request_key: 249,
    reboot: 169, swapon: 167, swapoff: 168, acct: 163, quotactl: 179, iopl: 172, ioperm: 173,
    settimeofday: 164, clock_settime: 227, clock_adjtime: 305, adjtimex: 159,
    open_by_handle_at: 304, name_to_handle_at: 303, lookup_dcookie: 212, vhangup: 153,
  },
  socket: 41,
  clone: 56,
  unsupported: { clone3: 435, io_uring_setup: 425, io_uring_enter: 426, io_uring_register: 427 },
};

const AARCH64: SyscallTable = {
  auditArch: 0xc00000b7,
  denied: {
    ptrace: 117, process_vm_readv: 270, process_vm_writev: 271, kcmp: 272,
    mount: 40, umount2: 39, pivot_root: 41, chroot: 51, unshare: 97, setns: 268,
    open_tree: 428, move_mount: 429, fsopen: 430, fsconfig: 431, fsmount: 432, fspick: 433, mount_setattr: 442,
    kexec_load: 104, kexec_file_load: 294, init_module: 105, finit_module: 273, delete_module: 106,
    bpf: 280, perf_event_open: 241, userfaultfd: 282, keyctl: 219, add_key: 217, request_key: 218,
    reboot: 142, swapon: 224, swapoff: 225, acct: 89, quotactl: 60,
    settimeofday: 170, clock_settime: 112, clock_adjtime: 266, adjtimex: 171,
    open_by_handle_at: 265, name_to_handle_at: 264, lookup_dcookie: 18, vhangup: 58,
  },
  socket: 198,
  clone: 220,
  unsupported: { clone3: 435, io_uring_setup: 425, io_uring_enter: 426, io_uring_register: 427 },
};

const TABLES: Partial<Record<string, SyscallTable>> = { x64: X86_64, arm64: AARCH64 };

// seccomp(2) return values and errno numbers (asm-generic, the same on both).
const RET_KILL_PROCESS = 0x80000000;
const RET_ERRNO = 0x00050000;
const RET_ALLOW = 0x7fff0000;
const EPERM = 1;
const ENOSYS = 38;
const EAFNOSUPPORT = 97;
const AF_UNIX = 1;
/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME. */
const CLONE_NAMESPACES = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x00000080;

// Classic BPF opcodes.
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const JSET_K = 0x45;
const RET_K = 0x06;

// struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6].
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
/** The low 32 bits of args[0] (both architectures are little-endian). */
const OFFSET_ARG0 = 16;

type Instruction =
  | { op: 'ld'; offset: number }
  | { op: 'ret'; value: number }
  | { op: 'jeq' | 'jge' | 'jset'; k: number; then: string; else?: string }
  | { op: 'label'; name: string };

/** Assembles instructions with forward jumps to labels into `struct sock_filter[]` bytes. */
function assemble(program: Instruction[]): Buffer {
  const code = program.filter((i) => i.op !== 'label');
  const labels = new Map<string, number>();
  let pc = 0;
  for (const i of program) {
    if (i.op === 'label') labels.set(i.name, pc);
    else pc++;
  }
  const out = Buffer.alloc(code.length * 8);
  code.forEach((i, at) => {
    let opcode: number;
    let jt = 0;
    let jf = 0;
    let k: number;
    if (i.op === 'ld') [opcode, k] = [LD_W_ABS, i.offset];
    else if (i.op === 'ret') [opcode, k] = [RET_K, i.value];
    else {
      opcode = i.op === 'jeq' ? JEQ_K : i.op === 'jge' ? JGE_K : JSET_K;
      k = i.k;
      const offset = (label: string | undefined): number => {
        if (label === undefined) return 0;
        const target = labels.get(label);
        if (target === undefined || target <= at) throw new Error(`seccomp: no forward label ${label}`);
        const jump = target - at - 1;
        if (jump > 255) throw new Error('seccomp: jump too long');
        return jump;
      };
      jt = offset(i.then);
      jf = offset(i.else);
    }
    out.writeUInt16LE(opcode, at * 8);
    out.writeUInt8(jt, at * 8 + 2);
    out.writeUInt8(jf, at * 8 + 3);
    out.writeUInt32LE(k >>> 0, at * 8 + 4);
  });
  return out;
}

/** Whether this machine's architecture has a filter (x86_64, aarch64). */
export function seccompSupported(arch: string = os.arch()): boolean {
  return TABLES[arch] !== undefined;
}

/**
 * The compiled filter for `arch` (Node's `os.arch()` names). `allowInet`: whether
 * sockets other than AF_UNIX may be made (`--sandbox-network loopback|all`).
 */
export function seccompFilter(options: { allowInet: boolean; arch?: string }): Buffer {
  const table = TABLES[options.arch ?? os.arch()];
  if (!table) throw new Error(`no seccomp filter for the ${options.arch ?? os.arch()} architecture`);
  const program: Instruction[] = [
    { op: 'ld', offset: OFFSET_ARCH },
    { op: 'jeq', k: table.auditArch, then: 'native', else: 'kill' },
    { op: 'label', name: 'native' },
    { op: 'ld', offset: OFFSET_NR },
  ];
  if (table.x32Bit !== undefined) program.push({ op: 'jge', k: table.x32Bit, then: 'kill' });
  for (const nr of Object.values(table.denied)) program.push({ op: 'jeq', k: nr, then: 'eperm' });
  for (const nr of Object.values(table.unsupported)) program.push({ op: 'jeq', k: nr, then: 'enosys' });
  program.push({ op: 'jeq', k: table.clone, then: 'clone' });
  if (!options.allowInet) program.push({ op: 'jeq', k: table.socket, then: 'socket' });
  program.push(
    { op: 'ret', value: RET_ALLOW },
    { op: 'label', name: 'clone' },
    { op: 'ld', offset: OFFSET_ARG0 },
    { op: 'jset', k: CLONE_NAMESPACES, then: 'eperm' },
    { op: 'ret', value: RET_ALLOW },
  );
  if (!options.allowInet) {
    program.push(
      { op: 'label', name: 'socket' },
      { op: 'ld', offset: OFFSET_ARG0 },
      { op: 'jeq', k: AF_UNIX, then: 'allow' },
      { op: 'ret', value: RET_ERRNO | EAFNOSUPPORT },
      { op: 'label', name: 'allow' },
      { op: 'ret', value: RET_ALLOW },
    );
  }
  program.push(
    { op: 'label', name: 'eperm' },
    { op: 'ret', value: RET_ERRNO | EPERM },
    { op: 'label', name: 'enosys' },
    { op: 'ret', value: RET_ERRNO | ENOSYS },
    { op: 'label', name: 'kill' },
    { op: 'ret', value: RET_KILL_PROCESS },
  );
  return assemble(program);
}

/** The names of the calls the filter refuses (for the docs and `tessera serve`). */
export function deniedCalls(arch: string = os.arch()): string[] {
  const table = TABLES[arch];
  return table ? [...Object.keys(table.denied), 'clone with namespace flags'] : [];
}
