/**
 * `tessera ad user mfa show|reset --id` against a live server: what an administrator sees
 * (never a secret), what a reset ends, and the refusals (no --id, an unknown or hostile
 * id, a caller without the permission). The authenticator is set up through the server's
 * MFA service with codes computed here by an independent RFC 6238 implementation.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { MfaResetResult, UserMfa } from '@tessera/sdk';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/testServer.js';
import { removeTempDirs, tempDir } from './helpers/tempDirs.js';
import { tessera, tesseraJson } from './helpers/cli.js';
import { postJson } from './helpers/tokens.js';

const PASSWORD = 'Totp-holder-pass-2048';

/** RFC 6238 with HMAC-SHA-1, 6 digits, 30-second steps, from a Base32 key. */
function totp(base32: string, atMs = Date.now()): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(atMs / 30_000)));
  const mac = crypto.createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

let server: TestServer;
let env: Record<string, string>;
let userId: string;
let secret: string;

before(async () => {
  server = await startTestServer();
  env = { TESSERA_CONFIG_DIR: tempDir('config') };
  await tesseraJson(['login', '--server', server.url, '-u', 'admin', '-p', ADMIN_PASSWORD], env);
  userId = (await tesseraJson<{ id: string }>(['ad', 'user', 'create', '--user-name', 'hedy', '--password', PASSWORD, '--display-name', 'Hedy Lamarr'], env)).id;
});

after(async () => {
  await server.close();
  removeTempDirs();
});

/** Sets hedy's authenticator up through the server's MFA service; returns the recovery codes. */
async function enroll(): Promise<string[]> {
  const services = server.running.services;
  const pending = services.mfa.newEnrollment('Tessera', 'hedy');
  secret = pending.secret;
  const codes = await services.mfa.confirmEnrollment({ id: userId, tenant_id: server.running.bootstrap.tenantId }, secret, totp(secret));
  assert.ok(codes, 'the independent RFC 6238 code is accepted');
  return codes;
}

describe('tessera ad user mfa', () => {
  test('show says a user has no MFA, then when it was set up and how many recovery codes are left, never the secret', async () => {
    const before = await tesseraJson<UserMfa>(['ad', 'user', 'mfa', 'show', '--id', 'hedy'], env);
    assert.deepEqual(before, { userId, userName: 'hedy', enrolled: false, methodId: null, createdDateTime: null, lastUsedDateTime: null, recoveryCodesRemaining: null });
    const codes = await enroll();
    const shown = await tessera(['ad', 'user', 'mfa', 'show', '--id', userId], env);
    assert.equal(shown.code, 0, shown.stderr);
    const status = JSON.parse(shown.stdout) as UserMfa;
    assert.equal(status.enrolled, true);
    assert.equal(status.recoveryCodesRemaining, 10);
    assert.match(status.methodId ?? '', /^[0-9a-f-]{36}$/);
    assert.ok(Date.parse(status.createdDateTime ?? '') > Date.now() - 60_000);
    for (const hidden of [secret, ...codes]) assert.ok(!shown.stdout.includes(hidden), 'no secret or recovery code is printed');
    const tsv = await tessera(['ad', 'user', 'mfa', 'show', '--id', 'hedy', '--query', 'recoveryCodesRemaining', '-o', 'tsv'], env);
    assert.equal(tsv.stdout.trim(), '10');
  });

  test('reset removes the authenticator and ends the user\'s refresh chains; a second reset changes nothing', async () => {
    if (!(await server.running.services.mfa.isEnrolled(userId))) await enroll();
    // A refresh chain from a sign-in before MFA (ML Server's /login refuses the password alone while MFA is set up).
    await server.running.services.mfa.reset({ id: userId, tenant_id: server.running.bootstrap.tenantId });
    const pair = await postJson(server.url, '/login', { username: 'hedy', password: PASSWORD });
    assert.equal(pair.status, 200, JSON.stringify(pair.body));
    await enroll();
    const reset = await tesseraJson<MfaResetResult>(['ad', 'user', 'mfa', 'reset', '--id', 'hedy'], env);
    assert.deepEqual(reset, { userId, userName: 'hedy', reset: true });
    assert.equal(await server.running.services.mfa.isEnrolled(userId), false);
    const refreshed = await postJson(server.url, '/login/refreshToken', { refreshToken: String(pair.body.refresh_token) });
    assert.equal(refreshed.status, 401, 'the refresh chain ended with the reset');
    const again = await tesseraJson<MfaResetResult>(['ad', 'user', 'mfa', 'reset', '--id', userId], env);
    assert.deepEqual(again, { userId, userName: 'hedy', reset: false });
  });

  test('refuses a missing --id, an unknown or hostile id, and a caller without the permission', async () => {
    const missing = await tessera(['ad', 'user', 'mfa', 'show'], env);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /--id/);
    const unknown = await tessera(['ad', 'user', 'mfa', 'reset', '--id', 'nobody-here'], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^ERROR: \(ResourceNotFound\) /);
    const hostile = await tessera(['ad', 'user', 'mfa', 'show', '--id', '<img src=x onerror=alert(1)>'], env);
    assert.equal(hostile.code, 1);
    assert.doesNotMatch(hostile.stderr, /<img/);
    const oversized = await tessera(['ad', 'user', 'mfa', 'show', '--id', 'x'.repeat(400)], env);
    assert.equal(oversized.code, 1);
    assert.match(oversized.stderr, /^ERROR: \(InvalidParameter\) /);

    await enroll();
    const plainEnv = { TESSERA_CONFIG_DIR: tempDir('plain') };
    await tesseraJson(['ad', 'user', 'create', '--user-name', 'plain', '--password', 'Ordinary-keeper-pass-9'], env);
    const signIn = await tessera(['login', '--server', server.url, '-u', 'plain', '-p', 'Ordinary-keeper-pass-9'], plainEnv);
    assert.equal(signIn.code, 0, signIn.stderr);
    const forbidden = await tessera(['ad', 'user', 'mfa', 'reset', '--id', 'hedy'], plainEnv);
    assert.equal(forbidden.code, 1);
    assert.match(forbidden.stderr, /^ERROR: \(AuthorizationFailed\) /);
    assert.equal(await server.running.services.mfa.isEnrolled(userId), true, 'nothing was reset');
  });
});
