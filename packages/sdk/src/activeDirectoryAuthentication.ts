/**
 * Machine Learning Server's Azure Active Directory context, as azureml-model-management-sdk
 * took it (`DeployClient(host, use=MLServer, auth=context)`): `authuri`, `tenant`,
 * `clientid`, `resource`, and optionally a user name and password. With a password it
 * signs in with the password grant on the v1 token endpoint
 * (`{authuri}/{tenant}/oauth2/token`, `resource=`); without, with a device code (v1
 * `{authuri}/{tenant}/oauth2/devicecode`), handing the message to `userCodeCallback`.
 * Tokens are renewed with the refresh token (which rotates); when it is refused, the
 * sign-in runs again.
 */
import { AbstractAuthentication, type AuthenticationOptions } from './abstractAuthentication.js';
import { Audience, type AccessToken } from './audience.js';
import { deviceCodeSignIn, normalizeTokenResponse, type DeviceCodeInfo } from './deviceCodeLogin.js';
import { TesseraApiError } from './errors.js';
import { HttpClient, type HttpClientOptions } from './http.js';
import { normalizeServerUrl } from './serverUrl.js';
import type { TokenResponse } from './tokenEndpoint.js';

/** The Azure AD context of Machine Learning Server's clients. */
export interface ActiveDirectoryContext {
  /** The authority's base URL: for Tessera, the server's URL (for Azure it was https://login.windows.net). */
  authuri: string;
  /** The tenant id or domain. */
  tenant: string;
  /** The public client to sign in as (e.g. TESSERA_CLI_CLIENT_ID, or a registered app that allows public-client flows). */
  clientid: string;
  /** The resource the tokens are for (e.g. `api://tessera/management`, or Azure's `https://management.azure.com/`). */
  resource: string;
  /** With `password`: the password grant. */
  username?: string | undefined;
  /** azureml-model-management-sdk's spelling of {@link username}. */
  user?: string | undefined;
  password?: string | undefined;
  /** Without a password: shows the device code; default: the message on stderr. */
  userCodeCallback?: ((info: DeviceCodeInfo) => unknown) | undefined;
}

/** Options of {@link ActiveDirectoryAuthentication}. */
export interface ActiveDirectoryAuthenticationOptions extends AuthenticationOptions, HttpClientOptions {}

function required(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new TypeError(`The Azure AD context needs ${name}.`);
  return value;
}

/**
 * A credential from an Azure AD context. Asked for {@link Audience.ControlPlane} (what
 * DeployClient asks for), it answers with a token for the context's `resource`; any other
 * audience is asked for with the refresh token.
 * @example
 * const auth = new ActiveDirectoryAuthentication({ authuri: server, tenant: 'tessera.local', clientid: TESSERA_CLI_CLIENT_ID, resource: Audience.ControlPlane, username: 'ada', password });
 */
export class ActiveDirectoryAuthentication extends AbstractAuthentication {
  readonly authority: string;
  readonly tenant: string;
  readonly clientId: string;
  readonly resource: string;
  private readonly username: string | undefined;
  private readonly password: string | undefined;
  private readonly userCodeCallback: ((info: DeviceCodeInfo) => unknown) | undefined;
  private readonly http: HttpClient;
  private refreshToken: string | undefined;
  /** Fetches run one at a time: two audiences at once must not both redeem one refresh token. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(context: ActiveDirectoryContext, options: ActiveDirectoryAuthenticationOptions = {}) {
    super(options);
    this.authority = normalizeServerUrl(required(context.authuri, 'authuri (the server URL)'));
    this.tenant = required(context.tenant, 'tenant');
    this.clientId = required(context.clientid, 'clientid');
    this.resource = required(context.resource, 'resource');
    const username = context.username ?? context.user;
    if ((username === undefined) !== (context.password === undefined)) throw new TypeError('The Azure AD context needs both username and password, or neither (then a device code signs in).');
    if (username !== undefined) {
      this.username = required(username, 'a non-empty username');
      this.password = required(context.password, 'a non-empty password');
    }
    this.userCodeCallback = context.userCodeCallback;
    this.http = new HttpClient(options);
  }

  /** Revokes the refresh token at the server and forgets every token; a later getToken signs in again. */
  async logout(): Promise<void> {
    const token = this.refreshToken;
    this.refreshToken = undefined;
    this.clearCache();
    if (token) await this.http.send({ method: 'DELETE', url: `${this.authority}/login/refreshToken?refreshToken=${encodeURIComponent(token)}` });
  }

  protected fetchToken(audience: string): Promise<AccessToken> {
    const run = this.queue.then(() => this.fetchNow(audience));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async fetchNow(audience: string): Promise<AccessToken> {
    const resource = audience === Audience.ControlPlane ? this.resource : audience;
    const askedAtSec = Math.floor(this.clock() / 1000);
    const response = (await this.refreshed(resource)) ?? (await this.signIn(resource));
    if (response.refresh_token) this.refreshToken = response.refresh_token;
    return { token: response.access_token, expiresOn: response.expires_on ?? askedAtSec + response.expires_in };
  }

  private url(endpoint: 'token' | 'devicecode'): string {
    return `${this.authority}/${encodeURIComponent(this.tenant)}/oauth2/${endpoint}`;
  }

  private async signIn(resource: string): Promise<TokenResponse & { expires_on?: number }> {
    if (this.username !== undefined) {
      const form = { grant_type: 'password', client_id: this.clientId, resource, username: this.username, password: this.password! };
      return normalizeTokenResponse(await this.http.send<unknown>({ method: 'POST', url: this.url('token'), form }));
    }
    const callback = this.userCodeCallback ?? ((info: DeviceCodeInfo) => process.stderr.write(`${info.message}\n`));
    return deviceCodeSignIn(this.http, {
      deviceCodeUrl: this.url('devicecode'),
      tokenUrl: this.url('token'),
      clientId: this.clientId,
      target: { resource },
      grantType: 'device_code',
      onMessage: (_message, info) => callback(info),
    });
  }

  /** A token through the refresh token, or undefined when there is none or the server no longer takes it. */
  private async refreshed(resource: string): Promise<(TokenResponse & { expires_on?: number }) | undefined> {
    const refreshToken = this.refreshToken;
    if (!refreshToken) return undefined;
    this.refreshToken = undefined; // spent, whatever the answer
    try {
      const form = { grant_type: 'refresh_token', client_id: this.clientId, refresh_token: refreshToken, resource };
      return normalizeTokenResponse(await this.http.send<unknown>({ method: 'POST', url: this.url('token'), form }));
    } catch (err) {
      if (err instanceof TesseraApiError && err.code === 'invalid_grant') return undefined; // expired or revoked: sign in again
      throw err;
    }
  }
}
