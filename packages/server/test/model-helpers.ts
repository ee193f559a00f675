/**
 * Support for the model-registry suites: uploads as real multipart bodies (FormData, or a
 * hand-built body for hostile cases), and a look at the model directory on disk.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

export interface UploadFile {
  path: string;
  content: Buffer | string;
}

/** PUTs a version with fetch's own multipart encoding; returns status and parsed JSON. */
export async function uploadVersion(
  url: string,
  token: string,
  files: UploadFile[],
  fields: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  for (const f of files) form.append('file', new Blob([f.content]), f.path);
  const res = await fetch(url, { method: 'PUT', headers: { authorization: `Bearer ${token}` }, body: form });
  const text = await res.text();
  return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** A multipart body written by hand, byte for byte (for names fetch would refuse or escape). */
export function rawMultipart(parts: { headers: string[]; content: Buffer | string }[], boundary = `----tessera${crypto.randomBytes(8).toString('hex')}`): { body: Buffer; contentType: string } {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n${part.headers.join('\r\n')}\r\n\r\n`, 'utf8'));
    chunks.push(Buffer.isBuffer(part.content) ? part.content : Buffer.from(part.content));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** A file part whose filename is written as given (no escaping). */
export function filePart(filename: string, content: Buffer | string, name = 'file'): { headers: string[]; content: Buffer | string } {
  return { headers: [`Content-Disposition: form-data; name="${name}"; filename="${filename}"`, 'Content-Type: application/octet-stream'], content };
}

/** PUTs a raw body; returns status and parsed JSON. */
export async function putRaw(url: string, token: string, body: Buffer | string, contentType: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': contentType }, body });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    parsed = { raw: text };
  }
  return { status: res.status, body: parsed };
}

/** Every file under `dir` (relative paths), or [] when it does not exist. */
export function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

export function sha256(data: Buffer | string): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}
