/**
 * Brute-force protection for password sign-in. Failures are counted per account name
 * (known or not, so the answer never reveals which names exist) and per source address.
 * Past a threshold each further attempt must wait a doubling delay (429 + Retry-After);
 * past a second one the key is locked for a while, until it lapses or an admin clears it.
 * State lives in the store, so every replica sees the same counts.
 */
import { sql } from 'kysely';
import type { Store } from '../store/db.js';
import type { Clock } from '../clock.js';
import type { ThrottlePolicy, ThrottleRule } from '../config.js';
import { TesseraError } from '../errors.js';

export interface ThrottleKeys {
  account: string;
  address: string;
}

export interface LockoutView {
  key: string;
  failures: number;
  lastFailure: string;
  lockedUntil: string | null;
}

/** The throttle key of a sign-in name. Control characters become '?' (PostgreSQL refuses NUL in text). */
export function accountKey(name: string): string {
  return `account:${name.toLowerCase().slice(0, 300).replace(/[\u0000-\u001f\u007f]/g, '?')}`;
}

export function addressKey(ip: string): string {
  return `address:${ip}`;
}

export class SigninThrottle {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly policy: ThrottlePolicy,
  ) {}

  /** Throws when the attempt must not proceed now. Call before checking the password. */
  async check(keys: ThrottleKeys): Promise<void> {
    const rows = await this.store.db.selectFrom('signin_throttle').selectAll().where('key', 'in', [keys.account, keys.address]).execute();
    const now = this.clock.now();
    for (const row of rows) {
      const rule = row.key === keys.account ? this.policy.account : this.policy.address;
      if (now - row.last_failure_at > rule.windowMs && (row.locked_until === null || row.locked_until <= now)) continue;
      if (row.locked_until !== null && row.locked_until > now) {
        const retryAfter = Math.ceil((row.locked_until - now) / 1000);
        if (row.key === keys.account) {
          throw new TesseraError('AccountLocked', 'The account is locked after too many failed sign-ins. Try again later, or ask an administrator to unlock it.', { aadCodes: [50053], retryAfter });
        }
        throw new TesseraError('TooManyRequests', 'Too many failed sign-ins from this address. Try again later.', { aadCodes: [50196], retryAfter });
      }
      const wait = nextAllowedAt(row.failures, row.last_failure_at, rule) - now;
      if (wait > 0) {
        throw new TesseraError('TooManyRequests', 'Too many failed sign-ins: wait before trying again.', { aadCodes: [50196], retryAfter: Math.ceil(wait / 1000) });
      }
    }
  }

  async recordFailure(keys: ThrottleKeys): Promise<void> {
    await this.bump(keys.account, this.policy.account);
    await this.bump(keys.address, this.policy.address);
  }

  /** A right password clears the account's count (not the address's: one good account must not launder an attacker's address). */
  async recordSuccess(keys: ThrottleKeys): Promise<void> {
    const now = this.clock.now();
    await this.store.db
      .deleteFrom('signin_throttle')
      .where('key', '=', keys.account)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
      .execute();
  }

  /** Clears a key's failures and lockout. Returns whether there was anything to clear. */
  async clear(key: string): Promise<boolean> {
    const result = await this.store.db.deleteFrom('signin_throttle').where('key', '=', key).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Keys that are locked or being delayed now. */
  async list(): Promise<LockoutView[]> {
    const rows = await this.store.db.selectFrom('signin_throttle').selectAll().orderBy('last_failure_at', 'desc').limit(1000).execute();
    const now = this.clock.now();
    return rows
      .filter((r) => (r.locked_until ?? 0) > now || now - r.last_failure_at <= this.ruleFor(r.key).windowMs)
      .map((r) => ({
        key: r.key,
        failures: r.failures,
        lastFailure: new Date(r.last_failure_at).toISOString(),
        lockedUntil: r.locked_until !== null && r.locked_until > now ? new Date(r.locked_until).toISOString() : null,
      }));
  }

  private ruleFor(key: string): ThrottleRule {
    return key.startsWith('account:') ? this.policy.account : this.policy.address;
  }

  private async bump(key: string, rule: ThrottleRule): Promise<void> {
    const now = this.clock.now();
    const staleBefore = now - rule.windowMs;
    // One atomic statement, so concurrent failures are all counted. A count whose last
    // failure fell out of the window (and is not locked) starts again at one.
    await this.store.db
      .insertInto('signin_throttle')
      .values({ key, failures: 1, last_failure_at: now, locked_until: null })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({
          failures: sql`case when signin_throttle.last_failure_at < ${staleBefore} and (signin_throttle.locked_until is null or signin_throttle.locked_until <= ${now}) then 1 else signin_throttle.failures + 1 end`,
          last_failure_at: now,
          locked_until: sql`case when signin_throttle.locked_until <= ${now} then null else signin_throttle.locked_until end`,
        }),
      )
      .execute();
    await this.store.db
      .updateTable('signin_throttle')
      .set({ locked_until: now + rule.lockoutMs })
      .where('key', '=', key)
      .where('failures', '>=', rule.lockoutAfter)
      .where('locked_until', 'is', null)
      .execute();
  }
}

function nextAllowedAt(failures: number, lastFailureAt: number, rule: ThrottleRule): number {
  if (failures < rule.delayAfter) return 0;
  const delay = Math.min(rule.baseDelayMs * 2 ** Math.min(failures - rule.delayAfter, 20), rule.maxDelayMs);
  return lastFailureAt + delay;
}
