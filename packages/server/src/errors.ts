/**
 * The one error type of the server, and the catalogue of its codes.
 *
 * Every failure a caller can see is a {@link TesseraError}: a stable `code` (listed in
 * {@link ERROR_CATALOGUE} and the README), an HTTP status and a message that names what
 * was wrong. The HTTP layer renders it in the shape the route speaks: Azure's
 * `{"error": {"code", "message"}}` on management APIs, RFC 6749 (with AAD's extra
 * fields) on OAuth endpoints. Messages never contain secrets: build them from names,
 * never from submitted values.
 */

/** RFC 6749 / RFC 6750 error codes used on OAuth endpoints. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'unsupported_token_type'
  | 'temporarily_unavailable'
  | 'server_error'
  | 'access_denied'
  | 'authorization_pending'
  | 'slow_down'
  | 'authorization_declined'
  | 'expired_token'
  | 'bad_verification_code'
  | 'login_required'
  | 'interaction_required';

interface CatalogueEntry {
  status: number;
  /** The RFC 6749 error this code becomes on an OAuth endpoint. */
  oauth: OAuthErrorCode;
  /** What the code means, for the README's table. */
  meaning: string;
}

/** Every error code the server emits, with its status. The README lists the same. */
export const ERROR_CATALOGUE = {
  InvalidRequestContent: { status: 400, oauth: 'invalid_request', meaning: 'The body is not valid JSON or form data, or has a duplicated field.' },
  InvalidParameter: { status: 400, oauth: 'invalid_request', meaning: 'A parameter is missing, malformed, too long or not allowed.' },
  PasswordPolicyViolation: { status: 400, oauth: 'invalid_request', meaning: 'The new password is too short, too long or too common.' },
  UnsupportedMediaType: { status: 415, oauth: 'invalid_request', meaning: 'The Content-Type is not one this endpoint accepts.' },
  RequestEntityTooLarge: { status: 413, oauth: 'invalid_request', meaning: 'The body is larger than the endpoint accepts.' },
  RequestTimeout: { status: 408, oauth: 'invalid_request', meaning: 'The request took too long to arrive.' },
  RequestHeaderFieldsTooLarge: { status: 431, oauth: 'invalid_request', meaning: 'The request headers are too large.' },
  AuthenticationFailed: { status: 401, oauth: 'invalid_grant', meaning: 'The username, password or refresh token is wrong, expired or revoked.' },
  InvalidAuthenticationToken: { status: 401, oauth: 'invalid_request', meaning: 'The bearer token is missing, malformed, expired or not for this server.' },
  AccountLocked: { status: 400, oauth: 'invalid_grant', meaning: 'Too many failed sign-ins: the account or address is locked for a while.' },
  AccountDisabled: { status: 400, oauth: 'invalid_grant', meaning: 'The account is disabled.' },
  TooManyRequests: { status: 429, oauth: 'temporarily_unavailable', meaning: 'Sign-in attempts are being throttled: retry after Retry-After seconds.' },
  AuthorizationFailed: { status: 403, oauth: 'unauthorized_client', meaning: 'The caller lacks the permission for that action at that scope.' },
  ResourceNotFound: { status: 404, oauth: 'invalid_request', meaning: 'The addressed resource does not exist.' },
  RouteNotFound: { status: 404, oauth: 'invalid_request', meaning: 'No endpoint at that path and method.' },
  Conflict: { status: 409, oauth: 'invalid_request', meaning: 'The resource already exists or the change conflicts with its state.' },
  ReadOnlyDisabledSubscription: { status: 409, oauth: 'invalid_request', meaning: 'The subscription is Disabled (cancelled), so everything under it is read-only: enable it again to make changes.' },
  QuotaExceeded: { status: 409, oauth: 'invalid_request', meaning: 'The change would take a workspace or a principal past a quota (web services, workers, memory or model storage); the message names the limit, the usage and the request.' },
  UnsupportedGrantType: { status: 400, oauth: 'unsupported_grant_type', meaning: 'The OAuth grant_type is not supported.' },
  InvalidScope: { status: 400, oauth: 'invalid_scope', meaning: 'The requested scope or resource is unknown or malformed.' },
  InvalidClient: { status: 401, oauth: 'invalid_client', meaning: 'The client could not be authenticated: unknown client, wrong secret or bad assertion (indistinguishably).' },
  UnsupportedTokenType: { status: 400, oauth: 'unsupported_token_type', meaning: 'That kind of token cannot be revoked: end the session or disable the principal.' },
  UnauthorizedClient: { status: 400, oauth: 'unauthorized_client', meaning: 'The client_id is unknown or may not use this grant.' },
  InvalidGrant: { status: 400, oauth: 'invalid_grant', meaning: 'The authorization or device code is wrong, expired, already used, issued to another client or redirect URI, or its PKCE verifier does not match.' },
  InvalidRedirectUri: { status: 400, oauth: 'invalid_request', meaning: 'The redirect_uri is not one registered for the client: the error is shown, never redirected to.' },
  UnsupportedResponseType: { status: 400, oauth: 'unsupported_response_type', meaning: 'The authorization endpoint answers only response_type=code.' },
  LoginRequired: { status: 400, oauth: 'login_required', meaning: 'prompt=none was asked but the browser has no usable session: sign in interactively.' },
  AccessDenied: { status: 400, oauth: 'access_denied', meaning: 'The user refused the sign-in request.' },
  AuthorizationPending: { status: 400, oauth: 'authorization_pending', meaning: 'Device code: the user has not finished signing in yet; poll again after the interval.' },
  SlowDown: { status: 400, oauth: 'slow_down', meaning: 'Device code: polled faster than the interval; wait longer between polls.' },
  AuthorizationDeclined: { status: 400, oauth: 'authorization_declined', meaning: 'Device code: the user refused the request.' },
  ExpiredToken: { status: 400, oauth: 'expired_token', meaning: 'Device code: the code expired before it was approved; start again.' },
  BadVerificationCode: { status: 400, oauth: 'bad_verification_code', meaning: 'Device code: the device_code is not one this server issued.' },
  InvalidMfaCode: { status: 400, oauth: 'invalid_grant', meaning: 'The verification code or recovery code is wrong, from too long ago, or was already used (each code works once).' },
  ConditionalAccessBlocked: { status: 400, oauth: 'invalid_grant', meaning: 'AADSTS53003: a conditional-access policy blocks this sign-in; the message names the policy.' },
  MfaRequired: { status: 400, oauth: 'interaction_required', meaning: 'AADSTS50076: a conditional-access policy (or the account\'s own MFA enrolment) requires multi-factor authentication, which this sign-in has not done; the answer carries a claims challenge.' },
  ConditionalAccessLockout: { status: 409, oauth: 'invalid_request', meaning: 'The policy would block the caller itself (the message says how); send it again with force=true to save it anyway.' },
  InvalidCsrfToken: { status: 403, oauth: 'invalid_request', meaning: 'A sign-in page form came without its anti-forgery token, or with one for another browser or an expired page: reload the page.' },
  BadGateway: { status: 502, oauth: 'server_error', meaning: "A web service's worker crashed or ran out of memory while scoring; it is restarted and the next request is served." },
  GatewayTimeout: { status: 504, oauth: 'server_error', meaning: 'A scoring request ran past its timeout; the worker is restarted.' },
  ServiceUnavailable: { status: 503, oauth: 'temporarily_unavailable', meaning: 'The server is starting, stopping or cannot reach its store, or a web service\'s request queue is full (retry after Retry-After seconds).' },
  DirectoryUnavailable: { status: 503, oauth: 'temporarily_unavailable', meaning: 'No server of the LDAP or Active Directory directory answered: its users cannot sign in or refresh until one does (local accounts still can).' },
  DirectoryError: { status: 502, oauth: 'server_error', meaning: 'The directory answered with something Tessera cannot use: a name that matches several entries, an entry without its unique id, more groups than maxGroups, or a refused service-account bind; the message says which.' },
  DirectoryManaged: { status: 409, oauth: 'invalid_request', meaning: 'The user or group comes from a directory: its name, password and memberships change there, not through Tessera.' },
  InternalServerError: { status: 500, oauth: 'server_error', meaning: 'An unexpected failure; the log has the details under the request id.' },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface TesseraErrorOptions {
  /** AAD's numeric error codes (e.g. 50126 for bad credentials), echoed in `error_codes`. */
  aadCodes?: number[];
  /** Seconds, sent as `Retry-After`. */
  retryAfter?: number;
  /** For 401s on bearer-protected routes: the RFC 6750 error (`invalid_token`), or none for a plain challenge. */
  bearerError?: 'invalid_token' | 'invalid_request' | null;
  /** Overrides the OAuth error the catalogue would give. */
  oauth?: OAuthErrorCode;
  /** Entra's `suberror` (`message_only`, `basic_action`), echoed on OAuth endpoints. */
  suberror?: string;
  /** A claims challenge (JSON), echoed as `claims` on OAuth endpoints (conditional access). */
  claims?: string;
}

/** The server's one error type. */
export class TesseraError extends Error {
  readonly status: number;
  readonly oauthError: OAuthErrorCode;
  readonly aadCodes: number[];
  readonly retryAfter: number | undefined;
  readonly bearerError: 'invalid_token' | 'invalid_request' | null | undefined;
  readonly suberror: string | undefined;
  readonly claims: string | undefined;

  constructor(readonly code: ErrorCode, message: string, options: TesseraErrorOptions = {}) {
    super(message);
    this.name = 'TesseraError';
    const entry: CatalogueEntry = ERROR_CATALOGUE[code];
    this.status = entry.status;
    this.oauthError = options.oauth ?? entry.oauth;
    this.aadCodes = options.aadCodes ?? [];
    this.retryAfter = options.retryAfter;
    this.bearerError = options.bearerError;
    this.suberror = options.suberror;
    this.claims = options.claims;
  }
}

/** True when `value` is a {@link TesseraError}. */
export function isTesseraError(value: unknown): value is TesseraError {
  return value instanceof TesseraError;
}
