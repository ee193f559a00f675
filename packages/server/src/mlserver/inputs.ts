/**
 * A consume body checked against the service's declared inputs, before any code runs:
 * exactly the declared names, each value of its declared type as JSON carries it.
 *
 * | ML Server type | JSON |
 * |---|---|
 * | numeric | a number |
 * | integer | a whole number |
 * | logical | true or false |
 * | character | a string |
 * | vector | an array of numbers, strings, booleans or nulls |
 * | matrix | an array of equally long rows, each such an array |
 * | data.frame | an object of equally long column arrays, or an array of records (objects) |
 */
import { TesseraError } from '../errors.js';
import { objectBody } from '../validation/jsonFields.js';
import type { ParameterDefinition } from '../scoring/runtimes/types.js';

type Scalar = number | string | boolean | null;

function isScalar(value: unknown): value is Scalar {
  return value === null || typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean';
}

function isVector(value: unknown): value is Scalar[] {
  return Array.isArray(value) && value.every(isScalar);
}

function isMatrix(value: unknown): boolean {
  if (!Array.isArray(value) || !value.every(isVector)) return false;
  const rows = value as Scalar[][];
  return rows.every((row) => row.length === rows[0]!.length);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isDataFrame(value: unknown): boolean {
  if (Array.isArray(value)) return value.every((row) => isRecord(row) && Object.values(row).every(isScalar));
  if (!isRecord(value)) return false;
  const columns = Object.values(value);
  return columns.every(isVector) && columns.every((c) => (c as Scalar[]).length === (columns[0] as Scalar[]).length);
}

const CHECKS: Record<string, { ok: (v: unknown) => boolean; expected: string }> = {
  numeric: { ok: (v) => typeof v === 'number', expected: 'a number' },
  integer: { ok: (v) => typeof v === 'number' && Number.isInteger(v), expected: 'a whole number' },
  logical: { ok: (v) => typeof v === 'boolean', expected: 'true or false' },
  character: { ok: (v) => typeof v === 'string', expected: 'a string' },
  vector: { ok: isVector, expected: 'an array of numbers, strings, booleans or nulls' },
  matrix: { ok: isMatrix, expected: 'an array of equally long rows (arrays of numbers, strings, booleans or nulls)' },
  'data.frame': { ok: isDataFrame, expected: 'an object of equally long column arrays, or an array of records' },
};

/**
 * Throws 400 unless `body` is an object holding exactly the declared inputs, each of its type.
 * @example checkInputs({ x: 1.5 }, [{ name: 'x', type: 'numeric' }])
 */
export function checkInputs(body: unknown, declared: readonly ParameterDefinition[]): Record<string, unknown> {
  const given = objectBody(body, 'The request body (the input parameters)');
  const names = new Set(declared.map((d) => d.name));
  const unknown = Object.keys(given).filter((name) => !names.has(name));
  if (unknown.length > 0) {
    const listed = unknown.slice(0, 5).map((n) => (/^\w{1,64}$/.test(n) ? `'${n}'` : '(an unprintable name)'));
    throw new TesseraError('InvalidParameter', `Unknown input parameter${unknown.length === 1 ? '' : 's'} ${listed.join(', ')}; the service declares ${declared.map((d) => `'${d.name}'`).join(', ') || 'none'}.`);
  }
  const missing = declared.filter((d) => !Object.hasOwn(given, d.name));
  if (missing.length > 0) throw new TesseraError('InvalidParameter', `Missing input parameter${missing.length === 1 ? '' : 's'} ${missing.map((d) => `'${d.name}'`).join(', ')}.`);
  for (const d of declared) {
    const check = CHECKS[d.type];
    if (check && !check.ok(given[d.name])) throw new TesseraError('InvalidParameter', `The input parameter '${d.name}' is declared ${d.type}: send ${check.expected}.`);
  }
  return given;
}
