/**
 * `--debug`'s HTTP lines: each request's method and URL, its headers, and the answer's
 * status, time and request id, read from the diagnostics channels Node publishes, both
 * node:http's and fetch's (undici's): the SDK sends JSON with the one and uploads and
 * downloads with the other, and every request is seen without the SDK knowing. Never a
 * secret: credentials in headers and query parameters are replaced by `***`, and no body
 * is printed (token answers, keys and secrets travel in bodies).
 */
import diagnostics from 'node:diagnostics_channel';
import { debug } from './log.js';

/** Header names whose values are credentials (or may be). */
const SECRET_HEADER = /auth|cookie|secret|token|key|identity|pass|credential|assertion/i;
/** Query parameter names whose values are credentials (or may be). */
const SECRET_PARAM = /key|secret|token|code|pass|pwd|credential|auth|sig|assertion|verifier/i;

interface UndiciRequest {
  method: string;
  origin: string;
  path: string;
  /** Flat [name, value, name, value, …] (Node 20) or a string block (older undici). */
  headers: string[] | string;
}

interface UndiciResponse {
  statusCode: number;
  headers: (Buffer | string)[];
}

/** `path` with credential-like query values hidden. */
export function redactedPath(path: string): string {
  const q = path.indexOf('?');
  if (q < 0) return path;
  const params = new URLSearchParams(path.slice(q + 1));
  const shown = [...params].map(([name, value]) => `${encodeURIComponent(name)}=${SECRET_PARAM.test(name) ? '***' : encodeURIComponent(value)}`);
  return `${path.slice(0, q)}?${shown.join('&')}`;
}

/** `name: value` lines, credential-like values hidden. */
export function redactedHeaders(flat: readonly (Buffer | string)[]): string[] {
  const lines: string[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = String(flat[i]);
    lines.push(`${name}: ${SECRET_HEADER.test(name) ? '***' : String(flat[i + 1])}`);
  }
  return lines;
}

function headerList(headers: string[] | string): string[] {
  if (Array.isArray(headers)) return headers;
  return headers.split('\r\n').filter(Boolean).flatMap((line) => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
}

/** Runs a subscriber; a message of a shape this code does not know is skipped, never a crash. */
function guarded<T>(handle: (message: T) => void): (message: unknown) => void {
  return (message) => {
    try {
      handle(message as T);
    } catch {
      debug('(an HTTP event of an unknown shape was not shown)');
    }
  };
}

/** What the node:http channels hand over: a ClientRequest, and its IncomingMessage. */
interface NodeClientRequest {
  method: string;
  protocol: string;
  path: string;
  getHeader(name: string): unknown;
  getRawHeaderNames(): string[];
}

interface NodeIncomingMessage {
  statusCode?: number;
  rawHeaders: string[];
}

function nodeOrigin(request: NodeClientRequest): string {
  return `${request.protocol}//${String(request.getHeader('host'))}`;
}

function nodeHeaders(request: NodeClientRequest): string[] {
  return request.getRawHeaderNames().flatMap((name) => {
    const value = request.getHeader(name);
    return [name, Array.isArray(value) ? value.join(', ') : String(value)];
  });
}

/** One request as both kinds of channel describe it: what its lines show. */
interface Seen {
  /** The channel's own request object: the key its answer is timed by. */
  key: object;
  method: string;
  origin: string;
  path: string;
}

function undiciSeen(request: UndiciRequest): Seen {
  return { key: request, method: request.method, origin: request.origin, path: request.path };
}

function nodeSeen(request: NodeClientRequest): Seen {
  return { key: request, method: request.method, origin: nodeOrigin(request), path: request.path };
}

let started = false;

/** Prints every HTTP request and answer of this process as DEBUG lines (once started, for the process's life). */
export function startHttpDebug(): void {
  if (started) return;
  started = true;
  const began = new WeakMap<object, number>();
  const where = (r: Seen): string => `${r.method} ${r.origin}${redactedPath(r.path).split('?')[0]}`;
  const sent = (r: Seen, headers: readonly (Buffer | string)[]): void => {
    began.set(r.key, performance.now());
    debug(`Request: ${r.method} ${r.origin}${redactedPath(r.path)}`);
    for (const line of redactedHeaders(headers)) debug(`Request header: ${line}`);
  };
  const answered = (r: Seen, status: number | undefined, headers: readonly (Buffer | string)[]): void => {
    const start = began.get(r.key);
    const ms = start === undefined ? '?' : (performance.now() - start).toFixed(0);
    const id = redactedHeaders(headers).find((l) => /^x-ms-request-id:/i.test(l) || /^request-id:/i.test(l));
    debug(`Response: ${status ?? '?'} ${where(r)} in ${ms} ms${id ? ` (${id})` : ''}`);
  };
  const failed = (r: Seen, error: { code?: unknown; name?: unknown }): void => debug(`Request failed: ${where(r)}: ${String(error.code ?? error.name ?? 'error')}`);

  // fetch (undici): uploads and downloads.
  diagnostics.subscribe('undici:request:create', guarded(({ request }: { request: UndiciRequest }) => sent(undiciSeen(request), headerList(request.headers))));
  diagnostics.subscribe('undici:request:headers', guarded(({ request, response }: { request: UndiciRequest; response: UndiciResponse }) => answered(undiciSeen(request), response.statusCode, response.headers)));
  diagnostics.subscribe('undici:request:error', guarded(({ request, error }: { request: UndiciRequest; error: { code?: unknown; name?: unknown } }) => failed(undiciSeen(request), error)));
  // node:http(s): JSON and form requests.
  diagnostics.subscribe('http.client.request.start', guarded(({ request }: { request: NodeClientRequest }) => sent(nodeSeen(request), nodeHeaders(request))));
  diagnostics.subscribe('http.client.response.finish', guarded(({ request, response }: { request: NodeClientRequest; response: NodeIncomingMessage }) => answered(nodeSeen(request), response.statusCode, response.rawHeaders)));
  diagnostics.subscribe('http.client.request.error', guarded(({ request, error }: { request: NodeClientRequest; error: { code?: unknown; name?: unknown } }) => failed(nodeSeen(request), error)));
}
