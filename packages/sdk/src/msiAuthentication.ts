/**
 * Tokens of a compute's managed identity, as azureml's MsiAuthentication: asked of the
 * node's local identity endpoint, with no secret in the code. The endpoint and the run's
 * header value are read from the environment at each request (never stored), in the two
 * shapes @azure/identity reads: IDENTITY_ENDPOINT + IDENTITY_HEADER (App Service
 * 2019-08-01), else MSI_ENDPOINT + MSI_SECRET (2017-09-01).
 */
import { AbstractAuthentication, type AuthenticationOptions } from './abstractAuthentication.js';
import type { AccessToken } from './audience.js';
import { ManagedIdentityError, TesseraApiError } from './errors.js';
import { HttpClient, type HttpClientOptions } from './http.js';

/** Azure ML's `identity_config`: which of the compute's identities to use. */
export interface IdentityConfig {
  type: 'client_id' | 'object_id' | 'mi_res_id';
  value: string;
}

/** Options of {@link MsiAuthentication}: at most one way of naming the identity (default: the compute's default one). */
export interface MsiAuthenticationOptions extends AuthenticationOptions, HttpClientOptions {
  /** A user-assigned identity's client id. */
  clientId?: string | undefined;
  /** A user-assigned identity's object (principal) id. */
  objectId?: string | undefined;
  identityConfig?: IdentityConfig | undefined;
  /** Where the endpoint variables are read; default `process.env`. */
  env?: NodeJS.ProcessEnv | undefined;
}

/** The endpoint's answer. */
interface MsiTokenResponse {
  access_token?: unknown;
  expires_on?: unknown;
  resource?: unknown;
  token_type?: unknown;
  client_id?: unknown;
}

/** A managed identity's token, with the identity's client id when the endpoint named it. */
export interface ManagedIdentityToken extends AccessToken {
  clientId: string | undefined;
}

const IDENTITY_TYPES = ['client_id', 'object_id', 'mi_res_id'] as const;

/** `api://tessera/management/.default` → `api://tessera/management`: the endpoints take a resource, not a scope. */
export function resourceOfAudience(audience: string): string {
  return audience.replace(/\/\.default$/, '');
}

/** The one identity selector the options give, checked. */
function selectorOf(options: MsiAuthenticationOptions): IdentityConfig | undefined {
  const given: IdentityConfig[] = [];
  if (options.clientId !== undefined) given.push({ type: 'client_id', value: options.clientId });
  if (options.objectId !== undefined) given.push({ type: 'object_id', value: options.objectId });
  if (options.identityConfig !== undefined) given.push(options.identityConfig);
  if (given.length > 1) throw new TypeError('MsiAuthentication takes one of clientId, objectId and identityConfig.');
  const selector = given[0];
  if (selector === undefined) return undefined;
  if (!(IDENTITY_TYPES as readonly string[]).includes(selector.type)) throw new TypeError("identityConfig.type must be 'client_id', 'object_id' or 'mi_res_id'.");
  if (typeof selector.value !== 'string' || selector.value.trim() === '' || /[\u0000-\u001f\u007f]/.test(selector.value)) {
    throw new TypeError(`The identity's ${selector.type} must be a non-empty string without control characters.`);
  }
  return selector;
}

/** A non-empty environment variable. */
function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** `text` with every occurrence of `secret` masked: an endpoint must never make us print it. */
function masked(text: string, secret: string): string {
  return secret.length < 4 ? text : text.split(secret).join('***');
}

/**
 * Asks the node's identity endpoint for a token for `resource` (what `tessera login
 * --identity` and {@link MsiAuthentication} share).
 */
export async function requestManagedIdentityToken(
  http: HttpClient,
  resource: string,
  selector: IdentityConfig | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ManagedIdentityToken> {
  const identityEndpoint = envValue(env, 'IDENTITY_ENDPOINT');
  const identityHeader = envValue(env, 'IDENTITY_HEADER');
  const msiEndpoint = envValue(env, 'MSI_ENDPOINT');
  const msiSecret = envValue(env, 'MSI_SECRET');
  let url: URL;
  let headers: Record<string, string>;
  let secret: string;
  try {
    if (identityEndpoint !== undefined && identityHeader !== undefined) {
      url = new URL(identityEndpoint);
      url.searchParams.set('api-version', '2019-08-01');
      url.searchParams.set('resource', resource);
      if (selector) url.searchParams.set(selector.type, selector.value);
      headers = { 'x-identity-header': identityHeader };
      secret = identityHeader;
    } else if (msiEndpoint !== undefined && msiSecret !== undefined) {
      if (selector && selector.type !== 'client_id') {
        throw new ManagedIdentityError('NoIdentityEndpoint', `The MSI_ENDPOINT form of the identity endpoint names an identity by client id only, not by ${selector.type}.`);
      }
      url = new URL(msiEndpoint);
      url.searchParams.set('api-version', '2017-09-01');
      url.searchParams.set('resource', resource);
      if (selector) url.searchParams.set('clientid', selector.value);
      headers = { metadata: 'true', secret: msiSecret };
      secret = msiSecret;
    } else {
      throw new ManagedIdentityError(
        'NoIdentityEndpoint',
        'Not running on Tessera compute with a managed identity: neither IDENTITY_ENDPOINT with IDENTITY_HEADER nor MSI_ENDPOINT with MSI_SECRET is set.',
      );
    }
  } catch (err) {
    if (err instanceof TypeError) throw new ManagedIdentityError('NoIdentityEndpoint', 'The identity endpoint in the environment is not a valid URL.');
    throw err;
  }
  let answer: MsiTokenResponse;
  try {
    answer = (await http.send<MsiTokenResponse | undefined>({ method: 'GET', url: url.href, headers })) ?? {};
  } catch (err) {
    if (err instanceof TesseraApiError && (err.status === 400 || err.status === 401 || err.status === 403 || err.status === 404)) {
      throw new ManagedIdentityError('IdentityRefused', `The identity endpoint refused the token request (HTTP ${err.status}, ${err.code}): ${masked(err.message, secret)}`, err.status);
    }
    throw err;
  }
  return tokenOf(answer);
}

/** Checks the endpoint's answer: a token and a numeric expiry (a number or a numeric string, epoch seconds). */
function tokenOf(answer: MsiTokenResponse): ManagedIdentityToken {
  const { access_token: token, expires_on: expiresOn } = answer;
  if (typeof token !== 'string' || token === '') throw new ManagedIdentityError('InvalidResponse', 'The identity endpoint answered without an access_token.');
  const expiry = typeof expiresOn === 'number' ? expiresOn : typeof expiresOn === 'string' && /^\d{1,12}$/.test(expiresOn) ? Number(expiresOn) : NaN;
  if (!Number.isFinite(expiry)) throw new ManagedIdentityError('InvalidResponse', 'The identity endpoint answered without a numeric expires_on.');
  return { token, expiresOn: expiry, clientId: typeof answer.client_id === 'string' && answer.client_id !== '' ? answer.client_id : undefined };
}

/**
 * Authenticates as the compute's managed identity, inside a run.
 * @example
 * const auth = new MsiAuthentication();                                    // the compute's default identity
 * const auth2 = new MsiAuthentication({ identityConfig: { type: 'client_id', value: clientId } });
 * const ws = await Workspace.get({ name: 'ws1', subscriptionId, resourceGroup: 'ml', auth, serverUrl: process.env.AZUREML_SERVICE_ENDPOINT });
 */
export class MsiAuthentication extends AbstractAuthentication {
  /** Which identity is asked for; undefined for the compute's default. */
  readonly identity: IdentityConfig | undefined;
  private readonly http: HttpClient;
  private readonly env: NodeJS.ProcessEnv;

  constructor(options: MsiAuthenticationOptions = {}) {
    super(options);
    this.identity = selectorOf(options);
    this.http = new HttpClient(options);
    this.env = options.env ?? process.env;
  }

  /** The server of the run this code runs in (`AZUREML_SERVICE_ENDPOINT`), so {@link Workspace.get} needs no serverUrl. */
  get server(): string | undefined {
    return envValue(this.env, 'AZUREML_SERVICE_ENDPOINT');
  }

  protected async fetchToken(audience: string): Promise<AccessToken> {
    const { token, expiresOn } = await requestManagedIdentityToken(this.http, resourceOfAudience(audience), this.identity, this.env);
    return { token, expiresOn };
  }
}
