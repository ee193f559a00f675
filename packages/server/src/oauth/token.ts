/**
 * The token endpoint: dispatches on `grant_type` to one handler per grant.
 */
import { TesseraError } from '../errors.js';
import type { Grant, GrantContext } from './grants/types.js';
import { passwordGrant } from './grants/password.js';
import { refreshTokenGrant } from './grants/refreshToken.js';
import { clientCredentialsGrant } from './grants/clientCredentials.js';
import { authorizationCodeGrant } from './grants/authorizationCode.js';
import { deviceCodeGrant } from './grants/deviceCode.js';
import type { TokenResponse } from './userTokens.js';

const GRANTS: Grant[] = [authorizationCodeGrant, deviceCodeGrant, passwordGrant, refreshTokenGrant, clientCredentialsGrant];
const byType = new Map(GRANTS.flatMap((g) => g.grantTypes.map((t) => [t, g] as const)));

/** The grant types discovery advertises. */
export const SUPPORTED_GRANT_TYPES = [...byType.keys()];

export async function handleTokenRequest(ctx: GrantContext): Promise<TokenResponse> {
  const grantType = ctx.params.get('grant_type');
  if (!grantType) throw new TesseraError('InvalidParameter', "The request body must contain the parameter 'grant_type'.", { aadCodes: [900144] });
  const grant = byType.get(grantType);
  if (!grant) throw new TesseraError('UnsupportedGrantType', 'The grant_type is not supported by this server.', { aadCodes: [70003] });
  return grant.handler(ctx);
}
