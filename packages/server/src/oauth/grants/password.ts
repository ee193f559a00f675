/**
 * `grant_type=password` (ROPC): `username`, `password`, `client_id`, `scope`.
 */
import { issueUserTokens } from '../userTokens.js';
import { askedScope, publicClient, required } from './common.js';
import type { Grant } from './types.js';

export const passwordGrant: Grant = {
  grantTypes: ['password'],
  async handler(ctx) {
    const client = await publicClient(ctx);
    const scope = askedScope(ctx);
    const username = required(ctx, 'username', 320);
    const password = required(ctx, 'password', 1024);
    const user = await ctx.services.signIn.signIn({ tenantId: ctx.tenant.id, username, password, address: ctx.address, audit: ctx.audit });
    return issueUserTokens(ctx.services, {
      tenant: ctx.tenant,
      tenantAsWritten: ctx.tenantAsWritten,
      user,
      clientId: client.clientId,
      scope,
      nonce: ctx.params.get('nonce')?.slice(0, 256),
      v1: ctx.version === 'v1',
      amr: ['pwd'],
      clientApp: 'password',
      address: ctx.address,
      audit: ctx.audit,
    });
  },
};
