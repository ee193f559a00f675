/**
 * X.509 certificates registered as service-principal credentials: parsing (PEM or
 * base64 DER, as Graph's keyCredential.key carries it) and the thumbprints client
 * assertions name them by (`x5t` = SHA-1, `x5t#S256` = SHA-256, base64url).
 */
import crypto from 'node:crypto';
import { TesseraError } from '../errors.js';

export interface ParsedCertificate {
  pem: string;
  thumbprintSha1: string;
  thumbprintSha256: string;
  /** Validity from the certificate itself, epoch ms. */
  notBefore: number;
  notAfter: number;
  publicKey: crypto.KeyObject;
}

const MAX_CERT_LENGTH = 16 * 1024;

/** Parses a certificate given as PEM or as base64 of its DER encoding. */
export function parseCertificate(text: string): ParsedCertificate {
  if (text.length > MAX_CERT_LENGTH) throw new TesseraError('InvalidParameter', 'The certificate is too large.');
  let cert: crypto.X509Certificate;
  try {
    const der = text.includes('-----BEGIN') ? text : Buffer.from(text.replace(/\s+/g, ''), 'base64');
    cert = new crypto.X509Certificate(der);
  } catch {
    throw new TesseraError('InvalidParameter', 'The key is not an X.509 certificate (PEM, or base64 of DER).');
  }
  if (cert.ca) throw new TesseraError('InvalidParameter', 'Register the client certificate itself, not a CA certificate.');
  const type = cert.publicKey.asymmetricKeyType;
  if (type !== 'rsa' && type !== 'rsa-pss' && type !== 'ec') throw new TesseraError('InvalidParameter', 'The certificate key must be RSA or EC.');
  return {
    pem: cert.toString(),
    thumbprintSha1: crypto.createHash('sha1').update(cert.raw).digest('base64url'),
    thumbprintSha256: crypto.createHash('sha256').update(cert.raw).digest('base64url'),
    notBefore: Date.parse(cert.validFrom),
    notAfter: Date.parse(cert.validTo),
    publicKey: cert.publicKey,
  };
}
