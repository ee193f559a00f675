/**
 * The four quota limits, their units, bounds and server defaults: shared by the
 * configuration (which reads the defaults from the environment), the admin API's schema
 * and {@link Quotas}. A limit is a whole number, or null for unlimited.
 */
import { TesseraError } from '../errors.js';

/** The limits, in the order they are shown. */
export const QUOTA_KEYS = ['services', 'workers', 'memoryGb', 'modelStorageBytes'] as const;
export type QuotaKey = (typeof QUOTA_KEYS)[number];

/** One value per limit; null = unlimited. */
export type QuotaLimits = Record<QuotaKey, number | null>;

/** An override: the limits it sets (a number, or null for unlimited); absent ones inherit. */
export type QuotaOverride = Partial<QuotaLimits>;

/** The two scopes a limit applies in. */
export type QuotaScopeKind = 'workspace' | 'principal';

/** Server-wide defaults, one set per scope kind (config `quotas`). */
export type QuotaPolicy = Record<QuotaScopeKind, QuotaLimits>;

/** A gibibyte: `memoryGb` and the `…_GB` settings count in these. */
export const GIB = 1024 ** 3;

/**
 * The largest value each limit may be set to: far past any one host, small enough that a
 * typo (or a hostile value) is refused rather than stored.
 */
export const QUOTA_MAXIMUM: Record<QuotaKey, number> = {
  services: 100_000,
  workers: 100_000,
  memoryGb: 1_000_000,
  modelStorageBytes: 2 ** 50,
};

/** The defaults when the environment sets none (per workspace; per principal the same). */
export const DEFAULT_QUOTA_LIMITS: QuotaLimits = { services: 50, workers: 64, memoryGb: 128, modelStorageBytes: 100 * GIB };

/** What each limit counts, for messages and the usage report. */
export const QUOTA_UNITS: Record<QuotaKey, { unit: 'Count' | 'GB' | 'Bytes'; label: string }> = {
  services: { unit: 'Count', label: 'web services' },
  workers: { unit: 'Count', label: 'workers' },
  memoryGb: { unit: 'GB', label: 'GB of memory' },
  modelStorageBytes: { unit: 'Bytes', label: 'bytes of model storage' },
};

function isQuotaKey(key: string): key is QuotaKey {
  return (QUOTA_KEYS as readonly string[]).includes(key);
}

/**
 * Checks an override as submitted: an object whose fields are among {@link QUOTA_KEYS},
 * each a whole number from 0 to its maximum or null (unlimited). 400 naming the field.
 * @example checkOverride({ workers: 8, services: null }) // { workers: 8, services: null }
 */
export function checkOverride(value: unknown, field = 'The body'): QuotaOverride {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TesseraError('InvalidParameter', `${field} must be a JSON object of limits: ${QUOTA_KEYS.join(', ')}.`);
  }
  const out: QuotaOverride = {};
  for (const [key, limit] of Object.entries(value)) {
    if (!isQuotaKey(key)) throw new TesseraError('InvalidParameter', `${field} may only set ${QUOTA_KEYS.join(', ')}; '${key.slice(0, 40)}' is none of them.`);
    if (limit !== null && !(typeof limit === 'number' && Number.isInteger(limit) && limit >= 0 && limit <= QUOTA_MAXIMUM[key])) {
      throw new TesseraError('InvalidParameter', `The limit '${key}' must be a whole number from 0 to ${QUOTA_MAXIMUM[key]}, or null for unlimited.`);
    }
    out[key] = limit;
  }
  return out;
}

/** `override` over `base`, limit by limit. */
export function applyOverride(base: QuotaLimits, override: QuotaOverride | undefined): QuotaLimits {
  const out = { ...base };
  if (override) for (const key of QUOTA_KEYS) if (key in override) out[key] = override[key] ?? null;
  return out;
}
