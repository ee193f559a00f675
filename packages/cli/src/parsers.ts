/** Option-value parsers: a bad value becomes a usage error (exit status 2) naming the option's rule. */
import { InvalidArgumentError } from 'commander';
import { normalizeServerUrl } from '@tessera/sdk';

/** `--top`: a whole number from 1 to 999. */
export function parseTop(value: string): number {
  if (!/^\d{1,3}$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('It must be a whole number from 1 to 999.');
  return Number(value);
}

/** `true` or `false`. */
export function parseBoolean(value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new InvalidArgumentError("It must be 'true' or 'false'.");
}

/** A server's base URL (http or https). */
export function parseServerUrl(value: string): string {
  try {
    return normalizeServerUrl(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}
