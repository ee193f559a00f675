/**
 * Reuse of app tokens on the client-credentials path. A principal asking again for the
 * same resource with the same credential gets the token it was given while more than
 * half its life remains, as Azure's managed-identity endpoint does. Authentication still
 * happens on every request, so a removed secret or a disabled principal is refused at
 * once; only the signing is saved.
 */
import type { IssuedToken } from '../tokens/accessTokens.js';
import type { Clock } from '../clock.js';

const LIMIT = 10_000;

export class AppTokenCache {
  private readonly entries = new Map<string, IssuedToken>();

  constructor(
    private readonly clock: Clock,
    private readonly lifetimeSec: number,
  ) {}

  /** A cached token with more than half its life left, with `expiresIn` brought up to date. */
  get(key: string): IssuedToken | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    const remaining = hit.expiresOn - Math.floor(this.clock.now() / 1000);
    if (remaining <= this.lifetimeSec / 2) {
      this.entries.delete(key);
      return undefined;
    }
    return { token: hit.token, expiresOn: hit.expiresOn, expiresIn: remaining };
  }

  set(key: string, token: IssuedToken): void {
    if (this.entries.size >= LIMIT) this.entries.clear();
    this.entries.set(key, token);
  }

  /** Drops every cached token of a principal (deleted, disabled, or its credentials changed). */
  forget(principalId: string): void {
    for (const key of this.entries.keys()) if (key.startsWith(`${principalId}|`)) this.entries.delete(key);
  }
}
