/**
 * `grant_type=authorization_code` (RFC 6749 §4.1.3, PKCE RFC 7636): `code`,
 * `redirect_uri`, `code_verifier`, `client_id`. A code issued to a public redirect URI is
 * redeemed without a secret (its PKCE verifier is the proof); one issued to a web
 * redirect URI only by its client authenticated with a secret or a certificate.
 */
import { TesseraError } from '../../errors.js';
import { findClient } from '../clients.js';
import { findRedirectUri } from '../redirectUris.js';
import { parseScope } from '../scopes.js';
import { issueUserTokens } from '../userTokens.js';
import { parseAmr } from '../../identity/authMethods.js';
import { anyClient, publicFlowsNotAllowed, required } from './common.js';
import type { Grant } from './types.js';

export const authorizationCodeGrant: Grant = {
  grantTypes: ['authorization_code'],
  async handler(ctx) {
    const identity = await anyClient(ctx);
    const code = required(ctx, 'code', 512);
    const redirectUri = ctx.params.get('redirect_uri');
    const codeVerifier = ctx.params.get('code_verifier');
    const { services } = ctx;
    if (identity.type === 'public') {
      // A code for a web redirect is redeemed only with the client's secret (a wrong URI fails in redeem below).
      const { publicRedirectUris, webRedirectUris } = identity.client;
      if (redirectUri !== undefined && !findRedirectUri(publicRedirectUris, redirectUri) && findRedirectUri(webRedirectUris, redirectUri)) throw publicFlowsNotAllowed();
    } else {
      const app = await findClient(services.applications, ctx.tenant, identity.clientId);
      if (!app) throw new TesseraError('UnauthorizedClient', 'This service principal has no registered application with redirect URIs, so it has no authorization codes.', { aadCodes: [700016] });
    }
    const row = await services.authorizationCodes.redeem(code, { tenantId: ctx.tenant.id, clientId: identity.clientId, redirectUri, codeVerifier });
    const user = await services.users.byId(row.user_id);
    if (!user || user.enabled !== 1) throw new TesseraError('AccountDisabled', 'The account is disabled or deleted.', { aadCodes: [50057] });
    ctx.audit.actorId = user.id;
    ctx.audit.actorName = user.username;
    return issueUserTokens(services, {
      tenant: ctx.tenant,
      tenantAsWritten: ctx.tenantAsWritten,
      user,
      clientId: identity.clientId,
      scope: parseScope(row.scope),
      nonce: row.nonce ?? undefined,
      chainId: row.chain_id,
      sessionId: row.session_id,
      confidential: identity.type === 'confidential',
      authTime: row.auth_time,
      amr: parseAmr(row.amr),
      clientApp: 'browser',
      address: ctx.address,
      audit: ctx.audit,
    });
  },
};
