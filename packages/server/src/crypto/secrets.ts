/**
 * Generated secrets: 256 random bits behind a recognisable prefix (so secret scanners
 * find leaked ones), stored only as their SHA-256, which is also the lookup key. A slow
 * password hash on a high-entropy secret buys nothing and costs throughput.
 */
import crypto from 'node:crypto';

/** Prefixes of the secrets Tessera issues. */
export const SecretPrefix = {
  refreshToken: 'tsrt_',
  clientSecret: 'tscs_',
  authorizationCode: 'tsac_',
  deviceCode: 'tsdc_',
  nodeCredential: 'tsnd_',
  /** A run's secret at its node's identity endpoint (never stored by the server). */
  identitySecret: 'tsms_',
} as const;

/** A new secret: `prefix` + 43 base64url characters (256 bits). */
export function generateSecret(prefix: string): string {
  return prefix + crypto.randomBytes(32).toString('base64url');
}

/** The lookup key of a secret: SHA-256, hex. */
export function hashSecret(secret: string): string {
  return crypto.createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Whether `secret` has the shape of one we issued with `prefix` (cheap pre-check before a lookup). */
export function looksLikeSecret(secret: string, prefix: string): boolean {
  return secret.length === prefix.length + 43 && secret.startsWith(prefix) && /^[A-Za-z0-9_-]+$/.test(secret.slice(prefix.length));
}
