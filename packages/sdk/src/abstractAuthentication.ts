/**
 * The base of every credential: tokens cached per audience, renewed ahead of expiry,
 * one fetch at a time per audience however many callers ask at once.
 */
import { Audience, type AccessToken } from './audience.js';

/** Renew this long before expiry (or at half the lifetime, for tokens shorter than twice this). */
export const RENEW_BEFORE_EXPIRY_MS = 5 * 60_000;

/** Options every credential takes. */
export interface AuthenticationOptions {
  /** Epoch milliseconds; tests inject a movable clock. */
  clock?: () => number;
}

interface CachedToken {
  token: AccessToken;
  /** Epoch ms after which the token is fetched again. */
  renewAt: number;
}

/** When a token received at `now` should be renewed. */
export function renewalTime(token: AccessToken, now: number): number {
  const expiresAt = token.expiresOn * 1000;
  const lifetime = expiresAt - now;
  return expiresAt - Math.min(RENEW_BEFORE_EXPIRY_MS, lifetime / 2);
}

/**
 * Subclass it and implement {@link fetchToken}; callers use {@link getToken}.
 * @example
 * class StaticAuth extends AbstractAuthentication {
 *   protected async fetchToken() { return { token: 'eyJ…', expiresOn: Date.now() / 1000 + 3600 }; }
 * }
 */
export abstract class AbstractAuthentication {
  protected readonly clock: () => number;
  private readonly cache = new Map<string, CachedToken>();
  private readonly inFlight = new Map<string, Promise<AccessToken>>();

  constructor(options: AuthenticationOptions = {}) {
    this.clock = options.clock ?? Date.now;
  }

  /** A token for `audience` (a resource URI), from the cache while it is fresh. */
  getToken(audience: string = Audience.ControlPlane): Promise<AccessToken> {
    const cached = this.cache.get(audience);
    if (cached && this.clock() < cached.renewAt) return Promise.resolve(cached.token);
    const pending = this.inFlight.get(audience);
    if (pending) return pending;
    const fetching = this.renew(audience);
    this.inFlight.set(audience, fetching);
    const forget = () => {
      if (this.inFlight.get(audience) === fetching) this.inFlight.delete(audience);
    };
    fetching.then(forget, forget);
    return fetching;
  }

  /** Forgets every cached token, so the next {@link getToken} fetches. */
  clearCache(): void {
    this.cache.clear();
  }

  /** Gets a new token for `audience` from wherever this credential gets them. */
  protected abstract fetchToken(audience: string): Promise<AccessToken>;

  private async renew(audience: string): Promise<AccessToken> {
    const token = await this.fetchToken(audience);
    this.cache.set(audience, { token, renewAt: renewalTime(token, this.clock()) });
    return token;
  }
}
