/**
 * Compact JWS signing with node:crypto, synchronously. Minting is on the sign-in path,
 * where jose's WebCrypto route costs a key import and several promise hops per token;
 * this is the same RFC 7515 serialization in one call. Verification stays with jose.
 */
import crypto, { type KeyObject } from 'node:crypto';
import type { SigningAlg } from '../config.js';

function b64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Signs `payload` as a compact JWS with header `{alg, kid, typ: 'JWT'}`. */
export function signJwt(payload: object, alg: SigningAlg, kid: string, key: KeyObject): string {
  const input = `${b64url({ alg, kid, typ: 'JWT' })}.${b64url(payload)}`;
  // ES256 signatures are the raw r||s pair (IEEE P1363), not DER, per RFC 7518 §3.4.
  const signature = alg === 'ES256' ? crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }) : crypto.sign('sha256', Buffer.from(input), key);
  return `${input}.${signature.toString('base64url')}`;
}
