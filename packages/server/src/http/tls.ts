/**
 * `--tls-self-signed`: a private CA at `tls/ca.pem` in the data directory and a server
 * certificate for the host, signed by it. Clients trust the CA with NODE_EXTRA_CA_CERTS.
 * Both are made once and reused while the certificate still covers the host.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import forge from 'node-forge';

export interface TlsFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
}

function writePrivate(file: string, text: string): void {
  fs.writeFileSync(file, text, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

function newKeyPair(): { publicPem: string; privatePem: string } {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

function serial(): string {
  // Positive 16-byte serial number, hex.
  return '01' + crypto.randomBytes(15).toString('hex');
}

/** The names a server certificate must cover for `host`. */
function altNames(host: string): { type: number; value?: string; ip?: string }[] {
  const names = new Set([host, 'localhost', '127.0.0.1', '::1']);
  if (host === '0.0.0.0' || host === '::') names.delete(host);
  return [...names].map((n) => (net.isIP(n) ? { type: 7, ip: n } : { type: 2, value: n }));
}

function coversHost(certPem: string, host: string): boolean {
  try {
    const cert = new crypto.X509Certificate(certPem);
    if (new Date(cert.validTo).getTime() < Date.now() + 7 * 24 * 3600_000) return false;
    return net.isIP(host) ? cert.checkIP(host) !== undefined : cert.checkHost(host) !== undefined;
  } catch {
    return false;
  }
}

/** Creates (or reuses) the CA and the server certificate for `host` under `dataDir/tls`. */
export function ensureSelfSigned(dataDir: string, host: string): TlsFiles {
  const dir = path.join(dataDir, 'tls');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files: TlsFiles = { caFile: path.join(dir, 'ca.pem'), certFile: path.join(dir, 'server.pem'), keyFile: path.join(dir, 'server-key.pem') };
  const caKeyFile = path.join(dir, 'ca-key.pem');
  const now = new Date();

  if (!fs.existsSync(files.caFile) || !fs.existsSync(caKeyFile)) {
    const keys = newKeyPair();
    const ca = forge.pki.createCertificate();
    ca.publicKey = forge.pki.publicKeyFromPem(keys.publicPem);
    ca.serialNumber = serial();
    ca.validity.notBefore = new Date(now.getTime() - 3600_000);
    ca.validity.notAfter = new Date(now.getTime() + 10 * 365 * 24 * 3600_000);
    const subject = [{ name: 'commonName', value: 'Tessera local CA' }, { name: 'organizationName', value: 'Tessera' }];
    ca.setSubject(subject);
    ca.setIssuer(subject);
    ca.setExtensions([
      // It signs server certificates only: no intermediate CAs below it.
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      { name: 'subjectKeyIdentifier' },
    ]);
    ca.sign(forge.pki.privateKeyFromPem(keys.privatePem), forge.md.sha256.create());
    writePrivate(caKeyFile, keys.privatePem);
    fs.writeFileSync(files.caFile, forge.pki.certificateToPem(ca));
    fs.rmSync(files.certFile, { force: true });
  }

  const existing = fs.existsSync(files.certFile) && fs.existsSync(files.keyFile) ? fs.readFileSync(files.certFile, 'utf8') : undefined;
  if (existing === undefined || !coversHost(existing, host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host)) {
    const ca = forge.pki.certificateFromPem(fs.readFileSync(files.caFile, 'utf8'));
    const caKey = forge.pki.privateKeyFromPem(fs.readFileSync(caKeyFile, 'utf8'));
    const keys = newKeyPair();
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.publicKeyFromPem(keys.publicPem);
    cert.serialNumber = serial();
    cert.validity.notBefore = new Date(now.getTime() - 3600_000);
    cert.validity.notAfter = new Date(now.getTime() + 397 * 24 * 3600_000);
    cert.setSubject([{ name: 'commonName', value: host }]);
    cert.setIssuer(ca.subject.attributes);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: altNames(host) },
    ]);
    cert.sign(caKey, forge.md.sha256.create());
    writePrivate(files.keyFile, keys.privatePem);
    fs.writeFileSync(files.certFile, forge.pki.certificateToPem(cert));
  }
  return files;
}
