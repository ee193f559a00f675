/**
 * Writing a credential to a file the user named (`--token-file`): mode 0600 from the
 * start (a temporary file in the same folder, renamed over the target), so it is never
 * readable by others, not even for a moment, and never half-written.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { writePrivateFile } from '@tessera/sdk';
import { UsageError } from './usageError.js';

/** Checks, before anything is created at the server, that `file` can be written: its folder exists and it is not a folder. */
export async function checkSecretFileTarget(file: string, option: string): Promise<string> {
  const target = path.resolve(file);
  const dir = await fs.stat(path.dirname(target)).catch(() => undefined);
  if (!dir?.isDirectory()) throw new UsageError(`${option}: the folder ${path.dirname(target)} does not exist.`);
  if ((await fs.stat(target).catch(() => undefined))?.isDirectory()) throw new UsageError(`${option}: ${target} is a folder.`);
  return target;
}

/** Writes `secret` and a line break to `file`, mode 0600, replacing what was there. */
export function writeSecretFile(file: string, secret: string): Promise<void> {
  return writePrivateFile(file, `${secret}\n`);
}
