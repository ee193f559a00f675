/**
 * `grant_type=refresh_token`: rotates the refresh token and returns tokens for the
 * asked scope, which may name another resource than the original sign-in.
 */
import { continueSession, type BeforeSpending } from '../sessions.js';
import { enforceUserAccess, issueUserTokens } from '../userTokens.js';
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
    const scopeOf = (held: { scope: string }) => explicitScope ?? askedScope(ctx, held.scope);
    // Conditional access judges before the token is spent: a refusal leaves the session to retry.
    const judge: BeforeSpending = async (held, holder) => {
      ctx.audit.actorId = holder.id;
      ctx.audit.actorName = holder.username;
      await enforceUserAccess(services, { tenant: ctx.tenant, user: holder, clientId: client.clientId, scope: scopeOf(held), address: ctx.address, clientApp: 'refresh', audit: ctx.audit }, held.amr);
    };
    const { previous, user } = await continueSession(services, token, client.clientId, ctx.tenant.id, client.type === 'confidential', judge);
    ctx.audit.actorId = user.id;
    ctx.audit.actorName = user.username;
    return issueUserTokens(services, {
      tenant: ctx.tenant,
      tenantAsWritten: ctx.tenantAsWritten,
      user,
      clientId: client.clientId,
      // With no scope, the new tokens are for what the chain last asked.
      scope: scopeOf(previous),
      previous,
      v1: ctx.version === 'v1',
      clientApp: 'refresh',
      address: ctx.address,
      audit: ctx.audit,
      accessJudged: true,
    });
  },
};
