/**
 * The cookies of the sign-in pages. Over HTTPS they carry the `__Host-` prefix (the
 * browser then insists on Secure, Path=/ and no Domain, so no other host or path can set
 * or shadow them); over plain HTTP (a loopback development server) the same names without
 * it. All are HttpOnly.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

export type CookieName = 'session' | 'csrf';

export interface CookieOptions {
  secure: boolean;
  /** Seconds; absent for a cookie that lasts while the browser runs. 0 deletes it. */
  maxAgeSec?: number;
  sameSite: 'Lax' | 'Strict';
}

export function cookieName(name: CookieName, secure: boolean): string {
  return `${secure ? '__Host-' : ''}tessera-${name}`;
}

/** The first value of a cookie in the request (a second one of the same name is ignored). */
export function readCookie(request: FastifyRequest, name: CookieName, secure: boolean): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string' || header.length > 8192) return undefined;
  const wanted = cookieName(name, secure);
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === wanted) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Adds a Set-Cookie header (several may be set on one reply). */
export function setCookie(reply: FastifyReply, name: CookieName, value: string, options: CookieOptions): void {
  const attributes = [`${cookieName(name, options.secure)}=${value}`, 'Path=/', 'HttpOnly', `SameSite=${options.sameSite}`];
  if (options.secure) attributes.push('Secure');
  if (options.maxAgeSec !== undefined) attributes.push(`Max-Age=${options.maxAgeSec}`);
  const previous = reply.getHeader('set-cookie');
  const list = previous === undefined ? [] : Array.isArray(previous) ? previous.map(String) : [String(previous)];
  reply.header('set-cookie', [...list, attributes.join('; ')]);
}
