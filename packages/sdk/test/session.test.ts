/** The session file (modes, atomic replacement, damage) and the cross-process session lock. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { configDir, readSession, removeSession, sessionPath, writeSession, type Session } from '../src/session.js';
import { LOCK_STALE_MS, lockPath, withSessionLock } from '../src/sessionLock.js';
import { NotSignedInError } from '../src/errors.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-sdk-session-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => path.join(root, `config-${++n}`, '.tessera');

const session: Session = {
  server: 'https://127.0.0.1:5080',
  tenantId: '00000000-0000-4000-8000-000000000001',
  username: 'ada@tessera.local',
  objectId: '00000000-0000-4000-8000-000000000002',
  clientId: '3c8a5a4e-0f7d-4b8e-9d3a-7e2b1c6f9a01',
  refreshToken: 'tsrt_example',
  tokens: { 'api://tessera/management': { accessToken: 'eyJ.example', expiresOn: 2_000_000_000 } },
};

describe('the session file', () => {
  test('is written 0600 in a directory created 0700, and read back', async () => {
    const dir = freshDir();
    await writeSession(dir, session);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    assert.equal(fs.statSync(sessionPath(dir)).mode & 0o777, 0o600);
    assert.deepEqual(await readSession(dir), session);
  });

  test('is replaced whole, leaving no temporary files behind', async () => {
    const dir = freshDir();
    await Promise.all(Array.from({ length: 20 }, (_, i) => writeSession(dir, { ...session, refreshToken: `tsrt_${i}` })));
    assert.deepEqual(fs.readdirSync(dir), ['session.json']);
    assert.match((await readSession(dir))!.refreshToken, /^tsrt_\d+$/);
  });

  test('is undefined when absent, and removable', async () => {
    const dir = freshDir();
    assert.equal(await readSession(dir), undefined);
    await writeSession(dir, session);
    assert.equal(await removeSession(dir), true);
    assert.equal(await removeSession(dir), false);
  });

  test('when damaged, reading it says so and how to recover', async () => {
    const dir = freshDir();
    await writeSession(dir, session);
    fs.writeFileSync(sessionPath(dir), '{"server": "https://x", "refreshTok');
    await assert.rejects(readSession(dir), (err: unknown) => err instanceof NotSignedInError && /damaged: run tessera login/.test(err.message) && err.message.includes(sessionPath(dir)));
    fs.writeFileSync(sessionPath(dir), JSON.stringify({ ...session, refreshToken: 42 }));
    await assert.rejects(readSession(dir), NotSignedInError);
  });

  test('that others may read or write is refused, as ssh refuses such a key, and says how to fix it', async () => {
    const dir = freshDir();
    await writeSession(dir, session);
    for (const mode of [0o644, 0o640, 0o604, 0o620, 0o602]) {
      fs.chmodSync(sessionPath(dir), mode);
      await assert.rejects(readSession(dir), (err: unknown) => {
        assert.ok(err instanceof NotSignedInError);
        assert.ok(err.message.includes(`permissions are ${mode.toString(8).padStart(4, '0')}`), err.message);
        assert.ok(err.message.includes(`chmod 600 ${sessionPath(dir)}`));
        assert.ok(!err.message.includes(session.refreshToken));
        return true;
      });
    }
    fs.chmodSync(sessionPath(dir), 0o600);
    assert.deepEqual(await readSession(dir), session);
    fs.chmodSync(sessionPath(dir), 0o400);
    assert.deepEqual(await readSession(dir), session, 'read-only for the owner is protected enough');
  });

  // Giving a file away needs root: the suite runs as root (as CI does).
  test('that belongs to another user is refused', async () => {
    const dir = freshDir();
    await writeSession(dir, session);
    fs.chownSync(sessionPath(dir), 65534, 65534);
    await assert.rejects(readSession(dir), (err: unknown) => err instanceof NotSignedInError && /belongs to another user \(uid 65534\)/.test(err.message));
  });

  test('with a selected subscription keeps it; a subscription that is not a GUID is damage', async () => {
    const dir = freshDir();
    const chosen = { ...session, subscriptionId: '7d1c2f4e-9a6b-4c3d-8e2f-1a0b9c8d7e6f' };
    await writeSession(dir, chosen);
    assert.deepEqual(await readSession(dir), chosen);
    await writeSession(dir, { ...session, subscriptionId: "x'; drop table" });
    await assert.rejects(readSession(dir), (err: unknown) => err instanceof NotSignedInError && /damaged/.test(err.message));
  });

  test('lives in TESSERA_CONFIG_DIR, else ~/.tessera; an explicit directory wins', () => {
    const saved = process.env.TESSERA_CONFIG_DIR;
    try {
      delete process.env.TESSERA_CONFIG_DIR;
      assert.equal(configDir(), path.join(os.homedir(), '.tessera'));
      process.env.TESSERA_CONFIG_DIR = '/srv/tessera-config';
      assert.equal(configDir(), '/srv/tessera-config');
      assert.equal(configDir('/elsewhere'), '/elsewhere');
    } finally {
      if (saved === undefined) delete process.env.TESSERA_CONFIG_DIR;
      else process.env.TESSERA_CONFIG_DIR = saved;
    }
  });
});

describe('the session lock', () => {
  test('lets one holder in at a time', async () => {
    const dir = freshDir();
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 6 }, () =>
        withSessionLock(dir, async () => {
          most = Math.max(most, ++inside);
          await sleep(15);
          inside--;
        }),
      ),
    );
    assert.equal(most, 1);
    assert.ok(!fs.existsSync(lockPath(dir)), 'released at the end');
  });

  test('is released when the holder throws', async () => {
    const dir = freshDir();
    await assert.rejects(withSessionLock(dir, async () => Promise.reject(new Error('refresh failed'))), /refresh failed/);
    assert.equal(await withSessionLock(dir, async () => 'next'), 'next');
  });

  test('waits for a live lock held by another process', async () => {
    const dir = freshDir();
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(lockPath(dir), '99999 someone else\n');
    let ran = false;
    const waiting = withSessionLock(dir, async () => (ran = true));
    await sleep(150);
    assert.equal(ran, false);
    fs.rmSync(lockPath(dir));
    await waiting;
    assert.equal(ran, true);
  });

  test(`breaks a lock untouched for ${LOCK_STALE_MS / 1000} s (its holder crashed)`, async () => {
    const dir = freshDir();
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(lockPath(dir), '99999 crashed\n');
    const past = new Date(Date.now() - LOCK_STALE_MS - 5_000);
    fs.utimesSync(lockPath(dir), past, past);
    const started = Date.now();
    assert.equal(await withSessionLock(dir, async () => 'ran'), 'ran');
    // Broken at once, not waited out: waiting would take the stale age (30 s) or more; a
    // third of it leaves room for a loaded machine.
    const waited = Date.now() - started;
    assert.ok(waited < LOCK_STALE_MS / 3, `took ${waited} ms`);
  });
});
