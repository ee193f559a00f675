/**
 * Calls to a tenant's OAuth token endpoint (`/{tenant}/oauth2/v2.0/token`): as the
 * first-party public client, the password grant (sign-in) and the refresh-token grant;
 * as a service principal, the client-credentials grant (a secret or a client assertion).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { TESSERA_CLI_CLIENT_ID } from './audience.js';
import { TesseraApiError, TesseraConnectionError } from './errors.js';
import type { HttpClient } from './http.js';

/** The token endpoint's successful answer (v2 shape). */
export interface TokenResponse {
  token_type: string;
  scope: string;
  expires_in: number;
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  /** base64url of `{"uid": objectId, "utid": tenantId}`. */
  client_info?: string;
}

/** `<resource>/.default`: every permission the caller has on that resource. */
function defaultScope(resource: string): string {
  return `${resource}/.default`;
}

/** The v2 token endpoint of `tenant` on `server` (a base URL without a trailing slash). */
export function tokenUrl(server: string, tenant: string): string {
  return `${server}/${encodeURIComponent(tenant)}/oauth2/v2.0/token`;
}

function checked(response: TokenResponse | undefined): TokenResponse {
  if (!response || typeof response.access_token !== 'string' || typeof response.expires_in !== 'number') {
    throw new TesseraConnectionError('InvalidResponse', 'The token endpoint answered without an access token and its lifetime.');
  }
  return response;
}

/** Signs in with a username and password (ROPC) for `resource`, with an id token and a refresh token. */
export async function passwordGrant(
  http: HttpClient,
  input: { server: string; tenant: string; username: string; password: string; resource: string; clientId?: string },
): Promise<TokenResponse> {
  const form = {
    grant_type: 'password',
    client_id: input.clientId ?? TESSERA_CLI_CLIENT_ID,
    username: input.username,
    password: input.password,
    scope: `${defaultScope(input.resource)} openid profile offline_access`,
  };
  // The server checks one password per account at a time (and spaces out checks after
  // failures) and says how long to wait: a short wait is waited out, as a person would
  // retry, so two terminals signing in at once both succeed. A long one is the caller's.
  for (let attempt = 1; ; attempt++) {
    try {
      return checked(await http.send<TokenResponse>({ method: 'POST', url: tokenUrl(input.server, input.tenant), form }));
    } catch (err) {
      const retryAfter = err instanceof TesseraApiError && err.status === 429 ? err.retryAfter : undefined;
      if (retryAfter === undefined || retryAfter > PASSWORD_RETRY_MAX_WAIT_SEC || attempt >= PASSWORD_ATTEMPTS) throw err;
      await sleep(retryAfter * 1000);
    }
  }
}

/** Tries of a password sign-in the server asked to retry shortly (429 with Retry-After). */
const PASSWORD_ATTEMPTS = 3;
/** The longest Retry-After a password sign-in waits out by itself. */
const PASSWORD_RETRY_MAX_WAIT_SEC = 5;

/** Redeems (and so rotates) a refresh token for a token for `resource`. */
export async function refreshGrant(
  http: HttpClient,
  input: { server: string; tenant: string; refreshToken: string; resource: string; clientId: string },
): Promise<TokenResponse> {
  const form = { grant_type: 'refresh_token', client_id: input.clientId, refresh_token: input.refreshToken, scope: `${defaultScope(input.resource)} offline_access` };
  return checked(await http.send<TokenResponse>({ method: 'POST', url: tokenUrl(input.server, input.tenant), form }));
}

/** `client_assertion_type` for a signed JWT (RFC 7523). */
export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** How a confidential client proves itself: a secret, or a signed client assertion. */
export type ClientCredential = { secret: string } | { assertion: string };

/** A service principal signs in as itself (client credentials) for `resource`; no refresh token. */
export async function clientCredentialsGrant(
  http: HttpClient,
  input: { server: string; tenant: string; clientId: string; credential: ClientCredential; resource: string },
): Promise<TokenResponse> {
  const form: Record<string, string> = { grant_type: 'client_credentials', client_id: input.clientId, scope: defaultScope(input.resource) };
  if ('secret' in input.credential) form.client_secret = input.credential.secret;
  else {
    form.client_assertion_type = JWT_BEARER_ASSERTION;
    form.client_assertion = input.credential.assertion;
  }
  return checked(await http.send<TokenResponse>({ method: 'POST', url: tokenUrl(input.server, input.tenant), form }));
}
