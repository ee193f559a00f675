/**
 * Refresh tokens: opaque, 256-bit, prefixed `tsrt_`, stored as their SHA-256. Each use
 * rotates the token (the old one stops working); presenting an already-rotated token is
 * taken as theft and revokes its whole chain (RFC 9700 §4.14.2). Revocation is recorded
 * on the chain, so it also reaches a successor inserted while it happened. A token lives
 * 14 days from its issue (sliding) and no chain outlives 90 days from its first sign-in.
 */
import crypto from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Store } from '../store/db.js';
import type { RefreshTokensTable } from '../store/schema.js';
import type { Clock } from '../clock.js';
import { TesseraError } from '../errors.js';
import { SecretPrefix, generateSecret, hashSecret, looksLikeSecret } from '../crypto/secrets.js';
import { formatAmr, parseAmr, type AuthMethod } from '../identity/authMethods.js';

/** A refresh token, with how its chain's sign-in was made. */
export type RefreshTokenRow = Selectable<RefreshTokensTable> & { amr: AuthMethod[] };

export const REFRESH_IDLE_MS = 14 * 24 * 3600_000;
export const REFRESH_CHAIN_MS = 90 * 24 * 3600_000;

export interface NewRefreshToken {
  tenantId: string;
  userId: string;
  clientId: string;
  scope: string;
  /** Continue this chain (rotation); absent to start one (sign-in). */
  previous?: RefreshTokenRow | undefined;
  /** The id of a chain to start, chosen beforehand (a code records it, to revoke it if the code is replayed). */
  chainId?: string | undefined;
  /** The browser session the sign-in came through: signing out there ends the chain too. */
  sessionId?: string | null | undefined;
  /** The client authenticated when the chain began: refreshing it will need the credential too. */
  confidential?: boolean | undefined;
  /** How the sign-in that begins a chain was made (a rotation keeps the chain's). */
  amr?: readonly AuthMethod[] | undefined;
}

/** A token's row as read for a redemption, with its chain's state. */
type HeldToken = Selectable<RefreshTokensTable> & { chain_revoked_at: number | null; chain_confidential: number; chain_amr: string | null };

function rowOf(held: HeldToken): RefreshTokenRow {
  const { chain_revoked_at: _revoked, chain_confidential: _confidential, chain_amr, ...tokenRow } = held;
  return { ...tokenRow, amr: parseAmr(chain_amr) };
}

const REUSED = 'The refresh token was already used. Its session has been revoked; sign in again.';

function rejected(message = 'The refresh token is invalid, expired or revoked. Sign in again.'): TesseraError {
  return new TesseraError('AuthenticationFailed', message, { aadCodes: [70008] });
}

export class RefreshTokens {
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** Deletes expired rows hourly. */
  start(): void {
    this.sweeper = setInterval(() => {
      this.sweep().catch(() => undefined);
    }, 3600_000);
    this.sweeper.unref();
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
  }

  async sweep(): Promise<void> {
    const now = this.clock.now();
    await this.store.db.deleteFrom('refresh_tokens').where('expires_at', '<', now).execute();
    await this.store.db.deleteFrom('refresh_chains').where('expires_at', '<', now).execute();
  }

  /** Issues a token; returns the token, which is never stored. */
  async issue(input: NewRefreshToken): Promise<string> {
    const now = this.clock.now();
    const chainId = input.previous?.chain_id ?? input.chainId ?? crypto.randomUUID();
    const chainExpiresAt = input.previous?.chain_expires_at ?? now + REFRESH_CHAIN_MS;
    if (!input.previous) {
      await this.store.db.insertInto('refresh_chains').values({ chain_id: chainId, user_id: input.userId, created_at: now, expires_at: chainExpiresAt, revoked_at: null, session_id: input.sessionId ?? null, confidential: input.confidential ? 1 : 0, amr: formatAmr(input.amr ?? ['pwd']) }).execute();
    }
    const token = generateSecret(SecretPrefix.refreshToken);
    await this.store.db
      .insertInto('refresh_tokens')
      .values({
        token_hash: hashSecret(token),
        chain_id: chainId,
        tenant_id: input.tenantId,
        user_id: input.userId,
        client_id: input.clientId,
        scope: input.scope,
        created_at: now,
        expires_at: Math.min(now + REFRESH_IDLE_MS, chainExpiresAt),
        chain_expires_at: chainExpiresAt,
        rotated_at: null,
        revoked_at: null,
      })
      .execute();
    return token;
  }

  /**
   * Redeems a token for rotation: checks it (its client, and its tenant when given) and
   * marks it used. The caller issues the successor with {@link issue}. `beforeSpending`
   * runs once the token has passed every check and before it is marked: what it throws
   * leaves the token as it was (conditional access judging a refresh).
   */
  async redeem(
    token: string,
    clientId: string,
    tenantId?: string,
    clientAuthenticated = false,
    beforeSpending?: (held: RefreshTokenRow) => Promise<void>,
  ): Promise<RefreshTokenRow> {
    const held = await this.held(token);
    if (!held) throw rejected();
    const refusal = this.refusal(held, clientId, tenantId, clientAuthenticated);
    if (refusal === 'reused') {
      await this.revokeChain(held.chain_id);
      throw rejected(REUSED);
    }
    if (refusal) throw refusal;
    if (beforeSpending) await beforeSpending(rowOf(held));
    // Only one of several concurrent redemptions can win; a loser is a reuse.
    const result = await this.store.db
      .updateTable('refresh_tokens')
      .set({ rotated_at: this.clock.now() })
      .where('token_hash', '=', held.token_hash)
      .where('rotated_at', 'is', null)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) {
      await this.revokeChain(held.chain_id);
      throw rejected(REUSED);
    }
    return rowOf(held);
  }

  /** The token's row with its chain's state; undefined when no such token is held. */
  private async held(token: string): Promise<HeldToken | undefined> {
    if (!looksLikeSecret(token, SecretPrefix.refreshToken)) return undefined;
    return this.store.db
      .selectFrom('refresh_tokens')
      .innerJoin('refresh_chains', 'refresh_chains.chain_id', 'refresh_tokens.chain_id')
      .selectAll('refresh_tokens')
      .select(['refresh_chains.revoked_at as chain_revoked_at', 'refresh_chains.confidential as chain_confidential', 'refresh_chains.amr as chain_amr'])
      .where('refresh_tokens.token_hash', '=', hashSecret(token))
      .executeTakeFirst();
  }

  /** Why `row` cannot be redeemed now: 'reused' (theft: the chain must end), an error, or undefined (it can). */
  private refusal(row: HeldToken, clientId: string, tenantId: string | undefined, clientAuthenticated: boolean): TesseraError | 'reused' | undefined {
    if (row.revoked_at !== null || row.chain_revoked_at !== null) return rejected();
    if (row.rotated_at !== null) return 'reused';
    if (row.expires_at <= this.clock.now()) return rejected();
    // Checked before the token is spent: presenting it to the wrong client or tenant is a mistake, not a theft.
    if (row.client_id !== clientId) return rejected('The refresh token was issued to another client.');
    if (tenantId !== undefined && row.tenant_id !== tenantId) return rejected('The refresh token belongs to another tenant.');
    if (row.chain_confidential === 1 && !clientAuthenticated) {
      return new TesseraError('InvalidClient', "The request body must contain 'client_secret' or 'client_assertion': this refresh token was issued to an authenticated client.", { aadCodes: [7000218] });
    }
    return undefined;
  }

  /** The user a token was issued to, without checking or spending it (what must be asked before a redemption). */
  async userOf(token: string): Promise<string | undefined> {
    if (!looksLikeSecret(token, SecretPrefix.refreshToken)) return undefined;
    const row = await this.store.db.selectFrom('refresh_tokens').select('user_id').where('token_hash', '=', hashSecret(token)).executeTakeFirst();
    return row?.user_id;
  }

  /** Revokes the chain a token belongs to (sign-out). Unknown tokens are ignored, as RFC 7009 asks. */
  async revoke(token: string): Promise<void> {
    if (!looksLikeSecret(token, SecretPrefix.refreshToken)) return;
    const row = await this.store.db.selectFrom('refresh_tokens').select('chain_id').where('token_hash', '=', hashSecret(token)).executeTakeFirst();
    if (row) await this.revokeChain(row.chain_id);
  }

  async revokeChain(chainId: string): Promise<void> {
    const now = this.clock.now();
    await this.store.db.updateTable('refresh_chains').set({ revoked_at: now }).where('chain_id', '=', chainId).where('revoked_at', 'is', null).execute();
    await this.store.db.updateTable('refresh_tokens').set({ revoked_at: now }).where('chain_id', '=', chainId).where('revoked_at', 'is', null).execute();
  }

  /** Ends the chains a browser session began (sign-out). */
  async revokeBrowserSession(sessionId: string): Promise<void> {
    const chains = await this.store.db.selectFrom('refresh_chains').select('chain_id').where('session_id', '=', sessionId).where('revoked_at', 'is', null).execute();
    for (const { chain_id } of chains) await this.revokeChain(chain_id);
  }

  /** Ends every session of a user (password changed, disabled, deleted). */
  async revokeUser(userId: string): Promise<void> {
    const now = this.clock.now();
    await this.store.db.updateTable('refresh_chains').set({ revoked_at: now }).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
    await this.store.db.updateTable('refresh_tokens').set({ revoked_at: now }).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
  }
}
