/**
 * Azure's naming rules for the resource hierarchy, plus the field checks shared by the
 * resources' bodies (location, tags, free-form properties). Everything is refused before
 * it reaches a query: PostgreSQL fails on NUL in text, and names end up in messages.
 */
import { TesseraError } from '../errors.js';

const RESOURCE_GROUP_NAME = /^[-\p{L}\p{Mn}\p{Nd}\p{Pc}.()]{1,90}$/u;
const WORKSPACE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{2,32}$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CONTROL = /[\u0000-\u001f\u007f]/;
/** Control characters other than tab, newline and carriage return. */
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** Whether `value` is a GUID (any case). */
export function isGuid(value: string): boolean {
  return GUID.test(value);
}

/** Whether `value` holds a control character. */
export function hasControl(value: string): boolean {
  return CONTROL.test(value);
}

/** `value` quoted for a message when it is short and plain; otherwise a neutral phrase, so hostile input is never echoed. */
export function shown(value: string): string {
  return /^[\w.()@ -]{1,90}$/u.test(value) ? `'${value}'` : 'given';
}

/** Whether `name` is a valid resource group name: 1 to 90 letters, digits, `-_.()`, not ending in a dot. */
export function isResourceGroupName(name: string): boolean {
  return RESOURCE_GROUP_NAME.test(name) && !name.endsWith('.');
}

/** Throws 400 unless `name` is a valid resource group name. */
export function checkResourceGroupName(name: string): string {
  if (!isResourceGroupName(name)) {
    throw new TesseraError(
      'InvalidParameter',
      `The resource group name ${shown(name)} is invalid: use 1 to 90 letters, digits, underscores, hyphens, periods or parentheses, not ending in a period.`,
    );
  }
  return name.normalize('NFC');
}

/** Throws 400 unless `name` is a valid workspace name. */
export function checkWorkspaceName(name: string): string {
  if (!WORKSPACE_NAME.test(name)) {
    throw new TesseraError(
      'InvalidParameter',
      `The workspace name ${shown(name)} is invalid: use 3 to 33 letters, digits, underscores or hyphens, starting with a letter or digit.`,
    );
  }
  return name;
}

/** Throws 400 unless `id` is a GUID; returns it lower-cased. */
export function checkGuid(id: string, what: string): string {
  if (!isGuid(id)) throw new TesseraError('InvalidParameter', `The ${what} ${shown(id)} is not a valid GUID.`);
  return id.toLowerCase();
}

/** A location as ARM normalizes it: `West US` becomes `westus`. */
export function checkLocation(value: unknown, field = 'location'): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9 _-]{0,63}$/.test(value)) {
    throw new TesseraError('InvalidParameter', `The field '${field}' must be a location name such as 'westeurope' (letters, digits, spaces or hyphens, at most 64).`);
  }
  return value.toLowerCase().replace(/[\s_-]+/g, '');
}

/** Tags: at most 50, names 1 to 512 characters without `<>%&\?/`, values at most 256, no control characters. */
export function checkTags(value: unknown, field = 'tags'): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new TesseraError('InvalidParameter', `The field '${field}' must be an object of string values.`);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 50) throw new TesseraError('InvalidParameter', `The field '${field}' may hold at most 50 tags.`);
  const tags: Record<string, string> = {};
  for (const [name, tagValue] of entries) {
    if (name.length < 1 || name.length > 512 || CONTROL.test(name) || /[<>%&\\?/]/.test(name)) {
      throw new TesseraError('InvalidParameter', `A tag name in '${field}' is invalid: use 1 to 512 characters without control characters or <>%&\\?/.`);
    }
    if (typeof tagValue !== 'string' || tagValue.length > 256 || CONTROL.test(tagValue)) {
      throw new TesseraError('InvalidParameter', `The tag ${shown(name)} in '${field}' must have a string value of at most 256 printable characters.`);
    }
    tags[name] = tagValue;
  }
  return tags;
}

/**
 * Free-form JSON kept as given (a workspace's `properties`): an object, at most `maxBytes`
 * once serialized, no control characters in keys and none but tab/newline in strings.
 */
export function checkFreeForm(value: unknown, field: string, maxBytes = 32 * 1024): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new TesseraError('InvalidParameter', `The field '${field}' must be a JSON object.`);
  const problem = freeFormProblem(value);
  if (problem) throw new TesseraError('InvalidParameter', `The field '${field}' is not acceptable: ${problem}.`);
  if (Buffer.byteLength(JSON.stringify(value)) > maxBytes) throw new TesseraError('InvalidParameter', `The field '${field}' is larger than ${maxBytes / 1024} KB.`);
  return value as Record<string, unknown>;
}

/** Deeper values are refused (the body parser already stops at 32; this guards other callers). */
const MAX_FREE_FORM_DEPTH = 32;

function freeFormProblem(value: unknown, depth = 0): string | undefined {
  if (depth > MAX_FREE_FORM_DEPTH) return `it is nested more than ${MAX_FREE_FORM_DEPTH} levels deep`;
  if (typeof value === 'string') return CONTROL_IN_TEXT.test(value) ? 'a value holds a control character' : undefined;
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = freeFormProblem(item, depth + 1);
      if (problem) return problem;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key.length > 256 || CONTROL.test(key)) return 'a field name is longer than 256 characters or holds a control character';
      const problem = freeFormProblem(item, depth + 1);
      if (problem) return problem;
    }
  }
  return undefined;
}
