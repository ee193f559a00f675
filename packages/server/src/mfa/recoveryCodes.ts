/**
 * Recovery codes: ten one-time codes given when MFA is set up, for when the authenticator
 * is lost. Each is 12 random Base32 letters (60 bits), shown as `abcd-efgh-ijkm` and
 * typed with or without the dashes, in either case. Only a keyed hash is stored
 * (HMAC-SHA-256 under a key derived from the master key, over the user id and the code),
 * so a copy of the database alone cannot test guesses, and the hash is the lookup key.
 */
import crypto from 'node:crypto';

/** How many codes an enrollment gives. */
export const RECOVERY_CODE_COUNT = 10;

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const LENGTH = 12;
const SHAPE = /^[a-z2-7]{12}$/;

/** One new code, as shown: three groups of four. */
export function newRecoveryCode(): string {
  const bytes = crypto.randomBytes(LENGTH);
  let code = '';
  // 256 is a multiple of 32: taking each byte mod 32 is uniform.
  for (const b of bytes) code += ALPHABET[b % 32]!;
  return `${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8)}`;
}

/** The canonical form of typed text (lower case, no dashes or spaces), or undefined when it cannot be a code. */
export function normalizeRecoveryCode(typed: string): string | undefined {
  const bare = typed.replace(/[\s-]/g, '').toLowerCase();
  return SHAPE.test(bare) ? bare : undefined;
}

/** The stored hash of a user's code (given in canonical form). */
export function hashRecoveryCode(key: Buffer, userId: string, canonical: string): string {
  return crypto.createHmac('sha256', key).update(`${userId}\n${canonical}`).digest('hex');
}
