/**
 * Brute-force protection for password sign-in. Failures are counted per account (a known
 * user by tenant and object id; an unknown name by tenant and a keyed hash of the name,
 * so the answer never reveals which names exist and a password typed into the name box
 * is never stored) and per source address (IPv6 by its /64). Past a threshold each
 * further attempt must wait a doubling delay (429 + Retry-After); past a second one the
 * key is locked for a while, until it lapses or an admin clears it. Counts live in the
 * store, so every replica sees them; and each key may have only a few password checks
 * running at once per replica, so a burst of parallel guesses cannot all slip past the
 * count before the first failure is written.
 */
import crypto from 'node:crypto';
import net from 'node:net';
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
  /** The user the key counts, when it is a known account. */
  userId: string | null;
  failures: number;
  lastFailure: string;
  lockedUntil: string | null;
}

/** The first 64 bits of an IPv6 address, as `a:b:c:d::/64`. */
function ipv6Prefix(ip: string): string {
  const bare = ip.split('%')[0]!;
  const [head = '', tail] = bare.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `${groups.slice(0, 4).map((g) => parseInt(g || '0', 16).toString(16)).join(':')}::/64`;
}

/** The throttle key of a source address: IPv4 as is (also when IPv4-mapped), IPv6 by /64. */
export function addressKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return `address:${mapped[1]}`;
  return net.isIPv6(ip) ? `address:${ipv6Prefix(ip)}` : `address:${ip}`;
}

export class SigninThrottle {
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly policy: ThrottlePolicy,
    /** Keys the hash of unknown names; derived from the master key so every replica agrees. */
    private readonly nameHashKey: Buffer,
  ) {}

  /** The account key of a known user. */
  userKey(tenantId: string, userId: string): string {
    return `account:${tenantId}:${userId}`;
  }

  /** The account key of a name that matches no user. */
  unknownNameKey(tenantId: string, name: string): string {
    const digest = crypto.createHmac('sha256', this.nameHashKey).update(`${tenantId}\n${name.toLowerCase()}`).digest('base64url').slice(0, 22);
    return `account:${tenantId}:unknown-${digest}`;
  }

  /**
   * The key that counts wrong device user codes typed (a keyed hash: the typed text is
   * never stored). Guesses are also counted per address.
   */
  userCodeKey(typed: string): string {
    const digest = crypto.createHmac('sha256', this.nameHashKey).update(`user-code\n${typed.replace(/[\s-]/g, '').toUpperCase()}`).digest('base64url').slice(0, 22);
    return `usercode:${digest}`;
  }

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

  /**
   * Claims a password-check slot for both keys; returns the release function. Throws 429
   * when the account or the address already has its share of checks running here.
   */
  enter(keys: ThrottleKeys): () => void {
    const taken: string[] = [];
    const release = () => {
      for (const key of taken) {
        const n = (this.inFlight.get(key) ?? 1) - 1;
        if (n <= 0) this.inFlight.delete(key);
        else this.inFlight.set(key, n);
      }
    };
    for (const [key, rule] of [[keys.account, this.policy.account], [keys.address, this.policy.address]] as const) {
      const n = this.inFlight.get(key) ?? 0;
      if (n >= rule.maxInFlight) {
        release();
        throw new TesseraError('TooManyRequests', 'Another sign-in for this account or address is being checked: retry in a moment.', { aadCodes: [50196], retryAfter: 1 });
      }
      this.inFlight.set(key, n + 1);
      taken.push(key);
    }
    return release;
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

  /** Keys being delayed or locked now: a tenant's accounts and every address (all tenants' when none is given). */
  async list(tenantId?: string): Promise<LockoutView[]> {
    let query = this.store.db.selectFrom('signin_throttle').selectAll();
    if (tenantId !== undefined) query = query.where((eb) => eb.or([eb('key', 'like', `account:${tenantId}:%`), eb('key', 'like', 'address:%')]));
    const rows = await query.orderBy('last_failure_at', 'desc').limit(1000).execute();
    const now = this.clock.now();
    return rows
      .filter((r) => (r.locked_until ?? 0) > now || now - r.last_failure_at <= this.ruleFor(r.key).windowMs)
      .map((r) => {
        const account = /^account:[^:]+:([0-9a-f-]{36})(?::mfa)?$/.exec(r.key);
        return {
          key: r.key,
          userId: account ? account[1]! : null,
          failures: r.failures,
          lastFailure: new Date(r.last_failure_at).toISOString(),
          lockedUntil: r.locked_until !== null && r.locked_until > now ? new Date(r.locked_until).toISOString() : null,
        };
      });
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
