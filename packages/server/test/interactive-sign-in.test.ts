/**
 * Browser sign-in (authorization code + PKCE) and device-code sign-in, at the protocol
 * level, on both stores: what the authorization endpoint, the pages' forms, the device
 * authorization endpoint and the token endpoint accept and refuse. Chromium drives the
 * same pages in browser-sign-in.test.ts; Microsoft's clients in interactive-real-clients.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STORE_KINDS, TestClock, call, claimsOf, createServicePrincipal, createUser, login, postForm, startTestServer, type TestServer } from './helpers.js';
import { DEFAULT_THROTTLE } from '../src/index.js';
import { Browser, CLI_CLIENT, LOOPBACK_REDIRECT, SCOPE, alertOf, authorizeAndSignIn, authorizePath, field, formAction, pkce, redeem, submitSignIn } from './interactive-helpers.js';

const USER = 'ada';
const PASSWORD = 'Analytical-Engine-1843';

for (const kind of STORE_KINDS) {
  describe(`interactive sign-in (${kind})`, () => {
    let server: TestServer;
    let admin: string;
    let userId: string;
    const tokenUrl = () => `${server.url}/organizations/oauth2/v2.0/token`;
    const deviceUrl = () => `${server.url}/organizations/oauth2/v2.0/devicecode`;
    // Real time, but a test may stop it for a moment (see slow_down).
    const clock = new TestClock();

    before(async () => {
      server = await startTestServer(kind, { env: { TESSERA_DEVICE_CODE_INTERVAL_SEC: '1' }, clock });
      admin = (await login(server)).access_token;
      userId = await createUser(server, admin, USER, PASSWORD, { displayName: 'Ada Lovelace' });
    });
    after(() => server.close());

    describe('the authorization endpoint', () => {
      it('signs a user in and redirects to the loopback URI with code, state and iss (RFC 9207)', async () => {
        const { verifier, challenge } = pkce();
        const query = await authorizeAndSignIn(new Browser(server), USER, PASSWORD, { challenge, state: 'xyz', nonce: 'n-123' });
        assert.match(query.get('code') ?? '', /^tsac_[A-Za-z0-9_-]{43}$/);
        assert.equal(query.get('state'), 'xyz');
        assert.equal(query.get('iss'), `${server.url}/organizations/v2.0`);
        const tokens = await redeem(server, query.get('code')!, verifier);
        assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
        assert.equal(tokens.body.scope, SCOPE);
        assert.match(String(tokens.body.refresh_token), /^tsrt_/);
        const id = claimsOf(String(tokens.body.id_token));
        assert.equal(id.nonce, 'n-123');
        assert.equal(id.aud, CLI_CLIENT);
        assert.equal(id.iss, `${server.url}/organizations/v2.0`);
        assert.equal(id.oid, userId);
        assert.equal(id.preferred_username, `${USER}@tessera.local`);
        assert.ok(typeof id.auth_time === 'number' && Math.abs(id.auth_time - Date.now() / 1000) < 60, 'auth_time says when the password was entered');
        const me = await call(`${server.url}/me`, { token: String(tokens.body.access_token) });
        assert.equal(me.status, 200);
      });

      it('matches a registered loopback redirect URI on any port, and nothing looser', async () => {
        const browser = new Browser(server);
        for (const uri of ['http://127.0.0.1:1/', 'http://127.0.0.1:65000', 'http://localhost:5000/', 'http://[::1]:8400/']) {
          const page = await browser.get(authorizePath({ redirectUri: uri }));
          assert.equal(page.status, 200, `${uri} is accepted`);
        }
        for (const uri of ['http://127.0.0.1:5000/callback', 'http://localhost.evil.example:5000/', 'http://127.0.0.1@evil.example/', 'https://127.0.0.1:5000/', 'http://127.0.0.2:5000/', 'http://127.0.0.1:5000/?next=https://evil.example', 'http://127.0.0.1:5000/#frag', 'https://evil.example/']) {
          const page = await browser.get(authorizePath({ redirectUri: uri }));
          assert.equal(page.status, 400, `${uri} is refused`);
          assert.equal(page.location, undefined, `${uri} is never redirected to`);
          assert.match(alertOf(page.text) ?? '', /AADSTS50011/);
        }
      });

      it('shows an error page, never a redirect, for an unknown client, a missing redirect_uri or a repeated parameter', async () => {
        const browser = new Browser(server);
        const unknown = await browser.get(authorizePath({ clientId: '00000000-0000-0000-0000-000000000000' }));
        assert.equal(unknown.status, 400);
        assert.equal(unknown.location, undefined);
        assert.match(alertOf(unknown.text) ?? '', /AADSTS700016/);
        assert.match(unknown.text, /Correlation ID/);
        const missing = await browser.get(`organizations/oauth2/v2.0/authorize?client_id=${CLI_CLIENT}&response_type=code`);
        assert.equal(missing.status, 400);
        assert.equal(missing.location, undefined);
        const repeated = await browser.get(`${authorizePath()}&redirect_uri=${encodeURIComponent('https://evil.example/')}`);
        assert.equal(repeated.status, 400);
        assert.equal(repeated.location, undefined);
        const tenant = await browser.get(authorizePath({ tenant: 'no-such-tenant.example' }));
        assert.equal(tenant.status, 400);
        assert.match(tenant.headers.get('content-type') ?? '', /text\/html/);
      });

      it('sends request errors back to the client once the client and redirect URI are known good', async () => {
        const browser = new Browser(server);
        const cases: Array<[Record<string, string>, string]> = [
          [{ response_type: 'token' }, 'unsupported_response_type'],
          [{ code_challenge_method: 'plain' }, 'invalid_request'],
          [{ scope: 'https://evil.example/.default' }, 'invalid_scope'],
          [{ prompt: 'bogus' }, 'invalid_request'],
          [{ prompt: 'none login' }, 'invalid_request'],
          [{ response_mode: 'fragment' }, 'invalid_request'],
          [{ login_hint: 'x'.repeat(10_000) }, 'invalid_request'],
          [{ nonce: 'n'.repeat(300) }, 'invalid_request'],
        ];
        for (const [extra, error] of cases) {
          const page = await browser.get(authorizePath({ extra, state: 's1' }));
          assert.equal(page.status, 302, JSON.stringify(extra));
          const query = new URL(page.location!).searchParams;
          assert.equal(new URL(page.location!).origin, 'http://127.0.0.1:43117');
          assert.equal(query.get('error'), error, JSON.stringify(extra));
          assert.equal(query.get('state'), 's1');
          assert.equal(query.get('iss'), `${server.url}/organizations/v2.0`);
        }
      });

      it('requires PKCE (S256) from public clients', async () => {
        const page = await new Browser(server).get(authorizePath({ challenge: null }));
        const query = new URL(page.location!).searchParams;
        assert.equal(query.get('error'), 'invalid_request');
        assert.match(query.get('error_description') ?? '', /PKCE/);
        const short = await new Browser(server).get(authorizePath({ challenge: 'abc' }));
        assert.equal(new URL(short.location!).searchParams.get('error'), 'invalid_request');
      });

      it('answers with a self-submitting form for response_mode=form_post, with every value escaped', async () => {
        const browser = new Browser(server);
        const state = `"><script>alert(1)</script>`;
        const page = await browser.get(authorizePath({ state, extra: { response_mode: 'form_post' } }));
        const done = await submitSignIn(browser, page.text, USER, PASSWORD);
        assert.equal(done.status, 200);
        assert.ok(!done.text.includes('<script>alert(1)'), 'the state is not reflected as markup');
        assert.equal(field(done.text, 'state'), state);
        assert.match(field(done.text, 'code'), /^tsac_/);
        assert.equal(formAction(done.text), LOOPBACK_REDIRECT);
        const csp = done.headers.get('content-security-policy') ?? '';
        assert.match(csp, /form-action 'self' http:\/\/127\.0\.0\.1:43117/);
        assert.match(csp, /script-src 'sha256-/);
      });

      it('lets a second sign-in through the browser session skip the password, and prompt=login ask again', async () => {
        const browser = new Browser(server);
        await authorizeAndSignIn(browser, USER, PASSWORD);
        const silent = await browser.get(authorizePath());
        assert.equal(silent.status, 302);
        assert.match(new URL(silent.location!).searchParams.get('code') ?? '', /^tsac_/);
        const again = await browser.get(authorizePath({ extra: { prompt: 'login' } }));
        assert.equal(again.status, 200);
        assert.match(again.text, /name="password"/);
        const picker = await browser.get(authorizePath({ extra: { prompt: 'select_account' } }));
        assert.equal(picker.status, 200);
        assert.match(picker.text, /Continue as Ada Lovelace/);
        const chosen = await browser.post(formAction(picker.text), { csrf: field(picker.text, 'csrf'), request: field(picker.text, 'request'), action: 'continue' });
        assert.equal(chosen.status, 303);
        assert.match(new URL(chosen.location!).searchParams.get('code') ?? '', /^tsac_/);
      });

      it('answers prompt=none without a session with login_required, and with one with a code', async () => {
        const browser = new Browser(server);
        const none = await browser.get(authorizePath({ extra: { prompt: 'none' } }));
        assert.equal(new URL(none.location!).searchParams.get('error'), 'login_required');
        await authorizeAndSignIn(browser, USER, PASSWORD);
        const silent = await browser.get(authorizePath({ extra: { prompt: 'none' } }));
        assert.match(new URL(silent.location!).searchParams.get('code') ?? '', /^tsac_/);
        // max_age: a password entered longer ago than that must be entered again.
        const sessionId = [...browser.cookies].find(([k]) => k.includes('session'))![1].split('.')[0]!;
        await server.running.services.store.db.updateTable('browser_sessions').set({ auth_time: Date.now() - 120_000 }).where('id', '=', sessionId).execute();
        const stale = await browser.get(authorizePath({ extra: { prompt: 'none', max_age: '60' } }));
        assert.equal(new URL(stale.location!).searchParams.get('error'), 'login_required');
        const recent = await browser.get(authorizePath({ extra: { prompt: 'none', max_age: '600' } }));
        assert.match(new URL(recent.location!).searchParams.get('code') ?? '', /^tsac_/);
      });

      it('takes a forged, expired or revoked session cookie as no session', async () => {
        const browser = new Browser(server);
        await authorizeAndSignIn(browser, USER, PASSWORD);
        const name = [...browser.cookies.keys()].find((k) => k.includes('session'))!;
        const real = browser.cookies.get(name)!;
        browser.cookies.set(name, `${real.split('.')[0]}.${'A'.repeat(43)}`);
        assert.equal((await browser.get(authorizePath())).status, 200, 'a forged secret shows the sign-in page');
        browser.cookies.set(name, 'garbage<script>');
        assert.equal((await browser.get(authorizePath())).status, 200);
        browser.cookies.set(name, real);
        await server.running.services.store.db.updateTable('browser_sessions').set({ last_seen_at: 0 }).where('id', '=', real.split('.')[0]!).execute();
        assert.equal((await browser.get(authorizePath())).status, 200, 'an idle session shows the sign-in page');
      });

      it('refuses a form without its anti-forgery token, or with another browser\'s', async () => {
        const mine = new Browser(server);
        const page = await mine.get(authorizePath());
        const missing = await mine.post(formAction(page.text), { request: field(page.text, 'request'), username: USER, password: PASSWORD, action: 'signin' });
        assert.equal(missing.status, 403);
        assert.equal(missing.location, undefined);
        const other = new Browser(server);
        await other.get(authorizePath());
        const stolen = await other.post(formAction(page.text), { csrf: field(page.text, 'csrf'), request: field(page.text, 'request'), username: USER, password: PASSWORD, action: 'signin' });
        assert.equal(stolen.status, 403, 'a token made for another browser is refused');
        const tampered = await mine.post(formAction(page.text), { csrf: field(page.text, 'csrf'), request: field(page.text, 'request').slice(0, -4) + 'AAAA', username: USER, password: PASSWORD, action: 'signin' });
        assert.equal(tampered.status, 400, 'altered page state is refused');
        const json = await mine.request(formAction(page.text), { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
        assert.equal(json.status, 415);
      });

      it('shows a wrong password in place and keeps the name typed, escaped', async () => {
        const browser = new Browser(server);
        const page = await browser.get(authorizePath());
        const wrong = await submitSignIn(browser, page.text, `${USER}"><b>x`, 'not-the-password');
        assert.equal(wrong.status, 401);
        assert.match(alertOf(wrong.text) ?? '', /Invalid username or password/);
        assert.ok(!wrong.text.includes('"><b>x'), 'what was typed comes back escaped');
        assert.equal(field(wrong.text, 'username'), `${USER}"><b>x`);
        const empty = await submitSignIn(browser, page.text, '', '');
        assert.equal(empty.status, 400);
        const cancelled = await submitSignIn(browser, page.text, '', '', 'cancel');
        assert.equal(cancelled.status, 303);
        assert.equal(new URL(cancelled.location!).searchParams.get('error'), 'access_denied');
      });
    });

    describe('the authorization_code grant', () => {
      async function freshCode(options: { nonce?: string } = {}) {
        const { verifier, challenge } = pkce();
        const query = await authorizeAndSignIn(new Browser(server), USER, PASSWORD, { challenge, ...options });
        return { code: query.get('code')!, verifier };
      }

      it('redeems a code once; a second use fails and revokes what the first issued', async () => {
        const { code, verifier } = await freshCode();
        const first = await redeem(server, code, verifier);
        assert.equal(first.status, 200);
        const second = await redeem(server, code, verifier);
        assert.equal(second.status, 400);
        assert.equal(second.body.error, 'invalid_grant');
        const refreshed = await postForm(tokenUrl(), { grant_type: 'refresh_token', client_id: CLI_CLIENT, refresh_token: String(first.body.refresh_token) });
        assert.equal(refreshed.status, 400, 'the refresh token from the first redemption is revoked');
        assert.equal(refreshed.body.error, 'invalid_grant');
      });

      it('refuses a verifier that does not match, without spending the code', async () => {
        const { code, verifier } = await freshCode();
        const wrong = await redeem(server, code, pkce().verifier);
        assert.equal(wrong.body.error, 'invalid_grant');
        assert.match(String(wrong.body.error_description), /code_verifier/);
        const missing = await redeem(server, code, undefined);
        assert.equal(missing.body.error, 'invalid_grant');
        assert.equal((await redeem(server, code, verifier)).status, 200, 'the rightful client still redeems it');
      });

      it('binds a code to its client and redirect URI', async () => {
        const { code, verifier } = await freshCode();
        const otherClient = await redeem(server, code, verifier, { client_id: '04b07795-8ddb-461a-bbee-02f9e1bf7b46' });
        assert.equal(otherClient.body.error, 'invalid_grant');
        const otherRedirect = await redeem(server, code, verifier, { redirect_uri: 'http://127.0.0.1:9999/' });
        assert.equal(otherRedirect.body.error, 'invalid_grant');
        assert.equal((await redeem(server, code, verifier)).status, 200);
      });

      it('refuses an expired, unknown or malformed code', async () => {
        const { code, verifier } = await freshCode();
        await server.running.services.store.db.updateTable('authorization_codes').set({ expires_at: 1 }).execute();
        assert.equal((await redeem(server, code, verifier)).body.error, 'invalid_grant');
        assert.equal((await redeem(server, `tsac_${'A'.repeat(43)}`, verifier)).body.error, 'invalid_grant');
        assert.equal((await redeem(server, '<script>', verifier)).body.error, 'invalid_grant');
        assert.equal((await redeem(server, 'x'.repeat(5000), verifier)).body.error, 'invalid_request');
      });

      it('refuses a code for a user disabled since', async () => {
        const name = `gone-${kind}`;
        const id = await createUser(server, admin, name, PASSWORD);
        const { verifier, challenge } = pkce();
        const query = await authorizeAndSignIn(new Browser(server), name, PASSWORD, { challenge });
        const patched = await call(`${server.url}/v1.0/users/${id}`, { method: 'PATCH', token: admin, body: { accountEnabled: false } });
        assert.equal(patched.status, 200);
        const res = await redeem(server, query.get('code')!, verifier);
        assert.equal(res.status, 400);
        assert.equal(res.body.error, 'invalid_grant');
      });
    });

    describe('registered applications as clients', () => {
      it('a web app redeems its code only with its secret, and refreshes with it', async () => {
        // It also allows public flows: a chain its secret began still needs the secret.
        const created = await call(`${server.url}/v1.0/applications`, { token: admin, body: { displayName: `web-app-${kind}`, web: { redirectUris: ['https://app.example/callback'] }, publicClient: { redirectUris: ['msalweb://auth'] }, isFallbackPublicClient: true } });
        assert.equal(created.status, 201, JSON.stringify(created.body));
        const appId = String(created.body.appId);
        const secret = await call(`${server.url}/v1.0/servicePrincipals/${appId}/addPassword`, { token: admin, body: {} });
        const browser = new Browser(server);
        const page = await browser.get(authorizePath({ clientId: appId, redirectUri: 'https://app.example/callback', challenge: null }));
        assert.equal(page.status, 200, 'a confidential client may leave PKCE out');
        const done = await submitSignIn(browser, page.text, USER, PASSWORD);
        const code = new URL(done.location!).searchParams.get('code')!;
        const base = { grant_type: 'authorization_code', client_id: appId, code, redirect_uri: 'https://app.example/callback' };
        const anonymous = await postForm(tokenUrl(), base);
        assert.equal(anonymous.status, 401);
        assert.equal(anonymous.body.error, 'invalid_client');
        const withSecret = await postForm(tokenUrl(), { ...base, client_secret: String(secret.body.secretText) });
        assert.equal(withSecret.status, 200, JSON.stringify(withSecret.body));
        assert.equal(claimsOf(String(withSecret.body.access_token)).azp, appId);
        const noSecret = await postForm(tokenUrl(), { grant_type: 'refresh_token', client_id: appId, refresh_token: String(withSecret.body.refresh_token) });
        assert.equal(noSecret.status, 401, 'a refresh token issued to an authenticated client needs its secret');
        assert.equal(noSecret.body.error, 'invalid_client');
        const refreshed = await postForm(tokenUrl(), { grant_type: 'refresh_token', client_id: appId, client_secret: String(secret.body.secretText), refresh_token: String(withSecret.body.refresh_token) });
        assert.equal(refreshed.status, 200, 'and the refusal did not spend it');
        const web = await new Browser(server).get(authorizePath({ clientId: appId, redirectUri: 'https://app.example/other', challenge: null }));
        assert.equal(web.status, 400, 'an unregistered path of a registered host is refused');
      });

      it('a public app without isFallbackPublicClient may not start a device code', async () => {
        const created = await call(`${server.url}/v1.0/applications`, { token: admin, body: { displayName: `native-${kind}`, publicClient: { redirectUris: ['http://localhost'] } } });
        const appId = String(created.body.appId);
        const refused = await postForm(deviceUrl(), { client_id: appId, scope: 'api://tessera/management/.default' });
        assert.equal(refused.status, 401);
        assert.match(String(refused.body.error_description), /AADSTS7000218/);
        const patched = await call(`${server.url}/v1.0/applications/${appId}`, { method: 'PATCH', token: admin, body: { isFallbackPublicClient: true } });
        assert.equal(patched.status, 200, JSON.stringify(patched.body));
        const allowed = await postForm(deviceUrl(), { client_id: appId, scope: 'api://tessera/management/.default' });
        assert.equal(allowed.status, 200);
      });

      it('a service principal may not start a device code', async () => {
        const sp = await createServicePrincipal(server, admin, `sp-device-${kind}`);
        const res = await postForm(deviceUrl(), { client_id: sp.appId, client_secret: sp.secret, scope: 'api://tessera/management/.default' });
        assert.equal(res.status, 400);
        assert.equal(res.body.error, 'unauthorized_client');
      });
    });

    describe('device code', () => {
      async function start(extra: Record<string, string> = {}) {
        const res = await postForm(deviceUrl(), { client_id: CLI_CLIENT, scope: 'api://tessera/management/.default offline_access', ...extra });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        return res.body as { user_code: string; device_code: string; verification_uri: string; expires_in: number; interval: number; message: string };
      }
      const poll = (deviceCode: string, grantType = 'device_code', clientId = CLI_CLIENT) => postForm(tokenUrl(), { grant_type: grantType, client_id: clientId, device_code: deviceCode });

      async function approve(userCode: string, decision: 'approve' | 'refuse' = 'approve', browser = new Browser(server)) {
        const entry = await browser.get('devicelogin');
        const entered = await browser.post('devicelogin', { csrf: field(entry.text, 'csrf'), user_code: userCode.toLowerCase().replace(/(.{3})/g, '$1 ') });
        assert.equal(entered.status, 200, alertOf(entered.text));
        let consent = entered.text;
        if (consent.includes('name="password"')) {
          const signedIn = await submitSignIn(browser, consent, USER, PASSWORD);
          assert.equal(signedIn.status, 200, alertOf(signedIn.text));
          consent = signedIn.text;
        }
        assert.match(consent, /Are you trying to sign in to Tessera CLI/);
        assert.match(consent, /api:\/\/tessera\/management\/\.default/);
        return browser.post(formAction(consent), { csrf: field(consent, 'csrf'), request: field(consent, 'request'), decision });
      }

      it('answers in MSAL\'s and RFC 8628\'s shape, with a nine-letter user code', async () => {
        const dc = await start();
        assert.match(dc.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{9}$/);
        assert.match(dc.device_code, /^tsdc_/);
        assert.equal(dc.verification_uri, `${server.url}/devicelogin`);
        assert.equal(dc.expires_in, 900);
        assert.equal(dc.interval, 1);
        assert.ok(dc.message.includes(dc.user_code) && dc.message.includes(dc.verification_uri));
        const v1 = await postForm(`${server.url}/organizations/oauth2/devicecode`, { client_id: CLI_CLIENT, resource: 'https://management.azure.com/' });
        assert.equal(v1.body.verification_url, `${server.url}/devicelogin`);
      });

      it('is pending until approved, then issues tokens once (under both grant names)', async () => {
        const dc = await start();
        const pending = await poll(dc.device_code);
        assert.equal(pending.status, 400);
        assert.equal(pending.body.error, 'authorization_pending');
        assert.equal((await approve(dc.user_code)).status, 200);
        await new Promise((r) => setTimeout(r, 1100));
        const tokens = await poll(dc.device_code, 'urn:ietf:params:oauth:grant-type:device_code');
        assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
        assert.equal(tokens.body.scope, 'api://tessera/management/.default offline_access');
        assert.equal(claimsOf(String(tokens.body.access_token)).oid, userId);
        const again = await poll(dc.device_code);
        assert.equal(again.body.error, 'invalid_grant', 'a redeemed code does not work twice');
      });

      it('tells a client polling faster than the interval to slow down', async () => {
        const dc = await start();
        // The two polls at one instant of the server's clock: the second is too fast however
        // long it takes to arrive on a loaded machine.
        clock.freeze();
        try {
          assert.equal((await poll(dc.device_code)).body.error, 'authorization_pending');
          assert.equal((await poll(dc.device_code)).body.error, 'slow_down');
        } finally {
          clock.resume();
        }
        await new Promise((r) => setTimeout(r, 1100));
        assert.equal((await poll(dc.device_code)).body.error, 'authorization_pending');
      });

      it('answers authorization_declined once the user refuses', async () => {
        const dc = await start();
        const refused = await approve(dc.user_code, 'refuse');
        assert.match(refused.text, /refused/);
        assert.equal((await poll(dc.device_code)).body.error, 'authorization_declined');
      });

      it('answers expired_token, bad_verification_code and invalid_grant where due', async () => {
        const dc = await start();
        await server.running.services.store.db.updateTable('device_codes').set({ expires_at: 1 }).execute();
        assert.equal((await poll(dc.device_code)).body.error, 'expired_token');
        assert.equal((await poll(`tsdc_${'A'.repeat(43)}`)).body.error, 'bad_verification_code');
        assert.equal((await poll('"><script>')).body.error, 'bad_verification_code');
        const other = await start();
        assert.equal((await poll(other.device_code, 'device_code', '04b07795-8ddb-461a-bbee-02f9e1bf7b46')).body.error, 'invalid_grant');
        const missing = await postForm(tokenUrl(), { grant_type: 'device_code', client_id: CLI_CLIENT });
        assert.equal(missing.body.error, 'invalid_request');
      });

      it('says plainly that a wrong or expired user code is not valid', async () => {
        const browser = new Browser(server);
        const entry = await browser.get('devicelogin');
        const wrong = await browser.post('devicelogin', { csrf: field(entry.text, 'csrf'), user_code: '<b>BCDFGHJKL</b>' });
        assert.equal(wrong.status, 400);
        assert.match(alertOf(wrong.text) ?? '', /not valid/);
        assert.ok(!wrong.text.includes('<b>BCDF'));
        const noCsrf = await browser.post('devicelogin', { user_code: 'BCDFGHJKL' });
        assert.equal(noCsrf.status, 403);
      });

      it('writes no audit record for polls that only wait', async () => {
        const started = await postForm<{ device_code: string }>(deviceUrl(), { client_id: CLI_CLIENT, scope: 'api://tessera/management/.default offline_access' });
        assert.equal(started.status, 200, JSON.stringify(started.body));
        const dc = started.body;
        // The device-code request's own record is written after its answer: wait until it has landed.
        const requestId = started.headers.get('x-ms-request-id') ?? '';
        const db = server.running.services.store.db;
        for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
          if (await db.selectFrom('audit_records').select('id').where('request_id', '=', requestId).executeTakeFirst()) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        const before = await server.running.services.store.db.selectFrom('audit_records').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
        await poll(dc.device_code);
        await new Promise((r) => setTimeout(r, 300));
        const afterPoll = await server.running.services.store.db.selectFrom('audit_records').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
        assert.equal(Number(afterPoll.n), Number(before.n));
      });
    });

    describe('signing out', () => {
      it('asks to confirm, then ends the browser session and what it began; registered URIs only', async () => {
        const browser = new Browser(server);
        const { verifier, challenge } = pkce();
        const query = await authorizeAndSignIn(browser, USER, PASSWORD, { challenge });
        const tokens = await redeem(server, query.get('code')!, verifier);
        const evil = await browser.get(`organizations/oauth2/v2.0/logout?client_id=${CLI_CLIENT}&post_logout_redirect_uri=${encodeURIComponent('https://evil.example/')}`);
        assert.equal(evil.status, 200);
        assert.match(evil.text, /Sign out\?/);
        const noCsrf = await browser.post(formAction(evil.text), { request: field(evil.text, 'request') });
        assert.equal(noCsrf.status, 403);
        const page = await browser.get(`organizations/oauth2/v2.0/logout?client_id=${CLI_CLIENT}&state=bye&post_logout_redirect_uri=${encodeURIComponent('http://127.0.0.1:43117/')}`);
        const done = await browser.post(formAction(page.text), { csrf: field(page.text, 'csrf'), request: field(page.text, 'request') });
        assert.equal(done.status, 303);
        assert.equal(done.location, 'http://127.0.0.1:43117/?state=bye');
        assert.equal((await browser.get(authorizePath())).status, 200, 'the next sign-in asks for the password');
        const refreshed = await postForm(tokenUrl(), { grant_type: 'refresh_token', client_id: CLI_CLIENT, refresh_token: String(tokens.body.refresh_token) });
        assert.equal(refreshed.body.error, 'invalid_grant', 'the refresh token the session began is revoked');
        const signedOut = await new Browser(server).get(`organizations/oauth2/v2.0/logout?post_logout_redirect_uri=${encodeURIComponent('https://evil.example/')}`);
        assert.equal(signedOut.status, 200, 'without a session and a registered URI: the signed-out page, no redirect');
        assert.equal(signedOut.location, undefined);
      });

      it('ends browser sessions when the password changes', async () => {
        const name = `pw-${kind}`;
        const id = await createUser(server, admin, name, PASSWORD);
        const browser = new Browser(server);
        await authorizeAndSignIn(browser, name, PASSWORD);
        assert.equal((await browser.get(authorizePath())).status, 302);
        const reset = await call(`${server.url}/v1.0/users/${id}`, { method: 'PATCH', token: admin, body: { passwordProfile: { password: 'Another-long-pass-77' } } });
        assert.equal(reset.status, 200, JSON.stringify(reset.body));
        assert.equal((await browser.get(authorizePath())).status, 200);
      });
    });

    it('never writes a code, a device code, a refresh token, a session cookie or a password to the log or the audit trail', async () => {
      const browser = new Browser(server);
      const { verifier, challenge } = pkce();
      const query = await authorizeAndSignIn(browser, USER, PASSWORD, { challenge });
      const tokens = await redeem(server, query.get('code')!, verifier);
      const dc = await postForm(deviceUrl(), { client_id: CLI_CLIENT, scope: 'api://tessera/management/.default' });
      await new Promise((r) => setTimeout(r, 300));
      const secrets = [query.get('code')!, String(tokens.body.refresh_token), String(dc.body.device_code), PASSWORD, ...[...browser.cookies.values()]];
      const records = JSON.stringify(await server.running.services.store.db.selectFrom('audit_records').selectAll().execute());
      for (const secret of secrets) {
        assert.ok(!server.logs.some((line) => line.includes(secret)), 'not in the log');
        assert.ok(!records.includes(secret), 'not in the audit trail');
      }
      assert.ok(!server.logs.some((line) => /tsac_|tsdc_|tsrt_/.test(line)));
    });

    it('sends every page with a strict CSP, no framing and no caching', async () => {
      const page = await new Browser(server).get(authorizePath());
      const csp = page.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'none'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.match(csp, /base-uri 'none'/);
      assert.equal(page.headers.get('x-frame-options'), 'DENY');
      assert.equal(page.headers.get('cache-control'), 'no-store');
      const cookies = page.headers.getSetCookie().join('\n');
      assert.match(cookies, /HttpOnly/);
      assert.match(cookies, /SameSite=Strict/);
    });
  });

  describe(`guessing at the sign-in pages is throttled (${kind})`, () => {
    let server: TestServer;
    before(async () => {
      const throttle = { account: { ...DEFAULT_THROTTLE.account, delayAfter: 100, lockoutAfter: 3 }, address: { ...DEFAULT_THROTTLE.address, delayAfter: 100, lockoutAfter: 5 } };
      server = await startTestServer(kind, { config: { throttle } });
      await createUser(server, (await login(server)).access_token, USER, PASSWORD);
    });
    after(() => server.close());

    it('locks an account on the sign-in page as on the password grant', async () => {
      const browser = new Browser(server);
      const page = await browser.get(authorizePath());
      for (let i = 0; i < 3; i++) await submitSignIn(browser, page.text, USER, 'wrong-password');
      const locked = await submitSignIn(browser, page.text, USER, PASSWORD);
      assert.equal(locked.status, 400);
      assert.match(alertOf(locked.text) ?? '', /locked/);
      const grant = await postForm(`${server.url}/organizations/oauth2/v2.0/token`, { grant_type: 'password', client_id: CLI_CLIENT, username: USER, password: PASSWORD });
      assert.equal(grant.body.error, 'invalid_grant', 'the same lockout holds on the password grant');
    });

    it('locks out an address that guesses user codes in a loop', async () => {
      const browser = new Browser(server);
      const entry = await browser.get('devicelogin');
      const csrf = field(entry.text, 'csrf');
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await browser.post('devicelogin', { csrf, user_code: `BCDFGHJK${'LMNPQRSTV'[i]}` })).status);
      assert.ok(statuses.includes(429), `guesses end in 429: ${statuses.join(',')}`);
      const dc = await postForm(`${server.url}/organizations/oauth2/v2.0/devicecode`, { client_id: CLI_CLIENT, scope: 'api://tessera/management/.default' });
      const right = await browser.post('devicelogin', { csrf, user_code: String(dc.body.user_code) });
      assert.equal(right.status, 429, 'even a right code waits once the address is locked');
    });
  });
}

