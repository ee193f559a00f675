/**
 * Signing the CLI session in and out: what `tessera login` and `tessera logout` do,
 * available to programs too.
 */
import { Audience, TESSERA_CLI_CLIENT_ID } from './audience.js';
import { accountOf, type Account } from './cliAuthentication.js';
import { TesseraConnectionError } from './errors.js';
import { HttpClient, type HttpClientOptions } from './http.js';
import { configDir, readSession, removeSession, writeSession, type Session } from './session.js';
import { withSessionLock } from './sessionLock.js';
import { normalizeServerUrl } from './serverUrl.js';
import { passwordGrant } from './tokenEndpoint.js';

/** What {@link loginWithPassword} needs. */
export interface PasswordLoginOptions extends HttpClientOptions {
  server: string;
  username: string;
  password: string;
  /** Tenant id or domain; default `organizations` (the server's default tenant). */
  tenant?: string;
  configDir?: string;
}

/** What {@link logout} did. */
export interface LogoutResult {
  /** Whether there was a session to end. */
  signedOut: boolean;
  /** Set when the session was removed here but the server could not revoke its refresh token. */
  revokeError?: Error;
}

/** `{uid, utid}` from the token response's client_info. */
function decodeClientInfo(clientInfo: string | undefined): { uid: string; utid: string } {
  try {
    const info = JSON.parse(Buffer.from(clientInfo ?? '', 'base64url').toString('utf8')) as { uid?: unknown; utid?: unknown };
    if (typeof info.uid === 'string' && typeof info.utid === 'string') return { uid: info.uid, utid: info.utid };
  } catch {
    // fall through
  }
  throw new TesseraConnectionError('InvalidResponse', 'The token endpoint answered without a valid client_info.');
}

/** The id token's `preferred_username`, read without verification (it is only shown). */
function preferredUsername(idToken: string | undefined): string | undefined {
  const payload = idToken?.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { preferred_username?: unknown };
    return typeof claims.preferred_username === 'string' ? claims.preferred_username : undefined;
  } catch {
    return undefined;
  }
}

/** Revokes a session's refresh token chain at the server. */
async function revoke(http: HttpClient, session: Session): Promise<void> {
  await http.send({ method: 'DELETE', url: `${session.server}/login/refreshToken?refreshToken=${encodeURIComponent(session.refreshToken)}` });
}

/**
 * Signs in with a password (OAuth password grant as the Tessera CLI client) and stores
 * the session; a session it replaces is revoked.
 * @example await loginWithPassword({ server: 'https://127.0.0.1:5080', username: 'admin', password })
 */
export async function loginWithPassword(options: PasswordLoginOptions): Promise<Account> {
  const server = normalizeServerUrl(options.server);
  const http = new HttpClient(options);
  const response = await passwordGrant(http, {
    server,
    tenant: options.tenant ?? 'organizations',
    username: options.username,
    password: options.password,
    resource: Audience.ControlPlane,
  });
  if (!response.refresh_token) throw new TesseraConnectionError('InvalidResponse', 'The token endpoint did not return a refresh token.');
  const { uid, utid } = decodeClientInfo(response.client_info);
  const session: Session = {
    server,
    tenantId: utid,
    username: preferredUsername(response.id_token) ?? options.username,
    objectId: uid,
    clientId: TESSERA_CLI_CLIENT_ID,
    refreshToken: response.refresh_token,
    tokens: { [Audience.ControlPlane]: { accessToken: response.access_token, expiresOn: Math.floor(Date.now() / 1000) + response.expires_in } },
  };
  const dir = configDir(options.configDir);
  const previous = await withSessionLock(dir, async () => {
    const old = await readSession(dir, { toRevoke: true }).catch(() => undefined);
    await writeSession(dir, session);
    return old;
  });
  // The replaced session's refresh token would otherwise stay valid, unused, for weeks.
  if (previous) await revoke(http, previous).catch(() => undefined);
  return accountOf(session);
}

/** Revokes the CLI session's refresh token at the server and deletes the session file. */
export async function logout(options: { configDir?: string } & HttpClientOptions = {}): Promise<LogoutResult> {
  const dir = configDir(options.configDir);
  return withSessionLock(dir, async () => {
    let session: Session | undefined;
    try {
      session = await readSession(dir, { toRevoke: true });
    } catch {
      // A damaged session file cannot be revoked; removing it is all there is to do.
      return { signedOut: await removeSession(dir) };
    }
    if (!session) return { signedOut: false };
    try {
      await revoke(new HttpClient(options), session);
      return { signedOut: true };
    } catch (err) {
      return { signedOut: true, revokeError: err instanceof Error ? err : new Error(String(err)) };
    } finally {
      await removeSession(dir);
    }
  });
}
