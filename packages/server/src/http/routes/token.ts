/**
 * The OAuth endpoints that take form bodies: token (v2 `/oauth2/v2.0/token` with
 * `scope=`, v1 `/oauth2/token` with `resource=`), introspection (RFC 7662) and
 * revocation (RFC 7009).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import { routeConfig } from '../../audit/requestAudit.js';
import { TesseraError } from '../../errors.js';
import { handleTokenRequest } from '../../oauth/token.js';
import { authenticateClient } from '../../oauth/clientAuth.js';
import { introspect } from '../../oauth/introspection.js';
import { startDeviceAuthorization } from '../../oauth/deviceAuthorization.js';
import { SecretPrefix, hashSecret, looksLikeSecret } from '../../crypto/secrets.js';

interface TenantParams {
  tenant: string;
}

type FormRequest = FastifyRequest<{ Params: TenantParams }>;

/** The form parameters of a request; JSON and other bodies are refused. */
function formOf(request: FormRequest): Map<string, string> {
  if (!(request.body instanceof Map)) {
    throw new TesseraError('UnsupportedMediaType', 'This endpoint takes an application/x-www-form-urlencoded body.', { aadCodes: [900144] });
  }
  return request.body as Map<string, string>;
}

function tokenParam(params: Map<string, string>): string {
  const token = params.get('token');
  if (!token) throw new TesseraError('InvalidParameter', "The request body must contain the parameter 'token'.", { aadCodes: [900144] });
  if (token.length > 16 * 1024) throw new TesseraError('InvalidParameter', "The parameter 'token' is too long.", { aadCodes: [90100] });
  return token;
}

export function tokenRoutes(app: FastifyInstance, services: Services): void {
  const options = { config: routeConfig({ errorStyle: 'oauth', audit: 'signIn' }) };
  const context = (request: FormRequest) => ({
    services,
    tenant: services.tenants.resolve(request.params.tenant),
    tenantAsWritten: request.params.tenant,
    params: formOf(request),
    authorization: request.headers.authorization,
  });

  const token = (version: 'v1' | 'v2') => async (request: FormRequest) => {
    const ctx = context(request);
    request.audit.tenantId = ctx.tenant.id;
    const grantType = ctx.params.get('grant_type') ?? '';
    request.audit.operation = /^[a-z_:.-]{1,64}$/i.test(grantType) ? `${version}/${grantType}` : `${version}/unknown grant`;
    return handleTokenRequest({ ...ctx, address: request.ip, version, audit: request.audit });
  };
  app.post<{ Params: TenantParams }>('/:tenant/oauth2/v2.0/token', options, token('v2'));
  app.post<{ Params: TenantParams }>('/:tenant/oauth2/token', options, token('v1'));

  const deviceCode = (version: 'v1' | 'v2') => async (request: FormRequest) => {
    const ctx = context(request);
    request.audit.tenantId = ctx.tenant.id;
    request.audit.operation = `${version}/devicecode`;
    return startDeviceAuthorization({ ...ctx, version });
  };
  app.post<{ Params: TenantParams }>('/:tenant/oauth2/v2.0/devicecode', options, deviceCode('v2'));
  app.post<{ Params: TenantParams }>('/:tenant/oauth2/devicecode', options, deviceCode('v1'));

  app.post<{ Params: TenantParams }>('/:tenant/oauth2/v2.0/introspect', options, async (request) => {
    const ctx = context(request);
    const client = await authenticateClient(ctx);
    if (client.type !== 'confidential') {
      throw new TesseraError('UnauthorizedClient', 'Introspection is for confidential clients: authenticate with a secret or a certificate.', { aadCodes: [7000218] });
    }
    return introspect(services, ctx.tenant, tokenParam(ctx.params));
  });

  app.post<{ Params: TenantParams }>('/:tenant/oauth2/v2.0/revoke', options, async (request, reply) => {
    const ctx = context(request);
    const client = await authenticateClient(ctx);
    const value = tokenParam(ctx.params);
    if (looksLikeSecret(value, SecretPrefix.refreshToken)) {
      const row = await services.store.db.selectFrom('refresh_tokens').select(['client_id', 'chain_id']).where('token_hash', '=', hashSecret(value)).executeTakeFirst();
      if (row && row.client_id !== client.clientId) {
        throw new TesseraError('UnauthorizedClient', 'The token was issued to another client.', { aadCodes: [700016] });
      }
      if (row) await services.refreshTokens.revokeChain(row.chain_id);
    } else if (value.split('.').length === 3) {
      throw new TesseraError('UnsupportedTokenType', 'Access tokens are short-lived and cannot be revoked one by one: revoke the session, disable the principal or remove its secret.');
    }
    // RFC 7009 §2.2: an unknown or already-invalid token is not an error.
    return reply.status(200).send({});
  });
}
