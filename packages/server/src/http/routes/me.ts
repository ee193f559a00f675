/** `GET /me`: who the bearer token says the caller is, as the server now sees them. */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import { callerOf, requireAuth } from '../auth.js';

export function meRoutes(app: FastifyInstance, services: Services): void {
  app.get('/me', { preHandler: requireAuth(services) }, async (request) => {
    const caller = callerOf(request);
    const tenant = services.tenants.byId(caller.tenantId);
    return {
      objectId: caller.objectId,
      principalType: caller.kind === 'user' ? 'User' : 'ServicePrincipal',
      userName: caller.username,
      userPrincipalName: caller.username && tenant ? `${caller.username}@${tenant.domain}` : null,
      displayName: caller.displayName,
      tenantId: caller.tenantId,
      tenantDomain: tenant?.domain ?? null,
      clientId: caller.token.clientId,
      tokenExpiresOn: new Date(caller.token.exp * 1000).toISOString(),
    };
  });
}
