/**
 * MFA in the interactive sign-ins, at the protocol level, on both stores: setting it up
 * (self-service and as a registration interrupt), the code step in the browser and
 * device-code flows, what tokens say (`amr`, `acr`), the refusals (a reused code, one
 * from the previous-but-one window, a recovery code used twice, six digits brute-forced),
 * the administrators' Graph API (show, reset), the audit trail, and wrong, missing,
 * oversized and hostile input on every MFA page and endpoint. Chromium drives the same
 * pages in mfa-browser.test.ts.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { STORE_KINDS, ADMIN_PASSWORD, call, claimsOf, createUser, login, postForm, startTestServer, type TestServer } from './helpers.js';
import { DEFAULT_THROTTLE } from '../src/index.js';
import { Browser, CLI_CLIENT, alertOf, authorizePath, field, formAction, pkce, redeem, submitSignIn, type PageResponse } from './interactive-helpers.js';
import { awayFromStepEdge, isCodePage, isSetupPage, recoveryCodesOf, secretOf, submitStep, totpNow } from './mfa-helpers.js';

const PASSWORD = 'Second-Factor-Pass-77';
const MARKUP = '<img src=x onerror=alert(1)>"\'&';

interface Enrolled {
  userId: string;
  username: string;
  secret: string;
  codes: string[];
  browser: Browser;
}

for (const kind of STORE_KINDS) {
  describe(`MFA sign-in (${kind})`, () => {
    let server: TestServer;
    let admin: string;
    let n = 0;
    const tokenUrl = () => `${server.url}/organizations/oauth2/v2.0/token`;

    before(async () => {
      server = await startTestServer(kind, {
        env: { TESSERA_DEVICE_CODE_INTERVAL_SEC: '1' },
        config: {
          // Short waits, so the brute-force test reaches the lockout in seconds; the address
          // (every request here is 127.0.0.1) stays clear of its limits.
          throttle: { account: { ...DEFAULT_THROTTLE.account, baseDelayMs: 150, maxDelayMs: 150 }, address: { ...DEFAULT_THROTTLE.address, delayAfter: 10_000, lockoutAfter: 10_000 } },
        },
      });
      admin = (await login(server)).access_token;
    });
    after(() => server.close());
    beforeEach(awayFromStepEdge);

    const newUser = async (displayName = 'Grace Hopper') => {
      const username = `mfa-${++n}`;
      return { username, userId: await createUser(server, admin, username, PASSWORD, { displayName }) };
    };

    /** Signs in through the authorize endpoint with the password; returns the page after it. */
    const passwordStep = async (browser: Browser, username: string, options: Parameters<typeof authorizePath>[0] = {}) => {
      const page = await browser.get(authorizePath(options));
      assert.equal(page.status, 200, alertOf(page.text));
      return submitSignIn(browser, page.text, username, PASSWORD);
    };

    /** A user with a browser session (password only) who sets MFA up on the self-service page. */
    const enrolledUser = async (displayName?: string): Promise<Enrolled> => {
      const { username, userId } = await newUser(displayName);
      const browser = new Browser(server);
      const signedIn = await passwordStep(browser, username);
      assert.equal(signedIn.status, 303, alertOf(signedIn.text));
      const setup = await browser.get('organizations/mfa/setup');
      assert.equal(setup.status, 200, alertOf(setup.text));
      const secret = secretOf(setup.text);
      const done = await submitStep(browser, setup.text, { code: await totpNow(secret, -1), action: 'verify' });
      assert.equal(done.status, 200, alertOf(done.text));
      const codes = recoveryCodesOf(done.text);
      assert.equal(codes.length, 10);
      return { userId, username, secret, codes, browser };
    };

    /** Redeems the code a 303 to the redirect URI carries. */
    const tokensFrom = async (answer: PageResponse, verifier: string) => {
      assert.equal(answer.status, 303, alertOf(answer.text));
      const query = new URL(answer.location!).searchParams;
      const tokens = await redeem(server, query.get('code')!, verifier);
      assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
      return { access: claimsOf(String(tokens.body.access_token)), id: claimsOf(String(tokens.body.id_token)), refresh: String(tokens.body.refresh_token) };
    };

    describe('setting MFA up', () => {
      it('a signed-in user sets it up at /{tenant}/mfa/setup: a QR code and the key in text, a wrong code keeps nothing, the right one shows ten recovery codes once', async () => {
        const { username, userId } = await newUser();
        const browser = new Browser(server);
        assert.equal((await passwordStep(browser, username)).status, 303);
        const setup = await browser.get('organizations/mfa/setup');
        assert.equal(setup.status, 200);
        assert.match(setup.text, /<img id="totp-qr" src="data:image\/png;base64,[A-Za-z0-9+/=]+" width="220" height="220"/);
        const secret = secretOf(setup.text);
        assert.match(setup.text, new RegExp(`href="otpauth://totp/[^"]*secret=${secret}`));
        assert.equal(setup.headers.get('cache-control'), 'no-store');
        const wrong = await submitStep(browser, setup.text, { code: await totpNow(secret, 3), action: 'verify' });
        assert.equal(wrong.status, 400);
        assert.match(alertOf(wrong.text) ?? '', /not right/);
        assert.ok(!wrong.text.includes(secret), 'the key is shown once, not again after a wrong code');
        assert.equal(await server.running.services.mfa.isEnrolled(userId), false);
        const done = await submitStep(browser, wrong.text, { code: await totpNow(secret), action: 'verify' });
        assert.equal(done.status, 200, alertOf(done.text));
        const codes = recoveryCodesOf(done.text);
        assert.equal(codes.length, 10);
        assert.equal(new Set(codes).size, 10);
        assert.equal(await server.running.services.mfa.isEnrolled(userId), true);
        const again = await browser.get('organizations/mfa/setup');
        assert.match(again.text, /already set up/);
        assert.ok(!again.text.includes(secret) && !codes.some((c) => again.text.includes(c)), 'neither the key nor a code is shown twice');
      });

      it('without a session the setup page asks for the password first; a user who has MFA gets no password-only session from it', async () => {
        const { username } = await newUser();
        const browser = new Browser(server);
        const first = await browser.get('organizations/mfa/setup');
        assert.equal(first.status, 200);
        assert.match(first.text, /name="password"/);
        const wrong = await submitSignIn(browser, first.text, username, 'not the password');
        assert.equal(wrong.status, 401);
        const setup = await submitSignIn(browser, wrong.text, username, PASSWORD);
        assert.ok(isSetupPage(setup.text), alertOf(setup.text));
        const secret = secretOf(setup.text);
        assert.equal((await submitStep(browser, setup.text, { code: await totpNow(secret), action: 'verify' })).status, 200);

        const other = new Browser(server);
        const page = await other.get('organizations/mfa/setup');
        const answer = await submitSignIn(other, page.text, username, PASSWORD);
        assert.match(answer.text, /already set up/);
        assert.equal(other.cookies.has('session'), false, 'no session without the second factor');
      });

      it('"Start again" gives a new key; Cancel stores nothing', async () => {
        const { username, userId } = await newUser();
        const browser = new Browser(server);
        await passwordStep(browser, username);
        const setup = await browser.get('organizations/mfa/setup');
        const first = secretOf(setup.text);
        const wrong = await submitStep(browser, setup.text, { code: '000000', action: 'verify' });
        const restarted = await submitStep(browser, wrong.text, { action: 'restart' });
        assert.notEqual(secretOf(restarted.text), first);
        const cancelled = await submitStep(browser, restarted.text, { action: 'cancel' });
        assert.match(cancelled.text, /not set up/);
        assert.equal(await server.running.services.mfa.isEnrolled(userId), false);
      });
    });

    describe('the code step', () => {
      it('asks an enrolled user for a code after the password; the tokens carry amr pwd mfa otp and acr 2', async () => {
        const user = await enrolledUser();
        const browser = new Browser(server);
        const { verifier, challenge } = pkce();
        const step = await passwordStep(browser, user.username, { challenge });
        assert.equal(step.status, 200, 'a page, not yet a redirect');
        assert.ok(isCodePage(step.text));
        assert.equal(browser.cookies.has('session'), false, 'no session before the second factor');
        const wrong = await submitStep(browser, step.text, { code: '000000', action: 'verify' });
        assert.equal(wrong.status, 400);
        assert.match(alertOf(wrong.text) ?? '', /not right/);
        const answer = await submitStep(browser, wrong.text, { code: await totpNow(user.secret), action: 'verify' });
        const { access, id } = await tokensFrom(answer, verifier);
        assert.deepEqual(access.amr, ['pwd', 'mfa', 'otp']);
        assert.equal(access.acr, '2');
        assert.deepEqual(id.amr, ['pwd', 'mfa', 'otp']);
      });

      it('refuses a reused TOTP code', async () => {
        const user = await enrolledUser();
        const code = await totpNow(user.secret);
        const first = new Browser(server);
        const step = await passwordStep(first, user.username);
        assert.equal((await submitStep(first, step.text, { code, action: 'verify' })).status, 303);
        const second = new Browser(server);
        const again = await passwordStep(second, user.username);
        const reused = await submitStep(second, again.text, { code, action: 'verify' });
        assert.equal(reused.status, 400);
        assert.match(alertOf(reused.text) ?? '', /already used/);
      });

      it('refuses a code from the previous-but-one window (and one two steps ahead)', async () => {
        const user = await enrolledUser();
        const browser = new Browser(server);
        const step = await passwordStep(browser, user.username);
        const old = await submitStep(browser, step.text, { code: await totpNow(user.secret, -2), action: 'verify' });
        assert.equal(old.status, 400);
        const ahead = await submitStep(browser, old.text, { code: await totpNow(user.secret, 3), action: 'verify' });
        assert.equal(ahead.status, 400);
        assert.equal((await submitStep(browser, ahead.text, { code: await totpNow(user.secret, 1), action: 'verify' })).status, 303, 'one step ahead is within the window');
      });

      it('a recovery code signs in once (amr pwd mfa rc) and is refused the second time', async () => {
        const user = await enrolledUser();
        const { verifier, challenge } = pkce();
        const browser = new Browser(server);
        const step = await passwordStep(browser, user.username, { challenge });
        const { access } = await tokensFrom(await submitStep(browser, step.text, { code: user.codes[0]!.toUpperCase(), action: 'verify' }), verifier);
        assert.deepEqual(access.amr, ['pwd', 'mfa', 'rc']);
        assert.equal(access.acr, '2');
        const other = new Browser(server);
        const again = await passwordStep(other, user.username);
        const twice = await submitStep(other, again.text, { code: user.codes[0]!, action: 'verify' });
        assert.equal(twice.status, 400);
        const status = await call<{ value: { recoveryCodesRemaining?: number }[] }>(`${server.url}/v1.0/users/${user.userId}/authentication/softwareOathMethods`, { token: admin });
        assert.equal(status.body.value[0]?.recoveryCodesRemaining, 9);
      });

      it('the browser session remembers the second factor: the next sign-in is silent and says pwd mfa otp', async () => {
        const user = await enrolledUser();
        const browser = new Browser(server);
        const step = await passwordStep(browser, user.username);
        assert.equal((await submitStep(browser, step.text, { code: await totpNow(user.secret), action: 'verify' })).status, 303);
        const { verifier, challenge } = pkce();
        const silent = await browser.get(authorizePath({ challenge, extra: { prompt: 'none' } }));
        assert.equal(silent.status, 302);
        const tokens = await redeem(server, new URL(silent.location!).searchParams.get('code')!, verifier);
        assert.deepEqual(claimsOf(String(tokens.body.access_token)).amr, ['pwd', 'mfa', 'otp']);
      });

      it('a session from before the user set MFA up must give a code first; prompt=none gets interaction_required', async () => {
        const user = await enrolledUser();
        // user.browser signed in with the password alone, then set MFA up.
        const silent = await user.browser.get(authorizePath({ extra: { prompt: 'none' } }));
        assert.equal(silent.status, 302);
        const query = new URL(silent.location!).searchParams;
        assert.equal(query.get('error'), 'interaction_required');
        assert.match(query.get('error_description') ?? '', /AADSTS50076/);
        const { verifier, challenge } = pkce();
        const step = await user.browser.get(authorizePath({ challenge }));
        assert.equal(step.status, 200);
        assert.ok(isCodePage(step.text), 'the code page, not the password page');
        const { access } = await tokensFrom(await submitStep(user.browser, step.text, { code: await totpNow(user.secret), action: 'verify' }), verifier);
        assert.deepEqual(access.amr, ['pwd', 'mfa', 'otp']);
      });

      it('Cancel on the code page sends access_denied to the application', async () => {
        const user = await enrolledUser();
        const browser = new Browser(server);
        const step = await passwordStep(browser, user.username, { state: 'st-1' });
        const cancelled = await submitStep(browser, step.text, { action: 'cancel' });
        assert.equal(cancelled.status, 303);
        const query = new URL(cancelled.location!).searchParams;
        assert.equal(query.get('error'), 'access_denied');
        assert.equal(query.get('state'), 'st-1');
      });

      it('device code: an enrolled user gives the code after the password; the device gets tokens saying pwd mfa otp', async () => {
        const user = await enrolledUser();
        const dc = await postForm<{ user_code: string; device_code: string }>(`${server.url}/organizations/oauth2/v2.0/devicecode`, { client_id: CLI_CLIENT, scope: 'api://tessera/management/.default offline_access' });
        assert.equal(dc.status, 200);
        const browser = new Browser(server);
        const entry = await browser.get('devicelogin');
        const signIn = await browser.post('devicelogin', { csrf: field(entry.text, 'csrf'), user_code: dc.body.user_code });
        const step = await submitSignIn(browser, signIn.text, user.username, PASSWORD);
        assert.ok(isCodePage(step.text), alertOf(step.text));
        const pending = await postForm(tokenUrl(), { grant_type: 'device_code', client_id: CLI_CLIENT, device_code: dc.body.device_code });
        assert.equal(pending.body.error, 'authorization_pending', 'nothing is approved before the second factor');
        const wrong = await submitStep(browser, step.text, { code: '123456', action: 'verify' });
        assert.equal(wrong.status, 400);
        const consent = await submitStep(browser, wrong.text, { code: await totpNow(user.secret), action: 'verify' });
        assert.match(consent.text, /Are you trying to sign in to Tessera CLI/);
        const approved = await browser.post(formAction(consent.text), { csrf: field(consent.text, 'csrf'), request: field(consent.text, 'request'), decision: 'approve' });
        assert.equal(approved.status, 200);
        await sleep(1100);
        const tokens = await postForm(tokenUrl(), { grant_type: 'device_code', client_id: CLI_CLIENT, device_code: dc.body.device_code });
        assert.equal(tokens.status, 200, JSON.stringify(tokens.body));
        assert.deepEqual(claimsOf(String(tokens.body.access_token)).amr, ['pwd', 'mfa', 'otp']);
        assert.equal(claimsOf(String(tokens.body.access_token)).acr, '2');
      });

      it('device code: Cancel on the code page refuses the device', async () => {
        const user = await enrolledUser();
        const dc = await postForm<{ user_code: string; device_code: string }>(`${server.url}/organizations/oauth2/v2.0/devicecode`, { client_id: CLI_CLIENT, scope: 'api://tessera/management/.default' });
        const browser = new Browser(server);
        const entry = await browser.get('devicelogin');
        const signIn = await browser.post('devicelogin', { csrf: field(entry.text, 'csrf'), user_code: dc.body.user_code });
        const step = await submitSignIn(browser, signIn.text, user.username, PASSWORD);
        const refused = await submitStep(browser, step.text, { action: 'cancel' });
        assert.match(refused.text, /Sign-in refused/);
        await sleep(1100);
        const poll = await postForm(tokenUrl(), { grant_type: 'device_code', client_id: CLI_CLIENT, device_code: dc.body.device_code });
        assert.equal(poll.body.error, 'authorization_declined');
      });

      it('brute-forcing six digits: after three wrong codes each guess waits, after ten the step locks (even the right code), long before 10^6', async () => {
        const user = await enrolledUser();
        const browser = new Browser(server);
        let page = (await passwordStep(browser, user.username)).text;
        const statuses: number[] = [];
        let checked = 0;
        for (let i = 0; i < 60; i++) {
          const answer = await submitStep(browser, page, { code: String(100000 + i), action: 'verify' });
          statuses.push(answer.status);
          page = answer.text;
          const alert = alertOf(answer.text) ?? '';
          if (/locked/.test(alert)) break;
          if (/not right/.test(alert)) checked++;
          if (answer.status === 429) {
            assert.ok(answer.headers.get('retry-after'), 'a wait says how long');
            await sleep(200);
          }
        }
        assert.ok(statuses.includes(429), 'guesses had to wait');
        assert.equal(checked, 10, 'ten guesses were checked, then the step locked');
        const right = await submitStep(browser, page, { code: await totpNow(user.secret), action: 'verify' });
        assert.equal(right.status, 400);
        assert.match(alertOf(right.text) ?? '', /locked/);
        const lockouts = await call<{ value: { key: string; userId: string | null; lockedUntil: string | null }[] }>(`${server.url}/admin/signInLockouts`, { token: admin });
        const mine = lockouts.body.value.find((l) => l.key.endsWith(`${user.userId}:mfa`));
        assert.ok(mine?.lockedUntil, 'administrators see the lockout');
        assert.equal(mine.userId, user.userId);
        // The password still works and does not clear the second factor's count.
        const again = await passwordStep(new Browser(server), user.username);
        assert.ok(isCodePage(again.text));
      });
    });

    describe('registration interrupt and blocking (conditional access)', () => {
      const policy = async (body: Record<string, unknown>) => {
        const res = await call<{ id: string }>(`${server.url}/v1.0/identity/conditionalAccess/policies`, { token: admin, body });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        return res.body.id;
      };
      const removePolicy = async (id: string) => assert.equal((await call(`${server.url}/v1.0/identity/conditionalAccess/policies/${id}`, { method: 'DELETE', token: admin })).status, 204);
      const forUser = (userId: string, control: 'mfa' | 'block') => ({
        displayName: `${control} for ${userId}`,
        state: 'enabled',
        conditions: { users: { includeUsers: [userId] }, applications: { includeApplications: ['All'] }, clientAppTypes: ['all'] },
        grantControls: { operator: 'OR', builtInControls: [control] },
      });

      it('a policy requiring MFA sends a user without it to set it up during the sign-in, shows the recovery codes, then continues to the application', async () => {
        const { username, userId } = await newUser();
        const id = await policy(forUser(userId, 'mfa'));
        try {
          const { verifier, challenge } = pkce();
          const browser = new Browser(server);
          const setup = await passwordStep(browser, username, { challenge });
          assert.ok(isSetupPage(setup.text), alertOf(setup.text));
          assert.match(setup.text, /Your organization requires a second sign-in step/);
          const secret = secretOf(setup.text);
          const codes = await submitStep(browser, setup.text, { code: await totpNow(secret), action: 'verify' });
          assert.equal(recoveryCodesOf(codes.text).length, 10);
          const { access } = await tokensFrom(await submitStep(browser, codes.text, { action: 'continue' }), verifier);
          assert.deepEqual(access.amr, ['pwd', 'mfa', 'otp']);
          assert.equal(await server.running.services.mfa.isEnrolled(userId), true);
        } finally {
          await removePolicy(id);
        }
      });

      it('a block policy shows the block page after the password and issues nothing', async () => {
        const { username, userId } = await newUser();
        const id = await policy(forUser(userId, 'block'));
        try {
          const browser = new Browser(server);
          const blocked = await passwordStep(browser, username);
          assert.equal(blocked.status, 403);
          assert.equal(blocked.location, undefined);
          assert.match(blocked.text, /AADSTS53003/);
          assert.equal(browser.cookies.has('session'), false);
        } finally {
          await removePolicy(id);
        }
      });
    });

    describe('administrators', () => {
      it('see the password and the authenticator (never a secret) with the recovery codes left, and reset it: sessions and refresh chains end', async () => {
        const user = await enrolledUser();
        const methods = await call<{ value: Record<string, unknown>[] }>(`${server.url}/v1.0/users/${user.userId}/authentication/methods`, { token: admin });
        assert.equal(methods.status, 200);
        assert.deepEqual(methods.body.value.map((m) => m['@odata.type']), ['#microsoft.graph.passwordAuthenticationMethod', '#microsoft.graph.softwareOathAuthenticationMethod']);
        const oath = methods.body.value[1]!;
        assert.equal(oath.secretKey, null);
        assert.equal(oath.recoveryCodesRemaining, 10);
        assert.ok(!JSON.stringify(methods.body).includes(user.secret));
        const byName = await call(`${server.url}/v1.0/users/${user.username}/authentication/softwareOathMethods/${String(oath.id)}`, { token: admin });
        assert.equal(byName.status, 200, 'the user may be named by user name');

        // A signed-in browser and a refresh chain, both with MFA.
        const { verifier, challenge } = pkce();
        const browser = new Browser(server);
        const step = await passwordStep(browser, user.username, { challenge });
        const { refresh } = await tokensFrom(await submitStep(browser, step.text, { code: await totpNow(user.secret), action: 'verify' }), verifier);

        const reset = await call(`${server.url}/v1.0/users/${user.userId}/authentication/softwareOathMethods/${String(oath.id)}`, { method: 'DELETE', token: admin });
        assert.equal(reset.status, 204);
        const after = await call<{ value: unknown[] }>(`${server.url}/v1.0/users/${user.userId}/authentication/softwareOathMethods`, { token: admin });
        assert.deepEqual(after.body.value, []);
        const refreshed = await postForm(tokenUrl(), { grant_type: 'refresh_token', client_id: CLI_CLIENT, refresh_token: refresh });
        assert.equal(refreshed.status, 400, 'the refresh chain ended');
        const silent = await browser.get(authorizePath({ extra: { prompt: 'none' } }));
        assert.equal(new URL(silent.location!).searchParams.get('error'), 'login_required', 'the browser session ended');
        const again = await passwordStep(new Browser(server), user.username);
        assert.equal(again.status, 303, 'the password alone signs in again');
        const twice = await call(`${server.url}/v1.0/users/${user.userId}/authentication/softwareOathMethods/${String(oath.id)}`, { method: 'DELETE', token: admin });
        assert.equal(twice.status, 404);
      });

      it('refuse a missing token, a user without the permission, an unknown user or method, and oversized or hostile ids', async () => {
        const user = await enrolledUser();
        const base = `${server.url}/v1.0/users/${user.userId}/authentication`;
        assert.equal((await call(`${base}/methods`)).status, 401);
        const plain = await call<{ access_token: string }>(`${server.url}/login`, { body: { username: (await newUser()).username, password: PASSWORD } });
        const forbidden = await call(`${base}/methods`, { token: plain.body.access_token });
        assert.equal(forbidden.status, 403);
        const notAllowed = await call(`${base}/softwareOathMethods/x`, { method: 'DELETE', token: plain.body.access_token });
        assert.equal(notAllowed.status, 403);
        assert.equal(await server.running.services.mfa.isEnrolled(user.userId), true);
        assert.equal((await call(`${server.url}/v1.0/users/00000000-0000-0000-0000-000000000000/authentication/methods`, { token: admin })).status, 404);
        assert.equal((await call(`${base}/softwareOathMethods/00000000-0000-0000-0000-000000000000`, { token: admin })).status, 404);
        assert.equal((await call(`${base}/softwareOathMethods/00000000-0000-0000-0000-000000000000`, { method: 'DELETE', token: admin })).status, 404);
        assert.equal((await call(`${base}/softwareOathMethods/${'a'.repeat(65)}`, { token: admin })).status, 400);
        assert.equal((await call(`${server.url}/v1.0/users/${'a'.repeat(321)}/authentication/methods`, { token: admin })).status, 400);
        const hostile = await call(`${server.url}/v1.0/users/${encodeURIComponent(MARKUP)}/authentication/methods`, { token: admin });
        assert.equal(hostile.status, 404);
        assert.ok(!JSON.stringify(hostile.body).includes('<img'), 'the refusal does not echo markup');
        assert.equal(await server.running.services.mfa.isEnrolled(user.userId), true, 'nothing was reset');
      });
    });

    describe('bad input on the MFA pages', () => {
      it('refuses a missing or foreign anti-forgery token, altered or foreign sealed state, and a form that is not a form', async () => {
        const user = await enrolledUser();
        const browser = new Browser(server);
        const step = await passwordStep(browser, user.username);
        const action = formAction(step.text);
        const csrf = field(step.text, 'csrf');
        const request = field(step.text, 'request');
        const code = await totpNow(user.secret);
        assert.equal((await browser.post(action, { request, code, action: 'verify' })).status, 403, 'no token');
        assert.equal((await browser.post(action, { csrf: csrf.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')), request, code, action: 'verify' })).status, 403, 'a wrong token');
        const altered = await browser.post(action, { csrf, request: request.slice(0, -4) + 'AAAA', code, action: 'verify' });
        assert.equal(altered.status, 400, 'altered state');
        assert.equal((await browser.post(action, { csrf, code, action: 'verify' })).status, 400, 'no state');
        // Another browser cannot post this browser's state, even with its own valid token.
        const other = new Browser(server);
        const otherStep = await passwordStep(other, user.username);
        assert.equal((await other.post(action, { csrf: field(otherStep.text, 'csrf'), request, code, action: 'verify' })).status, 403, "another browser's state");
        // The state of the device flow's step does not work at the browser flow's.
        assert.equal((await browser.post(`${server.url}/devicelogin/mfa`, { csrf, request, code, action: 'verify' })).status, 400, "another flow's state");
        const json = await browser.request(action, { method: 'POST', body: JSON.stringify({ csrf, request, code }), headers: { 'content-type': 'application/json' } });
        assert.equal(json.status, 415);
        // After all that, the right code still works.
        assert.equal((await submitStep(browser, step.text, { code, action: 'verify' })).status, 303);
      });

      it('shows a missing, oversized or hostile code as a wrong one, escaped, and a display name with markup as text', async () => {
        const user = await enrolledUser(MARKUP);
        const browser = new Browser(server);
        let page = (await passwordStep(browser, user.username)).text;
        assert.ok(!page.includes('<img src=x'), 'no markup from a name');
        const empty = await submitStep(browser, page, { code: '', action: 'verify' });
        assert.equal(empty.status, 400);
        assert.match(alertOf(empty.text) ?? '', /Enter the code/);
        page = empty.text;
        for (const code of ['<script>alert(1)</script>', 'x'.repeat(20_000), '１２３４５６', "' or 1=1 --", '12345\u0000']) {
          // Each counts as a wrong code: past three, the next must wait (the test's policy: 150 ms).
          await sleep(200);
          const answer = await submitStep(browser, page, { code, action: 'verify' });
          assert.equal(answer.status, 400, JSON.stringify(code.slice(0, 20)));
          assert.match(alertOf(answer.text) ?? '', /not right/);
          assert.ok(!answer.text.includes('<script>alert'), 'the code is never echoed');
          page = answer.text;
        }
        const noAction = await submitStep(browser, page, { code: '123456' });
        assert.equal(noAction.status, 400);
        const tooBig = await submitStep(browser, page, { code: '1'.repeat(100_000), action: 'verify' });
        assert.equal(tooBig.status, 413);
        await sleep(200);
        assert.equal((await submitStep(browser, page, { code: await totpNow(user.secret), action: 'verify' })).status, 303);
      });

      it('the setup page refuses state from another session and an oversized or hostile code', async () => {
        const { username } = await newUser();
        const browser = new Browser(server);
        await passwordStep(browser, username);
        const setup = await browser.get('organizations/mfa/setup');
        const secret = secretOf(setup.text);
        for (const code of ['', '<b>1</b>', 'y'.repeat(20_000)]) {
          const answer = await submitStep(browser, setup.text, { code, action: 'verify' });
          assert.equal(answer.status, 400);
          assert.ok(!answer.text.includes('<b>1</b>'));
        }
        // Signed in again (a new session): the old page's state no longer belongs to it.
        await passwordStep(browser, username, { extra: { prompt: 'login' } });
        const stale = await submitStep(browser, setup.text, { code: await totpNow(secret), action: 'verify' });
        assert.equal(stale.status, 400);
        assert.match(alertOf(stale.text) ?? '', /session ended/);
        assert.equal((await browser.get('no-such-tenant.example/mfa/setup')).status, 400);
        assert.equal((await browser.get(`${encodeURIComponent(MARKUP)}/mfa/setup`)).status, 400);
      });
    });

    describe('records', () => {
      it('audits the setup, every wrong code and the reset, and never writes a key, a code or a recovery code to the audit trail or the log', async () => {
        const user = await enrolledUser();
        const browser = new Browser(server);
        const step = await passwordStep(browser, user.username);
        const wrongCode = '654321';
        const wrong = await submitStep(browser, step.text, { code: wrongCode, action: 'verify' });
        await submitStep(browser, wrong.text, { code: user.codes[1]!, action: 'verify' });
        const status = await call<{ value: { id: string }[] }>(`${server.url}/v1.0/users/${user.userId}/authentication/softwareOathMethods`, { token: admin });
        await call(`${server.url}/v1.0/users/${user.userId}/authentication/softwareOathMethods/${status.body.value[0]!.id}`, { method: 'DELETE', token: admin });
        type AuditRecord = { operation: string; result: string; reason: string | null; actor: { id: string | null }; target: string | null };
        const expected: [string, (r: AuditRecord) => boolean][] = [
          ['the setup', (r) => r.operation === 'mfa/setup/enroll' && r.result === 'Success'],
          ['the wrong code', (r) => r.operation === 'authorize/mfa' && r.result === 'Failure' && r.reason === 'InvalidMfaCode'],
          ['the recovery code', (r) => r.operation === 'authorize/mfa' && r.result === 'Success'],
          ['the reset', (r) => r.operation === 'Tessera.Directory/users/write' && /softwareOathMethods/.test(r.target ?? '') && r.result === 'Success'],
        ];
        // Records are written after each answer: read until they have all landed (30 s at most on a loaded machine).
        let records: { value: AuditRecord[] };
        let mine: AuditRecord[];
        for (const deadline = Date.now() + 30_000; ; ) {
          await sleep(200);
          records = (await call<{ value: AuditRecord[] }>(`${server.url}/admin/auditRecords?$top=200`, { token: admin })).body;
          mine = records.value.filter((r) => r.actor.id === user.userId || (r.target ?? '').includes(user.userId));
          if (expected.every(([, match]) => mine.some(match)) || Date.now() > deadline) break;
        }
        for (const [what, match] of expected) assert.ok(mine.some(match), what);
        const everything = JSON.stringify(records) + server.logs.join('\n');
        for (const secret of [user.secret, wrongCode, ...user.codes, ADMIN_PASSWORD, PASSWORD]) assert.ok(!everything.includes(secret), `no ${secret.slice(0, 3)}… in the records or logs`);
      });
    });
  });
}
