/**
 * RFC 7662 token introspection, for resource servers (service principals) that would
 * rather ask than verify: access tokens are verified as the server's own API verifies
 * them (and their principal must still be enabled); refresh tokens are looked up.
 */
import type { Services } from '../services.js';
import type { Tenant } from './tenants.js';
import { SecretPrefix, hashSecret, looksLikeSecret } from '../crypto/secrets.js';

export type IntrospectionResponse = Record<string, string | number | boolean>;

const INACTIVE: IntrospectionResponse = { active: false };

export async function introspect(services: Services, tenant: Tenant, token: string): Promise<IntrospectionResponse> {
  if (looksLikeSecret(token, SecretPrefix.refreshToken)) {
    const row = await services.store.db
      .selectFrom('refresh_tokens')
      .innerJoin('refresh_chains', 'refresh_chains.chain_id', 'refresh_tokens.chain_id')
      .select(['refresh_tokens.client_id', 'refresh_tokens.user_id', 'refresh_tokens.tenant_id', 'refresh_tokens.expires_at', 'refresh_tokens.created_at', 'refresh_tokens.rotated_at', 'refresh_tokens.revoked_at', 'refresh_chains.revoked_at as chain_revoked_at'])
      .where('refresh_tokens.token_hash', '=', hashSecret(token))
      .executeTakeFirst();
    const now = services.clock.now();
    if (!row || row.tenant_id !== tenant.id || row.rotated_at !== null || row.revoked_at !== null || row.chain_revoked_at !== null || row.expires_at <= now) return INACTIVE;
    return { active: true, token_type: 'refresh_token', client_id: row.client_id, sub: row.user_id, exp: Math.floor(row.expires_at / 1000), iat: Math.floor(row.created_at / 1000) };
  }
  try {
    const verified = await services.verifier.verify(token);
    if (verified.tenantId !== tenant.id) return INACTIVE;
    const state = await services.principals.get(verified.objectId);
    if (!state.exists || !state.enabled) return INACTIVE;
    const c = verified.claims;
    const out: IntrospectionResponse = {
      active: true,
      token_type: 'Bearer',
      client_id: verified.clientId,
      sub: verified.objectId,
      oid: verified.objectId,
      tid: verified.tenantId,
      aud: String(c.aud),
      iss: String(c.iss),
      exp: verified.exp,
      iat: Number(c.iat),
      nbf: Number(c.nbf),
      idtyp: verified.kind,
    };
    if (typeof c.scp === 'string') out.scope = c.scp;
    if (state.username) out.username = state.username;
    return out;
  } catch {
    return INACTIVE;
  }
}
