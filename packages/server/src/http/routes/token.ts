/**
 * The OAuth token endpoints: v2 (`/oauth2/v2.0/token`, `scope=`) and v1
 * (`/oauth2/token`, `resource=`). Form bodies only, as RFC 6749 requires.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import { TesseraError } from '../../errors.js';
import { handleTokenRequest } from '../../oauth/token.js';

interface TenantParams {
  tenant: string;
}

export function tokenRoutes(app: FastifyInstance, services: Services): void {
  const handler = (version: 'v1' | 'v2') => async (request: FastifyRequest<{ Params: TenantParams }>) => {
    if (!(request.body instanceof Map)) {
      throw new TesseraError('UnsupportedMediaType', 'The token endpoint takes an application/x-www-form-urlencoded body.', { aadCodes: [900144] });
    }
    const tenant = services.tenants.resolve(request.params.tenant);
    return handleTokenRequest({
      services,
      tenant,
      tenantAsWritten: request.params.tenant,
      params: request.body as Map<string, string>,
      address: request.ip,
      version,
    });
  };
  const options = { config: { errorStyle: 'oauth' as const } };
  app.post<{ Params: TenantParams }>('/:tenant/oauth2/v2.0/token', options, handler('v2'));
  app.post<{ Params: TenantParams }>('/:tenant/oauth2/token', options, handler('v1'));
}
