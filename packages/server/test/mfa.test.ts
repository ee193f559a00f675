/**
 * The MFA room on its own: RFC 6238 codes (the RFC's vectors, the ±1 step window, each
 * step once), recovery codes (shape, normalization, keyed hashes), and the store-backed
 * service on both stores: enrollment stores nothing until a right code, the secret is
 * sealed and bound to its user, each code and recovery code works once (also when sent
 * twice at once), six digits cannot be walked through, and a reset ends the sessions.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { STORE_KINDS, call, createUser, login, startTestServer, type TestServer } from './helpers.js';
import { TOTP_PERIOD_SEC, checkTotpCode, newTotpSecret, otpauthUri, totpCode, totpStep, looksLikeTotpCode } from '../src/mfa/totp.js';
import { RECOVERY_CODE_COUNT, hashRecoveryCode, newRecoveryCode, normalizeRecoveryCode } from '../src/mfa/recoveryCodes.js';
import { isTesseraError } from '../src/errors.js';
import type { Services } from '../src/services.js';
import type { MfaUser } from '../src/mfa/mfa.js';

/** RFC 6238 appendix B's SHA-1 seed, "12345678901234567890", in Base32. */
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

/** The code of the step `offset` steps from now. */
const codeAt = (secret: string, offset: number) => totpCode(secret, totpStep(Date.now()) + offset);

/** Waits while the clock is near a step's edge, so a test's offsets hold for its few hundred milliseconds. */
async function awayFromStepEdge(): Promise<void> {
  const into = Date.now() % (TOTP_PERIOD_SEC * 1000);
  if (into > TOTP_PERIOD_SEC * 1000 - 3000) await sleep(TOTP_PERIOD_SEC * 1000 - into + 500);
  else if (into < 500) await sleep(500 - into);
}

describe('TOTP (RFC 6238: SHA-1, 6 digits, 30 s)', () => {
  it("computes the RFC's SHA-1 test vectors (their last six digits)", async () => {
    const vectors: [number, string][] = [
      [59, '287082'],
      [1111111109, '081804'],
      [1111111111, '050471'],
      [1234567890, '005924'],
      [2000000000, '279037'],
      [20000000000, '353130'],
    ];
    for (const [t, code] of vectors) assert.equal(await totpCode(RFC_SECRET, Math.floor(t / TOTP_PERIOD_SEC)), code, `T=${t}`);
  });

  it('accepts the current step and one either side, and nothing further', async () => {
    const secret = newTotpSecret();
    // The middle of a step, so the test cannot straddle a boundary.
    const now = (totpStep(Date.now()) * TOTP_PERIOD_SEC + 15) * 1000;
    const step = totpStep(now);
    for (const offset of [-1, 0, 1]) assert.equal(await checkTotpCode(secret, await totpCode(secret, step + offset), now, null), step + offset, `offset ${offset}`);
    for (const offset of [-3, -2, 2, 3]) assert.equal(await checkTotpCode(secret, await totpCode(secret, step + offset), now, null), undefined, `offset ${offset}`);
  });

  it('refuses a code of a step at or before the last one accepted', async () => {
    const secret = newTotpSecret();
    const now = (totpStep(Date.now()) * TOTP_PERIOD_SEC + 15) * 1000;
    const step = totpStep(now);
    assert.equal(await checkTotpCode(secret, await totpCode(secret, step), now, step), undefined, 'the same step again');
    assert.equal(await checkTotpCode(secret, await totpCode(secret, step - 1), now, step), undefined, 'an older step after a newer one');
    assert.equal(await checkTotpCode(secret, await totpCode(secret, step + 1), now, step), step + 1, 'a later step still works');
  });

  it('takes six digits (spaces allowed) and nothing else', async () => {
    const secret = newTotpSecret();
    const now = Date.now();
    const code = await totpCode(secret, totpStep(now));
    assert.equal(await checkTotpCode(secret, `${code.slice(0, 3)} ${code.slice(3)}`, now, null), totpStep(now));
    for (const typed of ['', '12345', '1234567', 'abcdef', `${code}0`, `<b>${code}</b>`, '１２３４５６', '12345\u0000', 'x'.repeat(10_000)]) {
      assert.equal(looksLikeTotpCode(typed) && typed.replace(/\s/g, '') === code, false);
      assert.equal(await checkTotpCode(secret, typed, now, null), undefined, JSON.stringify(typed.slice(0, 20)));
    }
  });

  it('makes 160-bit Base32 secrets and an otpauth URI with every parameter spelled out', () => {
    const secret = newTotpSecret();
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.notEqual(newTotpSecret(), secret);
    const uri = new URL(otpauthUri(secret, 'Tessera (contoso.com)', 'ada@contoso.com'));
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.host, 'totp');
    assert.equal(decodeURIComponent(uri.pathname), '/Tessera (contoso.com):ada@contoso.com');
    assert.equal(uri.searchParams.get('secret'), secret);
    assert.equal(uri.searchParams.get('issuer'), 'Tessera (contoso.com)');
    assert.equal(uri.searchParams.get('algorithm') ?? 'SHA1', 'SHA1');
    assert.equal(uri.searchParams.get('digits') ?? '6', '6');
    assert.equal(uri.searchParams.get('period') ?? '30', '30');
  });
});

describe('recovery codes', () => {
  it('are three groups of four Base32 letters, ten of them all different', () => {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => newRecoveryCode());
    for (const c of codes) assert.match(c, /^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);
    assert.equal(new Set(codes).size, RECOVERY_CODE_COUNT);
  });

  it('are read with or without dashes and spaces, in either case; anything else is not a code', () => {
    const code = newRecoveryCode();
    const bare = code.replace(/-/g, '');
    for (const typed of [code, bare, code.toUpperCase(), ` ${code.replace(/-/g, ' ')} `]) assert.equal(normalizeRecoveryCode(typed), bare);
    for (const typed of ['', '123456', `${bare}a`, bare.slice(1), 'abcd-efgh-ijk0', '<script>x</script>', 'abcd-efgh-ijk1']) assert.equal(normalizeRecoveryCode(typed), undefined, typed);
  });

  it('hash differently per user and per key, so a hash proves nothing elsewhere', () => {
    const key = crypto.randomBytes(32);
    const code = normalizeRecoveryCode(newRecoveryCode())!;
    const a = hashRecoveryCode(key, 'user-a', code);
    assert.match(a, /^[0-9a-f]{64}$/);
    assert.notEqual(hashRecoveryCode(key, 'user-b', code), a);
    assert.notEqual(hashRecoveryCode(crypto.randomBytes(32), 'user-a', code), a);
    assert.equal(hashRecoveryCode(key, 'user-a', code), a);
  });
});

const STRICT = {
  account: { delayAfter: 100, baseDelayMs: 1000, maxDelayMs: 30_000, lockoutAfter: 10, lockoutMs: 15 * 60_000, windowMs: 15 * 60_000, maxInFlight: 1 },
  address: { delayAfter: 1000, baseDelayMs: 1000, maxDelayMs: 30_000, lockoutAfter: 1000, lockoutMs: 15 * 60_000, windowMs: 15 * 60_000, maxInFlight: 8 },
};

for (const kind of STORE_KINDS) {
  describe(`the MFA service (${kind})`, () => {
    let server: TestServer;
    let services: Services;
    let admin: string;
    let tenantId: string;
    let n = 0;

    before(async () => {
      server = await startTestServer(kind, { config: { throttle: STRICT } });
      services = server.running.services;
      tenantId = server.running.bootstrap.tenantId;
      admin = (await login(server)).access_token;
    });
    after(() => server.close());
    beforeEach(async () => {
      for (const row of await services.throttle.list()) await services.throttle.clear(row.key);
      await awayFromStepEdge();
    });

    const newUser = async (): Promise<MfaUser> => ({ id: await createUser(server, admin, `mfa-user-${++n}`, 'Correct-Horse-Battery-9'), tenant_id: tenantId });

    const enrolled = async (): Promise<{ user: MfaUser; secret: string; codes: string[] }> => {
      const user = await newUser();
      const { secret } = services.mfa.newEnrollment('Tessera', 'someone');
      const codes = await services.mfa.confirmEnrollment(user, secret, await codeAt(secret, -1));
      assert.ok(codes);
      return { user, secret, codes };
    };

    const refusal = async (promise: Promise<unknown>): Promise<string> => {
      try {
        await promise;
      } catch (err) {
        if (isTesseraError(err)) return err.code;
        throw err;
      }
      return 'accepted';
    };

    it('stores nothing for a wrong confirmation code, and the sealed secret (never in clear) for a right one', async () => {
      const user = await newUser();
      const { secret, uri } = services.mfa.newEnrollment('Tessera (tessera.local)', 'someone@tessera.local');
      assert.match(uri, /^otpauth:\/\/totp\//);
      assert.equal(await services.mfa.confirmEnrollment(user, secret, await codeAt(secret, 2)), undefined);
      assert.equal(await services.mfa.confirmEnrollment(user, secret, '000000x'), undefined);
      assert.equal(await services.mfa.isEnrolled(user.id), false);
      const codes = await services.mfa.confirmEnrollment(user, secret, await codeAt(secret, 0));
      assert.equal(codes?.length, 10);
      assert.equal(await services.mfa.isEnrolled(user.id), true);
      const row = await services.store.db.selectFrom('mfa_totp').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
      assert.ok(!row.secret_sealed.includes(secret), 'the secret is sealed');
      const stored = await services.store.db.selectFrom('mfa_recovery_codes').selectAll().where('user_id', '=', user.id).execute();
      assert.equal(stored.length, 10);
      for (const code of codes!) assert.ok(stored.every((r) => !r.code_hash.includes(code.replace(/-/g, ''))));
      const status = await services.mfa.status(user.id);
      assert.equal(status?.recoveryCodesRemaining, 10);
    });

    it('refuses a second enrollment while one is set up (Conflict), also when two confirm at once', async () => {
      const { user } = await enrolled();
      const again = services.mfa.newEnrollment('Tessera', 'someone');
      assert.equal(await refusal(services.mfa.confirmEnrollment(user, again.secret, await codeAt(again.secret, 0))), 'Conflict');
      const fresh = await newUser();
      const a = services.mfa.newEnrollment('Tessera', 'a');
      const b = services.mfa.newEnrollment('Tessera', 'b');
      const results = await Promise.all([refusal(services.mfa.confirmEnrollment(fresh, a.secret, await codeAt(a.secret, 0))), refusal(services.mfa.confirmEnrollment(fresh, b.secret, await codeAt(b.secret, 0)))]);
      assert.deepEqual(results.sort(), ['Conflict', 'accepted']);
    });

    it("does not accept the confirmation code again at sign-in, nor an older one; a later step's works once", async () => {
      const user = await newUser();
      const { secret } = services.mfa.newEnrollment('Tessera', 'someone');
      const confirmation = await codeAt(secret, 0);
      assert.ok(await services.mfa.confirmEnrollment(user, secret, confirmation));
      assert.equal(await refusal(services.mfa.verify(user, confirmation, '127.0.0.1')), 'InvalidMfaCode');
      assert.equal(await refusal(services.mfa.verify(user, await codeAt(secret, -1), '127.0.0.1')), 'InvalidMfaCode');
      const next = await codeAt(secret, 1);
      assert.equal(await services.mfa.verify(user, next, '127.0.0.1'), 'otp');
      assert.equal(await refusal(services.mfa.verify(user, next, '127.0.0.1')), 'InvalidMfaCode', 'a reused code');
    });

    it('refuses a code from the previous-but-one window', async () => {
      const { user, secret } = await enrolled();
      // Enrollment used the previous step; the one before that is out of the window anyway.
      assert.equal(await refusal(services.mfa.verify(user, await codeAt(secret, -2), '127.0.0.1')), 'InvalidMfaCode');
      assert.equal(await refusal(services.mfa.verify(user, await codeAt(secret, 3), '127.0.0.1')), 'InvalidMfaCode');
    });

    it('accepts each recovery code once, counts what is left, and never takes another user\'s', async () => {
      const { user, codes } = await enrolled();
      const other = await enrolled();
      assert.equal(await refusal(services.mfa.verify(other.user, codes[0]!, '127.0.0.1')), 'InvalidMfaCode');
      assert.equal(await services.mfa.verify(user, codes[0]!.toUpperCase(), '127.0.0.1'), 'rc');
      assert.equal(await refusal(services.mfa.verify(user, codes[0]!, '127.0.0.1')), 'InvalidMfaCode', 'used twice');
      assert.equal(await services.mfa.verify(user, codes[1]!.replace(/-/g, ''), '127.0.0.1'), 'rc');
      assert.equal((await services.mfa.status(user.id))?.recoveryCodesRemaining, 8);
    });

    it('lets a code through once when it is sent twice at the same moment', async () => {
      const { user, secret } = await enrolled();
      const code = await codeAt(secret, 0);
      const results = await Promise.all([refusal(services.mfa.verify(user, code, '127.0.0.1')), refusal(services.mfa.verify(user, code, '127.0.0.1'))]);
      assert.equal(results.filter((r) => r === 'accepted').length, 1, results.join());
    });

    it('locks the second factor after ten wrong codes, long before 10^6 guesses, and keeps the right code out while locked', async () => {
      const { user, secret } = await enrolled();
      const answers: string[] = [];
      for (let i = 0; i < 12; i++) answers.push(await refusal(services.mfa.verify(user, String(100000 + i), '127.0.0.1')));
      assert.deepEqual(answers.slice(0, 10), Array<string>(10).fill('InvalidMfaCode'));
      assert.deepEqual(answers.slice(10), ['AccountLocked', 'AccountLocked']);
      assert.equal(await refusal(services.mfa.verify(user, await codeAt(secret, 0), '127.0.0.1')), 'AccountLocked');
      const lockouts = await services.throttle.list(tenantId);
      const mine = lockouts.find((l) => l.key === services.mfa.throttleKey(user));
      assert.ok(mine?.lockedUntil, 'the lockout is listed for administrators');
      assert.equal(mine.userId, user.id);
      // The password's count is another key: a right password does not clear MFA failures.
      await services.throttle.recordSuccess({ account: services.throttle.userKey(tenantId, user.id), address: 'address:127.0.0.1' });
      assert.equal(await refusal(services.mfa.verify(user, await codeAt(secret, 0), '127.0.0.1')), 'AccountLocked');
    });

    it('opens a sealed secret only for the user it was sealed for', async () => {
      const a = await enrolled();
      const b = await enrolled();
      const rowA = await services.store.db.selectFrom('mfa_totp').selectAll().where('user_id', '=', a.user.id).executeTakeFirstOrThrow();
      await services.store.db.updateTable('mfa_totp').set({ secret_sealed: rowA.secret_sealed }).where('user_id', '=', b.user.id).execute();
      await assert.rejects(services.mfa.verify(b.user, await codeAt(a.secret, 1), '127.0.0.1'));
    });

    it('reset removes the authenticator and the recovery codes and ends the refresh chains; the user may enroll again', async () => {
      const password = 'Correct-Horse-Battery-9';
      const user = await newUser();
      const username = (await services.users.byId(user.id))!.username;
      const pair = await call<{ refresh_token: string }>(`${server.url}/login`, { body: { username, password } });
      assert.equal(pair.status, 200);
      const { secret } = services.mfa.newEnrollment('Tessera', 'someone');
      assert.ok(await services.mfa.confirmEnrollment(user, secret, await codeAt(secret, 0)));
      assert.equal(await services.mfa.reset(user), true);
      assert.equal(await services.mfa.isEnrolled(user.id), false);
      assert.equal(await services.mfa.status(user.id), undefined);
      assert.equal((await services.store.db.selectFrom('mfa_recovery_codes').select('code_hash').where('user_id', '=', user.id).execute()).length, 0);
      const refreshed = await call(`${server.url}/login/refreshToken`, { body: { refreshToken: pair.body.refresh_token } });
      assert.equal(refreshed.status, 401, 'the refresh chain ended');
      assert.equal(await services.mfa.reset(user), false, 'nothing left to reset');
      const again = services.mfa.newEnrollment('Tessera', 'someone');
      assert.ok(await services.mfa.confirmEnrollment(user, again.secret, await codeAt(again.secret, 0)));
    });

    it("deleting a user removes their authenticator and recovery codes", async () => {
      const { user } = await enrolled();
      const res = await call(`${server.url}/v1.0/users/${user.id}`, { method: 'DELETE', token: admin });
      assert.equal(res.status, 204);
      assert.equal(await services.mfa.isEnrolled(user.id), false);
      assert.equal((await services.store.db.selectFrom('mfa_recovery_codes').select('code_hash').where('user_id', '=', user.id).execute()).length, 0);
    });
  });
}
