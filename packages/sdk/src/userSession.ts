/**
 * A user's sign-in kept as the CLI session: the token response of any user grant
 * (password, authorization code, device code) becomes the same session file
 * `loginWithPassword` writes, and a session it replaces is revoked at the server.
 */
import { Audience, TESSERA_CLI_CLIENT_ID } from './audience.js';
import { accountOf, type Account } from './cliAuthentication.js';
import { TesseraConnectionError } from './errors.js';
import type { HttpClient } from './http.js';
import { readStoredSession, writeSession, type Session, type StoredSession } from './session.js';
import { withSessionLock } from './sessionLock.js';
import type { TokenResponse } from './tokenEndpoint.js';

/** `{uid, utid}` from the token response's client_info. */
export function decodeClientInfo(clientInfo: string | undefined): { uid: string; utid: string } {
  try {
    const info = JSON.parse(Buffer.from(clientInfo ?? '', 'base64url').toString('utf8')) as { uid?: unknown; utid?: unknown };
    if (typeof info.uid === 'string' && typeof info.utid === 'string') return { uid: info.uid, utid: info.utid };
  } catch {
    // fall through
  }
  throw new TesseraConnectionError('InvalidResponse', 'The token endpoint answered without a valid client_info.');
}

/** A JWT's claims, read without verification (for what is only shown or compared to what we sent). */
export function unverifiedClaims(jwt: string | undefined): Record<string, unknown> {
  const payload = jwt?.split('.')[1];
  if (!payload) return {};
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
    return claims !== null && typeof claims === 'object' ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The CLI session for a user grant's token response (which must carry a refresh token and client_info). */
export function userSessionFrom(server: string, response: TokenResponse, options: { fallbackUsername?: string; clientId?: string } = {}): Session {
  if (!response.refresh_token) throw new TesseraConnectionError('InvalidResponse', 'The token endpoint did not return a refresh token.');
  const { uid, utid } = decodeClientInfo(response.client_info);
  const preferred = unverifiedClaims(response.id_token).preferred_username;
  return {
    server,
    tenantId: utid,
    username: typeof preferred === 'string' && preferred !== '' ? preferred : (options.fallbackUsername ?? uid),
    objectId: uid,
    clientId: options.clientId ?? TESSERA_CLI_CLIENT_ID,
    refreshToken: response.refresh_token,
    tokens: { [Audience.ControlPlane]: { accessToken: response.access_token, expiresOn: Math.floor(Date.now() / 1000) + response.expires_in } },
  };
}

/** Revokes a user session's refresh-token chain at its server (a service principal's or an identity's has none). */
export async function revokeSession(http: HttpClient, session: StoredSession): Promise<void> {
  if (session.kind === 'servicePrincipal' || session.kind === 'identity') return;
  await http.send({ method: 'DELETE', url: `${session.server}/login/refreshToken?refreshToken=${encodeURIComponent(session.refreshToken)}` });
}

/**
 * Replaces the session in `dir` with `session` under the session lock, then revokes the
 * replaced one (its refresh token would otherwise stay valid, unused, for weeks).
 */
export async function storeSession(dir: string, session: StoredSession, http: HttpClient): Promise<Account> {
  const previous = await withSessionLock(dir, async () => {
    const old = await readStoredSession(dir, { toRevoke: true }).catch(() => undefined);
    await writeSession(dir, session);
    return old;
  });
  if (previous) await revokeSession(http, previous).catch(() => undefined);
  return accountOf(session);
}
