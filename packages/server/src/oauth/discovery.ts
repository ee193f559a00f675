/**
 * OpenID Connect discovery for a tenant. The issuer is the public URL plus the tenant as
 * written in the request: openid-client compares it to the URL it was given, character
 * for character.
 */
import type { Services } from '../services.js';
import type { Tenant } from './tenants.js';
import { SUPPORTED_GRANT_TYPES } from './token.js';

export function discoveryDocument(services: Services, tenant: Tenant, tenantAsWritten: string): Record<string, unknown> {
  const base = services.publicUrl.tenantBase(tenantAsWritten);
  const algs = services.keys.algorithms(tenant.id);
  return {
    issuer: services.publicUrl.issuerAsWritten(tenantAsWritten),
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    token_endpoint: `${base}/oauth2/v2.0/token`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_types_supported: ['code'],
    response_modes_supported: ['query', 'form_post'],
    code_challenge_methods_supported: ['S256'],
    // RFC 9207: authorization responses carry iss.
    authorization_response_iss_parameter_supported: true,
    prompt_values_supported: ['login', 'none', 'select_account', 'consent'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: algs.length > 0 ? algs : [services.config.signingAlg],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic', 'private_key_jwt', 'none'],
    token_endpoint_auth_signing_alg_values_supported: ['RS256', 'PS256', 'ES256'],
    introspection_endpoint: `${base}/oauth2/v2.0/introspect`,
    revocation_endpoint: `${base}/oauth2/v2.0/revoke`,
    grant_types_supported: SUPPORTED_GRANT_TYPES,
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nbf', 'nonce', 'oid', 'tid', 'name', 'preferred_username', 'auth_time'],
    frontchannel_logout_supported: false,
    request_uri_parameter_supported: false,
    tenant_region_scope: null,
    cloud_instance_name: new URL(services.publicUrl.base).host,
    tenant_id: tenant.id,
  };
}
