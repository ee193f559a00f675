/**
 * `POST /v1.0/directoryObjects/getByIds`, in Microsoft Graph's shape. Each type asked for
 * needs its Tessera.Directory read permission at the root scope.
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import { authorize, requireAuth } from '../auth.js';
import { objectsByIds, objectTypesOf } from '../../identity/directoryObjects.js';

const READ_ACTION = { user: 'Tessera.Directory/users/read', group: 'Tessera.Directory/groups/read', servicePrincipal: 'Tessera.Directory/servicePrincipals/read' } as const;

const schema = {
  body: {
    type: 'object',
    required: ['ids'],
    additionalProperties: false,
    properties: {
      ids: { type: 'array', maxItems: 1000, items: { type: 'string', maxLength: 64 } },
      types: { type: 'array', maxItems: 8, items: { type: 'string', maxLength: 64 } },
    },
  },
} as const;

export function directoryObjectRoutes(app: FastifyInstance, services: Services): void {
  app.post<{ Body: { ids: string[]; types?: string[] } }>('/v1.0/directoryObjects/getByIds', { preHandler: requireAuth(services), schema }, async (request) => {
    const types = objectTypesOf(request.body.types);
    let tenantId = '';
    for (const type of types) tenantId = (await authorize(services, request, READ_ACTION[type], '/')).tenantId;
    if (types.length === 0) return { value: [] };
    return { value: await objectsByIds(services, tenantId, request.body.ids, types) };
  });
}
