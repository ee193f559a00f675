/**
 * `grant_type=client_credentials`: a service principal signs in as itself with a secret
 * or a certificate assertion, for one resource (`scope=<resource>/.default`, or v1's
 * `resource=`). No refresh token: it can always sign in again.
 */
import { TesseraError } from '../../errors.js';
import { authenticateClient } from '../clientAuth.js';
import { parseResource, parseScope } from '../scopes.js';
import type { Grant } from './types.js';
import type { TokenResponse } from '../userTokens.js';

export const clientCredentialsGrant: Grant = {
  grantTypes: ['client_credentials'],
  async handler(ctx): Promise<TokenResponse> {
    const client = await authenticateClient(ctx);
    if (client.type !== 'confidential') {
      throw new TesseraError('UnauthorizedClient', 'A public client cannot use client_credentials: it has no secret or certificate.', { aadCodes: [7000218] });
    }
    let scope;
    if (ctx.version === 'v1' && ctx.params.has('resource')) {
      scope = parseResource(ctx.params.get('resource')!);
    } else {
      const asked = ctx.params.get('scope');
      if (!asked) throw new TesseraError('InvalidParameter', "The request body must contain the parameter 'scope' (<resource>/.default).", { aadCodes: [900144] });
      scope = parseScope(asked);
      if (scope.permission !== '.default' || scope.oidc.size > 0 || asked.trim().split(/\s+/).length !== 1) {
        throw new TesseraError('InvalidScope', "The scope for client_credentials must be one resource's '/.default', e.g. api://tessera/management/.default.", { aadCodes: [1002012] });
      }
    }
    const { sp } = client;
    const { services } = ctx;
    ctx.audit.actorId = sp.id;
    ctx.audit.actorName = sp.app_id;
    // Before any reuse: a policy change applies to the next request for a token, reused or not.
    await services.conditionalAccess.enforce(
      { tenantId: sp.tenant_id, subject: { kind: 'servicePrincipal', servicePrincipalId: sp.id, appId: sp.app_id }, clientAppId: sp.app_id, resource: scope.resource, address: ctx.address, clientApp: 'clientCredentials', amr: [] },
      ctx.audit,
    );
    const cacheKey = `${sp.id}|${client.keyId}|${scope.resource}`;
    let token = services.config.appTokenReuse ? services.appTokens.get(cacheKey) : undefined;
    if (!token) {
      token = await services.minter.accessToken({
        subject: { tenantId: sp.tenant_id, objectId: sp.id, kind: 'app', name: sp.display_name },
        resource: scope.resource,
        clientId: sp.app_id,
        lifetimeSec: services.config.accessTokenLifetimeSec,
      });
      services.appTokens.set(cacheKey, token);
    } else {
      // The principal already holds this token: nothing new to record, and the hot path writes nothing.
      ctx.audit.skip = true;
    }
    if (ctx.version === 'v1') {
      return {
        token_type: 'Bearer',
        expires_in: String(token.expiresIn),
        ext_expires_in: String(token.expiresIn),
        expires_on: String(token.expiresOn),
        not_before: String(token.expiresOn - token.expiresIn),
        resource: scope.resource,
        access_token: token.token,
      };
    }
    return { token_type: 'Bearer', expires_in: token.expiresIn, ext_expires_in: token.expiresIn, access_token: token.token, scope: scope.asked };
  },
};
