/**
 * Redirect URIs: which may be registered, and when a requested one matches a registered
 * one. Exact string equality, with one exception (RFC 8252 §7.3): a registered loopback
 * URI (`http://localhost`, `http://127.0.0.1`, `http://[::1]`) matches the same URI on
 * any port, because native apps listen on whatever port is free. Nothing else matches
 * loosely: no wildcards, no prefixes, no case folding, so there is no open redirect.
 */
import { TesseraError } from '../errors.js';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
/** Entra's limits: 256 characters a URI, 256 URIs an application. */
export const MAX_REDIRECT_URI_LENGTH = 256;
export const MAX_REDIRECT_URIS = 256;

function parse(uri: string): URL | undefined {
  try {
    return new URL(uri);
  } catch {
    return undefined;
  }
}

/** Characters that have no business in a redirect URI (and would be normalized away by a parser). */
function hasUnsafeCharacters(uri: string): boolean {
  return /[\u0000-\u0020\u007f-\uffff\\<>"`{}|^]/.test(uri);
}

/** Whether `uri` is an http loopback URI, the kind that matches on any port. */
export function isLoopbackRedirect(uri: string): boolean {
  const url = parse(uri);
  return url !== undefined && url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
}

/**
 * Checks a URI someone wants to register. Web (confidential) URIs are https, or http on
 * loopback; public-client URIs may also use a private scheme (`msal<appid>://auth`).
 */
export function checkRedirectUri(uri: string, kind: 'public' | 'web'): string {
  const bad = (why: string) => new TesseraError('InvalidParameter', `The redirect URI is not acceptable: ${why}.`);
  if (typeof uri !== 'string' || uri.length === 0 || uri.length > MAX_REDIRECT_URI_LENGTH) throw bad(`it must be 1 to ${MAX_REDIRECT_URI_LENGTH} characters`);
  if (hasUnsafeCharacters(uri)) throw bad('it contains spaces, control or non-ASCII characters');
  if (uri.includes('*')) throw bad('wildcards are not allowed');
  const url = parse(uri);
  if (!url) throw bad('it is not an absolute URI');
  if (url.hash !== '' || uri.includes('#')) throw bad('it must not have a fragment');
  if (url.username !== '' || url.password !== '') throw bad('it must not carry a user name or password');
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  if (scheme === 'https') return uri;
  if (scheme === 'http') {
    if (!LOOPBACK_HOSTS.has(url.hostname)) throw bad('http is allowed only on loopback (localhost, 127.0.0.1, [::1]); use https');
    return uri;
  }
  if (kind === 'public' && /^[a-z][a-z0-9+.-]*$/.test(scheme) && !['javascript', 'data', 'file', 'vbscript', 'blob', 'ftp', 'ws', 'wss'].includes(scheme)) return uri;
  throw bad(kind === 'web' ? 'a web redirect URI must be https (or http on loopback)' : 'the scheme is not allowed');
}

/** Checks and de-duplicates a list of URIs to register. */
export function checkRedirectUris(uris: readonly string[], kind: 'public' | 'web'): string[] {
  if (uris.length > MAX_REDIRECT_URIS) throw new TesseraError('InvalidParameter', `An application may have at most ${MAX_REDIRECT_URIS} redirect URIs of each kind.`);
  return [...new Set(uris.map((u) => checkRedirectUri(u, kind)))];
}

/** Whether `requested` (from an authorization request) matches the `registered` URI. */
export function redirectUriMatches(registered: string, requested: string): boolean {
  if (registered === requested) return true;
  if (!isLoopbackRedirect(registered) || requested.length > MAX_REDIRECT_URI_LENGTH || hasUnsafeCharacters(requested) || requested.includes('#')) return false;
  const want = parse(registered)!;
  const got = parse(requested);
  if (!got || got.protocol !== 'http:' || got.username !== '' || got.password !== '') return false;
  // Same host as registered (localhost and 127.0.0.1 are different registrations), any port, the same path and query.
  return got.hostname === want.hostname && got.pathname === want.pathname && got.search === want.search;
}

/** The first registered URI that `requested` matches, if any. */
export function findRedirectUri(registered: readonly string[], requested: string): string | undefined {
  return registered.find((r) => redirectUriMatches(r, requested));
}
