/**
 * The SDK's one way to talk HTTP: JSON or form bodies, an optional bearer token, a
 * timeout, and errors that say what went wrong without quoting a token, a password or a
 * query string. Uses the global `fetch`, looked up per request.
 */
import { TesseraApiError, TesseraConnectionError } from './errors.js';

/** Default time a request may take, headers and body together. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** One request for {@link HttpClient.send}. */
export interface HttpRequest {
  method: string;
  /** Absolute URL. */
  url: string;
  /** Sent as `application/json`. */
  json?: unknown;
  /** Sent as `application/x-www-form-urlencoded`. */
  form?: Record<string, string>;
  /** Sent as `multipart/form-data` (fetch streams the parts, e.g. blobs from `fs.openAsBlob`). */
  formData?: FormData;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** More headers (a managed-identity endpoint's secret header); never quoted in an error. */
  headers?: Record<string, string>;
  /** Overrides the client's timeout for this request (long uploads and downloads). */
  timeoutMs?: number;
}

/** Options of every client that talks HTTP. */
export interface HttpClientOptions {
  /** Milliseconds before a request is abandoned; default 30 s. */
  timeoutMs?: number;
}

/** TLS failures that mean "the certificate chain is not trusted here". */
const UNTRUSTED_CERT = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
]);

/** `METHOD scheme://host/path`: what a message may say about a request (never the query). */
function describe(method: string, url: URL): string {
  return `${method} ${url.origin}${url.pathname}`;
}

/** Turns a failed `fetch` (network, TLS, timeout) into a clear {@link TesseraConnectionError}. */
function connectionError(err: unknown, method: string, url: URL, timeoutMs: number): TesseraConnectionError {
  const where = describe(method, url);
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return new TesseraConnectionError('Timeout', `${where} did not answer within ${Math.round(timeoutMs / 100) / 10} s.`);
  }
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  if (code && UNTRUSTED_CERT.has(code)) {
    return new TesseraConnectionError(
      'TlsError',
      `The TLS certificate of ${url.origin} is not trusted (${code}). If the server runs with --tls-self-signed, trust the CA it printed: export NODE_EXTRA_CA_CERTS=<its data dir>/tls/ca.pem`,
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return new TesseraConnectionError('TlsError', `The TLS certificate of ${url.origin} is not valid for that host name (${code}).`);
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return new TesseraConnectionError('TlsError', `The TLS certificate of ${url.origin} is outside its validity period (${code}).`);
  if (code === 'EPROTO' || code?.startsWith('ERR_SSL_')) return new TesseraConnectionError('TlsError', `TLS with ${url.origin} failed (${code}): is it an http:// server?`);
  switch (code) {
    case 'ECONNREFUSED':
      return new TesseraConnectionError('ConnectionFailed', `Cannot connect to ${url.origin}: connection refused. Is the server running?`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new TesseraConnectionError('ConnectionFailed', `Cannot resolve the host name of ${url.origin} (${code}).`);
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return new TesseraConnectionError('ConnectionFailed', `The connection to ${url.origin} closed before ${where} was answered.`);
  }
  if (cause?.message === 'unexpected redirect') {
    return new TesseraConnectionError('InvalidResponse', `${where} answered with a redirect, which is not followed (it would carry credentials elsewhere): give the server's final URL.`);
  }
  // undici's own short texts ('bad port', 'unexpected redirect', 'other side closed') name no secret.
  const detail = code ?? (typeof cause?.message === 'string' ? cause.message.slice(0, 200) : 'network error');
  return new TesseraConnectionError('ConnectionFailed', `Cannot complete ${where}: ${detail}.`);
}

/** Parses a response body that should be JSON; undefined when empty. */
function parseBody(text: string, contentType: string | null): unknown {
  if (text === '') return undefined;
  if (!/[/+]json\b/i.test(contentType ?? '')) throw new SyntaxError('not JSON');
  return JSON.parse(text);
}

/** Sends JSON requests and returns parsed JSON answers. */
export class HttpClient {
  readonly timeoutMs: number;

  constructor(options: HttpClientOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /**
   * Sends one request; resolves with the parsed body (undefined for 204), rejects with
   * {@link TesseraApiError} (the server refused) or {@link TesseraConnectionError}.
   * @example await http.send<{ status: string }>({ method: 'GET', url: 'https://127.0.0.1:5080/health' })
   */
  async send<T>(request: HttpRequest): Promise<T> {
    const { response, url, timeoutMs } = await this.fetch(request, 'application/json');
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      throw connectionError(err, request.method, url, timeoutMs);
    }
    let parsed: unknown;
    try {
      parsed = parseBody(text, response.headers.get('content-type'));
    } catch {
      if (response.status >= 400) throw TesseraApiError.fromResponse(response.status, undefined, response.headers);
      throw new TesseraConnectionError('InvalidResponse', `${describe(request.method, url)} answered HTTP ${response.status} with a body that is not JSON: is that a Tessera server?`);
    }
    if (response.status >= 400) throw TesseraApiError.fromResponse(response.status, parsed, response.headers);
    return parsed as T;
  }

  /**
   * Sends one request and resolves with the successful response unread (for downloads:
   * read `body` as a stream); failures reject as in {@link send}.
   */
  async sendForStream(request: HttpRequest): Promise<Response> {
    const { response, url, timeoutMs } = await this.fetch(request, '*/*');
    if (response.status < 400) return response;
    let parsed: unknown;
    try {
      parsed = parseBody(await response.text(), response.headers.get('content-type'));
    } catch (err) {
      if (err instanceof SyntaxError) parsed = undefined;
      else throw connectionError(err, request.method, url, timeoutMs);
    }
    throw TesseraApiError.fromResponse(response.status, parsed, response.headers);
  }

  private async fetch(request: HttpRequest, accept: string): Promise<{ response: Response; url: URL; timeoutMs: number }> {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      throw new TypeError('The server URL is not a valid URL.');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('The server URL must start with http:// or https://.');
    const headers: Record<string, string> = { ...request.headers, accept, 'user-agent': `tessera-sdk/0.1.0 node/${process.version}` };
    let body: string | FormData | undefined;
    if (request.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(request.json);
    } else if (request.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(request.form).toString();
    } else if (request.formData !== undefined) {
      // fetch writes the Content-Type with its boundary.
      body = request.formData;
    }
    if (request.token !== undefined) headers.authorization = `Bearer ${request.token}`;

    const timeoutMs = request.timeoutMs ?? this.timeoutMs;
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      // Redirects are refused: following one would resend a password or token elsewhere.
      const response = await globalThis.fetch(url, { method: request.method, headers, body, signal, redirect: 'error' });
      return { response, url, timeoutMs };
    } catch (err) {
      throw connectionError(err, request.method, url, timeoutMs);
    }
  }
}
