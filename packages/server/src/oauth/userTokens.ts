/**
 * What a successful user sign-in returns on the OAuth endpoints: an access token for
 * the asked resource, a refresh token, and (with `openid`) an id token and client_info,
 * in the shape Entra ID gives, so MSAL and openid-client cache and reuse them.
 */
import type { Services } from '../services.js';
import type { UserRow } from '../identity/users.js';
import type { Tenant } from './tenants.js';
import type { ParsedScope } from './scopes.js';
import type { RefreshTokenRow } from './refreshTokens.js';
import type { TokenSubject } from '../tokens/accessTokens.js';
import type { AuthMethod, ClientAppKind } from '../identity/authMethods.js';
import type { AuditInfo } from '../audit/requestAudit.js';

export interface UserTokenRequest {
  tenant: Tenant;
  /** The tenant as written in the request URL: the id token's issuer uses it. */
  tenantAsWritten: string;
  user: UserRow;
  clientId: string;
  scope: ParsedScope;
  nonce?: string | undefined;
  /** The refresh token being rotated, if this is a refresh. */
  previous?: RefreshTokenRow | undefined;
  /** v1 endpoint shape (`resource`, `expires_on`, string numbers). */
  v1?: boolean;
  /** A new chain's id, chosen beforehand (authorization and device codes record it). */
  chainId?: string | undefined;
  /** The browser session the user signed in through. */
  sessionId?: string | null | undefined;
  /** The client authenticated (a web app redeeming its code): the chain will need its credential. */
  confidential?: boolean | undefined;
  /** When the user last entered their password (ms): the id token's auth_time. */
  authTime?: number | undefined;
  /** How the user signed in; a refresh keeps its chain's (`previous.amr`). */
  amr?: readonly AuthMethod[] | undefined;
  /** Which way the tokens are asked for, and from where: what conditional access judges. */
  clientApp: ClientAppKind;
  /** The caller's address (the socket's, or a trusted proxy's X-Forwarded-For). */
  address: string;
  /** The request's audit record (conditional access writes report-only results beside it). */
  audit?: AuditInfo | undefined;
  /** Conditional access has judged this request already (a refresh does, before it spends its token). */
  accessJudged?: boolean | undefined;
}

export type TokenResponse = Record<string, string | number>;

export function userSubject(user: UserRow, domain: string, amr?: readonly AuthMethod[]): TokenSubject {
  return {
    ...(amr !== undefined ? { amr } : {}),
    tenantId: user.tenant_id,
    objectId: user.id,
    kind: 'user',
    name: user.display_name,
    preferredUsername: `${user.username}@${domain}`,
  };
}

/** Conditional access for a user's tokens: throws the policy's refusal (block, MFA required). */
export async function enforceUserAccess(
  services: Services,
  req: Pick<UserTokenRequest, 'tenant' | 'user' | 'clientId' | 'scope' | 'address' | 'clientApp' | 'audit'>,
  amr: readonly AuthMethod[],
): Promise<void> {
  await services.conditionalAccess.enforce(
    { tenantId: req.tenant.id, subject: { kind: 'user', userId: req.user.id }, clientAppId: req.clientId, resource: req.scope.resource, address: req.address, clientApp: req.clientApp, amr },
    req.audit ?? { tenantId: req.tenant.id, actorId: req.user.id, actorName: req.user.username },
  );
}

export async function issueUserTokens(services: Services, req: UserTokenRequest): Promise<TokenResponse> {
  const lifetimeSec = services.config.accessTokenLifetimeSec;
  const amr = req.previous?.amr ?? req.amr ?? ['pwd'];
  if (req.accessJudged !== true) await enforceUserAccess(services, req, amr);
  const subject = userSubject(req.user, req.tenant.domain, amr);
  const access = await services.minter.accessToken({ subject, resource: req.scope.resource, clientId: req.clientId, scp: 'user_impersonation', lifetimeSec });
  const refreshToken = await services.refreshTokens.issue({
    tenantId: req.tenant.id,
    userId: req.user.id,
    clientId: req.clientId,
    scope: req.scope.asked,
    previous: req.previous,
    chainId: req.chainId,
    sessionId: req.sessionId,
    confidential: req.confidential,
    amr,
  });
  const response: TokenResponse = req.v1
    ? {
        token_type: 'Bearer',
        scope: 'user_impersonation',
        expires_in: String(access.expiresIn),
        ext_expires_in: String(access.expiresIn),
        expires_on: String(access.expiresOn),
        not_before: String(access.expiresOn - access.expiresIn),
        resource: req.scope.resource,
        access_token: access.token,
        refresh_token: refreshToken,
      }
    : {
        token_type: 'Bearer',
        scope: req.scope.asked || `${req.scope.resource}/.default`,
        expires_in: access.expiresIn,
        ext_expires_in: access.expiresIn,
        access_token: access.token,
        refresh_token: refreshToken,
      };
  if (req.scope.oidc.has('openid') || req.v1) {
    const id = await services.minter.idToken({
      subject,
      issuer: services.publicUrl.issuerAsWritten(req.tenantAsWritten),
      clientId: req.clientId,
      nonce: req.nonce,
      authTime: req.authTime,
      lifetimeSec,
    });
    response.id_token = id.token;
  }
  response.client_info = Buffer.from(JSON.stringify({ uid: req.user.id, utid: req.tenant.id })).toString('base64url');
  return response;
}
