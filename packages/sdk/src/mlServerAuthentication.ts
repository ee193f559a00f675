/**
 * Machine Learning Server's sign-in: `POST /login` with a username and password, then
 * `POST /login/refreshToken` (which rotates the refresh token) before each expiry, and
 * `DELETE /login/refreshToken` to sign out. Tokens are for the management API only.
 */
import { AbstractAuthentication, type AuthenticationOptions } from './abstractAuthentication.js';
import { Audience, type AccessToken } from './audience.js';
import { TesseraApiError } from './errors.js';
import { HttpClient, type HttpClientOptions } from './http.js';
import { normalizeServerUrl } from './serverUrl.js';

/** The answer of `/login` and `/login/refreshToken`. */
interface LoginResponse {
  token_type: string;
  access_token: string;
  expires_in: number;
  /** Epoch seconds. */
  expires_on: number;
  refresh_token: string;
}

/** Options of {@link MLServerAuthentication}. */
export interface MLServerAuthenticationOptions extends AuthenticationOptions, HttpClientOptions {}

/**
 * Authenticates with a username and password the way Machine Learning Server clients did.
 * @example const auth = new MLServerAuthentication('https://127.0.0.1:5080', 'admin', password);
 */
export class MLServerAuthentication extends AbstractAuthentication {
  readonly server: string;
  private readonly http: HttpClient;
  private refreshToken: string | undefined;

  constructor(
    server: string,
    private readonly username: string,
    private readonly password: string,
    options: MLServerAuthenticationOptions = {},
  ) {
    super(options);
    this.server = normalizeServerUrl(server);
    this.http = new HttpClient(options);
  }

  /** Revokes the refresh token's session at the server and forgets every token; a later getToken signs in again. */
  async logout(): Promise<void> {
    const token = this.refreshToken;
    this.refreshToken = undefined;
    this.clearCache();
    if (token) await this.http.send({ method: 'DELETE', url: `${this.server}/login/refreshToken?refreshToken=${encodeURIComponent(token)}` });
  }

  protected async fetchToken(audience: string): Promise<AccessToken> {
    if (audience !== Audience.ControlPlane) {
      throw new TypeError(`Machine Learning Server sign-in gives tokens for ${Audience.ControlPlane} only; use CliAuthentication for other resources.`);
    }
    const pair = (await this.refreshed()) ?? (await this.signIn());
    this.refreshToken = pair.refresh_token;
    return { token: pair.access_token, expiresOn: pair.expires_on };
  }

  private signIn(): Promise<LoginResponse> {
    return this.http.send<LoginResponse>({ method: 'POST', url: `${this.server}/login`, json: { username: this.username, password: this.password } });
  }

  /** A rotated pair, or undefined when there is no refresh token or the server no longer takes it. */
  private async refreshed(): Promise<LoginResponse | undefined> {
    const refreshToken = this.refreshToken;
    if (!refreshToken) return undefined;
    this.refreshToken = undefined; // spent, whatever the answer
    try {
      return await this.http.send<LoginResponse>({ method: 'POST', url: `${this.server}/login/refreshToken`, json: { refreshToken } });
    } catch (err) {
      if (err instanceof TesseraApiError && err.status === 401) return undefined; // expired or revoked: sign in again
      throw err;
    }
  }
}
