/**
 * The authorization endpoint's request (RFC 6749 §4.1.1, PKCE RFC 7636, OpenID Connect
 * Core §3.1.2.1), checked in the order RFC 6749 §4.1.2.1 asks: while the client or its
 * redirect URI is in doubt, an error is shown to the user and never redirected (no open
 * redirect); once both are known good, errors go back to the client's redirect URI.
 */
import { TesseraError } from '../errors.js';
import type { Services } from '../services.js';
import { findClient } from './clients.js';
import { findRedirectUri } from './redirectUris.js';
import { parseScope } from './scopes.js';
import type { Tenant } from './tenants.js';

export type Prompt = 'login' | 'none' | 'select_account' | 'consent';

/** A checked authorization request: what the sign-in pages carry (sealed) until a code is issued. */
export interface AuthorizationRequest {
  tenantId: string;
  tenantAsWritten: string;
  clientId: string;
  clientName: string;
  redirectUri: string;
  responseMode: 'query' | 'form_post';
  /** The scope as asked, normalized. */
  scope: string;
  /** The resource the access token will be for. */
  resource: string;
  state?: string | undefined;
  nonce?: string | undefined;
  codeChallenge?: string | undefined;
  prompts: Prompt[];
  loginHint?: string | undefined;
  /** OpenID Connect max_age: seconds since the last password entry beyond which it is asked again. */
  maxAge?: number | undefined;
}

/** Where an error about a request with a good client and redirect URI is sent. */
export interface ErrorDestination {
  redirectUri: string;
  responseMode: 'query' | 'form_post';
  state?: string | undefined;
  tenantAsWritten: string;
}

/** An error to send to the client's redirect URI rather than show. */
export class RedirectableError extends Error {
  constructor(
    readonly error: TesseraError,
    readonly destination: ErrorDestination,
  ) {
    super(error.message);
    this.name = 'RedirectableError';
  }
}

const PROMPTS = new Set<Prompt>(['login', 'none', 'select_account', 'consent']);
/** RFC 7636 §4.2: S256 challenges are 43 base64url characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const PRINTABLE = /^[\x20-\x7e]*$/;

function invalid(message: string, aadCode: number): TesseraError {
  return new TesseraError('InvalidParameter', message, { aadCodes: [aadCode] });
}

/** A parameter, if present; too long or not printable ASCII is an error. */
function optional(params: Map<string, string>, name: string, maxLength: number): string | undefined {
  const value = params.get(name);
  if (value === undefined || value === '') return undefined;
  if (value.length > maxLength) throw invalid(`The parameter '${name}' is longer than ${maxLength} characters.`, 90100);
  if (!PRINTABLE.test(value)) throw invalid(`The parameter '${name}' contains characters that are not allowed.`, 90100);
  return value;
}

/**
 * Checks an authorization request. Throws a TesseraError (show it) while the client or
 * redirect URI is unknown, and a {@link RedirectableError} (send it to the client) after.
 */
export async function parseAuthorizationRequest(services: Services, tenant: Tenant, tenantAsWritten: string, params: Map<string, string>): Promise<AuthorizationRequest> {
  const clientId = params.get('client_id');
  if (!clientId) throw invalid("The request must contain the parameter 'client_id'.", 900144);
  const client = clientId.length <= 64 ? await findClient(services.applications, tenant, clientId) : undefined;
  if (!client) throw new TesseraError('UnauthorizedClient', "The application named by 'client_id' was not found in this tenant.", { aadCodes: [700016] });
  const redirectUri = params.get('redirect_uri');
  if (!redirectUri) throw new TesseraError('InvalidRedirectUri', "The request must contain the parameter 'redirect_uri'.", { aadCodes: [900144] });
  const isPublic = findRedirectUri(client.publicRedirectUris, redirectUri) !== undefined;
  if (!isPublic && !findRedirectUri(client.webRedirectUris, redirectUri)) {
    throw new TesseraError('InvalidRedirectUri', `The redirect URI in the request does not match the redirect URIs registered for the application '${client.name}'.`, { aadCodes: [50011] });
  }

  // From here on, errors go back to the client.
  const modeAsked = params.get('response_mode');
  const stateValue = params.get('state');
  const stateOk = stateValue === undefined || (stateValue.length <= 4096 && PRINTABLE.test(stateValue));
  const destination: ErrorDestination = {
    redirectUri,
    responseMode: modeAsked === 'form_post' ? 'form_post' : 'query',
    state: stateOk ? stateValue : undefined,
    tenantAsWritten,
  };
  const fail = (err: TesseraError): never => {
    throw new RedirectableError(err, destination);
  };
  try {
    if (!stateOk) throw invalid("The parameter 'state' is longer than 4096 characters or not printable ASCII.", 90100);
    if (modeAsked !== undefined && modeAsked !== 'query' && modeAsked !== 'form_post') {
      throw invalid("response_mode must be 'query' or 'form_post' for the code flow.", 900144);
    }
    const responseType = params.get('response_type');
    if (responseType !== 'code') {
      throw new TesseraError('UnsupportedResponseType', "response_type must be 'code': this server issues tokens only from the token endpoint.", { aadCodes: [700054] });
    }
    const scope = parseScope(params.get('scope'));
    const challenge = optional(params, 'code_challenge', 128);
    const method = params.get('code_challenge_method');
    if (challenge !== undefined) {
      if (method !== 'S256') throw invalid("code_challenge_method must be 'S256'; 'plain' is refused.", 501491);
      if (!S256_CHALLENGE.test(challenge)) throw invalid('The code_challenge must be 43 base64url characters (BASE64URL(SHA256(code_verifier))).', 501491);
    } else if (method !== undefined) {
      throw invalid('code_challenge_method was sent without a code_challenge.', 501491);
    } else if (isPublic) {
      throw invalid('A public client must use PKCE: send code_challenge and code_challenge_method=S256.', 9002325);
    }
    const prompts = (optional(params, 'prompt', 64) ?? '').split(' ').filter(Boolean) as Prompt[];
    if (prompts.some((p) => !PROMPTS.has(p))) throw invalid("prompt must be 'login', 'none', 'select_account' or 'consent'.", 90023);
    if (prompts.includes('none') && prompts.length > 1) throw invalid("prompt=none cannot be combined with other values.", 90023);
    const maxAgeText = optional(params, 'max_age', 10);
    if (maxAgeText !== undefined && !/^\d{1,9}$/.test(maxAgeText)) throw invalid('max_age must be a whole number of seconds.', 90100);
    return {
      tenantId: tenant.id,
      tenantAsWritten,
      clientId: client.clientId,
      clientName: client.name,
      redirectUri,
      responseMode: destination.responseMode,
      scope: scope.asked,
      resource: scope.resource,
      state: stateValue,
      nonce: optional(params, 'nonce', 256),
      codeChallenge: challenge,
      prompts,
      // A hint is only prefilled; it is never trusted. domain_hint and the rest are ignored.
      loginHint: optional(params, 'login_hint', 320),
      maxAge: maxAgeText === undefined ? undefined : Number(maxAgeText),
    };
  } catch (err) {
    if (err instanceof TesseraError) fail(err);
    throw err;
  }
}

/** The parameters of a response to the client: a code, or an error; always `state` and `iss` (RFC 9207). */
export function responseParameters(services: Services, destination: ErrorDestination, result: { code: string } | { error: TesseraError; requestId: string }): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if ('code' in result) {
    out.push(['code', result.code]);
  } else {
    const codes = result.error.aadCodes;
    out.push(['error', result.error.oauthError]);
    out.push(['error_description', `${codes.length > 0 ? `AADSTS${codes[0]}: ` : ''}${result.error.message} Trace ID: ${result.requestId}`]);
    if (codes.length > 0) out.push(['error_codes', `[${codes.join(',')}]`]);
  }
  if (destination.state !== undefined) out.push(['state', destination.state]);
  out.push(['iss', services.publicUrl.issuerAsWritten(destination.tenantAsWritten)]);
  return out;
}

/** The redirect URI with the response in its query, for response_mode=query. */
export function redirectLocation(redirectUri: string, parameters: Array<[string, string]>): string {
  const url = new URL(redirectUri);
  for (const [name, value] of parameters) url.searchParams.append(name, value);
  return url.toString();
}
