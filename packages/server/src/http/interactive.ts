/**
 * What the sign-in page routes share: sending a page, the browser's anti-forgery cookie,
 * the browser session cookie and the signed-in user behind it, and form bodies.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../services.js';
import type { UserRow } from '../identity/users.js';
import type { BrowserSessionRow } from '../oauth/browserSessions.js';
import type { FormPurpose } from '../oauth/interaction.js';
import type { AuthMethod } from '../identity/authMethods.js';
import { TesseraError } from '../errors.js';
import { parseFormBody } from './parsers.js';
import { readCookie, setCookie } from './cookies.js';
import type { Page } from './pages/layout.js';

export interface SignedInBrowser {
  session: BrowserSessionRow;
  user: UserRow;
}

export function isSecure(services: Services): boolean {
  return services.publicUrl.base.startsWith('https:');
}

export function sendPage(reply: FastifyReply, shown: Page): FastifyReply {
  return reply.status(shown.status).headers(shown.headers).send(shown.html);
}

/** The request's query string as parameters, each once (a repeated one is refused). */
export function queryOf(request: FastifyRequest): Map<string, string> {
  const at = request.url.indexOf('?');
  return parseFormBody(at < 0 ? '' : request.url.slice(at + 1));
}

/** A form post's fields; anything but a form body is refused. */
export function formOf(request: FastifyRequest): Map<string, string> {
  if (!(request.body instanceof Map)) throw new TesseraError('UnsupportedMediaType', 'This page takes an application/x-www-form-urlencoded form.');
  return request.body as Map<string, string>;
}

/** The anti-forgery token for a form of `purpose`, setting the browser's cookie first if it has none. */
export function csrfFor(services: Services, request: FastifyRequest, reply: FastifyReply, purpose: FormPurpose): string {
  const secure = isSecure(services);
  let nonce = readCookie(request, 'csrf', secure);
  if (!services.interactions.isBrowserNonce(nonce)) {
    nonce = services.interactions.newBrowserNonce();
    setCookie(reply, 'csrf', nonce, { secure, sameSite: 'Strict' });
  }
  return services.interactions.csrfToken(nonce, purpose);
}

/** Throws InvalidCsrfToken unless the form carries this browser's token for `purpose`. */
export function checkCsrf(services: Services, request: FastifyRequest, form: Map<string, string>, purpose: FormPurpose): void {
  services.interactions.checkCsrf(readCookie(request, 'csrf', isSecure(services)), purpose, form.get('csrf'));
}

/** The live browser session and its (enabled) user in `tenantId`, if the browser has one. */
export async function signedInBrowser(services: Services, request: FastifyRequest, tenantId: string): Promise<SignedInBrowser | undefined> {
  const session = await services.browserSessions.find(readCookie(request, 'session', isSecure(services)));
  if (!session || session.tenant_id !== tenantId) return undefined;
  const user = await services.users.byId(session.user_id);
  if (!user || user.enabled !== 1) return undefined;
  return { session, user };
}

/** Starts a browser session after a sign-in made with `amr` (ending the one the browser had) and sets its cookie. */
export async function startBrowserSession(services: Services, request: FastifyRequest, reply: FastifyReply, user: UserRow, amr: readonly AuthMethod[]): Promise<BrowserSessionRow> {
  const secure = isSecure(services);
  const previous = await services.browserSessions.find(readCookie(request, 'session', secure));
  if (previous) await services.browserSessions.revoke(previous.id);
  const { session, cookie } = await services.browserSessions.create(user.tenant_id, user.id, amr);
  // A session cookie (no Max-Age): the server-side record enforces the idle and absolute limits.
  setCookie(reply, 'session', cookie, { secure, sameSite: 'Lax' });
  return session;
}

/** Ends the browser's session cookie. */
export function clearBrowserSession(services: Services, reply: FastifyReply): void {
  setCookie(reply, 'session', '', { secure: isSecure(services), sameSite: 'Lax', maxAgeSec: 0 });
}

/** A user as a page names them. */
export function userNames(services: Services, user: UserRow): { displayName: string; username: string } {
  return { displayName: user.display_name, username: `${user.username}@${services.tenants.domainOf(user.tenant_id)}` };
}

/** The errors of a password check that the sign-in page shows in place (anything else is an error page). */
export function isSignInRefusal(err: unknown): err is TesseraError {
  return err instanceof TesseraError && ['AuthenticationFailed', 'AccountLocked', 'AccountDisabled', 'TooManyRequests', 'InvalidParameter', 'DirectoryUnavailable'].includes(err.code);
}

/** What the sign-in page shows again when a password sign-in did not succeed. */
export interface SignInProblem {
  error: string;
  status: number;
  username: string;
}

/**
 * The password sign-in a page's form asks for, through the same check, throttle and
 * lockout as every other path. Returns the user, or the problem to show in place (an
 * empty field, a wrong password, a lockout); anything else is thrown.
 */
export async function signInFromForm(services: Services, request: FastifyRequest, reply: FastifyReply, tenantId: string, form: Map<string, string>): Promise<UserRow | SignInProblem> {
  const username = (form.get('username') ?? '').trim();
  const password = form.get('password') ?? '';
  if (username === '' || password === '') {
    request.audit.skip = true;
    return { error: 'Enter your user name and password.', status: 400, username: username.slice(0, 320) };
  }
  try {
    return await services.signIn.signIn({ tenantId, username, password, address: request.ip, audit: request.audit });
  } catch (err) {
    if (!isSignInRefusal(err)) throw err;
    request.audit.reason = err.code;
    if (err.retryAfter !== undefined) reply.header('retry-after', String(err.retryAfter));
    return { error: err.message, status: err.status, username: username.slice(0, 320) };
  }
}
