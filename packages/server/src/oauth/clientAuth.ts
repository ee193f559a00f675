/**
 * Client authentication at the token, introspection and revocation endpoints:
 * `client_secret_post`, `client_secret_basic` (id and secret URL-decoded, as RFC 6749
 * §2.3.1 asks and openid-client sends), `private_key_jwt` (a client assertion signed with
 * a registered certificate's key, found by `x5t#S256` or `x5t`), or none for public
 * clients. An unknown client, a wrong secret, another tenant's client and a bad assertion
 * all get the same answer.
 */
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import crypto from 'node:crypto';
import { TesseraError } from '../errors.js';
import type { Services } from '../services.js';
import type { ServicePrincipalRow } from '../identity/servicePrincipals.js';
import type { Tenant } from './tenants.js';
import { findClient, type OAuthClient } from './clients.js';

export type ClientIdentity =
  | { type: 'public'; clientId: string; client: OAuthClient }
  | {
      type: 'confidential';
      clientId: string;
      sp: ServicePrincipalRow;
      method: 'client_secret_post' | 'client_secret_basic' | 'private_key_jwt';
      /** The credential that authenticated it. */
      keyId: string;
    };

export interface ClientAuthRequest {
  services: Services;
  tenant: Tenant;
  tenantAsWritten: string;
  params: Map<string, string>;
  authorization: string | undefined;
}

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const ASSERTION_ALGS = ['RS256', 'PS256', 'ES256'];
/** Assertions may live at most this long, and are remembered this long against replay. */
const MAX_ASSERTION_LIFE_SEC = 3600;
/** Clock skew allowed on an assertion's exp and nbf; its jti is remembered this much past exp too. */
const ASSERTION_SKEW_SEC = 60;

export function invalidClient(): TesseraError {
  return new TesseraError('InvalidClient', 'Invalid client credentials: the client is unknown, or its secret or assertion is wrong or expired.', { aadCodes: [7000215] });
}

/** Assertion ids (jti) already used, until their assertions expire: each may be used once. */
const seenAssertions = new Map<string, number>();

function rememberAssertion(jti: string, exp: number, nowSec: number): boolean {
  if (seenAssertions.size > 100_000) {
    for (const [key, until] of seenAssertions) if (until < nowSec) seenAssertions.delete(key);
  }
  if ((seenAssertions.get(jti) ?? 0) >= nowSec) return false;
  seenAssertions.set(jti, exp);
  return true;
}

function parseBasic(header: string): { id: string; secret: string } {
  const match = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header);
  if (!match) throw new TesseraError('InvalidParameter', 'The Authorization header must be Basic <base64(client_id:client_secret)> here.', { aadCodes: [900144] });
  const text = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) throw new TesseraError('InvalidParameter', 'HTTP Basic credentials must be client_id:client_secret.', { aadCodes: [900144] });
  const decode = (v: string) => {
    try {
      return decodeURIComponent(v.replace(/\+/g, ' '));
    } catch {
      throw new TesseraError('InvalidParameter', 'HTTP Basic credentials are not valid URL-encoded text.', { aadCodes: [900144] });
    }
  };
  return { id: decode(text.slice(0, colon)), secret: decode(text.slice(colon + 1)) };
}

/** The token endpoint URLs an assertion may name as its audience, lower-cased. */
function acceptedAudiences(req: ClientAuthRequest): string[] {
  const spellings = new Set([req.tenantAsWritten, req.tenant.id, req.tenant.domain]);
  const out: string[] = [];
  for (const t of spellings) {
    const base = req.services.publicUrl.tenantBase(t).toLowerCase();
    out.push(`${base}/oauth2/v2.0/token`, `${base}/oauth2/token`);
  }
  return out;
}

async function verifyAssertion(req: ClientAuthRequest, assertion: string, claimedId: string | undefined): Promise<ClientIdentity> {
  const { services } = req;
  let header: ReturnType<typeof decodeProtectedHeader>;
  let clientId: string;
  try {
    header = decodeProtectedHeader(assertion);
    const iss = decodeJwt(assertion).iss;
    clientId = claimedId ?? (typeof iss === 'string' ? iss : '');
  } catch {
    throw invalidClient();
  }
  if ('jku' in header || 'x5u' in header || 'jwk' in header || 'crit' in header) throw invalidClient();
  const sp = await services.servicePrincipals.byAppId(clientId);
  if (!sp || sp.tenant_id !== req.tenant.id) throw invalidClient();
  const thumb256 = typeof header['x5t#S256'] === 'string' ? header['x5t#S256'] : undefined;
  const thumb1 = typeof header.x5t === 'string' ? header.x5t : undefined;
  const candidates = (await services.servicePrincipals.certificates(sp.id)).filter(
    (c) => (thumb256 === undefined && thumb1 === undefined) || c.thumbprint_sha256 === thumb256 || c.thumbprint_sha1 === thumb1,
  );
  const now = services.clock.now();
  for (const credential of candidates) {
    try {
      const { payload } = await jwtVerify(assertion, crypto.createPublicKey(credential.certificate_pem!), {
        algorithms: ASSERTION_ALGS,
        issuer: clientId,
        subject: clientId,
        clockTolerance: ASSERTION_SKEW_SEC,
        currentDate: new Date(now),
        requiredClaims: ['exp', 'jti', 'aud'],
      });
      const auds = (Array.isArray(payload.aud) ? payload.aud : [payload.aud ?? '']).map((a) => a.toLowerCase());
      if (!auds.some((a) => acceptedAudiences(req).includes(a))) throw invalidClient();
      const nowSec = Math.floor(now / 1000);
      if (payload.exp! - nowSec > MAX_ASSERTION_LIFE_SEC) throw invalidClient();
      // Remembered until the assertion is no longer accepted at all (exp plus the allowed skew).
      if (!rememberAssertion(`${clientId}:${String(payload.jti)}`, payload.exp! + ASSERTION_SKEW_SEC, nowSec)) throw invalidClient();
      return enabled({ type: 'confidential', clientId: sp.app_id, sp, method: 'private_key_jwt', keyId: credential.key_id });
    } catch (err) {
      if (err instanceof TesseraError && err.code !== 'InvalidClient') throw err;
      // Try the next registered certificate; if none verifies, the assertion is refused below.
    }
  }
  throw invalidClient();
}

function enabled(identity: ClientIdentity): ClientIdentity {
  if (identity.type === 'confidential' && identity.sp.enabled !== 1) {
    throw new TesseraError('UnauthorizedClient', 'The application is disabled.', { aadCodes: [7000112] });
  }
  return identity;
}

/** Authenticates the client of a request; throws invalid_client (401) when it cannot. */
export async function authenticateClient(req: ClientAuthRequest): Promise<ClientIdentity> {
  const { params, services } = req;
  const bodyId = params.get('client_id');
  const bodySecret = params.get('client_secret');
  const assertion = params.get('client_assertion');
  const basic = req.authorization ? parseBasic(req.authorization) : undefined;
  const methods = [basic, bodySecret, assertion].filter((m) => m !== undefined).length;
  if (methods > 1) throw new TesseraError('InvalidParameter', 'Use exactly one client authentication method (HTTP Basic, client_secret or client_assertion).', { aadCodes: [90015] });
  if (basic && bodyId !== undefined && bodyId !== basic.id) throw new TesseraError('InvalidParameter', 'client_id in the body differs from the one in the Authorization header.', { aadCodes: [90015] });
  if (bodyId !== undefined && bodyId.length > 128) throw invalidClient();

  if (assertion !== undefined) {
    if (params.get('client_assertion_type') !== JWT_BEARER) throw new TesseraError('InvalidParameter', `client_assertion_type must be ${JWT_BEARER}.`, { aadCodes: [50027] });
    if (assertion.length > 16 * 1024) throw invalidClient();
    return verifyAssertion(req, assertion, bodyId);
  }
  const secret = basic?.secret ?? bodySecret;
  const clientId = basic?.id ?? bodyId;
  if (secret !== undefined) {
    if (clientId === undefined) throw new TesseraError('InvalidParameter', "The request body must contain the parameter 'client_id'.", { aadCodes: [900144] });
    // One indexed lookup by the secret's hash: a wrong secret and an unknown client cost the same.
    const found = secret.length <= 256 ? await services.servicePrincipals.bySecret(secret) : undefined;
    if (!found || found.sp.app_id !== clientId.toLowerCase() || found.sp.tenant_id !== req.tenant.id) throw invalidClient();
    return enabled({ type: 'confidential', clientId: found.sp.app_id, sp: found.sp, method: basic ? 'client_secret_basic' : 'client_secret_post', keyId: found.keyId });
  }
  if (clientId === undefined || clientId === '') throw new TesseraError('InvalidParameter', "The request body must contain the parameter 'client_id'.", { aadCodes: [900144] });
  const client = await findClient(services.applications, req.tenant, clientId);
  // A registered application is a public client when it has public redirect URIs or allows public-client flows.
  if (client && (client.allowPublicFlows || client.publicRedirectUris.length > 0)) return { type: 'public', clientId: client.clientId, client };
  // A confidential client of this tenant that sent no credential: say what is missing, as Entra does.
  const confidential = await services.servicePrincipals.byAppId(clientId);
  if (confidential && confidential.tenant_id === req.tenant.id) {
    throw new TesseraError('InvalidClient', "The request body must contain 'client_secret' or 'client_assertion'.", { aadCodes: [7000218] });
  }
  throw new TesseraError('UnauthorizedClient', 'The application with that client_id was not found in the tenant, or may not use this grant.', { aadCodes: [700016] });
}
