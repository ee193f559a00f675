/** Self-signed client certificates, as a user would make them with openssl. */
import crypto from 'node:crypto';
import forge from 'node-forge';

/** A certificate, its private key, and both in one PEM (certificate first, as `cat cert.pem key.pem`). */
export interface TestCertificate {
  certPem: string;
  keyPem: string;
  combinedPem: string;
  /** base64url SHA-256 of the DER. */
  thumbprintSha256: string;
  /** Upper-case hex SHA-1 of the DER (Graph's customKeyIdentifier). */
  thumbprintSha1Hex: string;
}

/** An RSA 2048 self-signed certificate, valid from an hour ago for a year (or, `expired`, until a day ago). */
export function makeCertificate(commonName = 'tessera-cli-test', options: { expired?: boolean } = {}): TestCertificate {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = '01' + crypto.randomBytes(8).toString('hex');
  cert.validity.notBefore = new Date(Date.now() - (options.expired ? 30 * 86400_000 : 3600_000));
  cert.validity.notAfter = new Date(Date.now() + (options.expired ? -86400_000 : 365 * 86400_000));
  const subject = [{ name: 'commonName', value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  const der = new crypto.X509Certificate(certPem).raw;
  return {
    certPem,
    keyPem,
    combinedPem: `${certPem.trimEnd()}\n${keyPem}`,
    thumbprintSha256: crypto.createHash('sha256').update(der).digest('base64url'),
    thumbprintSha1Hex: crypto.createHash('sha1').update(der).digest('hex').toUpperCase(),
  };
}
