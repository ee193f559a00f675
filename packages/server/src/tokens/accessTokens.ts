/**
 * Minting signed JWTs: access tokens for one audience, and the OpenID Connect id token.
 * Claims follow Entra ID's v2 tokens so code that reads them keeps working.
 */
import crypto from 'node:crypto';
import type { JWTPayload } from 'jose';
import { signJwt } from './jws.js';
import type { KeyRing } from './keyRing.js';
import type { Clock } from '../clock.js';
import { acrOf, type AuthMethod } from '../identity/authMethods.js';

/** Who a token is about. */
export interface TokenSubject {
  tenantId: string;
  objectId: string;
  /** `user` or `app`. */
  kind: 'user' | 'app';
  name: string;
  /** The sign-in name, for users. */
  preferredUsername?: string;
  /** How a user signed in: the `amr` claim, and the `acr` it implies. */
  amr?: readonly AuthMethod[];
}

export interface IssuedToken {
  token: string;
  /** Seconds from now. */
  expiresIn: number;
  /** Epoch seconds. */
  expiresOn: number;
}

export interface AccessTokenRequest {
  subject: TokenSubject;
  /** The resource URI as requested; it becomes `aud`. */
  resource: string;
  clientId: string;
  /** Space-separated delegated permissions, for `scp`. */
  scp?: string;
  lifetimeSec: number;
  /** Further claims (a run token's `xms_run`); never one of the standard ones above. */
  extra?: Record<string, string>;
}

export interface IdTokenRequest {
  subject: TokenSubject;
  issuer: string;
  clientId: string;
  nonce?: string | undefined;
  /** When the user authenticated (ms since the epoch); OpenID Connect's auth_time. */
  authTime?: number | undefined;
  lifetimeSec: number;
}

function addMethods(claims: Record<string, unknown>, subject: TokenSubject): void {
  if (subject.amr === undefined || subject.amr.length === 0) return;
  claims.amr = [...subject.amr];
  claims.acr = acrOf(subject.amr);
}

export class TokenMinter {
  constructor(
    private readonly keys: KeyRing,
    private readonly clock: Clock,
    /** The `iss` of access tokens for a tenant. */
    private readonly issuerOf: (tenantId: string) => string,
  ) {}

  /** A signed access token for one resource. */
  async accessToken(req: AccessTokenRequest): Promise<IssuedToken> {
    const s = req.subject;
    const claims: JWTPayload & Record<string, unknown> = {
      aud: req.resource,
      iss: this.issuerOf(s.tenantId),
      sub: s.objectId,
      oid: s.objectId,
      tid: s.tenantId,
      azp: req.clientId,
      appid: req.clientId,
      name: s.name,
      idtyp: s.kind,
      ver: '2.0',
      jti: crypto.randomUUID(),
    };
    if (s.preferredUsername) claims.preferred_username = s.preferredUsername;
    addMethods(claims, s);
    if (req.scp) claims.scp = req.scp;
    for (const [name, value] of Object.entries(req.extra ?? {})) if (!(name in claims)) claims[name] = value;
    return this.sign(s.tenantId, claims, req.lifetimeSec);
  }

  /** An OpenID Connect id token for the client that signed the user in. */
  async idToken(req: IdTokenRequest): Promise<IssuedToken> {
    const s = req.subject;
    const claims: JWTPayload & Record<string, unknown> = {
      aud: req.clientId,
      iss: req.issuer,
      sub: s.objectId,
      oid: s.objectId,
      tid: s.tenantId,
      name: s.name,
      ver: '2.0',
    };
    if (s.preferredUsername) claims.preferred_username = s.preferredUsername;
    addMethods(claims, s);
    if (req.nonce) claims.nonce = req.nonce;
    if (req.authTime !== undefined) claims.auth_time = Math.floor(req.authTime / 1000);
    return this.sign(s.tenantId, claims, req.lifetimeSec);
  }

  private async sign(tenantId: string, claims: JWTPayload, lifetimeSec: number): Promise<IssuedToken> {
    const key = this.keys.signingKey(tenantId);
    const now = Math.floor(this.clock.now() / 1000);
    const token = signJwt({ ...claims, iat: now, nbf: now, exp: now + lifetimeSec }, key.alg, key.kid, key.privateKey!);
    return { token, expiresIn: lifetimeSec, expiresOn: now + lifetimeSec };
  }
}
