/**
 * MFA in a real browser: Debian's Chromium through playwright-core, against a real HTTPS
 * server (self-signed CA), on both stores. The user sets MFA up from the QR page (the
 * codes are computed, as an authenticator app would, from the key the page shows in
 * text), signs in with a TOTP code, loses the phone and uses a recovery code, meets the
 * block page of a conditional-access policy created through the API, is sent to set MFA
 * up by a policy (the registration interrupt), and approves a device code with MFA for
 * @azure/msal-node, unmodified, in its own process. The test plays the OAuth client: the
 * browser's redirect to the loopback URI is answered by the test and the code redeemed.
 * Every page is saved as a PNG under test-output/screenshots.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type BrowserContext, type LaunchOptions, type Page } from 'playwright-core';
import { ADMIN_PASSWORD, STORE_KINDS, claimsOf, startTestServer, type TestServer } from './helpers.js';
import { CLI_CLIENT, authorizePath, pkce } from './interactive-helpers.js';
import { awayFromStepEdge, totpNow } from './mfa-helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '../../../..');
interface TestBrowserModule {
  CHROMIUM_LAUNCH: LaunchOptions;
  screenshotDir(): string;
}
const testBrowser = (await import(pathToFileURL(path.join(ROOT, 'scripts', 'test-browser.mjs')).href)) as TestBrowserModule;

const PASSWORD = 'Authenticator-App-Pass-31';
const MARKUP = '<img src=x onerror=alert(1)>';
const SCOPE = 'api://tessera/management/.default';

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

for (const kind of STORE_KINDS) {
  describe(`MFA in Chromium (${kind})`, () => {
    let server: TestServer;
    let browser: Browser;
    let admin: string;
    let n = 0;
    /** The client's loopback redirect URI: a server here records what arrives (a browser's redirects cannot be intercepted). */
    let receiver: http.Server;
    let redirectUri = '';
    const received: URL[] = [];
    const contexts: BrowserContext[] = [];
    const dialogs: string[] = [];
    const dir = testBrowser.screenshotDir();
    const shot = async (page: Page, name: string) => {
      const file = path.join(dir, `mfa-browser-${kind}-${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      assert.ok(fs.statSync(file).size > 1000, `${file} was written`);
    };

    /** This process calls the HTTPS server trusting its CA. */
    function tls(pathname: string, init: { method?: string; body?: string; type?: string; token?: string } = {}): Promise<Reply> {
      return new Promise((resolve, reject) => {
        const req = https.request(
          `${server.url}${pathname}`,
          {
            method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
            ca: fs.readFileSync(server.running.caFile!),
            headers: { ...(init.body !== undefined ? { 'content-type': init.type ?? 'application/json' } : {}), ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let body: Record<string, unknown> = {};
              try {
                body = JSON.parse(text) as Record<string, unknown>;
              } catch {
                body = { raw: text };
              }
              resolve({ status: res.statusCode ?? 0, body });
            });
          },
        );
        req.on('error', reject);
        req.end(init.body);
      });
    }
    const json = (pathname: string, body: unknown, token = admin) => tls(pathname, { body: JSON.stringify(body), token });
    const form = (pathname: string, fields: Record<string, string>) => tls(pathname, { body: new URLSearchParams(fields).toString(), type: 'application/x-www-form-urlencoded' });

    const newUser = async (displayName = 'Katherine Johnson') => {
      const username = `kj-${++n}`;
      const res = await json('/v1.0/users', { userName: username, passwordProfile: { password: PASSWORD }, displayName });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return { username, userId: String(res.body.id) };
    };

    /** A browser context whose loopback redirect URI is answered here, as the client would. */
    /** What reaches the client from now on (a live view of the arrivals after this call). */
    function arrivals(): URL[] {
      const from = received.length;
      return new Proxy([] as URL[], { get: (_t, key) => Reflect.get(received.slice(from), key) });
    }

    async function newContext(options: { javaScriptEnabled?: boolean } = {}): Promise<{ context: BrowserContext; page: Page; redirects: URL[] }> {
      const context = await browser.newContext({ ignoreHTTPSErrors: true, ...options });
      context.on('dialog', (dialog) => {
        dialogs.push(`${dialog.type()}: ${dialog.message()}`);
        void dialog.dismiss();
      });
      contexts.push(context);
      return { context, page: await context.newPage(), redirects: arrivals() };
    }

    const click = async (page: Page, selector: string) => {
      await Promise.all([page.waitForNavigation(), page.click(selector)]);
    };
    const signInWithPassword = async (page: Page, username: string) => {
      await page.fill('input[name=username]', username);
      await page.fill('input[name=password]', PASSWORD);
      await click(page, 'button[value=signin]');
    };
    const enterCode = async (page: Page, code: string) => {
      await page.fill('input[name=code]', code);
      await click(page, 'button[value=verify]');
    };
    const alertText = (page: Page) => page.locator('[role=alert]').innerText();
    const authorizeUrl = (challenge: string) => `${server.url}/${authorizePath({ challenge, redirectUri })}`;

    /** Redeems the code the last redirect carried. */
    async function redeemed(redirects: URL[], verifier: string): Promise<Record<string, unknown>> {
      const last = redirects.at(-1);
      assert.ok(last, 'the browser reached the client');
      const tokens = await form('/organizations/oauth2/v2.0/token', { grant_type: 'authorization_code', client_id: CLI_CLIENT, code: last.searchParams.get('code')!, redirect_uri: redirectUri, code_verifier: verifier });
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      return claimsOf(String(tokens.body.access_token));
    }

    /** The key as the setup page shows it in text (grouped in fours). */
    const keyShown = async (page: Page) => (await page.locator('#totp-secret').innerText()).replace(/\s/g, '');

    /** A user who set MFA up in the browser: their key and recovery codes. */
    async function enrolled(): Promise<{ username: string; userId: string; secret: string; codes: string[] }> {
      const user = await newUser();
      const { page } = await newContext();
      await page.goto(`${server.url}/organizations/mfa/setup`);
      await signInWithPassword(page, user.username);
      const secret = await keyShown(page);
      await enterCode(page, await totpNow(secret));
      const codes = await page.locator('#recovery-codes code').allInnerTexts();
      assert.equal(codes.length, 10);
      return { ...user, secret, codes };
    }

    before(async () => {
      server = await startTestServer(kind, { config: { tlsSelfSigned: true }, env: { TESSERA_DEVICE_CODE_INTERVAL_SEC: '1' } });
      const pair = await tls('/login', { body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
      assert.equal(pair.status, 200);
      admin = String(pair.body.access_token);
      receiver = http.createServer((req, res) => {
        // Only the answers (a browser also asks for /favicon.ico).
        const url = new URL(req.url ?? '/', redirectUri);
        if (url.pathname === '/' && (url.searchParams.has('code') || url.searchParams.has('error'))) received.push(url);
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>Client</title><h1>The client received the answer</h1>');
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      redirectUri = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`;
      browser = await chromium.launch(testBrowser.CHROMIUM_LAUNCH);
    });

    after(async () => {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser?.close();
      receiver?.closeAllConnections();
      await new Promise((resolve) => receiver?.close(resolve));
      await server?.close();
      assert.deepEqual(dialogs, [], 'no script ran on any page');
    });

    it('sets MFA up from the QR page: the QR code renders, the key is shown in text, a wrong code is refused, ten recovery codes are shown once', async () => {
      await awayFromStepEdge();
      const { username, userId } = await newUser();
      const { page } = await newContext();
      await page.goto(`${server.url}/organizations/mfa/setup`);
      await shot(page, 'setup-sign-in');
      await signInWithPassword(page, username);
      await shot(page, 'setup-qr');
      const qr = page.locator('#totp-qr');
      // The test compiles without the DOM's types: the image is read through its two properties.
      assert.ok(await qr.evaluate((img) => { const i = img as unknown as { complete: boolean; naturalWidth: number }; return i.complete && i.naturalWidth >= 100; }), 'the QR code image loaded under the CSP');
      const secret = await keyShown(page);
      assert.match(secret, /^[A-Z2-7]{32}$/);
      const link = new URL((await page.locator('a[href^="otpauth:"]').getAttribute('href'))!);
      assert.equal(link.searchParams.get('secret'), secret, 'the otpauth URI carries the key shown in text');
      assert.match(decodeURIComponent(link.pathname), new RegExp(`${username}@tessera\\.local$`));
      await enterCode(page, await totpNow(secret, 3));
      await shot(page, 'setup-wrong-code');
      assert.match(await alertText(page), /not right/);
      assert.equal(await page.locator('#totp-secret').count(), 0, 'the key is not shown again');
      await enterCode(page, await totpNow(secret));
      await shot(page, 'setup-recovery-codes');
      const codes = await page.locator('#recovery-codes code').allInnerTexts();
      assert.equal(codes.length, 10);
      for (const c of codes) assert.match(c, /^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);
      assert.equal(await server.running.services.mfa.isEnrolled(userId), true);
      await page.goto(`${server.url}/organizations/mfa/setup`);
      await shot(page, 'setup-already');
      assert.match(await page.locator('main').innerText(), /already set up/);
    });

    it('signs in with a TOTP code (amr pwd mfa otp, acr 2), and refuses the same code again', async () => {
      await awayFromStepEdge();
      const user = await enrolled();
      const { verifier, challenge } = pkce();
      const { page, redirects } = await newContext();
      await page.goto(authorizeUrl(challenge));
      await signInWithPassword(page, user.username);
      await shot(page, 'code-step');
      assert.equal(await page.locator('h1').innerText(), 'Enter code');
      assert.equal(await page.locator('input[name=code]').getAttribute('autocomplete'), 'one-time-code');
      const code = await totpNow(user.secret, 1);
      await enterCode(page, code);
      const claims = await redeemed(redirects, verifier);
      assert.deepEqual(claims.amr, ['pwd', 'mfa', 'otp']);
      assert.equal(claims.acr, '2');

      const second = await newContext();
      await second.page.goto(authorizeUrl(pkce().challenge));
      await signInWithPassword(second.page, user.username);
      await enterCode(second.page, code);
      await shot(second.page, 'code-reused');
      assert.match(await alertText(second.page), /already used/);
      assert.equal(second.redirects.length, 0);
    });

    it('with JavaScript off, on a phone-sized screen, the code step works the same', async () => {
      const user = await enrolled();
      await awayFromStepEdge();
      const { verifier, challenge } = pkce();
      const context = await browser.newContext({ ignoreHTTPSErrors: true, javaScriptEnabled: false, viewport: { width: 360, height: 740 } });
      contexts.push(context);
      const redirects = arrivals();
      const page = await context.newPage();
      await page.goto(authorizeUrl(challenge));
      await signInWithPassword(page, user.username);
      await shot(page, 'code-step-phone-no-js');
      await enterCode(page, await totpNow(user.secret, 1));
      assert.deepEqual((await redeemed(redirects, verifier)).amr, ['pwd', 'mfa', 'otp']);
    });

    it('uses a recovery code when the phone is lost (amr pwd mfa rc); the same recovery code is refused the second time', async () => {
      const user = await enrolled();
      const { verifier, challenge } = pkce();
      const { page, redirects } = await newContext();
      await page.goto(authorizeUrl(challenge));
      await signInWithPassword(page, user.username);
      await enterCode(page, user.codes[4]!);
      assert.deepEqual((await redeemed(redirects, verifier)).amr, ['pwd', 'mfa', 'rc']);
      const again = await newContext();
      await again.page.goto(authorizeUrl(pkce().challenge));
      await signInWithPassword(again.page, user.username);
      await enterCode(again.page, user.codes[4]!);
      await shot(again.page, 'recovery-code-reused');
      assert.match(await alertText(again.page), /not right|already used/);
      assert.equal(again.redirects.length, 0);
    });

    it('meets the block page of a conditional-access policy created through the API', async () => {
      const { username, userId } = await newUser();
      const policy = await json('/v1.0/identity/conditionalAccess/policies', {
        displayName: `Block ${MARKUP}`,
        state: 'enabled',
        conditions: { users: { includeUsers: [userId] }, applications: { includeApplications: ['All'] }, clientAppTypes: ['all'] },
        grantControls: { operator: 'OR', builtInControls: ['block'] },
      });
      assert.equal(policy.status, 201, JSON.stringify(policy.body));
      try {
        const { page, redirects } = await newContext();
        const response = await page.goto(authorizeUrl(pkce().challenge));
        assert.equal(response?.status(), 200);
        await signInWithPassword(page, username);
        await shot(page, 'blocked');
        const text = await page.locator('main').innerText();
        assert.match(text, /AADSTS53003/);
        assert.match(text, /Block <img src=x onerror=alert\(1\)>/, 'the policy name is shown as text');
        assert.equal(redirects.length, 0, 'nothing reached the client');
      } finally {
        assert.equal((await tls(`/v1.0/identity/conditionalAccess/policies/${String(policy.body.id)}`, { method: 'DELETE', token: admin })).status, 204);
      }
    });

    it('is sent to set MFA up by a policy requiring it (registration interrupt), then continues to the application', async () => {
      await awayFromStepEdge();
      const { username, userId } = await newUser(MARKUP);
      const policy = await json('/v1.0/identity/conditionalAccess/policies', {
        displayName: 'Require MFA',
        state: 'enabled',
        conditions: { users: { includeUsers: [userId] }, applications: { includeApplications: ['All'] }, clientAppTypes: ['all'] },
        grantControls: { operator: 'OR', builtInControls: ['mfa'] },
      });
      assert.equal(policy.status, 201, JSON.stringify(policy.body));
      try {
        const { verifier, challenge } = pkce();
        const { page, redirects } = await newContext();
        await page.goto(authorizeUrl(challenge));
        await signInWithPassword(page, username);
        await shot(page, 'interrupt-setup');
        assert.match(await page.locator('main').innerText(), /Your organization requires a second sign-in step/);
        await enterCode(page, await totpNow(await keyShown(page)));
        await shot(page, 'interrupt-recovery-codes');
        assert.equal(await page.locator('#recovery-codes code').count(), 10);
        await click(page, 'button[value=continue]');
        assert.deepEqual((await redeemed(redirects, verifier)).amr, ['pwd', 'mfa', 'otp']);
      } finally {
        await tls(`/v1.0/identity/conditionalAccess/policies/${String(policy.body.id)}`, { method: 'DELETE', token: admin });
      }
    });

    it('@azure/msal-node acquireTokenByDeviceCode: the code approved in Chromium with the password and a TOTP code; the token says pwd mfa otp', async () => {
      const user = await enrolled();
      const child = spawn(process.execPath, [path.join(here, 'clients', 'mfaDeviceCodeClient.js')], {
        env: { ...process.env, NODE_EXTRA_CA_CERTS: server.running.caFile, TESSERA_CLIENT_ARGS: JSON.stringify({ url: server.url, tenant: 'organizations', clientId: CLI_CLIENT, scope: SCOPE }) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      const nextLine = async () => {
        const { value, done } = await lines.next();
        assert.ok(!done, `msal-node said nothing: ${stderr.slice(-1000)}`);
        return JSON.parse(String(value)) as { userCode?: string; verificationUri?: string; token?: string; idToken?: string; fromCache?: boolean; error?: string };
      };
      try {
        const prompt = await nextLine();
        assert.equal(prompt.error, undefined, prompt.error);
        assert.equal(prompt.verificationUri, `${server.url}/devicelogin`);
        const { page } = await newContext();
        await page.goto(prompt.verificationUri);
        await page.fill('input[name=user_code]', prompt.userCode!);
        await click(page, 'button[type=submit]');
        await signInWithPassword(page, user.username);
        await shot(page, 'device-code-step');
        await awayFromStepEdge();
        await enterCode(page, await totpNow(user.secret, 1));
        await shot(page, 'device-consent');
        await click(page, 'button[value=approve]');
        await shot(page, 'device-done');
        const result = await nextLine();
        assert.equal(result.error, undefined, result.error);
        const claims = claimsOf(result.token!);
        assert.deepEqual(claims.amr, ['pwd', 'mfa', 'otp']);
        assert.equal(claims.acr, '2');
        assert.equal(claims.oid, user.userId);
        assert.equal(result.fromCache, true, "msal-node cached the token and serves it again");
        const me = await tls('/me', { token: result.token! });
        assert.equal(me.status, 200);
      } finally {
        child.kill();
      }
    });
  });
}
