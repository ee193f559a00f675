/**
 * Microsoft Graph's `$filter` on the directory lists, in the exact-match forms Graph
 * clients send to find one principal (the Azure CLI resolves `--assignee` with the first
 * two):
 *
 *   userPrincipalName eq 'ada@tessera.local'
 *   servicePrincipalNames/any(c:c eq '<appId>')
 *   appId eq '…'   displayName eq '…'   id eq '…'
 *
 * Anything else is refused (400), never ignored: a client taking the first entry of a
 * list whose filter was dropped would act on the wrong principal.
 */
import { TesseraError } from '../errors.js';

export interface GraphFilter {
  /** The property compared (`servicePrincipalNames` for the `any()` form). */
  property: string;
  value: string;
}

// OData string literals double a quote to escape it.
const LITERAL = "'((?:[^']|'')*)'";
const EQ = new RegExp(`^\\s*([A-Za-z]+)\\s+eq\\s+${LITERAL}\\s*$`);
const ANY = new RegExp(`^\\s*servicePrincipalNames/any\\(\\s*([A-Za-z]\\w*)\\s*:\\s*\\1\\s+eq\\s+${LITERAL}\\s*\\)\\s*$`);

/** Parses `$filter`; undefined when absent. `allowed` are the properties this list filters on. */
export function parseGraphFilter(raw: string | undefined, allowed: readonly string[]): GraphFilter | undefined {
  if (raw === undefined) return undefined;
  const any = raw.length <= 1024 ? ANY.exec(raw) : null;
  const eq = any || raw.length > 1024 ? null : EQ.exec(raw);
  const filter = any ? { property: 'servicePrincipalNames', value: any[2]! } : eq ? { property: eq[1]!, value: eq[2]! } : undefined;
  const property = filter && allowed.find((p) => p.toLowerCase() === filter.property.toLowerCase());
  if (!filter || !property) {
    const forms = allowed.map((p) => (p === 'servicePrincipalNames' ? "servicePrincipalNames/any(c:c eq '…')" : `${p} eq '…'`));
    throw new TesseraError('InvalidParameter', `This $filter is not supported here: use ${forms.join(', ')}.`);
  }
  return { property, value: filter.value.replace(/''/g, "'") };
}

/**
 * The list a filter names: at most one entry, since every filtered property is unique.
 * `find` looks the value up as an id or name; `valueOf` reads the property from the
 * view, which must equal the value (without regard to case, as Graph compares names).
 */
export async function filterOne<V>(filter: GraphFilter, find: (value: string) => Promise<V | undefined>, valueOf: (view: V, property: string) => string | undefined): Promise<V[]> {
  const found = await find(filter.value);
  return found !== undefined && valueOf(found, filter.property)?.toLowerCase() === filter.value.toLowerCase() ? [found] : [];
}

/** For `.catch()` on a lookup that throws ResourceNotFound: no entry, rather than an error. */
export function absentWhenNotFound(err: unknown): undefined {
  if (err instanceof TesseraError && err.code === 'ResourceNotFound') return undefined;
  throw err;
}
