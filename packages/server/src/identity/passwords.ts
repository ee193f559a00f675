/**
 * Passwords: argon2id, computed on libuv's thread pool so the event loop stays free,
 * and a policy (length, not a common password) checked before anything is stored.
 */
import os from 'node:os';
import argon2 from 'argon2';
import { dictionary } from '@zxcvbn-ts/language-common';
import { TesseraError } from '../errors.js';
import type { Argon2Params } from '../config.js';

export const MIN_PASSWORD_LENGTH = 12;
/** Long enough for any passphrase; short enough that hashing cannot be made expensive. */
export const MAX_PASSWORD_LENGTH = 256;

let common: Set<string> | undefined;
function commonPasswords(): Set<string> {
  common ??= new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));
  return common;
}

/**
 * Throws PasswordPolicyViolation when `password` may not be used. A common password with
 * digits or symbols appended ("password1234!") counts as common.
 */
export function checkPasswordPolicy(password: string, username?: string): void {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) throw new TesseraError('PasswordPolicyViolation', `The password must have at least ${MIN_PASSWORD_LENGTH} characters.`);
  if (length > MAX_PASSWORD_LENGTH) throw new TesseraError('PasswordPolicyViolation', `The password may have at most ${MAX_PASSWORD_LENGTH} characters.`);
  if (/[\u0000-\u001f\u007f]/.test(password)) throw new TesseraError('PasswordPolicyViolation', 'The password may not contain control characters.');
  const lower = password.toLowerCase();
  const stem = lower.replace(/[\d\W_]+$/u, '');
  const list = commonPasswords();
  if (list.has(lower) || (stem.length >= 4 && list.has(stem))) {
    throw new TesseraError('PasswordPolicyViolation', 'The password is too common: choose one that is not in lists of leaked passwords.');
  }
  if (username && lower.includes(username.toLowerCase()) && username.length >= 4) {
    throw new TesseraError('PasswordPolicyViolation', 'The password may not contain the username.');
  }
}

/**
 * At most this many argon2id computations run at once: one core is always left to the
 * event loop, so a storm of sign-ins cannot starve token checks and scoring.
 */
export const DEFAULT_HASH_CONCURRENCY = Math.max(1, os.availableParallelism() - 1);

/** Sign-ins queued beyond this are refused at once (429) rather than left to pile up. */
const MAX_WAITING = 128;

/** A counting semaphore with a bounded queue: run() waits for a free slot. */
class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly max: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) {
      if (this.waiting.length >= MAX_WAITING) {
        throw new TesseraError('TooManyRequests', 'The server is busy checking other sign-ins: retry in a moment.', { retryAfter: 1 });
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else this.active++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

export class PasswordHasher {
  private readonly options: argon2.Options & { raw?: false };
  private readonly limiter: Limiter;
  /** Hash of a random password: unknown usernames are checked against it so they cost the same time. */
  private decoy: Promise<string> | undefined;

  constructor(
    readonly params: Argon2Params,
    concurrency = DEFAULT_HASH_CONCURRENCY,
  ) {
    this.limiter = new Limiter(concurrency);
    this.options = { type: argon2.argon2id, memoryCost: params.memoryCost, timeCost: params.timeCost, parallelism: params.parallelism };
  }

  hash(password: string): Promise<string> {
    return this.limiter.run(() => argon2.hash(password, this.options));
  }

  /** Verifies `password` against `hash`; with no hash, spends the same time and returns false. */
  async verify(hash: string | null | undefined, password: string): Promise<boolean> {
    const target = hash ?? (await this.decoyHash());
    let ok: boolean;
    try {
      ok = await this.limiter.run(() => argon2.verify(target, password));
    } catch (err) {
      if (err instanceof TesseraError) throw err;
      return false;
    }
    return hash ? ok : false;
  }

  /** Whether a stored hash was made with weaker parameters than the current ones. */
  needsRehash(hash: string): boolean {
    return argon2.needsRehash(hash, this.options);
  }

  private decoyHash(): Promise<string> {
    this.decoy ??= this.hash(`decoy-${Math.random()}-${Date.now()}`);
    return this.decoy;
  }
}
