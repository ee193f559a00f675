/** Query parameters shared by list endpoints. */
import { TesseraError } from '../../errors.js';

export interface ListQuery {
  $top?: string;
  /** Graph's exact-match filters (identity/graphFilter.ts); others are refused. */
  $filter?: string;
}

const MAX_TOP = 999;

/** `$top` as Graph takes it: 1 to 999, default 999. */
export function topOf(query: ListQuery): number {
  const raw = query.$top;
  if (raw === undefined) return MAX_TOP;
  const n = typeof raw === 'string' && /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= MAX_TOP)) throw new TesseraError('InvalidParameter', `$top must be a whole number from 1 to ${MAX_TOP}.`);
  return n;
}
