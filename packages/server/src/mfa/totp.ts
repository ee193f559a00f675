/**
 * Time-based one-time passwords (RFC 6238) with otplib, in the one shape every
 * authenticator app reads: HMAC-SHA-1, 6 digits, 30-second steps, a 160-bit secret in
 * Base32. A code is accepted in the current step and one step either side (clock drift
 * and typing time), and only in a step later than the last one accepted for the user, so
 * each code works once and an older code never works after a newer one.
 */
import { generate, generateSecret, generateURI, verify } from 'otplib';

/** Seconds per step. */
export const TOTP_PERIOD_SEC = 30;
/** Digits per code. */
export const TOTP_DIGITS = 6;
/** Steps accepted either side of the current one. */
export const TOTP_WINDOW_STEPS = 1;

const CODE_SHAPE = /^\d{6}$/;

/** A new secret: 20 random bytes (RFC 4226's recommended 160 bits) as 32 Base32 letters. */
export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

/** The step a time falls in (RFC 6238's T, with T0 = 0). */
export function totpStep(nowMs: number): number {
  return Math.floor(nowMs / 1000 / TOTP_PERIOD_SEC);
}

/** Whether typed text has the shape of a code (6 digits, spaces allowed: `123 456`). */
export function looksLikeTotpCode(typed: string): boolean {
  return CODE_SHAPE.test(typed.replace(/\s/g, ''));
}

/**
 * The `otpauth://totp/…` URI an authenticator app scans: issuer and account label as the
 * app shows them, and the parameters spelled out.
 * @example otpauthUri(secret, 'Tessera (contoso.com)', 'ada@contoso.com')
 */
export function otpauthUri(secret: string, issuer: string, account: string): string {
  return generateURI({ issuer, label: account, secret, algorithm: 'sha1', digits: TOTP_DIGITS, period: TOTP_PERIOD_SEC });
}

/** The code of a step (for tests and for the RFC's vectors). */
export async function totpCode(secret: string, step: number): Promise<string> {
  return generate({ secret, epoch: step * TOTP_PERIOD_SEC, algorithm: 'sha1', digits: TOTP_DIGITS, period: TOTP_PERIOD_SEC });
}

/**
 * Checks a typed code at `nowMs`. Returns the step it belongs to when it is right for the
 * current step or one either side and later than `afterStep`; otherwise undefined.
 */
export async function checkTotpCode(secret: string, typed: string, nowMs: number, afterStep: number | null): Promise<number | undefined> {
  const token = typed.replace(/\s/g, '');
  if (!CODE_SHAPE.test(token)) return undefined;
  const result = await verify({
    secret,
    token,
    epoch: Math.floor(nowMs / 1000),
    // Seconds either side: one period reaches exactly the neighbouring steps.
    epochTolerance: TOTP_WINDOW_STEPS * TOTP_PERIOD_SEC,
    algorithm: 'sha1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SEC,
    ...(afterStep !== null ? { afterTimeStep: afterStep } : {}),
  });
  // otplib's result type covers HOTP too; a TOTP check answers with the step it matched.
  return result.valid && 'timeStep' in result ? result.timeStep : undefined;
}
