/**
 * The master key that seals stored secret material (signing keys) at rest, with
 * AES-256-GCM. It comes from TESSERA_MASTER_KEY (32 bytes, base64 or hex), or from a
 * 0600 file `master.key` in the data directory, created on first start. Replicas that
 * share a PostgreSQL store must share the key: give them the same TESSERA_MASTER_KEY.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export class MasterKey {
  private constructor(private readonly key: Buffer) {}

  /** Loads the key from its configured source, creating the key file when there is none. */
  static load(configured: string | undefined, dataDir: string): MasterKey {
    if (configured !== undefined) return new MasterKey(MasterKey.decode(configured));
    const file = path.join(dataDir, 'master.key');
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    try {
      const fd = fs.openSync(file, 'wx', 0o600);
      fs.writeSync(fd, crypto.randomBytes(32).toString('base64') + '\n');
      fs.closeSync(fd);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const mode = fs.statSync(file).mode & 0o077;
    if (mode !== 0) fs.chmodSync(file, 0o600);
    return new MasterKey(MasterKey.decode(fs.readFileSync(file, 'utf8').trim()));
  }

  /** For tests and tools: a key from raw bytes. */
  static fromBytes(bytes: Buffer): MasterKey {
    if (bytes.length !== 32) throw new Error('the master key must be 32 bytes');
    return new MasterKey(Buffer.from(bytes));
  }

  private static decode(text: string): Buffer {
    const bytes = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
    if (bytes.length !== 32) throw new Error('TESSERA_MASTER_KEY must be 32 bytes, as 64 hex digits or base64');
    return bytes;
  }

  /** A key for another purpose, derived so that it differs per `label` and never reveals this one. */
  derive(label: string): Buffer {
    return crypto.createHmac('sha256', this.key).update(`tessera:${label}`).digest();
  }

  /** Seals `plaintext`; `context` (e.g. the key id) is bound in as associated data. */
  seal(plaintext: string, context: string): string {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  /** Opens what {@link seal} made; throws when the key or context is wrong. */
  open(sealed: string, context: string): string {
    const [version, iv, body, tag] = sealed.split('.');
    const tagBytes = Buffer.from(tag ?? '', 'base64url');
    // A truncated GCM tag would weaken the integrity check: insist on all 16 bytes.
    if (version !== 'v1' || !iv || !body || tagBytes.length !== 16) throw new Error('sealed value has an unknown format');
    const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'), { authTagLength: 16 });
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(tagBytes);
    try {
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('cannot open a sealed signing key: the master key differs from the one that sealed it');
    }
  }
}
