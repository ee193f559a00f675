/**
 * Device codes (RFC 8628): the device code is 256 random bits behind `tsdc_`; the user
 * code is nine letters from a 20-letter alphabet without vowels (no words, no 0/O or
 * 1/I confusion): 20^9 ≈ 5·10^11 codes (39 bits), against which a guesser gets about a
 * hundred tries per address per quarter-hour before being locked out (identity/throttle.ts),
 * while a code lives 15 minutes. Both are stored as SHA-256 only. A code is pending until
 * the user approves or refuses it on the verification page, and can be redeemed once.
 */
import crypto from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Store } from '../store/db.js';
import { isUniqueViolation } from '../store/db.js';
import type { DeviceCodesTable } from '../store/schema.js';
import type { Clock } from '../clock.js';
import { PASSWORD_ONLY, formatAmr, type AuthMethod } from '../identity/authMethods.js';
import { TesseraError } from '../errors.js';
import { SecretPrefix, generateSecret, hashSecret, looksLikeSecret } from '../crypto/secrets.js';

export type DeviceCodeRow = Selectable<DeviceCodesTable>;

export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
export const USER_CODE_LENGTH = 9;

export interface NewDeviceCode {
  tenantId: string;
  clientId: string;
  /** The scope as asked (v2), or the resource (v1). */
  scope: string;
  v1: boolean;
}

export interface IssuedDeviceCode {
  deviceCode: string;
  userCode: string;
  expiresIn: number;
  interval: number;
}

/** A random user code. */
export function newUserCode(): string {
  let code = '';
  while (code.length < USER_CODE_LENGTH) {
    // Rejection sampling keeps every letter equally likely: 240 is the largest multiple of 20 below 256.
    for (const byte of crypto.randomBytes(16)) if (byte < 240 && code.length < USER_CODE_LENGTH) code += USER_CODE_ALPHABET[byte % 20];
  }
  return code;
}

/** A typed user code as stored: letters only, upper case (spaces and dashes people add are dropped). */
export function normalizeUserCode(typed: string): string | undefined {
  if (typed.length > 64) return undefined;
  const code = typed.replace(/[\s-]/g, '').toUpperCase();
  return code.length === USER_CODE_LENGTH && [...code].every((c) => USER_CODE_ALPHABET.includes(c)) ? code : undefined;
}

export class DeviceCodes {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly lifetimeMs: number,
    private readonly intervalSec: number,
  ) {}

  async create(input: NewDeviceCode): Promise<IssuedDeviceCode> {
    const now = this.clock.now();
    for (let attempt = 0; ; attempt++) {
      const deviceCode = generateSecret(SecretPrefix.deviceCode);
      const userCode = newUserCode();
      try {
        await this.store.db
          .insertInto('device_codes')
          .values({
            device_code_hash: hashSecret(deviceCode),
            user_code_hash: hashSecret(userCode),
            tenant_id: input.tenantId,
            client_id: input.clientId,
            scope: input.scope,
            v1: input.v1 ? 1 : 0,
            interval_sec: this.intervalSec,
            status: 'pending',
            user_id: null,
            session_id: null,
            chain_id: crypto.randomUUID(),
            auth_time: null,
            amr: formatAmr(PASSWORD_ONLY),
            last_poll_at: null,
            created_at: now,
            expires_at: now + this.lifetimeMs,
          })
          .execute();
        return { deviceCode, userCode, expiresIn: Math.round(this.lifetimeMs / 1000), interval: this.intervalSec };
      } catch (err) {
        // A user code still held by a live request: draw again (vanishingly rare).
        if (!isUniqueViolation(err) || attempt >= 3) throw err;
        await this.sweep();
      }
    }
  }

  /** The pending, unexpired request a typed user code names. */
  async findPending(typed: string): Promise<DeviceCodeRow | undefined> {
    const code = normalizeUserCode(typed);
    if (!code) return undefined;
    const row = await this.store.db.selectFrom('device_codes').selectAll().where('user_code_hash', '=', hashSecret(code)).executeTakeFirst();
    return row && row.status === 'pending' && row.expires_at > this.clock.now() ? row : undefined;
  }

  async byHash(deviceCodeHash: string): Promise<DeviceCodeRow | undefined> {
    return this.store.db.selectFrom('device_codes').selectAll().where('device_code_hash', '=', deviceCodeHash).executeTakeFirst();
  }

  /** Approves a pending request for a user; false when it is no longer pending. */
  async approve(deviceCodeHash: string, userId: string, sessionId: string | null, authTime: number, amr: readonly AuthMethod[]): Promise<boolean> {
    const result = await this.store.db
      .updateTable('device_codes')
      .set({ status: 'approved', user_id: userId, session_id: sessionId, auth_time: authTime, amr: formatAmr(amr) })
      .where('device_code_hash', '=', deviceCodeHash)
      .where('status', '=', 'pending')
      .where('expires_at', '>', this.clock.now())
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Refuses a pending request; false when it is no longer pending. */
  async decline(deviceCodeHash: string): Promise<boolean> {
    const result = await this.store.db.updateTable('device_codes').set({ status: 'declined' }).where('device_code_hash', '=', deviceCodeHash).where('status', '=', 'pending').executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * One poll of the token endpoint (RFC 8628 §3.5). Returns the approved request, spent;
   * otherwise throws authorization_pending, slow_down, authorization_declined,
   * expired_token, bad_verification_code or invalid_grant.
   */
  async poll(deviceCode: string, tenantId: string, clientId: string): Promise<DeviceCodeRow> {
    const bad = new TesseraError('BadVerificationCode', 'The device_code is not one this server issued.', { aadCodes: [70019] });
    if (!looksLikeSecret(deviceCode, SecretPrefix.deviceCode)) throw bad;
    const hash = hashSecret(deviceCode);
    const row = await this.byHash(hash);
    if (!row || row.tenant_id !== tenantId) throw bad;
    if (row.client_id !== clientId) throw new TesseraError('InvalidGrant', 'The device code was issued to another client.', { aadCodes: [70000] });
    const now = this.clock.now();
    if (row.status === 'redeemed') throw new TesseraError('InvalidGrant', 'The device code was already redeemed: start a new sign-in.', { aadCodes: [54005] });
    if (row.status === 'declined') throw new TesseraError('AuthorizationDeclined', 'The user refused the sign-in request.', { aadCodes: [70000] });
    if (row.expires_at <= now) throw new TesseraError('ExpiredToken', 'The device code expired before it was used: start a new sign-in.', { aadCodes: [70020] });
    if (row.status === 'approved') {
      const result = await this.store.db.updateTable('device_codes').set({ status: 'redeemed' }).where('device_code_hash', '=', hash).where('status', '=', 'approved').executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) throw new TesseraError('InvalidGrant', 'The device code was already redeemed: start a new sign-in.', { aadCodes: [54005] });
      return row;
    }
    // Pending. A client polling well inside the interval is told to slow down; one that keeps
    // to it (network delays make a gap a little shorter or longer) is told to wait.
    const minimumGapMs = Math.max(row.interval_sec * 1000 - 1000, row.interval_sec * 500);
    await this.store.db.updateTable('device_codes').set({ last_poll_at: now }).where('device_code_hash', '=', hash).execute();
    if (row.last_poll_at !== null && now - row.last_poll_at < minimumGapMs) {
      throw new TesseraError('SlowDown', `Polling too fast: wait at least ${row.interval_sec} seconds between requests.`, { aadCodes: [70016] });
    }
    throw new TesseraError('AuthorizationPending', 'The user has not finished signing in yet. Poll again after the interval.', { aadCodes: [70016] });
  }

  async sweep(): Promise<void> {
    await this.store.db.deleteFrom('device_codes').where('expires_at', '<', this.clock.now() - 3600_000).execute();
  }
}
