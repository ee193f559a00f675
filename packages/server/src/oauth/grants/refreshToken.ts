/**
 * `grant_type=refresh_token`: rotates the refresh token and returns tokens for the
 * asked scope, which may name another resource than the original sign-in.
 */
import { continueSession } from '../sessions.js';
import { issueUserTokens } from '../userTokens.js';
import { anyClient, askedScope, required } from './common.js';
import type { Grant } from './types.js';

export const refreshTokenGrant: Grant = {
  grantTypes: ['refresh_token'],
  async handler(ctx) {
    // A web app that signed a user in with a code refreshes with its secret; the token is bound to its client id.
    const client = await anyClient(ctx);
    const token = required(ctx, 'refresh_token', 512);
    const { services } = ctx;
    // Everything that can fail on the request alone is checked before the token is spent:
    // a typo in the scope must not cost the caller their session.
    const explicitScope = ctx.params.has('scope') || ctx.params.has('resource') ? askedScope(ctx) : undefined;
    const { previous, user } = await continueSession(services, token, client.clientId, ctx.tenant.id, client.type === 'confidential');
    ctx.audit.actorId = user.id;
    ctx.audit.actorName = user.username;
    // With no scope, the new tokens are for what the chain last asked.
    const scope = explicitScope ?? askedScope(ctx, previous.scope);
    return issueUserTokens(services, {
      tenant: ctx.tenant,
      tenantAsWritten: ctx.tenantAsWritten,
      user,
      clientId: client.clientId,
      scope,
      previous,
      v1: ctx.version === 'v1',
      clientApp: 'refresh',
      address: ctx.address,
      audit: ctx.audit,
    });
  },
};
