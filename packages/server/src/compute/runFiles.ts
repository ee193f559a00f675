/**
 * A run's files under the run directory (shared by replicas, as the model directory is):
 *
 *   <runDir>/<run row id>/code/…        the code sent with the job, read by its node
 *   <runDir>/<run row id>/artifacts/…   what the run uploaded (its outputs/ at the end)
 *
 * Paths are checked (relative, no `..`) before they touch the disk; the store holds the
 * artifacts' list, so a half-written file is never listed.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TesseraError } from '../errors.js';
import { checkCodePath } from './jobCommand.js';

export const MAX_CODE_FILES = 1000;

export class RunFiles {
  constructor(
    private readonly root: string,
    /** Largest code (all files together), bytes. */
    readonly codeLimit: number,
    /** Largest artifact, bytes. */
    readonly artifactLimit: number,
  ) {}

  private dir(runRowId: string, kind: 'code' | 'artifacts'): string {
    return path.join(this.root, runRowId, kind);
  }

  /** Checks `codeFiles` (path → base64) from a job body; returns the decoded files. */
  decodeCode(value: unknown): Map<string, Buffer> {
    const files = new Map<string, Buffer>();
    if (value === undefined || value === null) return files;
    if (typeof value !== 'object' || Array.isArray(value)) throw new TesseraError('InvalidParameter', "The field 'properties.codeFiles' must be an object of relative paths to base64 contents.");
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length > MAX_CODE_FILES) throw new TesseraError('InvalidParameter', `A job's code may hold at most ${MAX_CODE_FILES} files.`);
    let total = 0;
    for (const [p, content] of entries) {
      const clean = checkCodePath(p, 'A code file path');
      if (typeof content !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(content)) throw new TesseraError('InvalidParameter', `The code file ${JSON.stringify(clean.slice(0, 80))} is not base64.`);
      const bytes = Buffer.from(content, 'base64');
      total += bytes.length;
      if (total > this.codeLimit) throw new TesseraError('RequestEntityTooLarge', `A job's code may be at most ${Math.floor(this.codeLimit / 1024 / 1024)} MiB.`);
      if ([...files.keys()].some((k) => k.startsWith(`${clean}/`) || clean.startsWith(`${k}/`))) throw new TesseraError('InvalidParameter', `The code file ${JSON.stringify(clean.slice(0, 80))} is both a file and a folder.`);
      files.set(clean, bytes);
    }
    return files;
  }

  async writeCode(runRowId: string, files: Map<string, Buffer>): Promise<void> {
    const dir = this.dir(runRowId, 'code');
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    for (const [p, bytes] of files) {
      const target = path.join(dir, p);
      await fsp.mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
      await fsp.writeFile(target, bytes, { mode: 0o600 });
    }
  }

  /** The code's files, relative path → bytes (for the node that runs it). */
  async readCode(runRowId: string): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    const dir = this.dir(runRowId, 'code');
    const walk = async (rel: string): Promise<void> => {
      let entries: fs.Dirent[];
      try {
        entries = await fsp.readdir(path.join(dir, rel), { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const p = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) await walk(p);
        else if (e.isFile()) out.set(p, await fsp.readFile(path.join(dir, p)));
      }
    };
    await walk('');
    return out;
  }

  /** Stores one artifact from a stream; 413 past the limit (nothing is kept then). */
  async writeArtifact(runRowId: string, artifactPath: string, stream: Readable): Promise<{ path: string; size: number; sha256: string }> {
    const clean = checkCodePath(artifactPath, 'An artifact path');
    const dir = this.dir(runRowId, 'artifacts');
    const target = path.join(dir, clean);
    await fsp.mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
    const temp = `${target}.${crypto.randomBytes(6).toString('hex')}.part`;
    const hash = crypto.createHash('sha256');
    let size = 0;
    const limit = this.artifactLimit;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > limit) {
          done(new TesseraError('RequestEntityTooLarge', `An artifact may be at most ${Math.floor(limit / 1024 / 1024)} MiB.`));
          return;
        }
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(stream, count, fs.createWriteStream(temp, { mode: 0o600 }));
      await fsp.rename(temp, target);
    } catch (err) {
      await fsp.rm(temp, { force: true });
      throw err;
    }
    return { path: clean, size, sha256: hash.digest('hex') };
  }

  /** Where an artifact's bytes are (it is listed in the store). */
  artifactFile(runRowId: string, artifactPath: string): string {
    return path.join(this.dir(runRowId, 'artifacts'), checkCodePath(artifactPath, 'An artifact path'));
  }

  async remove(runRowIds: readonly string[]): Promise<void> {
    for (const id of runRowIds) await fsp.rm(path.join(this.root, id), { recursive: true, force: true });
  }
}
