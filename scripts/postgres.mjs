// Throwaway PostgreSQL clusters for tests and local tooling.
//
//   import { startPostgres } from './postgres.mjs';
//   const pg = await startPostgres({ log: (m) => console.error(m) });
//   // pg.url  -> postgres://tessera@127.0.0.1:<port>/postgres
//   await pg.stop();
//
// Each call creates a fresh cluster (initdb) in a new temp dir, runs `postgres`
// on 127.0.0.1 only, on a free port, with durability switched off (it is
// thrown away anyway), and removes everything again on stop(). The cluster is
// also stopped and removed when this process exits or receives
// SIGINT/SIGTERM/SIGHUP. (A SIGKILL of this process cannot be caught: then the
// cluster is left running until killed by hand.)
//
// Plain Node.js, no dependencies.

import { spawn, execFile } from 'node:child_process';
import { accessSync, constants as fsConstants, openSync, closeSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PG_LIB_DIR = '/usr/lib/postgresql';
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const USER = 'tessera';
const DATABASE = 'postgres';
const HOST = '127.0.0.1';
const INSTALL_HINT =
  'Install the PostgreSQL server, e.g. on Debian/Ubuntu: `apt-get install postgresql` ' +
  '(as root; its binaries land in /usr/lib/postgresql/<version>/bin).';

/** Clusters (or half-started clusters) of this process that still need cleaning up. */
const active = new Set();

// ---------------------------------------------------------------------------
// Locating binaries and the user to run them as

function isExecutableFile(file) {
  try {
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function compareVersionsDesc(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pb[i] ?? 0) - (pa[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function findOnPath(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    if (isExecutableFile(file)) return file;
  }
  return null;
}

/**
 * Finds `initdb` and `postgres`: in /usr/lib/postgresql/<highest version>/bin
 * (where Debian/Ubuntu put them, off PATH), else on PATH.
 */
export function findPostgresBinaries() {
  let versions = [];
  try {
    versions = readdirSync(PG_LIB_DIR).filter((v) => /^\d+(\.\d+)*$/.test(v)).sort(compareVersionsDesc);
  } catch {
    // no /usr/lib/postgresql
  }
  for (const v of versions) {
    const bin = path.join(PG_LIB_DIR, v, 'bin');
    const initdb = path.join(bin, 'initdb');
    const postgres = path.join(bin, 'postgres');
    if (isExecutableFile(initdb) && isExecutableFile(postgres)) return { initdb, postgres };
  }
  const initdb = findOnPath('initdb');
  const postgres = findOnPath('postgres');
  if (initdb && postgres) return { initdb, postgres };

  const missing = [!initdb && '`initdb`', !postgres && '`postgres`'].filter(Boolean).join(' and ');
  throw new Error(
    `PostgreSQL server binaries not found: ${missing} missing ` +
      `(looked in ${PG_LIB_DIR}/<version>/bin and on PATH; the psql client alone is not enough). ` +
      INSTALL_HINT,
  );
}

/** uid/gid of the `postgres` system user from /etc/passwd, or null. */
function lookupPostgresUser() {
  let passwd;
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return null;
  }
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f[0] === 'postgres' && f.length >= 4) {
      const uid = Number(f[2]);
      const gid = Number(f[3]);
      if (Number.isInteger(uid) && Number.isInteger(gid)) return { uid, gid };
    }
  }
  return null;
}

// ---------------------------------------------------------------------------
// Small helpers

function childEnv() {
  // Keep the caller's environment, minus libpq/server variables that could
  // point the tools at another cluster.
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^PG[A-Z_]+$/.test(k)) env[k] = v;
  }
  return env;
}

function run(file, args, options) {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { maxBuffer: 16 * 1024 * 1024, ...options }, (err, stdout, stderr) => {
      if (err) {
        err.stdout = stdout;
        err.stderr = stderr;
        reject(err);
      } else resolve({ stdout, stderr });
    });
    options?.onSpawn?.(child);
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** True while `pid` is a live (not zombie) process. Synchronous, for the exit hook. */
function aliveSync(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch (err) {
    if (err.code === 'ENOENT') return false;
    try {
      process.kill(pid, 0); // no /proc: best effort (a zombie counts as alive)
      return true;
    } catch {
      return false;
    }
  }
}

function tail(text, lines = 25) {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

function readLog(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * One readiness probe, speaking the wire protocol directly (what pg_isready
 * does): StartupMessage as `tessera` to `postgres`; ready once the server
 * answers ReadyForQuery. Resolves true/false, never rejects.
 */
function probe(port, timeoutMs = 2000) {
  return new Promise((resolve) => {
    let done = false;
    let buf = Buffer.alloc(0);
    const sock = net.connect({ host: HOST, port });
    const finish = (ok) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (ok) {
        // Terminate ('X') politely, then close.
        sock.end(Buffer.from([0x58, 0, 0, 0, 4]));
      } else sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on('error', () => finish(false));
    sock.on('close', () => finish(false));
    sock.on('connect', () => {
      const params = Buffer.from(`user\0${USER}\0database\0${DATABASE}\0\0`, 'utf8');
      const msg = Buffer.alloc(8 + params.length);
      msg.writeInt32BE(msg.length, 0);
      msg.writeInt32BE(196608, 4); // protocol 3.0
      params.copy(msg, 8);
      sock.write(msg);
    });
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 5) {
        const type = String.fromCharCode(buf[0]);
        const len = buf.readInt32BE(1);
        if (buf.length < 1 + len) return;
        const body = buf.subarray(5, 1 + len);
        buf = buf.subarray(1 + len);
        if (type === 'E') return finish(false); // e.g. "the database system is starting up"
        if (type === 'R' && body.readInt32BE(0) !== 0) return finish(false); // not trust auth?!
        if (type === 'Z') return finish(true);
      }
    });
  });
}

// ---------------------------------------------------------------------------
// Cleanup on exit and signals

let hooksInstalled = false;
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function onExit() {
  // Synchronous last resort: 'exit' listeners cannot await.
  for (const c of active) cleanupSync(c);
}

function onSignal(signal) {
  // Decide now, before stop() uninstalls our listeners: if nobody else
  // handles this signal, behave like its default action (terminate by that
  // signal) once the clusters are gone.
  const othersHandleIt = process.listeners(signal).some((l) => l !== onSignal);
  Promise.allSettled([...active].map((c) => c.stop())).then(() => {
    if (othersHandleIt) return;
    for (const s of SIGNALS) process.removeListener(s, onSignal);
    process.kill(process.pid, signal);
  });
}

function installHooks() {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', onExit);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function uninstallHooksIfIdle() {
  if (!hooksInstalled || active.size > 0) return;
  hooksInstalled = false;
  process.removeListener('exit', onExit);
  for (const s of SIGNALS) process.removeListener(s, onSignal);
}

function killQuietly(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function cleanupSync(c) {
  c.stopping = true;
  for (const child of [c.server, c.helper]) {
    if (!child || child.exitCode !== null || child.signalCode !== null || !child.pid) continue;
    killQuietly(child.pid, child === c.server ? 'SIGINT' : 'SIGTERM');
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (aliveSync(child.pid) && Date.now() < deadline) sleepSync(50);
    if (aliveSync(child.pid)) killQuietly(child.pid, 'SIGKILL');
  }
  try {
    rmSync(c.dir, { recursive: true, force: true });
  } catch {
    // nothing more we can do while exiting
  }
  active.delete(c);
}

function waitExit(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.removeListener('exit', onExitEv);
      resolve(false);
    }, ms);
    const onExitEv = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExitEv);
  });
}

async function stopChild(child, signal) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  killQuietly(child.pid, signal);
  if (await waitExit(child, STOP_TIMEOUT_MS)) return;
  killQuietly(child.pid, 'SIGKILL');
  await waitExit(child, 5_000);
}

// ---------------------------------------------------------------------------
// The cluster

/**
 * Starts a throwaway PostgreSQL cluster.
 *
 * @param {{ log?: (message: string) => void }} [options]
 *   log: optional sink for progress messages (default: silent).
 * @returns {Promise<{ url: string, stop: () => Promise<void>, version: string, port: number, dir: string }>}
 *   url: postgres://tessera@127.0.0.1:<port>/postgres (trust auth, superuser).
 *   stop(): fast shutdown (SIGINT; SIGKILL after 10 s), then removes the
 *   temp dir. Idempotent.
 *   version: output of `postgres --version`, e.g. "postgres (PostgreSQL) 16.4".
 */
export async function startPostgres({ log } = {}) {
  const say = typeof log === 'function' ? log : () => {};
  const bins = findPostgresBinaries();

  // PostgreSQL refuses to run as root: then run it as the `postgres` system user.
  let runAs = null;
  if (typeof process.getuid === 'function' && process.getuid() === 0) {
    runAs = lookupPostgresUser();
    if (!runAs) {
      throw new Error(
        'Running as root, but PostgreSQL refuses to run as root and there is no `postgres` ' +
          'system user in /etc/passwd to run it as. Run as a non-root user, or install the ' +
          'PostgreSQL server package, which creates that user: `apt-get install postgresql`.',
      );
    }
  }

  const { stdout: versionOut } = await run(bins.postgres, ['--version'], { env: childEnv() });
  const version = versionOut.trim();

  const dir = await mkdtemp(path.join(os.tmpdir(), 'tessera-pg-'));
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'postgres.log');
  const c = {
    dir,
    server: null, // the postgres child
    helper: null, // initdb while it runs
    stopping: false,
    stopPromise: null,
    stop: null,
  };
  c.stop = () => {
    c.stopping = true;
    c.stopPromise ??= (async () => {
      await stopChild(c.helper, 'SIGTERM');
      await stopChild(c.server, 'SIGINT'); // SIGINT = "fast shutdown"
      await rm(dir, { recursive: true, force: true });
      active.delete(c);
      uninstallHooksIfIdle();
    })();
    return c.stopPromise;
  };
  active.add(c);
  installHooks();

  const spawnOpts = { cwd: dir, env: childEnv(), ...(runAs ?? {}) };
  const aborted = () => new Error('PostgreSQL start aborted (stop requested)');

  try {
    if (runAs) await chown(dir, runAs.uid, runAs.gid);

    say(`initdb (${bins.initdb}) in ${dataDir}`);
    try {
      await run(
        bins.initdb,
        [
          '-D', dataDir,
          '--auth=trust',
          `--username=${USER}`,
          '--encoding=UTF8',
          // Fixed, always-available locale: independent of the caller's LANG
          // (initdb fails on a LANG whose locale is not installed) and gives
          // the same byte-order collation on every machine.
          '--locale=C',
          '--no-sync',
        ],
        { ...spawnOpts, onSpawn: (child) => (c.helper = child) },
      );
    } catch (err) {
      if (c.stopping) throw aborted();
      const out = tail(`${err.stdout ?? ''}${err.stderr ?? ''}`) || err.message;
      throw new Error(`initdb failed (${bins.initdb}${runAs ? ', as user postgres' : ''}):\n${out}`);
    } finally {
      c.helper = null;
    }

    // The port is free when picked; if someone grabs it before postgres binds
    // it, postgres exits and we try again with another one.
    for (let attempt = 1; ; attempt++) {
      if (c.stopping) throw aborted();
      const port = await freePort();
      say(`starting ${bins.postgres} on ${HOST}:${port}`);
      const logFd = openSync(logFile, 'a');
      let server;
      try {
        server = spawn(
          bins.postgres,
          [
            '-D', dataDir,
            '-h', HOST, // listen_addresses: loopback only
            '-p', String(port),
            '-k', dir, // unix socket in the private (0700) temp dir
            '-c', 'fsync=off',
            '-c', 'synchronous_commit=off',
            '-c', 'full_page_writes=off',
            '-c', 'max_connections=200',
          ],
          // Own process group: a terminal Ctrl-C reaches us, not the server
          // directly, so we decide when it goes (after the tests stop).
          { ...spawnOpts, stdio: ['ignore', logFd, logFd], detached: true },
        );
      } finally {
        closeSync(logFd);
      }
      c.server = server;
      let spawnError = null;
      server.once('error', (err) => (spawnError = err));

      const deadline = Date.now() + READY_TIMEOUT_MS;
      let ready = false;
      while (Date.now() < deadline) {
        if (c.stopping) throw aborted();
        if (spawnError) throw new Error(`could not run ${bins.postgres}: ${spawnError.message}`);
        if (server.exitCode !== null || server.signalCode !== null) break;
        if (await probe(port)) {
          ready = true;
          break;
        }
        await sleep(100);
      }
      if (ready) {
        // Keep the event loop free: stop() is what the caller waits on.
        server.unref();
        const url = `postgres://${USER}@${HOST}:${port}/${DATABASE}`;
        say(`ready: ${url}`);
        return { url, stop: c.stop, version, port, dir };
      }
      if (c.stopping) throw aborted();
      const exited = server.exitCode !== null || server.signalCode !== null;
      const logText = readLog(logFile);
      if (exited && attempt < 3 && /could not bind|address already in use/i.test(logText)) {
        say(`port ${port} was taken, retrying`);
        continue;
      }
      const why = exited
        ? `postgres exited (${server.signalCode ?? `code ${server.exitCode}`}) before accepting connections`
        : `postgres did not accept connections on ${HOST}:${port} within ${READY_TIMEOUT_MS / 1000} s`;
      throw new Error(`${why}. Server log:\n${tail(logText) || '(empty)'}`);
    }
  } catch (err) {
    await c.stop();
    throw err;
  }
}

// `node scripts/postgres.mjs`: start a cluster, print its URL, stop on Ctrl-C.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let pg;
  try {
    pg = await startPostgres({ log: (m) => console.error(`[postgres] ${m}`) });
  } catch (err) {
    console.error(`[postgres] ${err.message}`);
    process.exit(1);
  }
  console.log(pg.url);
  console.error(`[postgres] ${pg.version}; Ctrl-C to stop and remove it`);
  setInterval(() => {}, 1 << 30); // stay alive until a signal
}
