/**
 * The query string of ARM requests: `api-version` (any value is accepted, as every
 * version of the API is served the same way), OData `$filter` in the few forms ARM
 * documents for role assignments and definitions, and `path` (a model file to download).
 */
import { TesseraError } from '../../../errors.js';

export interface ArmQuery {
  apiVersion: string | undefined;
  filter: FilterClause[];
  /** `path`: the file of a model version (or a run's artifact) to download. */
  path: string | undefined;
  /** Every parameter by its lower-cased name (`experimentname`, `status`, `after`…). */
  params: Record<string, string>;
}

export type FilterClause =
  | { kind: 'atScope' }
  | { kind: 'principalId'; value: string }
  | { kind: 'assignedTo'; value: string }
  | { kind: 'roleName'; value: string }
  | { kind: 'type'; value: string };

const CONTROL = /[\u0000-\u001f\u007f]/;

/** Reads the query: one value per parameter, printable, at most 2048 characters. */
export function readQuery(raw: unknown): ArmQuery {
  const query: ArmQuery = { apiVersion: undefined, filter: [], path: undefined, params: {} };
  if (raw === null || typeof raw !== 'object') return query;
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const safeKey = /^[\w$.-]{1,64}$/.test(key) ? `'${key}'` : 'with an unprintable name';
    if (Array.isArray(value)) throw new TesseraError('InvalidParameter', `The query parameter ${safeKey} appears more than once.`);
    if (typeof value !== 'string' || CONTROL.test(key) || CONTROL.test(value) || key.length > 64 || value.length > 2048) {
      throw new TesseraError('InvalidParameter', `The query parameter ${safeKey} is too long or holds a control character.`);
    }
    const lower = key.toLowerCase();
    query.params[lower] = value;
    if (lower === 'api-version') query.apiVersion = value;
    else if (lower === '$filter') query.filter = parseFilter(value);
    else if (lower === 'path') query.path = value;
  }
  return query;
}

const CLAUSES: [RegExp, (m: RegExpExecArray) => FilterClause][] = [
  [/^atScope\(\s*\)/i, () => ({ kind: 'atScope' })],
  [/^principalId\s+eq\s+'([^']{0,64})'/i, (m) => ({ kind: 'principalId', value: m[1]! })],
  [/^assignedTo\(\s*'([^']{0,64})'\s*\)/i, (m) => ({ kind: 'assignedTo', value: m[1]! })],
  [/^roleName\s+eq\s+'((?:[^']|''){0,512})'/i, (m) => ({ kind: 'roleName', value: m[1]!.replace(/''/g, "'") })],
  [/^type\s+eq\s+'([^']{0,64})'/i, (m) => ({ kind: 'type', value: m[1]! })],
];

/** Parses `clause [and clause]…`; anything else is a 400 listing the forms understood. */
export function parseFilter(text: string): FilterClause[] {
  const out: FilterClause[] = [];
  let rest = text.trim();
  while (rest !== '') {
    let matched = false;
    for (const [re, make] of CLAUSES) {
      const m = re.exec(rest);
      if (!m) continue;
      out.push(make(m));
      rest = rest.slice(m[0].length);
      const and = /^\s+and\s+/i.exec(rest);
      if (and) rest = rest.slice(and[0].length);
      else if (rest.trim() !== '') rest = '\u0000';
      else rest = '';
      matched = true;
      break;
    }
    if (!matched) {
      throw new TesseraError(
        'InvalidParameter',
        "The $filter is not supported: use atScope(), principalId eq '{id}', assignedTo('{id}'), roleName eq '{name}' or type eq 'CustomRole', joined with 'and'.",
      );
    }
  }
  return out;
}

/** Throws 400 when `filter` holds a clause this list does not take. */
export function allowOnly(filter: FilterClause[], kinds: FilterClause['kind'][], what: string): void {
  const bad = filter.find((c) => !kinds.includes(c.kind));
  if (bad) throw new TesseraError('InvalidParameter', `The $filter clause '${bad.kind}' does not apply to ${what}; use ${kinds.join(', ')}.`);
}
