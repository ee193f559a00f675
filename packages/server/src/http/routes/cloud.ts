/**
 * What a client asks of a cloud before anything else: its endpoints (`GET
 * /metadata/endpoints`, no authentication, as in Azure) and the caller's tenants (`GET
 * /tenants`). With these the Azure CLI registers Tessera as a cloud and signs in to it.
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import { requireAuth, callerOf } from '../auth.js';
import { cloudMetadata } from '../../cloud/metadata.js';
import { tenantView } from '../../cloud/tenants.js';

interface VersionQuery {
  'api-version'?: string;
}

const versionSchema = { querystring: { type: 'object', properties: { 'api-version': { type: 'string', maxLength: 32 } } } } as const;

export function cloudRoutes(app: FastifyInstance, services: Services): void {
  const metadata = async (request: { query: VersionQuery }) => cloudMetadata(services.publicUrl.base, request.query['api-version']);
  app.get<{ Querystring: VersionQuery }>('/metadata/endpoints', { schema: versionSchema }, metadata);
  // msrestazure appends `/metadata/endpoints` to the Resource Manager URL as typed, and
  // Azure's own ends in a slash: `--endpoint-resource-manager https://host/` asks here.
  app.get<{ Querystring: VersionQuery }>('//metadata/endpoints', { schema: versionSchema }, metadata);

  app.get<{ Querystring: VersionQuery }>('/tenants', { schema: versionSchema, preHandler: requireAuth(services, 'management') }, async (request) => {
    const tenant = services.tenants.byId(callerOf(request).tenantId);
    return { value: tenant ? [tenantView(tenant)] : [] };
  });
}
