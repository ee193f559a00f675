/**
 * Shape checks for JSON request bodies: an object, known fields only (matched without
 * regard to case, as ARM reads JSON), each of the right type; every refusal names the
 * field. What the values mean is checked by the services. The http/ routes and the
 * services below them (workspace/, mlserver/) both use these, so they live here, below
 * http/, never in it.
 */
import { TesseraError } from '../errors.js';

const CONTROL = /[\u0000-\u001f\u007f]/;

/** `body` as a JSON object, or 400. */
export function objectBody(body: unknown, what = 'The request body'): Record<string, unknown> {
  if (body === undefined || body === null) throw new TesseraError('InvalidParameter', `${what} is missing: a JSON object was expected.`);
  if (typeof body !== 'object' || Array.isArray(body) || body instanceof Map) throw new TesseraError('InvalidParameter', `${what} must be a JSON object.`);
  return body as Record<string, unknown>;
}

/** A field name, safe to quote in a message. */
function fieldName(name: string): string {
  return /^[\w.$@-]{1,64}$/.test(name) ? `'${name}'` : 'with an unprintable or over-long name';
}

/**
 * Reads `obj`'s fields against `allowed` (canonical names), without regard to case;
 * an unknown or repeated field is a 400 naming it. Returns the values by canonical name.
 */
export function fields(obj: Record<string, unknown>, allowed: readonly string[], where: string): Record<string, unknown> {
  const canonical = new Map(allowed.map((a) => [a.toLowerCase(), a]));
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    const name = canonical.get(key.toLowerCase());
    if (name === undefined) throw new TesseraError('InvalidParameter', `${where} has an unknown field ${fieldName(key)}; the fields are ${allowed.map((a) => `'${a}'`).join(', ')}.`);
    if (name in out) throw new TesseraError('InvalidParameter', `${where} gives the field '${name}' more than once (in different cases).`);
    out[name] = value;
  }
  return out;
}

/** An optional string of at most `max` printable characters; null counts as absent. */
export function optionalString(value: unknown, field: string, max = 256, allowNewlines = false): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new TesseraError('InvalidParameter', `The field '${field}' must be a string.`);
  const control = allowNewlines ? /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/ : CONTROL;
  if ([...value].length > max || control.test(value)) throw new TesseraError('InvalidParameter', `The field '${field}' must be at most ${max} printable characters.`);
  return value;
}

/** A required string, as {@link optionalString}. */
export function requiredString(value: unknown, field: string, max = 256): string {
  const s = optionalString(value, field, max);
  if (s === undefined || s.trim() === '') throw new TesseraError('InvalidParameter', `The field '${field}' is required.`);
  return s;
}

/** An optional array of strings (absent or null gives []). */
export function stringList(value: unknown, field: string, maxItems = 200, maxLength = 1024): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new TesseraError('InvalidParameter', `The field '${field}' must be an array of strings.`);
  if (value.length > maxItems) throw new TesseraError('InvalidParameter', `The field '${field}' may hold at most ${maxItems} entries.`);
  for (const item of value) {
    if (typeof item !== 'string') throw new TesseraError('InvalidParameter', `The field '${field}' must hold only strings.`);
    if (item.length > maxLength || CONTROL.test(item)) throw new TesseraError('InvalidParameter', `An entry of '${field}' is longer than ${maxLength} characters or holds a control character.`);
  }
  return value as string[];
}

/** Throws 400 unless `value` is absent, null, or (when given) equal to `allowed`. */
export function onlyNull(value: unknown, field: string, why: string, allowed?: unknown): void {
  if (value === undefined || value === null || (allowed !== undefined && value === allowed)) return;
  throw new TesseraError('InvalidParameter', `The field '${field}' is not supported: ${why}.`);
}
