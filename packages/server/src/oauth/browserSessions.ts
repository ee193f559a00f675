/**
 * Browser sessions: what lets a second browser sign-in skip the password. The cookie is
 * `id.secret` (lucia's shape): the id finds the row, the secret's SHA-256 is compared in
 * constant time, so a leaked database row is not a usable cookie. A session ends when it
 * is unused for the idle limit, at the absolute limit after its sign-in, on sign-out, and
 * when the user's password changes or the account is disabled or deleted. Last use is
 * written back at most once a minute.
 */
import crypto from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Store } from '../store/db.js';
import type { BrowserSessionsTable } from '../store/schema.js';
import type { Clock } from '../clock.js';
import { formatAmr, type AuthMethod } from '../identity/authMethods.js';

export type BrowserSessionRow = Selectable<BrowserSessionsTable>;

export interface SessionLimits {
  idleMs: number;
  maxMs: number;
}

const TOUCH_EVERY_MS = 60_000;
const COOKIE_SHAPE = /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/;

function sha256(text: string): Buffer {
  return crypto.createHash('sha256').update(text, 'utf8').digest();
}

export class BrowserSessions {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly limits: SessionLimits,
  ) {}

  /** Starts a session after a sign-in made with `amr`; returns the row and the cookie value (shown to the browser only). */
  async create(tenantId: string, userId: string, amr: readonly AuthMethod[]): Promise<{ session: BrowserSessionRow; cookie: string }> {
    const id = crypto.randomBytes(16).toString('base64url');
    const secret = crypto.randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const session: BrowserSessionRow = {
      id,
      secret_hash: sha256(secret).toString('hex'),
      tenant_id: tenantId,
      user_id: userId,
      auth_time: now,
      created_at: now,
      last_seen_at: now,
      expires_at: now + this.limits.maxMs,
      revoked_at: null,
      amr: formatAmr(amr),
    };
    await this.store.db.insertInto('browser_sessions').values(session).execute();
    return { session, cookie: `${id}.${secret}` };
  }

  /** The live session a cookie names, or undefined (malformed, forged, revoked, idle or expired). */
  async find(cookie: string | undefined): Promise<BrowserSessionRow | undefined> {
    if (cookie === undefined || !COOKIE_SHAPE.test(cookie)) return undefined;
    const [id, secret] = cookie.split('.') as [string, string];
    const row = await this.store.db.selectFrom('browser_sessions').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const stored = Buffer.from(row.secret_hash, 'hex');
    const given = sha256(secret);
    if (stored.length !== given.length || !crypto.timingSafeEqual(stored, given)) return undefined;
    const now = this.clock.now();
    if (row.revoked_at !== null || row.expires_at <= now || now - row.last_seen_at >= this.limits.idleMs) return undefined;
    if (now - row.last_seen_at >= TOUCH_EVERY_MS) {
      await this.store.db.updateTable('browser_sessions').set({ last_seen_at: now }).where('id', '=', id).execute();
      row.last_seen_at = now;
    }
    return row;
  }

  async revoke(id: string): Promise<void> {
    await this.store.db.updateTable('browser_sessions').set({ revoked_at: this.clock.now() }).where('id', '=', id).where('revoked_at', 'is', null).execute();
  }

  /** Ends every browser session of a user. */
  async revokeUser(userId: string): Promise<void> {
    await this.store.db.updateTable('browser_sessions').set({ revoked_at: this.clock.now() }).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
  }

  /** Deletes sessions that can no longer be used. */
  async sweep(): Promise<void> {
    const now = this.clock.now();
    await this.store.db
      .deleteFrom('browser_sessions')
      .where((eb) => eb.or([eb('expires_at', '<', now), eb('last_seen_at', '<', now - this.limits.idleMs), eb('revoked_at', 'is not', null)]))
      .execute();
  }
}
