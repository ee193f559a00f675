/**
 * The errors the SDK throws. None of their messages ever contains a token, a password or
 * a URL's query string (where a refresh token may travel).
 */

/** An answer's headers by name: fetch's `Headers`, or node:http's behind the same `get`. */
export interface HeaderLookup {
  get(name: string): string | null;
}

/** What the server said when it refused a request, from either of its error shapes. */
export class TesseraApiError extends Error {
  /** HTTP status. */
  readonly status: number;
  /** Management APIs: the Azure-style code (`AuthorizationFailed`); OAuth endpoints: the RFC 6749 error (`invalid_grant`). */
  readonly code: string;
  /** The server's request id (`x-ms-request-id`, or `trace_id` on OAuth errors), to quote to an administrator. */
  readonly requestId: string | undefined;
  /** Entra-style numeric codes from OAuth errors (e.g. 50126 for a wrong password). */
  readonly errorCodes: number[];
  /** Seconds to wait, from `Retry-After`, when throttled. */
  readonly retryAfter: number | undefined;

  constructor(init: { status: number; code: string; message: string; requestId?: string | undefined; errorCodes?: number[]; retryAfter?: number | undefined }) {
    super(init.message);
    this.name = 'TesseraApiError';
    this.status = init.status;
    this.code = init.code;
    this.requestId = init.requestId;
    this.errorCodes = init.errorCodes ?? [];
    this.retryAfter = init.retryAfter;
  }

  /**
   * Builds the error from a failed response's status, parsed body and headers.
   * @example TesseraApiError.fromResponse(401, { error: { code: 'AuthenticationFailed', message: '…' } }, headers)
   */
  static fromResponse(status: number, body: unknown, headers: HeaderLookup): TesseraApiError {
    const requestId = headers.get('x-ms-request-id') ?? undefined;
    const retry = Number(headers.get('retry-after'));
    const retryAfter = Number.isFinite(retry) && retry > 0 ? retry : undefined;
    const error = (body as { error?: unknown } | null | undefined)?.error;
    if (error && typeof error === 'object') {
      const { code, message } = error as { code?: unknown; message?: unknown };
      return new TesseraApiError({ status, code: String(code ?? `Http${status}`), message: String(message ?? `HTTP ${status}`), requestId, retryAfter });
    }
    if (typeof error === 'string') {
      const oauth = body as { error_description?: unknown; error_codes?: unknown; trace_id?: unknown };
      return new TesseraApiError({
        status,
        code: error,
        message: typeof oauth.error_description === 'string' ? oauth.error_description : error,
        requestId: typeof oauth.trace_id === 'string' ? oauth.trace_id : requestId,
        errorCodes: Array.isArray(oauth.error_codes) ? oauth.error_codes.filter((c): c is number => typeof c === 'number') : [],
        retryAfter,
      });
    }
    return new TesseraApiError({ status, code: `Http${status}`, message: `The server answered HTTP ${status} without an error description.`, requestId, retryAfter });
  }
}

/** The server could not be reached or did not answer: refused, unknown host, untrusted TLS, timeout. */
export class TesseraConnectionError extends Error {
  /** `ConnectionFailed`, `TlsError`, `Timeout` or `InvalidResponse`. */
  readonly code: 'ConnectionFailed' | 'TlsError' | 'Timeout' | 'InvalidResponse';

  constructor(code: TesseraConnectionError['code'], message: string) {
    super(message);
    this.name = 'TesseraConnectionError';
    this.code = code;
  }
}

/** There is no usable CLI session: the user must run `tessera login`. */
export class NotSignedInError extends Error {
  readonly code = 'NotSignedIn';

  constructor(message = 'not signed in: run tessera login') {
    super(message);
    this.name = 'NotSignedInError';
  }
}

/** A token could not be had from the node's managed-identity endpoint. */
export class ManagedIdentityError extends Error {
  /**
   * `NoIdentityEndpoint` (neither IDENTITY_ENDPOINT + IDENTITY_HEADER nor MSI_ENDPOINT +
   * MSI_SECRET is set), `IdentityRefused` (the endpoint answered 400 or 401),
   * `InvalidResponse` (an answer without a usable token).
   */
  readonly code: 'NoIdentityEndpoint' | 'IdentityRefused' | 'InvalidResponse';
  /** The endpoint's HTTP status, for `IdentityRefused`. */
  readonly status: number | undefined;

  constructor(code: ManagedIdentityError['code'], message: string, status?: number) {
    super(message);
    this.name = 'ManagedIdentityError';
    this.code = code;
    this.status = status;
  }
}

/** A run could not be submitted, waited for or acted for. */
export class RunError extends Error {
  /**
   * `RunFailed` (the run ended Failed), `WaitTimeout` (still not finished when the wait
   * ended), `RunTokenExpired` (the run token is past its expiry), `NotInRun` (the
   * environment of a submitted run is missing or incomplete), `OfflineRun` (what an
   * offline run cannot do), `InvalidSubmission` (a run configuration refused before sending).
   */
  readonly code: 'RunFailed' | 'WaitTimeout' | 'RunTokenExpired' | 'NotInRun' | 'OfflineRun' | 'InvalidSubmission';
  /** The run, when there is one. */
  readonly runId: string | undefined;

  constructor(code: RunError['code'], message: string, runId?: string) {
    super(message);
    this.name = 'RunError';
    this.code = code;
    this.runId = runId;
  }
}
