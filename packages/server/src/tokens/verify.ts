/**
 * Bearer-token verification with a cache. The first sight of a token costs a signature
 * check; every repeat is a map lookup and a clock comparison, so a token reused across
 * requests costs microseconds. Whether the principal is still enabled is checked per
 * request elsewhere (http/auth.ts), never cached here.
 */
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import { TesseraError } from '../errors.js';
import type { Clock } from '../clock.js';
import type { KeyRing } from './keyRing.js';
import { audienceOf, type AudienceId } from './audiences.js';

/** The claims of a verified access token that the server relies on. */
export interface VerifiedToken {
  tenantId: string;
  objectId: string;
  kind: 'user' | 'app';
  audience: AudienceId;
  clientId: string;
  /** Epoch seconds. */
  exp: number;
  claims: JWTPayload;
  /** A run token's run: it acts for that run alone (compute/runTokens.ts decides what it may do). */
  run?: { scope: string; runRowId: string };
}

/** Allowed clock skew between replicas and clients, in seconds. */
const CLOCK_TOLERANCE_SEC = 30;
const MAX_TOKEN_LENGTH = 16 * 1024;
const CACHE_LIMIT = 20_000;
/** Header parameters that point at keys we did not publish: never honoured, always refused. */
const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk', 'x5c', 'crit'] as const;

function invalid(description: string): TesseraError {
  return new TesseraError('InvalidAuthenticationToken', `The access token is invalid: ${description}.`, { bearerError: 'invalid_token' });
}

export class TokenVerifier {
  private readonly cache = new Map<string, VerifiedToken>();

  constructor(
    private readonly keys: KeyRing,
    private readonly clock: Clock,
    /** The `iss` a tenant's access tokens must carry. */
    private readonly issuerOf: (tenantId: string) => string,
  ) {}

  /** Verifies a bearer token; throws a 401 {@link TesseraError} saying why it is refused. */
  async verify(token: string): Promise<VerifiedToken> {
    const now = this.clock.now() / 1000;
    const cached = this.cache.get(token);
    if (cached) {
      if (cached.exp + CLOCK_TOLERANCE_SEC <= now) {
        this.cache.delete(token);
        throw invalid('the token has expired');
      }
      return cached;
    }
    const verified = await this.verifyUncached(token, now);
    if (this.cache.size >= CACHE_LIMIT) {
      // Maps iterate in insertion order: drop the oldest entry.
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(token, verified);
    return verified;
  }

  private async verifyUncached(token: string, now: number): Promise<VerifiedToken> {
    if (token.length > MAX_TOKEN_LENGTH || token.split('.').length !== 3) throw invalid('it is not a signed JWT');
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw invalid('its header cannot be decoded');
    }
    for (const name of FORBIDDEN_HEADERS) {
      if (name in header) throw invalid(`its header carries '${name}', which this server never honours`);
    }
    if (header.alg !== 'ES256' && header.alg !== 'RS256') throw invalid(`the signing algorithm '${String(header.alg).slice(0, 16)}' is not accepted`);
    if (typeof header.kid !== 'string' || header.kid.length === 0 || header.kid.length > 128) throw invalid('its header has no key id (kid)');
    const key = await this.keys.verificationKey(header.kid);
    if (!key) throw invalid('it was signed with an unknown key');
    if (key.alg !== header.alg) throw invalid("its algorithm does not match its key's");
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key.publicKey, {
        algorithms: [key.alg],
        clockTolerance: CLOCK_TOLERANCE_SEC,
        currentDate: new Date(now * 1000),
        requiredClaims: ['exp', 'iat', 'nbf', 'tid', 'oid', 'aud', 'iss'],
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw invalid('the token has expired');
      if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'nbf') throw invalid('the token is not yet valid');
      if (err instanceof joseErrors.JWTClaimValidationFailed) throw invalid(`its '${err.claim}' claim is missing or wrong`);
      throw invalid('its signature does not verify');
    }
    const tid = payload.tid;
    if (typeof tid !== 'string' || tid !== key.tenantId) throw invalid('its tenant does not match its signing key');
    if (payload.iss !== this.issuerOf(tid)) throw invalid('it was not issued by this server');
    const aud = Array.isArray(payload.aud) ? undefined : payload.aud;
    const audience = aud === undefined ? undefined : audienceOf(aud);
    if (!audience) throw invalid('its audience is not a resource of this server');
    const kind = payload.idtyp === 'app' ? 'app' : 'user';
    if (typeof payload.oid !== 'string') throw invalid("its 'oid' claim is missing");
    const verified: VerifiedToken = {
      tenantId: tid,
      objectId: payload.oid,
      kind,
      audience,
      clientId: typeof payload.azp === 'string' ? payload.azp : '',
      exp: payload.exp!,
      claims: payload,
    };
    if (payload.xms_run !== undefined || payload.xms_rid !== undefined) {
      if (typeof payload.xms_run !== 'string' || typeof payload.xms_rid !== 'string') throw invalid("its run claims are malformed");
      verified.run = { scope: payload.xms_run, runRowId: payload.xms_rid };
    }
    return verified;
  }

  /** Forgets every cached verification (tests use it after withdrawing a key by hand). */
  clear(): void {
    this.cache.clear();
  }
}
