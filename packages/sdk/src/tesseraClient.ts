/** Authenticated JSON requests to a Tessera server, and `GET /me`. */
import type { AbstractAuthentication } from './abstractAuthentication.js';
import { Audience } from './audience.js';
import { HttpClient, type HttpClientOptions } from './http.js';
import { normalizeServerUrl } from './serverUrl.js';

/** `GET /me`: who the server takes the caller to be. */
export interface Me {
  objectId: string;
  principalType: 'User' | 'ServicePrincipal';
  userName: string | null;
  userPrincipalName: string | null;
  displayName: string;
  tenantId: string;
  tenantDomain: string | null;
  clientId: string;
  /** ISO 8601. */
  tokenExpiresOn: string;
}

/** The methods the API uses. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Sends requests with a bearer token from `auth`.
 * @example
 * const client = new TesseraClient('https://127.0.0.1:5080', new CliAuthentication());
 * const users = await client.request<{ value: User[] }>('GET', '/v1.0/users');
 */
export class TesseraClient {
  readonly server: string;
  private readonly http: HttpClient;

  constructor(
    server: string,
    readonly auth: AbstractAuthentication,
    options: HttpClientOptions = {},
  ) {
    this.server = normalizeServerUrl(server);
    this.http = new HttpClient(options);
  }

  /** Sends `body` as JSON to `path` (which starts with `/`); resolves with the parsed answer, undefined for 204. */
  async request<T = unknown>(method: HttpMethod, path: string, body?: unknown, options: { audience?: string } = {}): Promise<T> {
    if (!path.startsWith('/')) throw new TypeError(`The path must start with '/': '${path.slice(0, 100)}'.`);
    const { token } = await this.auth.getToken(options.audience ?? Audience.ControlPlane);
    return this.http.send<T>({ method, url: `${this.server}${path}`, json: body, token });
  }

  /** Sends `form` as multipart/form-data (streamed by fetch); resolves with the parsed JSON answer. */
  async requestMultipart<T = unknown>(method: HttpMethod, path: string, form: FormData, options: { audience?: string; timeoutMs?: number } = {}): Promise<T> {
    if (!path.startsWith('/')) throw new TypeError(`The path must start with '/': '${path.slice(0, 100)}'.`);
    const { token } = await this.auth.getToken(options.audience ?? Audience.ControlPlane);
    return this.http.send<T>({ method, url: `${this.server}${path}`, formData: form, token, timeoutMs: options.timeoutMs });
  }

  /** Sends a GET and resolves with the successful response unread, to stream its body (a download). */
  async requestStream(path: string, options: { audience?: string; timeoutMs?: number } = {}): Promise<Response> {
    if (!path.startsWith('/')) throw new TypeError(`The path must start with '/': '${path.slice(0, 100)}'.`);
    const { token } = await this.auth.getToken(options.audience ?? Audience.ControlPlane);
    return this.http.sendForStream({ method: 'GET', url: `${this.server}${path}`, token, timeoutMs: options.timeoutMs });
  }

  /** The signed-in principal, as the server sees it now. */
  me(): Promise<Me> {
    return this.request<Me>('GET', '/me');
  }
}
