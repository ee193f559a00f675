/** Small helpers for looking at tokens and the session in tests. */
import fs from 'node:fs';
import path from 'node:path';
import type { Session } from '@tessera/sdk';

/** A JWT's claims, unverified (tests verify signatures separately where it matters). */
export function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** The session file in `configDir`, parsed. */
export function readSessionFile(configDir: string): Session {
  return JSON.parse(fs.readFileSync(path.join(configDir, 'session.json'), 'utf8')) as Session;
}

/** Marks every cached access token in the session as expired, so the next use must refresh. */
export function expireCachedTokens(configDir: string): void {
  const session = readSessionFile(configDir);
  for (const token of Object.values(session.tokens)) token.expiresOn = Math.floor(Date.now() / 1000) - 60;
  fs.writeFileSync(path.join(configDir, 'session.json'), JSON.stringify(session), { mode: 0o600 });
}

/** Posts a form to the token endpoint, as an OAuth client would, and returns status and body. */
export async function postToken(server: string, tenant: string, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server}/${tenant}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Posts JSON to the server and returns status and body. */
export async function postJson(server: string, pathname: string, json: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server}${pathname}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(json) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
