/**
 * A job's code as it travels: the files of a source directory, base64 by relative path
 * (`codeFiles`), without what is never code (node_modules, .git, __pycache__), and
 * refused whole past {@link MAX_CODE_BYTES} or {@link MAX_CODE_FILES}.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { RunError } from './errors.js';

/** What a job's code may weigh, its files' sizes summed (before base64). */
export const MAX_CODE_BYTES = 16 * 1024 * 1024;
/** How many files a job's code may have. */
export const MAX_CODE_FILES = 1000;
/** Folders left out wherever they are. */
export const SKIPPED_FOLDERS: readonly string[] = ['node_modules', '.git', '__pycache__'];

const MIB = 1024 * 1024;

/** The files under `root` as [relative path with '/', absolute path], sorted; symbolic links to files are followed, to folders not. */
async function filesUnder(root: string): Promise<[string, string][]> {
  const out: [string, string][] = [];
  const walk = async (dir: string, prefix: string) => {
    for (const entry of await fsp.readdir(dir, { withFileTypes: true })) {
      const abs = path.join(dir, entry.name);
      const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!SKIPPED_FOLDERS.includes(entry.name)) await walk(abs, rel);
      } else if (entry.isFile()) out.push([rel, abs]);
      else if (entry.isSymbolicLink() && (await fsp.stat(abs).catch(() => undefined))?.isFile()) out.push([rel, abs]);
    }
  };
  await walk(root, '');
  return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/**
 * The files of `sourceDirectory` as `codeFiles` (relative path → base64); a
 * {@link RunError} `InvalidSubmission` when it is not a folder or holds more than
 * {@link MAX_CODE_BYTES} (checked from the sizes, before anything is read).
 * @example const codeFiles = await codeFilesOf('./src');   // { 'train.py': 'aW1wb3J0…' }
 */
export async function codeFilesOf(sourceDirectory: string): Promise<Record<string, string>> {
  const root = path.resolve(sourceDirectory);
  const stat = await fsp.stat(root).catch(() => undefined);
  if (!stat) throw new RunError('InvalidSubmission', `The source directory ${root} does not exist.`);
  if (!stat.isDirectory()) throw new RunError('InvalidSubmission', `The source directory ${root} is not a folder.`);
  const files = await filesUnder(root);
  if (files.length > MAX_CODE_FILES) {
    throw new RunError('InvalidSubmission', `The source directory ${root} holds ${files.length} files, more than the ${MAX_CODE_FILES} a job's code may have (${SKIPPED_FOLDERS.join(', ')} are left out already): give a smaller source directory.`);
  }
  let total = 0;
  const sized: [string, string][] = [];
  for (const [rel, abs] of files) {
    total += (await fsp.stat(abs)).size;
    sized.push([rel, abs]);
    if (total > MAX_CODE_BYTES) {
      const all = await Promise.all(files.map(async ([, a]) => (await fsp.stat(a)).size));
      const sum = all.reduce((x, y) => x + y, 0);
      throw new RunError(
        'InvalidSubmission',
        `The source directory ${root} holds ${(sum / MIB).toFixed(1)} MiB of files, more than the ${MAX_CODE_BYTES / MIB} MiB a job's code may have (${SKIPPED_FOLDERS.join(', ')} are left out already): move data out of it, or give a smaller source directory.`,
      );
    }
  }
  const codeFiles: Record<string, string> = {};
  for (const [rel, abs] of sized) codeFiles[rel] = (await fsp.readFile(abs)).toString('base64');
  return codeFiles;
}
