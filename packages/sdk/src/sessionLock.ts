/**
 * A lock file beside the session, so that two `tessera` processes never redeem the same
 * refresh token (the server would take the second redemption as theft and revoke the
 * session). Taken with an exclusive create; its holder touches it every few seconds, and
 * a lock untouched for {@link LOCK_STALE_MS} is taken to belong to a crashed process.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureConfigDir } from './session.js';

/** A lock older than this (by modification time) is broken. */
export const LOCK_STALE_MS = 30_000;
const HEARTBEAT_MS = 5_000;
/** Longest wait for another process's lock before giving up. */
const MAX_WAIT_MS = 2 * LOCK_STALE_MS;

/** The lock file's path in `dir`. */
export function lockPath(dir: string): string {
  return path.join(dir, 'session.lock');
}

async function tryCreate(file: string): Promise<boolean> {
  try {
    const handle = await fs.open(file, 'wx', 0o600);
    await handle.writeFile(`${process.pid} ${new Date().toISOString()}\n`);
    await handle.close();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Whether the lock at `file` has not been touched for {@link LOCK_STALE_MS}. */
async function isStale(file: string): Promise<boolean> {
  try {
    return Date.now() - (await fs.stat(file)).mtimeMs > LOCK_STALE_MS;
  } catch {
    return false; // gone already: the next create attempt will tell
  }
}

/**
 * Runs `fn` while holding the session lock of `dir`, across processes.
 * @example await withSessionLock(dir, async () => writeSession(dir, await rotate(await readSession(dir))))
 */
export async function withSessionLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  await ensureConfigDir(dir);
  const file = lockPath(dir);
  const deadline = Date.now() + MAX_WAIT_MS;
  let delay = 10;
  while (!(await tryCreate(file))) {
    if (await isStale(file)) {
      await fs.rm(file, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`Another tessera command holds the session lock ${file}. If none is running, delete that file.`);
    }
    await sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 200);
  }
  const heartbeat = setInterval(() => {
    const now = new Date();
    fs.utimes(file, now, now).catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(heartbeat);
    await fs.rm(file, { force: true });
  }
}
