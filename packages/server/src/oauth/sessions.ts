/**
 * Continuing a signed-in session with its refresh token: the one path shared by the
 * OAuth refresh-token grant and Machine Learning Server's /login/refreshToken.
 */
import { TesseraError } from '../errors.js';
import { isDirectorySource } from '../identity/sources.js';
import type { Services } from '../services.js';
import type { UserRow } from '../identity/users.js';
import type { RefreshTokenRow } from './refreshTokens.js';

export interface ContinuedSession {
  previous: RefreshTokenRow;
  user: UserRow;
}

/**
 * What a refresh asks before its token is spent (conditional access): a refusal leaves
 * the token as it was, so a user blocked for now (a location, a new MFA policy) keeps the
 * session to try again, as Entra leaves a refresh token refused with interaction_required.
 */
export type BeforeSpending = (held: RefreshTokenRow, user: UserRow) => Promise<void>;

/**
 * Redeems `token` and returns the session's user, who must still be enabled (a
 * directory's user, still in the directory). `beforeSpending` is asked after the token
 * has passed its checks and before it is spent, for an enabled user.
 */
export async function continueSession(
  services: Services,
  token: string,
  clientId: string,
  tenantId?: string,
  clientAuthenticated = false,
  beforeSpending?: BeforeSpending,
): Promise<ContinuedSession> {
  // A directory user is read again from the directory first (a removed group or account counts
  // now), before the token is spent: a directory that does not answer must not cost the session.
  // Without directories (the usual case) this costs nothing on the refresh path.
  if (services.directories.configured) {
    const holder = await services.refreshTokens.userOf(token);
    const before = holder === undefined ? undefined : await services.users.byId(holder);
    if (before !== undefined) await services.directories.refresh(before);
  }
  // The user is read before the token is spent, so that `beforeSpending` judges who they are now.
  const read: { user?: UserRow | undefined } = {};
  const previous = await services.refreshTokens.redeem(token, clientId, tenantId, clientAuthenticated, async (held) => {
    read.user = await services.users.byId(held.user_id);
    // A disabled user (or one whose directory is gone) is answered below, not judged.
    if (beforeSpending && read.user && usable(services, read.user)) await beforeSpending(held, read.user);
  });
  const { user } = read;
  if (!user || !usable(services, user)) {
    await services.refreshTokens.revokeChain(previous.chain_id);
    throw new TesseraError('AuthenticationFailed', 'The account is disabled or deleted. Sign in again.', { aadCodes: [50057] });
  }
  return { previous, user };
}

/** Enabled; a directory's user only while directories are configured (one whose directory is gone cannot be checked: the session ends). */
function usable(services: Services, user: UserRow): boolean {
  return user.enabled === 1 && !(isDirectorySource(user.source) && !services.directories.configured);
}
