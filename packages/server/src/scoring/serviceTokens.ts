/**
 * Service tokens: short-lived JWTs for one web service, signed with the server's keys
 * (any replica verifies any replica's), audience `{public URL}/api/v1/service/{name}`,
 * claim `service_id`. The first sight of a token costs a signature check; repeats are a
 * map lookup and a clock comparison.
 */
import crypto from 'node:crypto';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import type { Clock } from '../clock.js';
import type { KeyRing } from '../tokens/keyRing.js';
import { signJwt } from '../tokens/jws.js';

/** One hour, as Azure ML's service tokens; refresh after half. */
export const SERVICE_TOKEN_LIFETIME_SEC = 3600;
const CLOCK_TOLERANCE_SEC = 30;
const MAX_TOKEN_LENGTH = 8 * 1024;
const CACHE_LIMIT = 20_000;

export interface ServiceToken {
  accessToken: string;
  tokenType: 'Bearer';
  expiryTimeUtc: string;
  refreshAfterTimeUtc: string;
}

interface Verified {
  serviceId: string;
  audience: string;
  /** Epoch seconds. */
  exp: number;
}

/** What a service token must match. */
export interface TokenTarget {
  serviceId: string;
  audience: string;
  tenantId: string;
}

export class ServiceTokens {
  private readonly cache = new Map<string, Verified>();

  constructor(
    private readonly keys: KeyRing,
    private readonly clock: Clock,
    private readonly issuerOf: (tenantId: string) => string,
  ) {}

  /** The audience of a service's tokens. */
  static audience(publicUrl: string, name: string): string {
    return `${publicUrl}/api/v1/service/${name}`;
  }

  /** Mints a token for `target`, on behalf of `subjectId`. */
  mint(target: TokenTarget, subjectId: string, lifetimeSec = SERVICE_TOKEN_LIFETIME_SEC): ServiceToken {
    const key = this.keys.signingKey(target.tenantId);
    const now = Math.floor(this.clock.now() / 1000);
    const exp = now + lifetimeSec;
    const token = signJwt(
      { aud: target.audience, iss: this.issuerOf(target.tenantId), sub: subjectId, tid: target.tenantId, service_id: target.serviceId, jti: crypto.randomUUID(), iat: now, nbf: now, exp },
      key.alg,
      key.kid,
      key.privateKey!,
    );
    return {
      accessToken: token,
      tokenType: 'Bearer',
      expiryTimeUtc: new Date(exp * 1000).toISOString(),
      refreshAfterTimeUtc: new Date((now + Math.floor(lifetimeSec / 2)) * 1000).toISOString(),
    };
  }

  /**
   * Whether `token` is a live service token for `target`. A token for another service,
   * an expired one, or anything unverifiable is false (the caller answers 401).
   */
  async verify(token: string, target: TokenTarget): Promise<boolean> {
    const now = this.clock.now() / 1000;
    let verified = this.cache.get(token);
    if (!verified) {
      verified = await this.verifyUncached(token, target.tenantId, now);
      if (!verified) return false;
      if (this.cache.size >= CACHE_LIMIT) {
        const oldest = this.cache.keys().next();
        if (!oldest.done) this.cache.delete(oldest.value);
      }
      this.cache.set(token, verified);
    }
    if (verified.exp + CLOCK_TOLERANCE_SEC <= now) {
      this.cache.delete(token);
      return false;
    }
    return verified.serviceId === target.serviceId && verified.audience === target.audience;
  }

  private async verifyUncached(token: string, tenantId: string, now: number): Promise<Verified | undefined> {
    if (token.length > MAX_TOKEN_LENGTH) return undefined;
    try {
      const header = decodeProtectedHeader(token);
      if (typeof header.kid !== 'string' || header.jku || header.x5u || header.jwk || header.x5c || header.crit) return undefined;
      const key = await this.keys.verificationKey(header.kid);
      if (!key || key.alg !== header.alg || key.tenantId !== tenantId) return undefined;
      const { payload } = await jwtVerify(token, key.publicKey, {
        algorithms: [key.alg],
        issuer: this.issuerOf(tenantId),
        clockTolerance: CLOCK_TOLERANCE_SEC,
        currentDate: new Date(now * 1000),
        requiredClaims: ['exp', 'iat', 'nbf', 'aud', 'service_id'],
      });
      if (typeof payload.service_id !== 'string' || typeof payload.aud !== 'string' || payload.tid !== tenantId) return undefined;
      return { serviceId: payload.service_id, audience: payload.aud, exp: payload.exp! };
    } catch {
      return undefined;
    }
  }
}
