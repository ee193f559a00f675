/**
 * Per-tenant OpenID Connect discovery and the JWKS. `{tenant}` is an id or an alias,
 * matched without regard to case; the issuer keeps it as written.
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import { routeConfig } from '../../audit/requestAudit.js';
import { discoveryDocument } from '../../oauth/discovery.js';

interface TenantParams {
  tenant: string;
}

export function discoveryRoutes(app: FastifyInstance, services: Services): void {
  const config = routeConfig({ errorStyle: 'oauth' });
  const document = async (request: { params: TenantParams }) => {
    const tenant = services.tenants.resolve(request.params.tenant);
    return discoveryDocument(services, tenant, request.params.tenant);
  };
  app.get<{ Params: TenantParams }>('/:tenant/v2.0/.well-known/openid-configuration', { config }, document);
  app.get<{ Params: TenantParams }>('/:tenant/.well-known/openid-configuration', { config }, document);
  // `az login --tenant NAME` on an ADFS-style cloud (authority `{public URL}/adfs`) checks
  // NAME at `{authority}/NAME/.well-known/openid-configuration` and takes the tenant id from
  // the issuer's path, so the document names the tenant by its id. (`/adfs/v2.0/…` is the
  // `adfs` alias's own v2 document, which this static route would otherwise capture.)
  app.get<{ Params: TenantParams }>('/adfs/:tenant/.well-known/openid-configuration', { config }, async (request) => {
    if (request.params.tenant.toLowerCase() === 'v2.0') return document({ params: { tenant: 'adfs' } });
    const tenant = services.tenants.resolve(request.params.tenant);
    return discoveryDocument(services, tenant, tenant.id);
  });
  const jwks = async (request: { params: TenantParams }, reply: { header(k: string, v: string): unknown; type(t: string): unknown }) => {
    const tenant = services.tenants.resolve(request.params.tenant);
    reply.header('cache-control', 'public, max-age=300');
    reply.type('application/json');
    return services.keys.jwksJson(tenant.id);
  };
  app.get<{ Params: TenantParams }>('/:tenant/discovery/v2.0/keys', { config }, jwks);
  app.get<{ Params: TenantParams }>('/:tenant/discovery/keys', { config }, jwks);
}
