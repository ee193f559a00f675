/**
 * The device-code grant (RFC 8628 §3.4), under both names clients use: `device_code`
 * (MSAL) and `urn:ietf:params:oauth:grant-type:device_code` (openid-client, RFC 8628).
 * The scope is the one the device-code request asked (openid-client polls without one).
 * Polls that only wait are not audited: a client polls every few seconds.
 */
import { TesseraError, isTesseraError } from '../../errors.js';
import { parseResource, parseScope } from '../scopes.js';
import { issueUserTokens } from '../userTokens.js';
import { parseAmr } from '../../identity/authMethods.js';
import { publicClient, required } from './common.js';
import type { Grant } from './types.js';

export const deviceCodeGrant: Grant = {
  grantTypes: ['device_code', 'urn:ietf:params:oauth:grant-type:device_code'],
  async handler(ctx) {
    const client = await publicClient(ctx);
    const deviceCode = required(ctx, 'device_code', 512);
    const { services } = ctx;
    let row;
    try {
      row = await services.deviceCodes.poll(deviceCode, ctx.tenant.id, client.clientId);
    } catch (err) {
      if (isTesseraError(err) && (err.code === 'AuthorizationPending' || err.code === 'SlowDown')) ctx.audit.skip = true;
      throw err;
    }
    const user = row.user_id === null ? undefined : await services.users.byId(row.user_id);
    if (!user || user.enabled !== 1) throw new TesseraError('AccountDisabled', 'The account is disabled or deleted.', { aadCodes: [50057] });
    ctx.audit.actorId = user.id;
    ctx.audit.actorName = user.username;
    const v1 = row.v1 === 1;
    return issueUserTokens(services, {
      tenant: ctx.tenant,
      tenantAsWritten: ctx.tenantAsWritten,
      user,
      clientId: client.clientId,
      scope: v1 ? parseResource(row.scope) : parseScope(row.scope),
      v1,
      chainId: row.chain_id,
      sessionId: row.session_id,
      authTime: row.auth_time ?? undefined,
      amr: parseAmr(row.amr),
      clientApp: 'deviceCode',
      address: ctx.address,
      audit: ctx.audit,
    });
  },
};
