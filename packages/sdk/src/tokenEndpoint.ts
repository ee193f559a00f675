/**
 * Calls to a tenant's OAuth token endpoint (`/{tenant}/oauth2/v2.0/token`) as the
 * first-party public client: the password grant (sign-in) and the refresh-token grant.
 */
import { TESSERA_CLI_CLIENT_ID } from './audience.js';
import { TesseraConnectionError } from './errors.js';
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

function tokenUrl(server: string, tenant: string): string {
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
  return checked(await http.send<TokenResponse>({ method: 'POST', url: tokenUrl(input.server, input.tenant), form }));
}

/** Redeems (and so rotates) a refresh token for a token for `resource`. */
export async function refreshGrant(
  http: HttpClient,
  input: { server: string; tenant: string; refreshToken: string; resource: string; clientId: string },
): Promise<TokenResponse> {
  const form = { grant_type: 'refresh_token', client_id: input.clientId, refresh_token: input.refreshToken, scope: `${defaultScope(input.resource)} offline_access` };
  return checked(await http.send<TokenResponse>({ method: 'POST', url: tokenUrl(input.server, input.tenant), form }));
}
