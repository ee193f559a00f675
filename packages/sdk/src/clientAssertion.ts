/**
 * Client assertions (RFC 7523, Entra's "certificate credentials"): a short-lived JWT,
 * signed with the private key of a certificate registered on the service principal,
 * that stands in for a client secret at the token endpoint. Built with node:crypto.
 */
import crypto from 'node:crypto';

/** How long an assertion is valid. */
export const ASSERTION_LIFETIME_SEC = 600;

/** Signature algorithms for assertions: RS256 or PS256 with an RSA key, ES256 with a P-256 key. */
export type AssertionAlgorithm = 'RS256' | 'PS256' | 'ES256';

/** A certificate and the private key that goes with it, ready to sign assertions. */
export interface ClientCertificate {
  certificate: crypto.X509Certificate;
  privateKey: crypto.KeyObject;
  /** base64url SHA-256 of the certificate's DER: the assertion's `x5t#S256` header. */
  thumbprintSha256: string;
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;
const KEY_BLOCK = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]+?-----END \1-----/;

/**
 * Reads a PEM holding a certificate and its private key (in either order, as
 * `cat cert.pem key.pem` makes it); `password` decrypts an encrypted key. Throws a
 * TypeError that names what is missing or wrong (never quoting the key).
 * @example loadClientCertificate(fs.readFileSync('sp.pem', 'utf8'))
 */
export function loadClientCertificate(pem: string, password?: string): ClientCertificate {
  const certText = CERT_BLOCK.exec(pem)?.[0];
  if (!certText) throw new TypeError('The certificate PEM holds no -----BEGIN CERTIFICATE----- block.');
  const keyText = KEY_BLOCK.exec(pem)?.[0];
  if (!keyText) throw new TypeError('The certificate PEM holds no private key: append the key (-----BEGIN PRIVATE KEY-----) to the certificate.');
  let certificate: crypto.X509Certificate;
  try {
    certificate = new crypto.X509Certificate(certText);
  } catch {
    throw new TypeError('The certificate in the PEM cannot be parsed.');
  }
  let privateKey: crypto.KeyObject;
  try {
    privateKey = crypto.createPrivateKey(password === undefined ? { key: keyText } : { key: keyText, passphrase: password });
  } catch {
    throw new TypeError(password === undefined && /ENCRYPTED/.test(keyText) ? 'The private key is encrypted: give its password.' : 'The private key in the PEM cannot be read (wrong password, or not a PEM key).');
  }
  if (!certificate.checkPrivateKey(privateKey)) throw new TypeError("The private key in the PEM does not belong to the PEM's certificate.");
  return { certificate, privateKey, thumbprintSha256: crypto.createHash('sha256').update(certificate.raw).digest('base64url') };
}

/** The algorithm for `key`: `preferred` when the key can make it, else the key type's usual one. */
export function assertionAlgorithm(key: crypto.KeyObject, preferred?: AssertionAlgorithm): AssertionAlgorithm {
  const type = key.asymmetricKeyType;
  if (type === 'rsa') {
    if (preferred === 'ES256') throw new TypeError('ES256 needs an EC (P-256) key; this certificate has an RSA key.');
    return preferred ?? 'RS256';
  }
  if (type === 'rsa-pss') {
    if (preferred !== undefined && preferred !== 'PS256') throw new TypeError(`${preferred} cannot be made with an RSA-PSS key; use PS256.`);
    return 'PS256';
  }
  if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    if (preferred !== undefined && preferred !== 'ES256') throw new TypeError(`${preferred} needs an RSA key; this certificate has an EC key (use ES256).`);
    return 'ES256';
  }
  throw new TypeError('The certificate key must be RSA or EC P-256.');
}

function signature(alg: AssertionAlgorithm, data: Buffer, key: crypto.KeyObject): Buffer {
  switch (alg) {
    case 'RS256':
      return crypto.sign('sha256', data, key);
    case 'PS256':
      return crypto.sign('sha256', data, { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    case 'ES256':
      return crypto.sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
  }
}

const b64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * A signed client assertion for `clientId` at the token endpoint `audience`: header
 * `{alg, typ: 'JWT', 'x5t#S256'}`, claims `iss` = `sub` = the client id, `aud`, a fresh
 * `jti`, `iat` = `nbf` = now and `exp` = now + 10 minutes.
 * @example createClientAssertion(loadClientCertificate(pem), { clientId, audience: 'https://host/tenant/oauth2/v2.0/token', nowSec: Date.now() / 1000 })
 */
export function createClientAssertion(
  cert: ClientCertificate,
  claims: { clientId: string; audience: string; nowSec: number; algorithm?: AssertionAlgorithm | undefined },
): string {
  const alg = assertionAlgorithm(cert.privateKey, claims.algorithm);
  const now = Math.floor(claims.nowSec);
  const header = { alg, typ: 'JWT', 'x5t#S256': cert.thumbprintSha256 };
  const payload = { aud: claims.audience, iss: claims.clientId, sub: claims.clientId, jti: crypto.randomUUID(), iat: now, nbf: now, exp: now + ASSERTION_LIFETIME_SEC };
  const signingInput = `${b64url(header)}.${b64url(payload)}`;
  return `${signingInput}.${signature(alg, Buffer.from(signingInput), cert.privateKey).toString('base64url')}`;
}
