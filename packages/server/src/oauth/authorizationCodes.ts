/**
 * Authorization codes (RFC 6749 §4.1, RFC 7636): 256 random bits behind `tsac_`, stored
 * as their SHA-256, alive for at most 60 s, bound to the client, the redirect URI and the
 * PKCE challenge they were issued with, and usable once. A second use is taken as theft
 * (RFC 6749 §4.1.2): it fails, and the refresh-token chain the first use began is
 * revoked. The checks that a mistaken or hostile redeemer could fail (wrong client,
 * redirect URI or verifier) do not spend the code.
 */
import crypto from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Store } from '../store/db.js';
import type { AuthorizationCodesTable } from '../store/schema.js';
import type { Clock } from '../clock.js';
import { TesseraError } from '../errors.js';
import { formatAmr, type AuthMethod } from '../identity/authMethods.js';
import { SecretPrefix, generateSecret, hashSecret, looksLikeSecret } from '../crypto/secrets.js';

export type AuthorizationCodeRow = Selectable<AuthorizationCodesTable>;

export interface NewAuthorizationCode {
  tenantId: string;
  clientId: string;
  redirectUri: string;
  codeChallenge: string | undefined;
  scope: string;
  nonce: string | undefined;
  userId: string;
  sessionId: string | null;
  authTime: number;
  /** How the user signed in (the browser session's methods). */
  amr: readonly AuthMethod[];
}

/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

function invalidGrant(message: string, aadCode: number): TesseraError {
  return new TesseraError('InvalidGrant', message, { aadCodes: [aadCode] });
}

/** BASE64URL(SHA256(verifier)), the S256 challenge of a verifier. */
export function s256(verifier: string): string {
  return crypto.createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

export class AuthorizationCodes {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly lifetimeMs: number,
    /** Revokes the refresh chain a replayed code began. */
    private readonly revokeChain: (chainId: string) => Promise<void>,
  ) {}

  /** Issues a code; returns it (never stored). */
  async issue(input: NewAuthorizationCode): Promise<string> {
    const code = generateSecret(SecretPrefix.authorizationCode);
    const now = this.clock.now();
    await this.store.db
      .insertInto('authorization_codes')
      .values({
        code_hash: hashSecret(code),
        tenant_id: input.tenantId,
        client_id: input.clientId,
        redirect_uri: input.redirectUri,
        code_challenge: input.codeChallenge ?? null,
        scope: input.scope,
        nonce: input.nonce ?? null,
        user_id: input.userId,
        session_id: input.sessionId,
        chain_id: crypto.randomUUID(),
        auth_time: input.authTime,
        amr: formatAmr(input.amr),
        created_at: now,
        expires_at: now + this.lifetimeMs,
        redeemed_at: null,
      })
      .execute();
    return code;
  }

  /** Redeems a code at the token endpoint; throws invalid_grant when it may not be. */
  async redeem(code: string, req: { tenantId: string; clientId: string; redirectUri: string | undefined; codeVerifier: string | undefined }): Promise<AuthorizationCodeRow> {
    const unknown = invalidGrant('The authorization code is invalid or has expired. Sign in again.', 70008);
    if (!looksLikeSecret(code, SecretPrefix.authorizationCode)) throw unknown;
    const hash = hashSecret(code);
    const row = await this.store.db.selectFrom('authorization_codes').selectAll().where('code_hash', '=', hash).executeTakeFirst();
    const now = this.clock.now();
    if (!row || row.tenant_id !== req.tenantId) throw unknown;
    if (row.redeemed_at !== null) {
      await this.revokeChain(row.chain_id);
      throw invalidGrant('The authorization code was already redeemed. What it issued has been revoked; sign in again.', 54005);
    }
    if (row.expires_at <= now) throw unknown;
    if (row.client_id !== req.clientId) throw invalidGrant('The authorization code was issued to another client.', 70000);
    if (req.redirectUri === undefined || req.redirectUri !== row.redirect_uri) {
      throw invalidGrant('The redirect_uri must be the one the authorization request used.', 70000);
    }
    if (row.code_challenge !== null) {
      if (req.codeVerifier === undefined || !VERIFIER.test(req.codeVerifier)) {
        throw invalidGrant('The code_verifier is missing or malformed: PKCE was used for this code.', 501481);
      }
      const expected = Buffer.from(row.code_challenge);
      const given = Buffer.from(s256(req.codeVerifier));
      if (expected.length !== given.length || !crypto.timingSafeEqual(expected, given)) throw invalidGrant('The code_verifier does not match the code_challenge.', 501481);
    } else if (req.codeVerifier !== undefined) {
      // RFC 9700 §2.1.1: a verifier for a code issued without a challenge is a downgrade attempt.
      throw invalidGrant('A code_verifier was sent, but the authorization request had no code_challenge.', 501481);
    }
    // Only one of several concurrent redemptions wins; a loser is a replay.
    const result = await this.store.db.updateTable('authorization_codes').set({ redeemed_at: now }).where('code_hash', '=', hash).where('redeemed_at', 'is', null).executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) {
      await this.revokeChain(row.chain_id);
      throw invalidGrant('The authorization code was already redeemed. What it issued has been revoked; sign in again.', 54005);
    }
    return row;
  }

  /** Deletes codes past their life (kept a day beyond, so a late replay still revokes). */
  async sweep(): Promise<void> {
    await this.store.db.deleteFrom('authorization_codes').where('expires_at', '<', this.clock.now() - 24 * 3600_000).execute();
  }
}
