/**
 * Test support for the browser and device-code flows at the protocol level: a cookie jar
 * that follows nothing on its own (each redirect is asserted), form fields read off the
 * server's pages, and PKCE pairs. The real browser (Chromium) is in browser-sign-in.test.ts.
 */
import crypto from 'node:crypto';
import { postForm, type TestServer } from './helpers.js';

export const CLI_CLIENT = '3c8a5a4e-0f7d-4b8e-9d3a-7e2b1c6f9a01';
export const LOOPBACK_REDIRECT = 'http://127.0.0.1:43117/';
export const SCOPE = 'openid profile offline_access api://tessera/management/.default';

export interface PageResponse {
  status: number;
  headers: Headers;
  text: string;
  location: string | undefined;
}

/** One browser: its cookies, and requests that never follow redirects by themselves. */
export class Browser {
  readonly cookies = new Map<string, string>();

  constructor(readonly server: TestServer) {}

  async get(pathOrUrl: string): Promise<PageResponse> {
    return this.request(pathOrUrl, { method: 'GET' });
  }

  async post(pathOrUrl: string, fields: Record<string, string>): Promise<PageResponse> {
    return this.request(pathOrUrl, { method: 'POST', body: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  }

  async request(pathOrUrl: string, init: RequestInit): Promise<PageResponse> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : new URL(pathOrUrl, this.server.url + '/').toString();
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string> | undefined), ...(cookie ? { cookie } : {}) } });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (/max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, headers: res.headers, text: await res.text(), location: res.headers.get('location') ?? undefined };
  }
}

/** A hidden or text field's value on a page (HTML entities decoded). */
export function field(page: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(page);
  if (!match) throw new Error(`the page has no field '${name}': ${page.slice(0, 400)}`);
  return match[1]!.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#96;/g, '`').replace(/&amp;/g, '&');
}

/** The form's action on a page. */
export function formAction(page: string): string {
  const match = /<form method="post" action="([^"]*)"/.exec(page);
  if (!match) throw new Error('the page has no form');
  return match[1]!.replace(/&amp;/g, '&');
}

/** The alert text of a page. */
export function alertOf(page: string): string | undefined {
  return /role="alert"[^>]*>([^<]*)</.exec(page)?.[1];
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = crypto.randomBytes(32).toString('base64url');
  return { verifier, challenge: crypto.createHash('sha256').update(verifier).digest('base64url') };
}

export interface AuthorizeOptions {
  clientId?: string;
  redirectUri?: string;
  scope?: string;
  state?: string;
  nonce?: string;
  challenge?: string | null;
  extra?: Record<string, string>;
  tenant?: string;
}

/** The authorize URL path for a request. */
export function authorizePath(options: AuthorizeOptions = {}): string {
  const params = new URLSearchParams({
    client_id: options.clientId ?? CLI_CLIENT,
    response_type: 'code',
    redirect_uri: options.redirectUri ?? LOOPBACK_REDIRECT,
    scope: options.scope ?? SCOPE,
    state: options.state ?? 'state-1',
  });
  if (options.nonce !== undefined) params.set('nonce', options.nonce);
  if (options.challenge !== null) {
    params.set('code_challenge', options.challenge ?? pkce().challenge);
    params.set('code_challenge_method', 'S256');
  }
  for (const [k, v] of Object.entries(options.extra ?? {})) params.set(k, v);
  return `${options.tenant ?? 'organizations'}/oauth2/v2.0/authorize?${params.toString()}`;
}

/** Submits the sign-in page's form. */
export function submitSignIn(browser: Browser, page: string, username: string, password: string, action = 'signin'): Promise<PageResponse> {
  return browser.post(formAction(page), { csrf: field(page, 'csrf'), request: field(page, 'request'), username, password, action });
}

/** Signs in through the authorize endpoint; returns the redirect's query. */
export async function authorizeAndSignIn(browser: Browser, username: string, password: string, options: AuthorizeOptions = {}): Promise<URLSearchParams> {
  const page = await browser.get(authorizePath(options));
  if (page.status !== 200) throw new Error(`authorize answered ${page.status}: ${alertOf(page.text) ?? page.location}`);
  const done = await submitSignIn(browser, page.text, username, password);
  if (done.status !== 303 || !done.location) throw new Error(`sign-in answered ${done.status}: ${alertOf(done.text)}`);
  return new URL(done.location).searchParams;
}

/** Redeems a code at the token endpoint. */
export function redeem(server: TestServer, code: string, verifier: string | undefined, extra: Record<string, string> = {}) {
  const params: Record<string, string> = { grant_type: 'authorization_code', client_id: CLI_CLIENT, code, redirect_uri: LOOPBACK_REDIRECT, ...extra };
  if (verifier !== undefined) params.code_verifier = verifier;
  return postForm(`${server.url}/organizations/oauth2/v2.0/token`, params);
}
