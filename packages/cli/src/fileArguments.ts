/**
 * Option values that may name a file, as az takes them: `@path` reads the file, anything
 * else is the value itself. Failures are usage errors (exit status 2) that name the file
 * and the option, never quoting the file's contents.
 */
import fs from 'node:fs';
import { UsageError } from './usageError.js';

/** The bytes of `path`; a usage error naming `option` when it cannot be read. */
function readFile(path: string, option: string): Buffer {
  if (path === '') throw new UsageError(`${option}: give a file name after '@'.`);
  try {
    return fs.readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new UsageError(`${option}: cannot read the file '${path}' (${code}).`);
  }
}

/** `value` as JSON: inline, or from the file `@path`. */
export function readJsonArgument(value: string, option: string): unknown {
  const fromFile = value.startsWith('@');
  const text = fromFile ? readFile(value.slice(1), option).toString('utf8').replace(/^\uFEFF/, '') : value;
  try {
    return JSON.parse(text);
  } catch (err) {
    // JSON.parse's message quotes the text; say only where it went wrong.
    const position = /position (\d+)/.exec((err as Error).message)?.[1];
    const where = position === undefined ? '' : ` (at character ${position})`;
    throw new UsageError(`${option}: ${fromFile ? `the file '${value.slice(1)}' is` : 'the value is'} not valid JSON${where}.`);
  }
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

/**
 * The certificate to register, from a PEM (only its CERTIFICATE block is sent: a private
 * key in the same file stays here), a DER file, or base64 DER given inline.
 */
function certificateOf(data: Buffer, source: string, option: string): string {
  const text = data.toString('latin1');
  if (text.includes('-----BEGIN')) {
    const block = CERT_BLOCK.exec(text)?.[0];
    if (!block) throw new UsageError(`${option}: ${source} holds no -----BEGIN CERTIFICATE----- block.`);
    return `${block}\n`;
  }
  // DER starts with an ASN.1 SEQUENCE (0x30).
  if (data.length > 64 && data[0] === 0x30) return data.toString('base64');
  const b64 = text.replace(/\s+/g, '');
  if (/^[A-Za-z0-9+/]+={0,2}$/.test(b64) && b64.length > 86 && Buffer.from(b64, 'base64')[0] === 0x30) return b64;
  throw new UsageError(`${option}: ${source} is not a certificate (PEM, DER, or base64 of DER).`);
}

/** `--cert <pem | base64 DER | @file>`. */
export function readCertificateArgument(value: string, option = '--cert'): string {
  if (value.startsWith('@')) return certificateOf(readFile(value.slice(1), option), `the file '${value.slice(1)}'`, option);
  return certificateOf(Buffer.from(value, 'utf8'), 'the value', option);
}

/** `--cert-file <path>`. */
export function readCertificateFile(path: string, option = '--cert-file'): string {
  return certificateOf(readFile(path, option), `the file '${path}'`, option);
}
