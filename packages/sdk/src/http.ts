/**
 * The SDK's one way to talk HTTP: JSON or form bodies, an optional bearer token, a
 * timeout, and errors that say what went wrong without quoting a token, a password or a
 * query string.
 *
 * JSON and form requests go through node:http(s); multipart uploads and streamed
 * downloads through the global `fetch` (looked up per request). Why not fetch for all:
 * Node 20's fetch costs a short-lived process some 150 ms of CPU the first time (undici
 * and its WebAssembly HTTP parser are loaded and compiled), about as much as the rest of
 * a `tessera` command; node:http costs a few. Both refuse redirects and map failures to
 * the same errors, and `--debug` sees both (packages/cli/src/httpDebug.ts).
 */
import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { TesseraApiError, TesseraConnectionError, type HeaderLookup } from './errors.js';

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

/**
 * Turns a failed request (network, TLS, timeout) into a clear {@link TesseraConnectionError}:
 * fetch puts the system error in `cause`, node:http throws it itself.
 */
function connectionError(err: unknown, method: string, url: URL, timeoutMs: number): TesseraConnectionError {
  const where = describe(method, url);
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return new TesseraConnectionError('Timeout', `${where} did not answer within ${Math.round(timeoutMs / 100) / 10} s.`);
  }
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  const own = (err as { code?: unknown } | undefined)?.code;
  const code = typeof cause?.code === 'string' ? cause.code : typeof own === 'string' ? own : undefined;
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
    const prepared = prepare(request, 'application/json', this.timeoutMs);
    const { url, timeoutMs } = prepared;
    let answer: Answer;
    // A body that is not a string is multipart (FormData): fetch streams it.
    if (prepared.body !== undefined && typeof prepared.body !== 'string') {
      const response = await viaFetch(prepared, request.method);
      try {
        answer = { status: response.status, headers: response.headers, text: await response.text() };
      } catch (err) {
        throw connectionError(err, request.method, url, timeoutMs);
      }
    } else {
      try {
        answer = await viaNodeHttp(prepared, request.method);
      } catch (err) {
        throw err instanceof TesseraConnectionError ? err : connectionError(err, request.method, url, timeoutMs);
      }
    }
    let parsed: unknown;
    try {
      parsed = parseBody(answer.text, answer.headers.get('content-type'));
    } catch {
      if (answer.status >= 400) throw TesseraApiError.fromResponse(answer.status, undefined, answer.headers);
      throw new TesseraConnectionError('InvalidResponse', `${describe(request.method, url)} answered HTTP ${answer.status} with a body that is not JSON: is that a Tessera server?`);
    }
    if (answer.status >= 400) throw TesseraApiError.fromResponse(answer.status, parsed, answer.headers);
    return parsed as T;
  }

  /**
   * Sends one request and resolves with the successful response unread (for downloads:
   * read `body` as a stream); failures reject as in {@link send}.
   */
  async sendForStream(request: HttpRequest): Promise<Response> {
    const prepared = prepare(request, '*/*', this.timeoutMs);
    const response = await viaFetch(prepared, request.method);
    if (response.status < 400) return response;
    let parsed: unknown;
    try {
      parsed = parseBody(await response.text(), response.headers.get('content-type'));
    } catch (err) {
      if (err instanceof SyntaxError) parsed = undefined;
      else throw connectionError(err, request.method, prepared.url, prepared.timeoutMs);
    }
    throw TesseraApiError.fromResponse(response.status, parsed, response.headers);
  }
}

/** A request ready to go: its URL checked, its headers and body made. */
interface Prepared {
  url: URL;
  headers: Record<string, string>;
  body: string | FormData | undefined;
  timeoutMs: number;
}

/** A whole answer read. */
interface Answer {
  status: number;
  headers: HeaderLookup;
  text: string;
}

function prepare(request: HttpRequest, accept: string, defaultTimeoutMs: number): Prepared {
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
  return { url, headers, body, timeoutMs: request.timeoutMs ?? defaultTimeoutMs };
}

async function viaFetch({ url, headers, body, timeoutMs }: Prepared, method: string): Promise<Response> {
  try {
    // Redirects are refused: following one would resend a password or token elsewhere.
    return await globalThis.fetch(url, { method, headers, body, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  } catch (err) {
    throw connectionError(err, method, url, timeoutMs);
  }
}

/** Statuses fetch would follow, given a Location. */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Sends `body` (a string or nothing) with node:http(s) and reads the whole answer within `timeoutMs`. */
async function viaNodeHttp({ url, headers, body, timeoutMs }: Prepared, method: string): Promise<Answer> {
  // node:https (and with it node:tls) is loaded only for an https:// server.
  const transport = url.protocol === 'https:' ? (await import('node:https')).default : http;
  const sent = typeof body === 'string' ? { ...headers, 'content-length': String(Buffer.byteLength(body)) } : headers;
  return new Promise<Answer>((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const req = transport.request(url, { method, headers: sent });
    const timer = setTimeout(() => {
      const timeout = new Error('timed out');
      timeout.name = 'TimeoutError';
      settle(() => reject(timeout));
      req.destroy(timeout);
    }, timeoutMs);
    req.on('error', (err) => settle(() => reject(err)));
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if (REDIRECTS.has(status) && res.headers.location !== undefined) {
        res.resume();
        settle(() => reject(new TesseraConnectionError('InvalidResponse', `${describe(method, url)} answered with a redirect, which is not followed (it would carry credentials elsewhere): give the server's final URL.`)));
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => settle(() => resolve({ status, headers: lookup(res.headers), text: Buffer.concat(chunks).toString('utf8') })));
      res.on('error', (err) => settle(() => reject(err)));
      res.on('aborted', () => settle(() => reject(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))));
    });
    req.end(typeof body === 'string' ? body : undefined);
  });
}

/** node:http's headers behind fetch's `get(name)`. */
function lookup(headers: IncomingHttpHeaders): HeaderLookup {
  return {
    get(name: string): string | null {
      const value = headers[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}
