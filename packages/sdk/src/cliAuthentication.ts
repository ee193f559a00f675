/**
 * Tokens from the `tessera` CLI's session (what AzureCliAuthentication was to the Azure
 * CLI): no credentials in code. Access tokens are reused from the session file until
 * {@link RENEW_BEFORE_EXPIRY_MS} before expiry; otherwise the refresh token is redeemed
 * under the session lock, and the rotated refresh token saved before the token is returned.
 * A service principal's session (`tessera login --service-principal`) has no refresh
 * token: its secret or certificate asks for a new token, which is saved the same way; a
 * managed identity's (`tessera login --identity`) asks the node's identity endpoint.
 */
import { promises as fs } from 'node:fs';
import { AbstractAuthentication, RENEW_BEFORE_EXPIRY_MS, type AuthenticationOptions } from './abstractAuthentication.js';
import type { AccessToken } from './audience.js';
import { NotSignedInError, TesseraApiError, TesseraConnectionError } from './errors.js';
import { HttpClient, type HttpClientOptions } from './http.js';
import { requestManagedIdentityToken, resourceOfAudience } from './msiAuthentication.js';
import { configDir, readStoredSession, writeSession, type CachedAccessToken, type IdentitySession, type ServicePrincipalSession, type Session, type StoredSession } from './session.js';
import { withSessionLock } from './sessionLock.js';
import { ServicePrincipalAuthentication } from './servicePrincipalAuthentication.js';
import { refreshGrant } from './tokenEndpoint.js';

/** Who the CLI session is signed in as. */
export interface Account {
  server: string;
  tenantId: string;
  /** The user's name (`admin@tessera.local`), or a service principal's application id. */
  user: string;
  objectId: string;
  /** Set for a service principal's or a managed identity's session (as az's `user.type`). */
  type?: 'servicePrincipal';
  /** A managed identity's session: `MSI` (the compute's default identity) or `MSIClient-{clientId}`, as az shows it. */
  assignedIdentityInfo?: string;
}

/** Options of {@link CliAuthentication}. */
export interface CliAuthenticationOptions extends AuthenticationOptions, HttpClientOptions {
  /** The session directory; default `TESSERA_CONFIG_DIR` or `~/.tessera`. */
  configDir?: string;
}

/** The account a session belongs to. */
export function accountOf(session: StoredSession): Account {
  if (session.kind === 'servicePrincipal') return { server: session.server, tenantId: session.tenantId, user: session.appId, objectId: session.objectId, type: 'servicePrincipal' };
  if (session.kind === 'identity') {
    const assignedIdentityInfo = session.requestedClientId === undefined ? 'MSI' : `MSIClient-${session.requestedClientId}`;
    return { server: session.server, tenantId: session.tenantId, user: session.clientId, objectId: session.objectId, type: 'servicePrincipal', assignedIdentityInfo };
  }
  return { server: session.server, tenantId: session.tenantId, user: session.username, objectId: session.objectId };
}

/** The tokens of `tokens` still valid at `nowSec`, plus `token` for `resource`. */
function withToken(tokens: Record<string, CachedAccessToken>, resource: string, token: AccessToken, nowSec: number): Record<string, CachedAccessToken> {
  const kept: Record<string, CachedAccessToken> = {};
  for (const [r, t] of Object.entries(tokens)) if (t.expiresOn > nowSec) kept[r] = t;
  kept[resource] = { accessToken: token.token, expiresOn: token.expiresOn };
  return kept;
}

/**
 * Authenticates as whoever ran `tessera login`.
 * @example
 * const auth = new CliAuthentication();
 * const { token } = await auth.getToken(Audience.Workspace);
 */
export class CliAuthentication extends AbstractAuthentication {
  readonly configDir: string;
  private readonly http: HttpClient;

  constructor(options: CliAuthenticationOptions = {}) {
    super(options);
    this.configDir = configDir(options.configDir);
    this.http = new HttpClient(options);
  }

  /** The signed-in account; throws {@link NotSignedInError} without a session. */
  async account(): Promise<Account> {
    return accountOf(await this.session());
  }

  protected async fetchToken(resource: string): Promise<AccessToken> {
    const cached = this.reusable(await this.session(), resource);
    if (cached) return cached;
    return withSessionLock(this.configDir, async () => {
      // Read again under the lock: another process may have refreshed meanwhile.
      const session = await this.session();
      const reused = this.reusable(session, resource);
      if (reused) return reused;
      if (session.kind === 'servicePrincipal') return this.servicePrincipalToken(session, resource);
      if (session.kind === 'identity') return this.identityToken(session, resource);
      return this.refresh(session, resource);
    });
  }

  /** The stored session; throws {@link NotSignedInError} when there is none. */
  private async session(): Promise<StoredSession> {
    const session = await readStoredSession(this.configDir);
    if (!session) throw new NotSignedInError();
    return session;
  }

  /** The session's token for `resource` while it has more than {@link RENEW_BEFORE_EXPIRY_MS} left. */
  private reusable(session: StoredSession, resource: string): AccessToken | undefined {
    const cached = Object.hasOwn(session.tokens, resource) ? session.tokens[resource] : undefined;
    if (!cached || cached.expiresOn * 1000 - this.clock() <= RENEW_BEFORE_EXPIRY_MS) return undefined;
    return { token: cached.accessToken, expiresOn: cached.expiresOn };
  }

  /** Redeems the refresh token for `resource` and saves the rotated one. Call under the lock. */
  private async refresh(session: Session, resource: string): Promise<AccessToken> {
    let response;
    try {
      response = await refreshGrant(this.http, { server: session.server, tenant: session.tenantId, refreshToken: session.refreshToken, resource, clientId: session.clientId });
    } catch (err) {
      if (err instanceof TesseraApiError && err.code === 'invalid_grant') {
        throw new NotSignedInError(`the session has expired or was revoked (${err.message}): run tessera login`);
      }
      throw err;
    }
    if (!response.refresh_token) throw new TesseraConnectionError('InvalidResponse', 'The token endpoint did not return a new refresh token.');
    const nowSec = Math.floor(this.clock() / 1000);
    const token: AccessToken = { token: response.access_token, expiresOn: nowSec + response.expires_in };
    await writeSession(this.configDir, { ...session, refreshToken: response.refresh_token, tokens: withToken(session.tokens, resource, token, nowSec) });
    return token;
  }

  /** A managed identity's new token for `resource`, from the node's identity endpoint, saved in the session. Call under the lock. */
  private async identityToken(session: IdentitySession, resource: string): Promise<AccessToken> {
    const selector = session.requestedClientId === undefined ? undefined : { type: 'client_id' as const, value: session.requestedClientId };
    const { token, expiresOn } = await requestManagedIdentityToken(this.http, resourceOfAudience(resource), selector);
    const nowSec = Math.floor(this.clock() / 1000);
    await writeSession(this.configDir, { ...session, tokens: withToken(session.tokens, resource, { token, expiresOn }, nowSec) });
    return { token, expiresOn };
  }

  /** A service principal's new token for `resource` (client credentials), saved in the session. Call under the lock. */
  private async servicePrincipalToken(session: ServicePrincipalSession, resource: string): Promise<AccessToken> {
    let certificate: string | undefined;
    if (session.certificateFile !== undefined) {
      try {
        certificate = await fs.readFile(session.certificateFile, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
        throw new NotSignedInError(`the service principal's certificate file ${session.certificateFile} cannot be read (${code}): run tessera login --service-principal again`);
      }
    }
    const credential = new ServicePrincipalAuthentication({
      server: session.server,
      tenantId: session.tenantId,
      servicePrincipalId: session.appId,
      servicePrincipalPassword: session.secret,
      certificate,
      clock: this.clock,
      timeoutMs: this.http.timeoutMs,
    });
    let token: AccessToken;
    try {
      token = await credential.getToken(resource);
    } catch (err) {
      if (err instanceof TesseraApiError && (err.code === 'invalid_client' || err.code === 'unauthorized_client')) {
        throw new NotSignedInError(`the service principal's credential was refused (${err.message}): run tessera login --service-principal again`);
      }
      throw err;
    }
    const nowSec = Math.floor(this.clock() / 1000);
    await writeSession(this.configDir, { ...session, tokens: withToken(session.tokens, resource, token, nowSec) });
    return token;
  }
}
