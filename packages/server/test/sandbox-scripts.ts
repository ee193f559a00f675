/**
 * Hostile entry scripts for the sandbox suite: a score.py and a score.mjs whose run()
 * tries, by `mode`, what a malicious deployment would, and answers what it observed.
 * Each attack is contained when it answers a failure (or a 5xx of its own service).
 */

export const HOSTILE_PY = `
import ctypes, json, os, socket, time

def init():
    pass

def attempt(fn):
    try:
        return {"ok": True, "value": fn()}
    except BaseException as error:
        return {"ok": False, "error": type(error).__name__ + ": " + str(error)}

def read(path):
    with open(path, "rb") as f:
        return f.read(300).decode("latin-1")

def run(raw):
    req = json.loads(raw)
    mode = req["mode"]
    if mode == "whoami":
        return {"uid": os.getuid(), "cwd": os.getcwd(), "modelDir": os.environ.get("AZUREML_MODEL_DIR"),
                "hostname": socket.gethostname(), "root": sorted(os.listdir("/")), "env": sorted(os.environ)}
    if mode == "read":
        return attempt(lambda: read(req["path"]))
    if mode == "write":
        def write():
            with open(req["path"], "w") as f:
                f.write("pwned")
            return "written"
        return attempt(write)
    if mode == "environ":
        return {"self": read("/proc/self/environ"), "init": read("/proc/1/environ"),
                "pids": sorted(p for p in os.listdir("/proc") if p.isdigit())}
    if mode == "connect":
        def connect():
            s = socket.create_connection(("127.0.0.1", req["port"]), timeout=2)
            s.close()
            return "connected"
        return attempt(connect)
    if mode == "ptrace":
        libc = ctypes.CDLL(None, use_errno=True)
        rc = libc.ptrace(16, req["pid"], None, None)  # PTRACE_ATTACH
        return {"rc": rc, "errno": ctypes.get_errno()}
    if mode == "unshare":
        libc = ctypes.CDLL(None, use_errno=True)
        rc = libc.unshare(0x10000000)  # CLONE_NEWUSER
        return {"rc": rc, "errno": ctypes.get_errno()}
    if mode == "forkbomb":
        forked = 0
        try:
            while forked < 5000:
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                forked += 1
        except OSError as error:
            return {"forked": forked, "error": type(error).__name__}
        return {"forked": forked}
    if mode == "memory":
        hoard = bytearray(20 * 1024 ** 3)
        return len(hoard)
    if mode == "fill-tmp":
        written = 0
        chunk = b"x" * (1 << 20)
        try:
            with open("/tmp/fill", "wb") as f:
                while written < 10 * 1024 ** 3:
                    f.write(chunk)
                    f.flush()
                    written += len(chunk)
        except OSError as error:
            return {"written": written, "error": type(error).__name__ + ": " + str(error)}
        return {"written": written}
    if mode == "spin":
        while True:
            pass
    if mode == "daemon":
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execv("/bin/sleep", ["sleep", req["marker"]])
            os._exit(0)
        return "daemon started"
    return {"unknown": mode}
`;

export const HOSTILE_MJS = `
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { spawn, spawnSync } from 'node:child_process';

export function init() {}

const attempt = async (fn) => {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error: (error.code ?? error.name) + ': ' + error.message };
  }
};

export async function run(input) {
  switch (input.mode) {
    case 'whoami':
      return { uid: process.getuid(), cwd: process.cwd(), modelDir: process.env.AZUREML_MODEL_DIR, hostname: os.hostname(), root: fs.readdirSync('/').sort(), env: Object.keys(process.env).sort() };
    case 'read':
      return attempt(() => fs.readFileSync(input.path, 'latin1').slice(0, 300));
    case 'environ':
      return { self: fs.readFileSync('/proc/self/environ', 'latin1'), init: fs.readFileSync('/proc/1/environ', 'latin1'), pids: fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p)) };
    case 'connect':
      return attempt(() => new Promise((resolve, reject) => {
        const socket = net.connect(input.port, '127.0.0.1');
        socket.on('connect', () => { socket.destroy(); resolve('connected'); });
        socket.on('error', reject);
      }));
    case 'signal':
      return attempt(() => process.kill(input.pid, 0));
    case 'forkbomb': {
      spawnSync('/bin/sh', ['-c', 'i=0; while [ $i -lt 2000 ]; do sleep 30 & i=$((i+1)); done; exit 0'], { stdio: 'ignore', timeout: 20000 });
      return { processes: fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).length };
    }
    case 'memory': {
      const hoard = [];
      for (let i = 0; i < 20; i++) hoard.push(Buffer.alloc(1024 ** 3, 1));
      return hoard.length;
    }
    case 'fill-tmp': {
      let written = 0;
      const chunk = Buffer.alloc(1 << 20, 120);
      const fd = fs.openSync('/tmp/fill', 'w');
      try {
        while (written < 10 * 1024 ** 3) written += fs.writeSync(fd, chunk);
      } catch (error) {
        return { written, error: error.code };
      } finally {
        fs.closeSync(fd);
      }
      return { written };
    }
    case 'spin':
      for (;;) {}
    case 'daemon':
      spawn('/bin/sleep', [input.marker], { detached: true, stdio: 'ignore' }).unref();
      return 'daemon started';
    default:
      return { unknown: input.mode };
  }
}
`;

/** An entry script whose init() never returns. */
export const SPIN_IN_INIT_PY = 'def init():\n    while True:\n        pass\n\ndef run(raw):\n    return 1\n';
export const SPIN_IN_INIT_MJS = 'export function init() { for (;;) {} }\nexport function run() { return 1; }\n';
