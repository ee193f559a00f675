/**
 * Multi-factor authentication: one TOTP authenticator per user and its ten recovery
 * codes. The secret is sealed under the master key (as signing keys are), bound to the
 * user's id, and is never shown again after enrollment; recovery codes are stored only as
 * keyed hashes and shown once. Nothing is stored until the user proves the app works by
 * typing a code, so an enrollment nobody finishes leaves no row. Guesses at sign-in are
 * throttled as passwords are (per account, under its own key, and per address), so six
 * digits cannot be walked through; each accepted code's step is recorded in the same
 * statement that accepts it, so a code works once even on two replicas at once.
 */
import crypto from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Store } from '../store/db.js';
import type { MfaTotpTable } from '../store/schema.js';
import type { Clock } from '../clock.js';
import type { MasterKey } from '../crypto/masterKey.js';
import { TesseraError } from '../errors.js';
import { addressKey, type SigninThrottle } from '../identity/throttle.js';
import { checkTotpCode, looksLikeTotpCode, newTotpSecret, otpauthUri } from './totp.js';
import { RECOVERY_CODE_COUNT, hashRecoveryCode, newRecoveryCode, normalizeRecoveryCode } from './recoveryCodes.js';

export type MfaTotpRow = Selectable<MfaTotpTable>;

/** How a second factor was given: a TOTP code (`otp`) or a recovery code (`rc`). */
export type MfaMethod = 'otp' | 'rc';

/** Who is enrolling or verifying. */
export interface MfaUser {
  id: string;
  tenant_id: string;
}

/** What an administrator may see of a user's MFA: never the secret or the codes. */
export interface MfaStatus {
  methodId: string;
  createdAt: number;
  lastUsedAt: number | null;
  recoveryCodesRemaining: number;
}

/** A secret offered for enrollment, not yet stored. */
export interface PendingEnrollment {
  secret: string;
  /** The `otpauth://` URI the QR code carries. */
  uri: string;
}

const SECRET_SHAPE = /^[A-Z2-7]{32}$/;

const wrongCode = () =>
  new TesseraError('InvalidMfaCode', 'That code is not right, or it was already used. Enter the current code from your authenticator app, or one of your recovery codes.', { aadCodes: [500121] });

export class Mfa {
  private readonly recoveryKey: Buffer;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly master: MasterKey,
    private readonly throttle: SigninThrottle,
    /** Ends the user's browser sessions and refresh-token chains (after a reset). */
    private readonly endSessions: (userId: string) => Promise<void>,
  ) {
    this.recoveryKey = master.derive('mfa-recovery-codes');
  }

  /** The throttle key that counts a user's wrong codes (apart from their wrong passwords). */
  throttleKey(user: MfaUser): string {
    return `${this.throttle.userKey(user.tenant_id, user.id)}:mfa`;
  }

  /** Whether the user has a confirmed authenticator. */
  async isEnrolled(userId: string): Promise<boolean> {
    const row = await this.store.db.selectFrom('mfa_totp').select('user_id').where('user_id', '=', userId).executeTakeFirst();
    return row !== undefined;
  }

  /** The user's MFA method and how many recovery codes are left, or undefined when none is set up. */
  async status(userId: string): Promise<MfaStatus | undefined> {
    const row = await this.store.db.selectFrom('mfa_totp').select(['method_id', 'created_at', 'last_used_at']).where('user_id', '=', userId).executeTakeFirst();
    if (!row) return undefined;
    const left = await this.store.db
      .selectFrom('mfa_recovery_codes')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .executeTakeFirstOrThrow();
    return { methodId: row.method_id, createdAt: Number(row.created_at), lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at), recoveryCodesRemaining: Number(left.n) };
  }

  /**
   * A new secret and its URI, for the enrollment page; nothing is stored until
   * {@link confirmEnrollment}.
   * @example mfa.newEnrollment('Tessera (contoso.com)', 'ada@contoso.com')
   */
  newEnrollment(issuer: string, account: string): PendingEnrollment {
    const secret = newTotpSecret();
    return { secret, uri: otpauthUri(secret, issuer, account) };
  }

  /**
   * Finishes an enrollment when `code` is right for `secret` now: stores the sealed
   * secret (the code's step counts as used) and ten new recovery codes, and returns the
   * codes, to be shown once. Returns undefined for a wrong code; throws Conflict when the
   * user already has an authenticator.
   */
  async confirmEnrollment(user: MfaUser, secret: string, code: string): Promise<string[] | undefined> {
    if (!SECRET_SHAPE.test(secret)) throw new Error('an enrollment secret has the wrong shape');
    const now = this.clock.now();
    const step = await checkTotpCode(secret, code, now, null);
    if (step === undefined) return undefined;
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => newRecoveryCode());
    const already = () => new TesseraError('Conflict', 'Multi-factor authentication is already set up for this account. An administrator can reset it.');
    try {
      await this.store.db.transaction().execute(async (trx) => {
        const existing = await trx.selectFrom('mfa_totp').select('user_id').where('user_id', '=', user.id).executeTakeFirst();
        if (existing) throw already();
        await trx
          .insertInto('mfa_totp')
          .values({
            user_id: user.id,
            tenant_id: user.tenant_id,
            method_id: crypto.randomUUID(),
            secret_sealed: this.master.seal(secret, sealContext(user.id)),
            created_at: now,
            last_step: step,
            last_used_at: now,
          })
          .execute();
        await trx.deleteFrom('mfa_recovery_codes').where('user_id', '=', user.id).execute();
        await trx
          .insertInto('mfa_recovery_codes')
          .values(codes.map((c) => ({ code_hash: hashRecoveryCode(this.recoveryKey, user.id, normalizeRecoveryCode(c)!), user_id: user.id, created_at: now, used_at: null })))
          .execute();
      });
    } catch (err) {
      if (err instanceof TesseraError) throw err;
      // Two confirmations at once: the second insert meets the first's primary key.
      if (await this.isEnrolled(user.id)) throw already();
      throw err;
    }
    return codes;
  }

  /**
   * The second factor at sign-in: a TOTP code or a recovery code, throttled. Returns how
   * it was given; throws InvalidMfaCode for a wrong, reused or out-of-window code, and
   * TooManyRequests or AccountLocked while the account or address is held back.
   */
  async verify(user: MfaUser, typed: string, address: string): Promise<MfaMethod> {
    const keys = { account: this.throttleKey(user), address: addressKey(address) };
    await this.throttle.check(keys);
    const release = this.throttle.enter(keys);
    try {
      const method = await this.check(user, typed.slice(0, 64));
      if (method !== undefined) {
        await this.throttle.recordSuccess(keys);
        return method;
      }
      await this.throttle.recordFailure(keys);
    } finally {
      release();
    }
    throw wrongCode();
  }

  /** Removes the user's authenticator and recovery codes and ends their sessions; returns whether there was one. */
  async reset(user: MfaUser): Promise<boolean> {
    const removed = await this.store.db.transaction().execute(async (trx) => {
      const result = await trx.deleteFrom('mfa_totp').where('user_id', '=', user.id).executeTakeFirst();
      await trx.deleteFrom('mfa_recovery_codes').where('user_id', '=', user.id).execute();
      return Number(result.numDeletedRows) > 0;
    });
    await this.throttle.clear(this.throttleKey(user));
    if (removed) await this.endSessions(user.id);
    return removed;
  }

  /** The method a right code was given by, or undefined; a right code is used up in the same statement. */
  private async check(user: MfaUser, typed: string): Promise<MfaMethod | undefined> {
    const row = await this.store.db.selectFrom('mfa_totp').selectAll().where('user_id', '=', user.id).executeTakeFirst();
    if (!row || row.tenant_id !== user.tenant_id) return undefined;
    const now = this.clock.now();
    if (looksLikeTotpCode(typed)) {
      const secret = this.master.open(row.secret_sealed, sealContext(user.id));
      const step = await checkTotpCode(secret, typed, now, row.last_step === null ? null : Number(row.last_step));
      if (step === undefined) return undefined;
      const claimed = await this.store.db
        .updateTable('mfa_totp')
        .set({ last_step: step, last_used_at: now })
        .where('user_id', '=', user.id)
        .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
        .executeTakeFirst();
      return Number(claimed.numUpdatedRows) === 1 ? 'otp' : undefined;
    }
    const canonical = normalizeRecoveryCode(typed);
    if (canonical === undefined) return undefined;
    const used = await this.store.db
      .updateTable('mfa_recovery_codes')
      .set({ used_at: now })
      .where('code_hash', '=', hashRecoveryCode(this.recoveryKey, user.id, canonical))
      .where('user_id', '=', user.id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (Number(used.numUpdatedRows) !== 1) return undefined;
    await this.store.db.updateTable('mfa_totp').set({ last_used_at: now }).where('user_id', '=', user.id).execute();
    return 'rc';
  }
}

/** The sealed secret is bound to its user: a row copied onto another user does not open. */
function sealContext(userId: string): string {
  return `tessera:mfa-totp:${userId}`;
}
