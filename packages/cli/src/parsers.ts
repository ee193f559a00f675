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

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A GUID (subscription id, object id, key id), lower-cased. */
export function parseGuid(value: string): string {
  if (!GUID.test(value)) throw new InvalidArgumentError('It must be a GUID such as 0f8fad5b-d9cb-469f-a165-70867728950e.');
  return value.toLowerCase();
}

/** `--subscription`: an id, or a name as `az account list` shows it (looked up when used). */
export function parseSubscription(value: string): string {
  const trimmed = value.trim();
  if (trimmed === '' || trimmed.length > 256 || /[\u0000-\u001f\u007f]/.test(trimmed)) {
    throw new InvalidArgumentError('It must be a subscription id or name (1 to 256 characters, no control characters).');
  }
  return GUID.test(trimmed) ? trimmed.toLowerCase() : trimmed;
}

/** A scope: `/` or a resource ID such as /subscriptions/{id}/resourceGroups/{name}. */
export function parseScope(value: string): string {
  if (!value.startsWith('/') || /[\u0000-\u001f\u007f?#]/.test(value) || /\/\/./.test(value) || value.length > 1024) {
    throw new InvalidArgumentError("It must be '/' or a resource ID such as /subscriptions/{id}/resourceGroups/{name}.");
  }
  return value === '/' ? value : value.replace(/\/+$/, '');
}

/** Several `--scopes`, as az takes them: each value one scope, or several separated by spaces. */
export function parseScopes(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(/\s+/).filter((s) => s !== '').map(parseScope)];
}

/** `--years`: how long a credential lives, a whole number of years from 1 to 99 (the server allows at most 2). */
export function parseYears(value: string): number {
  if (!/^\d{1,2}$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('It must be a whole number of years, at least 1.');
  return Number(value);
}

/** An ISO 8601 date or date-time, kept as written. */
export function parseDateTime(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) || !Number.isFinite(Date.parse(value))) {
    throw new InvalidArgumentError('It must be an ISO 8601 date or date-time, e.g. 2027-01-31 or 2027-01-31T12:00:00Z.');
  }
  return new Date(Date.parse(value)).toISOString();
}

/** `--tags a=b c=d` (az's form): each value one or more space-separated `key=value` pairs. */
export function parseTags(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const tags = { ...previous };
  for (const pair of value.split(/\s+/).filter((p) => p !== '')) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (key === '') throw new InvalidArgumentError('Each tag must be key=value (or key for an empty value).');
    tags[key] = eq < 0 ? '' : pair.slice(eq + 1);
  }
  return tags;
}
