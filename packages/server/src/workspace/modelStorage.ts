/**
 * Content-addressed storage of model files under `modelDir` (a directory several replicas
 * may share):
 *
 *   tmp/<uuid>                      a file being received
 *   blobs/<sha256[0..2]>/<sha256>   a file's bytes, read-only, stored once whatever names it
 *   trees/<version sha256>/…        a version laid out for runtimes (hard links to blobs)
 *
 * A blob's lifetime is decided in the store, not on disk. Its `model_blobs` row is the lock
 * its writers and its collector share:
 *
 * - An upload streams a file to tmp/ while hashing it, then in one transaction upserts the
 *   blob's row (waiting while a collector holds it) and inserts a claim; only then does it
 *   rename the file into place (or drop its copy when the blob is already there). The
 *   version's commit inserts its file rows and deletes its claims in one transaction, so a
 *   blob is never, even for an instant, both unreferenced and unclaimed while in use.
 * - The collector locks the row (`FOR UPDATE` on PostgreSQL; SQLite runs one transaction
 *   at a time), checks that no file row and no live claim names the blob, then deletes the
 *   row and unlinks the file before it commits. A claim racing it therefore either lands
 *   first (and the collector keeps the blob) or waits for the commit, after which the
 *   blob is gone and the upload puts its own copy in place.
 * - A blob with no row is never removed: an upload may be creating the row right now.
 *
 * A replica that dies mid-upload leaves a claim; claims older than {@link CLAIM_TTL_MS}
 * (far beyond the server's request timeout) no longer protect a blob.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Store } from '../store/db.js';
import type { Clock } from '../clock.js';
import { TesseraError } from '../errors.js';

/** A claim older than this is a leftover of a crashed upload. */
export const CLAIM_TTL_MS = 6 * 3600_000;

/** What one stored file turned out to be. */
export interface StoredBlob {
  sha256: string;
  size: number;
}

const SHA256 = /^[0-9a-f]{64}$/;

/** Counts and hashes what passes through; fails with `tooLarge(bytes so far)` once more than `maxBytes` passed. */
class HashingLimit extends Transform {
  readonly hash = crypto.createHash('sha256');
  size = 0;

  constructor(private readonly maxBytes: number, private readonly tooLarge: (size: number) => TesseraError) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null, data?: Buffer) => void): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      done(this.tooLarge(this.size));
      return;
    }
    this.hash.update(chunk);
    done(null, chunk);
  }
}

/** The blob store of one server; see the module comment for the protocol. */
export class ModelStorage {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** Absolute. */
    readonly dir: string,
  ) {}

  /** The path of a stored blob. */
  blobPath(sha256: string): string {
    if (!SHA256.test(sha256)) throw new Error('not a sha256');
    return path.join(this.dir, 'blobs', sha256.slice(0, 2), sha256);
  }

  /** The directory a version with this digest is laid out in. */
  treePath(sha256: string): string {
    if (!SHA256.test(sha256)) throw new Error('not a sha256');
    return path.join(this.dir, 'trees', sha256);
  }

  /**
   * Streams `source` into the store under a claim of `uploadId`; fails with `tooLarge`'s
   * error (given the bytes received) past `maxBytes`. Nothing is left in tmp/ whatever happens.
   */
  async write(uploadId: string, source: Readable, maxBytes: number, tooLarge: (size: number) => TesseraError): Promise<StoredBlob> {
    const tmpDir = path.join(this.dir, 'tmp');
    await fsp.mkdir(tmpDir, { recursive: true });
    const temp = path.join(tmpDir, crypto.randomUUID());
    const out = fs.createWriteStream(temp, { flags: 'wx', mode: 0o600 });
    try {
      const counter = new HashingLimit(maxBytes, tooLarge);
      await pipeline(source, counter, out);
      const blob = { sha256: counter.hash.digest('hex'), size: counter.size };
      await this.claim(uploadId, blob);
      const target = this.blobPath(blob.sha256);
      if (await exists(target)) return blob;
      await fsp.mkdir(path.dirname(target), { recursive: true });
      await fsp.chmod(temp, 0o444);
      // Atomic; another replica renaming the same content onto it is harmless.
      await fsp.rename(temp, target);
      return blob;
    } finally {
      // A write stream destroyed by a failed pipeline may still be opening its file: wait
      // until it is closed, or the file could appear after it was removed.
      if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
      await fsp.rm(temp, { force: true });
    }
  }

  /** Claims `blob` for `uploadId`, creating or locking its row first. */
  private async claim(uploadId: string, blob: StoredBlob): Promise<void> {
    const now = this.clock.now();
    await this.store.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('model_blobs')
        .values({ sha256: blob.sha256, size: blob.size, claimed_at: now })
        .onConflict((oc) => oc.column('sha256').doUpdateSet({ claimed_at: now }))
        .execute();
      await trx.insertInto('model_blob_claims').values({ id: crypto.randomUUID(), upload_id: uploadId, sha256: blob.sha256, created_at: now }).execute();
    });
  }

  /** Drops the claims of an upload that failed, and the blobs nothing else holds. */
  async abandon(uploadId: string): Promise<void> {
    const claims = await this.store.db.selectFrom('model_blob_claims').select('sha256').where('upload_id', '=', uploadId).execute();
    await this.store.db.deleteFrom('model_blob_claims').where('upload_id', '=', uploadId).execute();
    await this.collect(claims.map((c) => c.sha256));
  }

  /** Removes those of `candidates` that no version references and no live upload claims. */
  async collect(candidates: Iterable<string>): Promise<void> {
    for (const sha256 of new Set(candidates)) await this.collectOne(sha256);
  }

  private async collectOne(sha256: string): Promise<void> {
    const liveSince = this.clock.now() - CLAIM_TTL_MS;
    await this.store.db.transaction().execute(async (trx) => {
      const select = trx.selectFrom('model_blobs').select('sha256').where('sha256', '=', sha256);
      const row = await (this.store.kind === 'postgres' ? select.forUpdate() : select).executeTakeFirst();
      if (!row) return;
      const referenced = await trx.selectFrom('model_files').select('version_id').where('sha256', '=', sha256).limit(1).executeTakeFirst();
      if (referenced) return;
      const claimed = await trx.selectFrom('model_blob_claims').select('id').where('sha256', '=', sha256).where('created_at', '>', liveSince).limit(1).executeTakeFirst();
      if (claimed) return;
      await trx.deleteFrom('model_blob_claims').where('sha256', '=', sha256).execute();
      await trx.deleteFrom('model_blobs').where('sha256', '=', sha256).execute();
      // Still under the row lock: a claim waiting on it sees the file gone and writes its own.
      await fsp.rm(this.blobPath(sha256), { force: true });
    });
  }

  /**
   * Lays files out under trees/<digest>/ (hard links to the blobs, copies where the file
   * system refuses links) and returns the tree's path. A folder tree is built aside and
   * renamed into place, so it is complete or absent; a file is linked atomically.
   */
  async layOut(digest: string, files: readonly { path: string; sha256: string }[], single: boolean): Promise<string> {
    const root = this.treePath(digest);
    if (single) {
      const target = path.join(root, files[0]!.path);
      if (!(await exists(target))) {
        await fsp.mkdir(root, { recursive: true });
        await this.place(files[0]!.sha256, target);
      }
      return target;
    }
    if (await exists(root)) return root;
    const building = path.join(this.dir, 'trees', `.building-${crypto.randomUUID()}`);
    try {
      for (const file of files) {
        const target = path.join(building, ...file.path.split('/'));
        await fsp.mkdir(path.dirname(target), { recursive: true });
        await this.place(file.sha256, target);
      }
      try {
        await fsp.rename(building, root);
      } catch (err) {
        // Another caller finished first: its tree is the same.
        if (!isErrno(err, 'ENOTEMPTY') && !isErrno(err, 'EEXIST')) throw err;
      }
      return root;
    } finally {
      await fsp.rm(building, { recursive: true, force: true });
    }
  }

  /** Removes the tree of a digest no version has any more. */
  async removeTree(digest: string): Promise<void> {
    await fsp.rm(this.treePath(digest), { recursive: true, force: true });
  }

  /** Links (or, failing that, copies) a blob to `target`; an existing target is kept. */
  private async place(sha256: string, target: string): Promise<void> {
    const blob = this.blobPath(sha256);
    try {
      await fsp.link(blob, target);
      return;
    } catch (err) {
      if (isErrno(err, 'EEXIST')) return;
      if (!isErrno(err, 'EXDEV') && !isErrno(err, 'EPERM') && !isErrno(err, 'EMLINK') && !isErrno(err, 'ENOTSUP')) throw err;
    }
    const temp = `${target}.${crypto.randomUUID()}.tmp`;
    try {
      await fsp.copyFile(blob, temp);
      await fsp.chmod(temp, 0o444);
      await fsp.rename(temp, target);
    } finally {
      await fsp.rm(temp, { force: true });
    }
  }
}

function isErrno(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === code;
}

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.access(p);
    return true;
  } catch {
    return false;
  }
}
