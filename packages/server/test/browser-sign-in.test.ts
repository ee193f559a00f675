/**
 * The sign-in pages in a real browser: Debian's Chromium, driven through playwright-core,
 * against a real HTTPS server (self-signed CA; the browser is told to accept it, this
 * process trusts it explicitly), on both stores. The test plays the OAuth client: a
 * loopback HTTP server receives the redirect (or the form_post), and the code is redeemed
 * at the token endpoint. Every page the browser shows is saved as a PNG under
 * test-output/screenshots (scripts/test-browser.mjs's screenshotDir()).
 *
 * There is no skipping: the tests launch /usr/bin/chromium (.ci/run installs it) and fail
 * if it is not there.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type LaunchOptions, type Page, type Response } from 'playwright-core';
import { ADMIN_PASSWORD, STORE_KINDS, claimsOf, startTestServer, type TestServer } from './helpers.js';
import { DEFAULT_THROTTLE } from '../src/index.js';
import { CLI_CLIENT, SCOPE, authorizePath, pkce, type AuthorizeOptions } from './interactive-helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
interface TestBrowserModule {
  CHROMIUM_LAUNCH: LaunchOptions;
  screenshotDir(): string;
}
const testBrowser = (await import(pathToFileURL(path.join(ROOT, 'scripts', 'test-browser.mjs')).href)) as TestBrowserModule;

const USER = 'ada';
const PASSWORD = 'Analytical-Engine-1843';
const DISPLAY_NAME = 'Ada Lovelace';
const MARKUP = '<img src=x onerror=alert(1)>';
const MARKUP_USER = 'mallory';
const MARKUP_PASSWORD = 'Angle-Brackets-Pass-77';
const LOCKED_USER = 'locksmith';
const LOCKED_PASSWORD = 'Right-Key-Turns-5';
const RESOURCE_SCOPE = 'api://tessera/management/.default';

interface TlsResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  body: Record<string, unknown>;
}

/** A request to the HTTPS server from this process, trusting its CA (and only that). */
function tlsRequest(server: TestServer, pathOrUrl: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<TlsResponse> {
  const url = new URL(pathOrUrl.startsWith('https:') ? pathOrUrl : `${server.url}/${pathOrUrl.replace(/^\//, '')}`);
  const caFile = server.running.caFile;
  assert.ok(caFile, "the server made its own CA (tlsSelfSigned)");
  const ca = fs.readFileSync(caFile);
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: init.method ?? (init.body === undefined ? 'GET' : 'POST'), headers: init.headers, ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          body = {};
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
      });
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

const tlsJson = (server: TestServer, pathname: string, body: unknown, token?: string) =>
  tlsRequest(server, pathname, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } });
const tlsForm = (server: TestServer, pathname: string, fields: Record<string, string>) =>
  tlsRequest(server, pathname, { method: 'POST', body: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });

interface Received {
  method: string;
  url: URL;
  /** The query of a GET, or the form of a POST (form_post). */
  params: URLSearchParams;
}

/** The OAuth client's side of a loopback redirect: records what arrives at `/`. */
class Receiver {
  private readonly server: http.Server;
  private readonly waiting: Array<(r: Received) => void> = [];
  readonly received: Received[] = [];
  /** Markup served at /frame: a page that tries to frame a Tessera page. */
  frameTarget = '';

  constructor() {
    this.server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', this.redirectUri);
      if (url.pathname === '/frame') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(`<!doctype html><title>framing</title><iframe name="victim" src="${this.frameTarget.replace(/"/g, '&quot;')}" width="600" height="600"></iframe>`);
        return;
      }
      if (url.pathname !== '/') {
        res.writeHead(404).end();
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const params = req.method === 'POST' ? new URLSearchParams(Buffer.concat(chunks).toString('utf8')) : url.searchParams;
        const got = { method: req.method ?? 'GET', url, params };
        this.received.push(got);
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end('<!doctype html><title>Client</title><main><h1>The client received the answer</h1></main>');
        this.waiting.shift()?.(got);
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get redirectUri(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  /** The next answer to arrive (call before the action that causes it). */
  next(timeoutMs = 60_000): Promise<Received> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no redirect reached the client')), timeoutMs);
      this.waiting.push((r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The CSP of a response, as directive → sources. */
function cspOf(response: Response | null): Map<string, string[]> {
  assert.ok(response, 'the page answered');
  const header = response.headers()['content-security-policy'];
  assert.ok(header, `${response.url()} has a Content-Security-Policy`);
  return new Map(
    header
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map((d) => [d[0]!, d.slice(1)]),
  );
}

function assertStrictCsp(csp: Map<string, string[]>, allowedScriptHash?: string): void {
  assert.deepEqual(csp.get('frame-ancestors'), ["'none'"]);
  assert.deepEqual(csp.get('default-src'), ["'none'"]);
  assert.deepEqual(csp.get('base-uri'), ["'none'"]);
  const script = csp.get('script-src');
  assert.deepEqual(script, allowedScriptHash ? [allowedScriptHash] : ["'none'"]);
  for (const [name, sources] of csp) {
    for (const s of sources) assert.ok(!/unsafe-inline|unsafe-eval|unsafe-hashes|strict-dynamic|^\*$|^https?:$|^data:$/.test(s) || (name === 'img-src' && s === 'data:'), `${name} allows ${s}`);
  }
}

for (const kind of STORE_KINDS) {
  describe(`sign-in pages in Chromium (${kind})`, () => {
    let server: TestServer;
    let browser: Browser;
    let receiver: Receiver;
    let admin: string;
    let userId: string;
    let markupUserId: string;
    let markupAppId: string;
    /** The browser that stays signed in as ada across tests. */
    let signedIn: BrowserContext;
    const contexts: BrowserContext[] = [];
    const dialogs: string[] = [];
    const dir = testBrowser.screenshotDir();
    const shot = async (page: Page, name: string) => {
      const file = path.join(dir, `browser-sign-in-${kind}-${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      assert.ok(fs.statSync(file).size > 1000, `${file} was written`);
    };
    const tenant = () => server.running.bootstrap.tenantId;
    const issuer = () => `${server.url}/organizations/v2.0`;

    async function newContext(options: BrowserContextOptions = {}): Promise<BrowserContext> {
      const context = await browser.newContext({ ignoreHTTPSErrors: true, ...options });
      // Any alert(), confirm() or prompt() means script ran that should not have.
      context.on('dialog', (dialog) => {
        dialogs.push(`${dialog.type()}: ${dialog.message()}`);
        void dialog.dismiss();
      });
      contexts.push(context);
      return context;
    }

    const authorizeUrl = (options: AuthorizeOptions = {}) => `${server.url}/${authorizePath({ redirectUri: receiver.redirectUri, ...options })}`;

    async function redeem(code: string, verifier: string, clientId = CLI_CLIENT): Promise<TlsResponse> {
      return tlsForm(server, 'organizations/oauth2/v2.0/token', { grant_type: 'authorization_code', client_id: clientId, code, redirect_uri: receiver.redirectUri, code_verifier: verifier });
    }

    async function me(accessToken: string): Promise<Record<string, unknown>> {
      const res = await tlsRequest(server, '/me', { headers: { authorization: `Bearer ${accessToken}` } });
      assert.equal(res.status, 200, res.text);
      return res.body;
    }

    /** Fills and submits the sign-in page; resolves with the response to the post. */
    async function submitPassword(page: Page, username: string, password: string): Promise<Response> {
      await page.fill('input[name=username]', username);
      await page.fill('input[name=password]', password);
      const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST' && /\/signin$/.test(new URL(r.url()).pathname)), page.click('button[value=signin]')]);
      return response;
    }

    /** Starts a device-code request as a client would. */
    async function deviceCode(clientId = CLI_CLIENT, scope = `${RESOURCE_SCOPE} offline_access`): Promise<{ user_code: string; device_code: string; verification_uri: string; interval: number }> {
      const res = await tlsForm(server, 'organizations/oauth2/v2.0/devicecode', { client_id: clientId, scope });
      assert.equal(res.status, 200, res.text);
      return res.body as unknown as { user_code: string; device_code: string; verification_uri: string; interval: number };
    }

    const poll = (deviceCodeValue: string, clientId = CLI_CLIENT) => tlsForm(server, 'organizations/oauth2/v2.0/token', { grant_type: 'device_code', client_id: clientId, device_code: deviceCodeValue });

    before(async () => {
      const throttle = {
        // Three wrong passwords lock an account at once (no growing delays to wait out);
        // the address (every request here is 127.0.0.1) stays well clear of its limits.
        account: { ...DEFAULT_THROTTLE.account, delayAfter: 100, lockoutAfter: 3 },
        address: { ...DEFAULT_THROTTLE.address, delayAfter: 100, lockoutAfter: 200 },
      };
      server = await startTestServer(kind, { config: { tlsSelfSigned: true, throttle }, env: { TESSERA_DEVICE_CODE_INTERVAL_SEC: '1' } });
      assert.match(server.url, /^https:\/\//);
      const pair = await tlsJson(server, '/login', { username: 'admin', password: ADMIN_PASSWORD });
      assert.equal(pair.status, 200, pair.text);
      admin = String(pair.body.access_token);
      const create = async (userName: string, password: string, displayName: string) => {
        const res = await tlsJson(server, '/v1.0/users', { userName, passwordProfile: { password }, displayName }, admin);
        assert.equal(res.status, 201, res.text);
        return String(res.body.id);
      };
      userId = await create(USER, PASSWORD, DISPLAY_NAME);
      markupUserId = await create(MARKUP_USER, MARKUP_PASSWORD, MARKUP);
      await create(LOCKED_USER, LOCKED_PASSWORD, 'Lock Smith');
      const app = await tlsJson(server, '/v1.0/applications', { displayName: MARKUP, publicClient: { redirectUris: ['http://127.0.0.1/'] }, isFallbackPublicClient: true }, admin);
      assert.equal(app.status, 201, app.text);
      assert.equal(app.body.displayName, MARKUP, 'the name is stored as given');
      markupAppId = String(app.body.appId);
      receiver = new Receiver();
      await receiver.start();
      browser = await chromium.launch(testBrowser.CHROMIUM_LAUNCH);
    });

    after(async () => {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser?.close();
      await receiver?.close();
      await server?.close();
      assert.deepEqual(dialogs, [], 'no page ever opened a dialog');
    });

    it('signs in on the sign-in page; the code reaches the client and redeems for tokens that call /me', async () => {
      signedIn = await newContext();
      const page = await signedIn.newPage();
      const { verifier, challenge } = pkce();
      const state = crypto.randomBytes(8).toString('hex');
      const nonce = crypto.randomBytes(8).toString('hex');
      const shown = await page.goto(authorizeUrl({ challenge, state, nonce }));
      assert.equal(shown?.status(), 200);
      assert.equal(await page.title(), 'Sign in – Tessera');
      assert.equal(await page.textContent('h1'), 'Sign in');
      assert.equal(await page.textContent('main strong'), 'Tessera CLI');
      assert.equal(await page.locator('input[name=username]').getAttribute('autocomplete'), 'username');
      assert.equal(await page.locator('input[name=password]').getAttribute('type'), 'password');
      await shot(page, 'sign-in');
      const arrived = receiver.next();
      const posted = await submitPassword(page, USER, PASSWORD);
      assert.equal(posted.status(), 303);
      const got = await arrived;
      await page.waitForURL((u) => u.href.startsWith(receiver.redirectUri));
      await shot(page, 'sign-in-redirected');
      assert.equal(got.method, 'GET');
      assert.match(got.params.get('code') ?? '', /^tsac_/);
      assert.equal(got.params.get('state'), state);
      assert.equal(got.params.get('iss'), issuer());
      assert.equal(got.params.get('error'), null);

      const cookies = await signedIn.cookies(server.url);
      const session = cookies.find((c) => c.name === '__Host-tessera-session');
      assert.ok(session, `a browser session cookie: ${cookies.map((c) => c.name).join(', ')}`);
      assert.equal(session.secure, true);
      assert.equal(session.httpOnly, true);
      assert.equal(session.sameSite, 'Lax');
      assert.equal(session.path, '/');

      const tokens = await redeem(got.params.get('code')!, verifier);
      assert.equal(tokens.status, 200, tokens.text);
      assert.equal(tokens.body.token_type, 'Bearer');
      assert.equal(tokens.body.scope, SCOPE);
      assert.match(String(tokens.body.refresh_token), /^tsrt_/);
      const id = claimsOf(String(tokens.body.id_token));
      assert.equal(id.nonce, nonce);
      assert.equal(id.aud, CLI_CLIENT);
      assert.equal(id.iss, issuer());
      assert.equal(id.oid, userId);
      assert.equal(id.tid, tenant());
      assert.equal(id.preferred_username, `${USER}@tessera.local`);
      const access = claimsOf(String(tokens.body.access_token));
      assert.equal(access.oid, userId);
      assert.equal(access.idtyp, 'user');
      const who = await me(String(tokens.body.access_token));
      assert.equal(who.objectId, userId);
      assert.equal(who.displayName, DISPLAY_NAME);
      assert.equal(who.clientId, CLI_CLIENT);
    });

    it('signs in again in the same browser without the password (browser session cookie)', async () => {
      const page = await signedIn.newPage();
      const { verifier, challenge } = pkce();
      const arrived = receiver.next();
      const final = await page.goto(authorizeUrl({ challenge, state: 'again', nonce: 'n-again' }));
      const got = await arrived;
      assert.ok(page.url().startsWith(receiver.redirectUri), page.url());
      const authorize = final?.request().redirectedFrom();
      assert.ok(authorize && new URL(authorize.url()).pathname.endsWith('/oauth2/v2.0/authorize'));
      assert.equal((await authorize.response())?.status(), 302, 'the authorize endpoint redirected at once');
      await shot(page, 'session-redirected');
      assert.equal(got.params.get('state'), 'again');
      const tokens = await redeem(got.params.get('code')!, verifier);
      assert.equal(tokens.status, 200, tokens.text);
      const id = claimsOf(String(tokens.body.id_token));
      assert.equal(id.oid, userId);
      assert.equal(id.nonce, 'n-again');
    });

    it('prompt=login asks for the password again despite the session', async () => {
      const page = await signedIn.newPage();
      const { verifier, challenge } = pkce();
      const shown = await page.goto(authorizeUrl({ challenge, state: 'login', extra: { prompt: 'login' } }));
      assert.equal(shown?.status(), 200);
      assert.equal(await page.locator('input[name=password]').count(), 1, 'the password is asked');
      await shot(page, 'prompt-login');
      const arrived = receiver.next();
      await submitPassword(page, USER, PASSWORD);
      const got = await arrived;
      assert.equal(got.params.get('state'), 'login');
      const tokens = await redeem(got.params.get('code')!, verifier);
      assert.equal(tokens.status, 200, tokens.text);
      assert.equal(claimsOf(String(tokens.body.id_token)).oid, userId);
    });

    it('prompt=select_account shows the account page: continue as the signed-in user, or use another account', async () => {
      const page = await signedIn.newPage();
      const { verifier, challenge } = pkce();
      const shown = await page.goto(authorizeUrl({ challenge, state: 'pick', extra: { prompt: 'select_account' } }));
      assert.equal(shown?.status(), 200);
      assert.equal(await page.textContent('h1'), 'Pick an account');
      assert.equal(await page.textContent('dt'), DISPLAY_NAME);
      assert.equal(await page.textContent('dd'), `${USER}@tessera.local`);
      assert.equal(await page.locator('input[name=password]').count(), 0);
      await shot(page, 'select-account');
      const arrived = receiver.next();
      await page.click('button[value=continue]');
      const got = await arrived;
      assert.equal(got.params.get('state'), 'pick');
      const tokens = await redeem(got.params.get('code')!, verifier);
      assert.equal(tokens.status, 200, tokens.text);
      assert.equal(claimsOf(String(tokens.body.id_token)).oid, userId);

      await page.goto(authorizeUrl({ state: 'other', extra: { prompt: 'select_account' } }));
      await Promise.all([page.waitForNavigation(), page.click('button[value=other]')]);
      assert.equal(await page.textContent('h1'), 'Sign in');
      assert.equal(await page.locator('input[name=password]').count(), 1, '"Use another account" asks for a sign-in');
      await shot(page, 'select-account-other');
    });

    it('Cancel on the sign-in page sends access_denied to the client, without asking for the fields', async () => {
      const context = await newContext();
      const page = await context.newPage();
      await page.goto(authorizeUrl({ state: 'cancel' }));
      const arrived = receiver.next();
      // The fields are required, but Cancel is formnovalidate: the browser sends the form anyway.
      await page.click('button[value=cancel]');
      const got = await arrived;
      assert.equal(got.params.get('error'), 'access_denied');
      assert.equal(got.params.get('state'), 'cancel');
      assert.equal(got.params.get('code'), null);
      await page.waitForURL((u) => u.href.startsWith(receiver.redirectUri));
      await shot(page, 'cancelled');
      assert.equal((await context.cookies(server.url)).find((c) => c.name === '__Host-tessera-session'), undefined, 'no session was started');
    });

    it('prompt=none without a session answers login_required to the redirect URI; with one, a code', async () => {
      const context = await newContext();
      const page = await context.newPage();
      const arrived = receiver.next();
      await page.goto(authorizeUrl({ state: 'silent', extra: { prompt: 'none' } }));
      const got = await arrived;
      assert.ok(page.url().startsWith(receiver.redirectUri));
      await shot(page, 'prompt-none-no-session');
      assert.equal(got.params.get('error'), 'login_required');
      assert.equal(got.params.get('state'), 'silent');
      assert.equal(got.params.get('code'), null);
      assert.match(got.params.get('error_description') ?? '', /AADSTS50058/);
      assert.equal(got.params.get('iss'), issuer());

      const withSession = await signedIn.newPage();
      const again = receiver.next();
      await withSession.goto(authorizeUrl({ state: 'silent-ok', extra: { prompt: 'none' } }));
      const ok = await again;
      assert.match(ok.params.get('code') ?? '', /^tsac_/);
      assert.equal(ok.params.get('error'), null);
    });

    it('approves a device code in the browser (code, password, consent); the token endpoint then issues tokens', async () => {
      const dc = await deviceCode(CLI_CLIENT, SCOPE);
      assert.equal(dc.interval, 1);
      assert.equal((await poll(dc.device_code)).body.error, 'authorization_pending');
      const context = await newContext();
      const page = await context.newPage();
      const entry = await page.goto(dc.verification_uri);
      assert.equal(entry?.status(), 200);
      assert.equal(await page.textContent('h1'), 'Enter code');
      await shot(page, 'device-code-entry');
      await page.fill('input[name=user_code]', dc.user_code);
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      assert.equal(await page.textContent('h1'), 'Sign in');
      assert.equal(await page.textContent('main strong'), 'Tessera CLI');
      await shot(page, 'device-code-sign-in');
      await submitPassword(page, USER, PASSWORD);
      await page.waitForLoadState('load');
      assert.equal(await page.textContent('h1'), 'Are you trying to sign in to Tessera CLI?');
      const consent = await page.innerText('main');
      assert.ok(consent.includes(RESOURCE_SCOPE), consent);
      assert.ok(consent.includes(DISPLAY_NAME) && consent.includes(`${USER}@tessera.local`), consent);
      await shot(page, 'device-code-consent');
      await Promise.all([page.waitForNavigation(), page.click('button[value=approve]')]);
      assert.equal(await page.textContent('h1'), "You're signed in");
      await shot(page, 'device-code-approved');
      await new Promise((r) => setTimeout(r, 1100));
      const tokens = await poll(dc.device_code);
      assert.equal(tokens.status, 200, tokens.text);
      assert.equal(tokens.body.scope, SCOPE);
      assert.match(String(tokens.body.refresh_token), /^tsrt_/);
      assert.equal(claimsOf(String(tokens.body.access_token)).oid, userId);
      const id = claimsOf(String(tokens.body.id_token));
      assert.equal(id.aud, CLI_CLIENT);
      assert.equal(id.iss, issuer());
      assert.equal(id.oid, userId);
      assert.equal((await me(String(tokens.body.access_token))).objectId, userId);
    });

    it('refusing a device code in the browser makes the token endpoint answer authorization_declined', async () => {
      const dc = await deviceCode();
      // This browser is signed in: the code leads straight to the consent page.
      const page = await signedIn.newPage();
      await page.goto(dc.verification_uri);
      await page.fill('input[name=user_code]', dc.user_code);
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      assert.equal(await page.locator('input[name=password]').count(), 0, 'no password with a browser session');
      assert.equal(await page.textContent('h1'), 'Are you trying to sign in to Tessera CLI?');
      await shot(page, 'device-code-consent-session');
      await Promise.all([page.waitForNavigation(), page.click('button[value=refuse]')]);
      assert.equal(await page.textContent('h1'), 'Sign-in refused');
      await shot(page, 'device-code-refused');
      const refused = await poll(dc.device_code);
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error, 'authorization_declined');
    });

    it('shows a wrong password in place, keeping the name typed, and says the account is locked after repeated failures', async () => {
      const context = await newContext();
      const page = await context.newPage();
      await page.goto(authorizeUrl({ state: 'wrong' }));
      const before = receiver.received.length;
      const wrong = await submitPassword(page, LOCKED_USER, 'not-the-password');
      assert.equal(wrong.status(), 401);
      assert.ok(page.url().startsWith(server.url), 'the browser stays on the sign-in page');
      assert.equal(await page.textContent('[role=alert]'), 'Invalid username or password.');
      assert.equal(await page.inputValue('input[name=username]'), LOCKED_USER);
      assert.equal(await page.inputValue('input[name=password]'), '', 'the password is not echoed back');
      assert.equal(await page.locator('input[name=username]').getAttribute('aria-describedby'), 'error');
      await shot(page, 'wrong-password');
      for (let i = 0; i < 2; i++) assert.equal((await submitPassword(page, LOCKED_USER, `still-wrong-${i}`)).status(), 401);
      // Now even the right password is refused, with the reason.
      const locked = await submitPassword(page, LOCKED_USER, LOCKED_PASSWORD);
      assert.equal(locked.status(), 400);
      assert.match((await page.textContent('[role=alert]')) ?? '', /locked/);
      assert.ok(Number(locked.headers()['retry-after']) > 0, 'Retry-After says how long');
      assert.equal(await page.locator('input[name=password]').count(), 1);
      await shot(page, 'locked');
      assert.equal(receiver.received.length, before, 'nothing reached the client');
    });

    it('shows markup in a display name or an application name as text, and runs none of it', async () => {
      const context = await newContext();
      const page = await context.newPage();
      const seenDialogs = dialogs.length;
      const noImages = async (where: string) => {
        assert.equal(await page.locator('img').count(), 0, `no img element on the ${where} page`);
        assert.ok(!(await page.content()).includes('<img'), `no <img markup on the ${where} page`);
      };
      const { verifier, challenge } = pkce();
      await page.goto(authorizeUrl({ clientId: markupAppId, challenge, state: 'markup' }));
      assert.equal(await page.textContent('main strong'), MARKUP);
      await noImages('sign-in');
      await shot(page, 'markup-sign-in');
      const arrived = receiver.next();
      await submitPassword(page, MARKUP_USER, MARKUP_PASSWORD);
      const got = await arrived;
      const tokens = await redeem(got.params.get('code')!, verifier, markupAppId);
      assert.equal(tokens.status, 200, tokens.text);
      assert.equal(claimsOf(String(tokens.body.id_token)).aud, markupAppId);
      assert.equal(claimsOf(String(tokens.body.access_token)).oid, markupUserId);

      await page.goto(authorizeUrl({ clientId: markupAppId, state: 'markup-pick', extra: { prompt: 'select_account' } }));
      assert.equal(await page.textContent('h1'), 'Pick an account');
      assert.equal(await page.textContent('dt'), MARKUP);
      assert.equal(await page.textContent('button[value=continue]'), `Continue as ${MARKUP}`);
      await noImages('account');
      await shot(page, 'markup-select-account');

      const dc = await deviceCode(markupAppId);
      await page.goto(dc.verification_uri);
      await page.fill('input[name=user_code]', dc.user_code);
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      assert.equal(await page.textContent('h1'), `Are you trying to sign in to ${MARKUP}?`);
      assert.equal(await page.locator('dd').nth(0).textContent(), MARKUP, 'the application is named as registered');
      assert.equal(await page.locator('dd').nth(2).textContent(), `${MARKUP} (${MARKUP_USER}@tessera.local)`, 'the user is named as typed');
      await noImages('consent');
      await shot(page, 'markup-consent');
      await Promise.all([page.waitForNavigation(), page.click('button[value=approve]')]);
      assert.equal(await page.textContent('h1'), "You're signed in");
      assert.ok(((await page.textContent('main p:not(.brand)')) ?? '').includes(MARKUP));
      await noImages('approved');
      await shot(page, 'markup-approved');

      await page.goto(`${server.url}/organizations/oauth2/v2.0/logout`);
      assert.equal(await page.textContent('h1'), 'Sign out?');
      assert.equal(await page.textContent('main strong'), MARKUP);
      await noImages('sign-out');
      await shot(page, 'markup-sign-out');
      assert.equal(dialogs.length, seenDialogs, `no dialog opened: ${dialogs.join('; ')}`);
    });

    it('sends pages whose CSP forbids inline script (but the form_post hash) and framing, and Chromium enforces it', async () => {
      const context = await newContext();
      const page = await context.newPage();
      const signIn = await page.goto(authorizeUrl({ state: 'csp', extra: { response_mode: 'form_post' } }));
      const signInCsp = cspOf(signIn);
      assertStrictCsp(signInCsp);
      assert.deepEqual(signInCsp.get('form-action'), ["'self'", `http://127.0.0.1:${receiver.port}`]);
      assert.equal(signIn?.headers()['x-frame-options'], 'DENY');
      // Script put on the page by other means than the server's own is refused by the browser.
      await page.evaluate(`(() => { const s = document.createElement('script'); s.textContent = 'window.__injected = 1'; document.body.appendChild(s); })()`);
      assert.equal(await page.evaluate('typeof window.__injected'), 'undefined', 'Chromium refused the inline script');
      await shot(page, 'csp-sign-in');

      // The form_post page submits itself at once, taking its body with it: keep a copy on the way.
      let markup = '';
      await page.route(/\/authorize\/signin$/, async (route) => {
        const response = await route.fetch();
        markup = await response.text();
        await route.fulfill({ response });
      });
      const [formPost, arrived] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && /\/authorize\/signin$/.test(new URL(r.url()).pathname)),
        receiver.next(),
        (async () => {
          await page.fill('input[name=username]', USER);
          await page.fill('input[name=password]', PASSWORD);
          await page.click('button[value=signin]');
        })(),
      ]);
      await page.unroute(/\/authorize\/signin$/);
      assert.equal(formPost.status(), 200);
      assert.equal(arrived.method, 'POST', 'the script the CSP allows submitted the form');
      assert.match(arrived.params.get('code') ?? '', /^tsac_/);
      assert.equal(arrived.params.get('state'), 'csp');
      const inline = /<script>([^<]*)<\/script>/.exec(markup)?.[1];
      assert.ok(inline, 'the form_post page has its one script');
      const hash = `'sha256-${crypto.createHash('sha256').update(inline, 'utf8').digest('base64')}'`;
      const formPostCsp = cspOf(formPost);
      assertStrictCsp(formPostCsp, hash);
      assert.deepEqual(formPostCsp.get('form-action'), ["'self'", `http://127.0.0.1:${receiver.port}`]);
      assert.equal((markup.match(/<script/g) ?? []).length, 1);

      // The other pages: code entry, consent, account, sign-out, message.
      const dc = await deviceCode();
      const entry = await page.goto(dc.verification_uri);
      assertStrictCsp(cspOf(entry));
      await page.fill('input[name=user_code]', dc.user_code);
      const [consent] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      assert.equal(await page.textContent('h1'), 'Are you trying to sign in to Tessera CLI?');
      assertStrictCsp(cspOf(consent));
      const account = await page.goto(authorizeUrl({ extra: { prompt: 'select_account' } }));
      assert.equal(await page.textContent('h1'), 'Pick an account');
      assertStrictCsp(cspOf(account));
      const signOut = await page.goto(`${server.url}/organizations/oauth2/v2.0/logout`);
      assertStrictCsp(cspOf(signOut));

      // A page elsewhere that frames the sign-in page gets nothing from it.
      receiver.frameTarget = authorizeUrl({ state: 'framed' });
      const framing = await context.newPage();
      const framedResponse = framing.waitForResponse((r) => r.url() === receiver.frameTarget);
      await framing.goto(`${receiver.redirectUri}frame`);
      assert.equal((await framedResponse).status(), 200);
      await framing.waitForTimeout(500);
      const victim = framing.frame({ name: 'victim' });
      assert.ok(victim, 'the frame exists');
      assert.ok(!victim.url().startsWith(server.url), `the framed page did not load: ${victim.url()}`);
      assert.equal(await victim.locator('input[name=password]').count().catch(() => 0), 0, 'no sign-in form inside the frame');
      await shot(framing, 'csp-framed');
    });

    it('works with JavaScript disabled: sign-in, form_post (the user presses Continue) and device-code consent', async () => {
      const context = await newContext({ javaScriptEnabled: false });
      const page = await context.newPage();
      const { verifier, challenge } = pkce();
      await page.goto(authorizeUrl({ challenge, state: 'nojs', nonce: 'n-nojs', extra: { response_mode: 'form_post' } }));
      assert.equal(await page.textContent('h1'), 'Sign in');
      await shot(page, 'nojs-sign-in');
      const before = receiver.received.length;
      const posted = await submitPassword(page, USER, PASSWORD);
      assert.equal(posted.status(), 200);
      await page.waitForLoadState('load');
      assert.equal(await page.textContent('h1'), 'Signing in…');
      assert.ok((await page.innerText('main')).includes('JavaScript is off: press Continue to return to the application.'));
      await page.waitForTimeout(500);
      assert.ok(page.url().startsWith(server.url), 'nothing submits the form without JavaScript');
      assert.equal(receiver.received.length, before);
      await shot(page, 'nojs-form-post');
      const arrived = receiver.next();
      await page.click('button[type=submit]');
      const got = await arrived;
      assert.equal(got.method, 'POST');
      assert.equal(got.params.get('state'), 'nojs');
      assert.equal(got.params.get('iss'), issuer());
      const tokens = await redeem(got.params.get('code')!, verifier);
      assert.equal(tokens.status, 200, tokens.text);
      assert.equal(claimsOf(String(tokens.body.id_token)).nonce, 'n-nojs');
      await page.waitForURL((u) => u.href.startsWith(receiver.redirectUri));
      await shot(page, 'nojs-client');

      const dc = await deviceCode();
      await page.goto(dc.verification_uri);
      // As a person might type it: lower case, in groups.
      await page.fill('input[name=user_code]', dc.user_code.toLowerCase().replace(/(...)(?=.)/g, '$1-'));
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      assert.equal(await page.textContent('h1'), 'Are you trying to sign in to Tessera CLI?');
      await shot(page, 'nojs-consent');
      await Promise.all([page.waitForNavigation(), page.click('button[value=approve]')]);
      assert.equal(await page.textContent('h1'), "You're signed in");
      await shot(page, 'nojs-approved');
      await new Promise((r) => setTimeout(r, 1100));
      const deviceTokens = await poll(dc.device_code);
      assert.equal(deviceTokens.status, 200, deviceTokens.text);
      assert.equal(claimsOf(String(deviceTokens.body.access_token)).oid, userId);
    });

    it('lays the sign-in page out for a phone', async () => {
      const context = await newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
      const page = await context.newPage();
      await page.goto(authorizeUrl({ state: 'phone' }));
      assert.equal(await page.textContent('h1'), 'Sign in');
      assert.ok(Number(await page.evaluate('document.documentElement.scrollWidth')) <= 390, 'no sideways scrolling');
      for (const selector of ['input[name=username]', 'input[name=password]', 'button[value=signin]', 'button[value=cancel]']) {
        const box = await page.locator(selector).boundingBox();
        assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `${selector} fits the screen: ${JSON.stringify(box)}`);
        assert.ok(box.height >= 24, `${selector} is big enough to tap: ${box.height}`);
      }
      await shot(page, 'phone-sign-in');
      await submitPassword(page, USER, 'wrong-on-the-phone');
      assert.equal(await page.textContent('[role=alert]'), 'Invalid username or password.');
      assert.ok(Number(await page.evaluate('document.documentElement.scrollWidth')) <= 390);
      await shot(page, 'phone-wrong-password');
    });

    it('signs out through the logout page; the browser must then sign in again', async () => {
      const page = await signedIn.newPage();
      const returnTo = receiver.redirectUri;
      await page.goto(`${server.url}/organizations/oauth2/v2.0/logout?client_id=${CLI_CLIENT}&post_logout_redirect_uri=${encodeURIComponent(returnTo)}&state=bye`);
      assert.equal(await page.textContent('h1'), 'Sign out?');
      assert.equal(await page.textContent('main strong'), DISPLAY_NAME);
      await shot(page, 'sign-out-confirm');
      const arrived = receiver.next();
      await page.click('button[type=submit]');
      const got = await arrived;
      assert.equal(got.params.get('state'), 'bye', 'back at the registered post-logout URI');
      await page.waitForURL((u) => u.href.startsWith(returnTo));
      await shot(page, 'sign-out-returned');
      const cookies = await signedIn.cookies(server.url);
      assert.equal(cookies.find((c) => c.name === '__Host-tessera-session'), undefined, 'the session cookie is gone');

      const shown = await page.goto(authorizeUrl({ state: 'after-sign-out' }));
      assert.equal(shown?.status(), 200);
      assert.equal(await page.locator('input[name=password]').count(), 1, 'the password is asked again');
      await shot(page, 'sign-out-sign-in-again');
      const silent = receiver.next();
      await page.goto(authorizeUrl({ state: 'after-sign-out-silent', extra: { prompt: 'none' } }));
      assert.equal((await silent).params.get('error'), 'login_required');

      // Without a return address: the signed-out page.
      await page.goto(authorizeUrl({ state: 'again' }));
      const back = receiver.next();
      await submitPassword(page, USER, PASSWORD);
      await back;
      await page.goto(`${server.url}/organizations/oauth2/v2.0/logout`);
      await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      assert.equal(await page.textContent('h1'), 'Signed out');
      await shot(page, 'signed-out');
      await page.goto(`${server.url}/organizations/oauth2/v2.0/logout`);
      assert.equal(await page.textContent('h1'), 'Signed out', 'nothing to confirm without a session');
    });
  });
}
