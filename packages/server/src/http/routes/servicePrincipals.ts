/**
 * Service principals, in Microsoft Graph's shape under `/v1.0/servicePrincipals`, with
 * Graph's credential actions: addPassword / removePassword (secrets, shown once) and
 * addKey / removeKey (certificates for client assertions).
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import { authorize, requireAuth } from '../auth.js';
import { DISPLAY_NAME_PATTERN } from '../../identity/validate.js';
import { topOf, type ListQuery } from './listing.js';
import { absentWhenNotFound, filterOne, parseGraphFilter } from '../../identity/graphFilter.js';

interface IdParams {
  id: string;
}

const idParams = { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 256 } } } as const;
const displayName = { type: 'string', minLength: 1, maxLength: 256, pattern: DISPLAY_NAME_PATTERN } as const;
const dateTime = { type: 'string', minLength: 10, maxLength: 40 } as const;

const createSchema = {
  body: { type: 'object', required: ['displayName'], additionalProperties: false, properties: { displayName, appId: { type: 'string', maxLength: 64 } } },
} as const;
const patchSchema = {
  params: idParams,
  body: { type: 'object', additionalProperties: false, minProperties: 1, properties: { displayName, accountEnabled: { type: 'boolean' } } },
} as const;
const addPasswordSchema = {
  params: idParams,
  body: {
    type: 'object',
    additionalProperties: false,
    properties: {
      passwordCredential: { type: 'object', additionalProperties: false, properties: { displayName, endDateTime: dateTime, startDateTime: dateTime } },
      /** Tessera's own: remove every other secret in the same call (az's credential reset without --append). */
      removeOthers: { type: 'boolean' },
    },
  },
} as const;
const removeSchema = {
  params: idParams,
  body: { type: 'object', required: ['keyId'], additionalProperties: false, properties: { keyId: { type: 'string', minLength: 1, maxLength: 64 }, proof: { type: 'string', maxLength: 8192 } } },
} as const;
const addKeySchema = {
  params: idParams,
  body: {
    type: 'object',
    required: ['keyCredential'],
    additionalProperties: false,
    properties: {
      keyCredential: {
        type: 'object',
        required: ['key'],
        additionalProperties: false,
        properties: {
          key: { type: 'string', minLength: 1, maxLength: 16384 },
          displayName,
          type: { type: 'string', enum: ['AsymmetricX509Cert'] },
          usage: { type: 'string', enum: ['Verify'] },
        },
      },
      proof: { type: 'string', maxLength: 8192 },
    },
  },
} as const;

export function servicePrincipalRoutes(app: FastifyInstance, services: Services): void {
  const auth = { preHandler: requireAuth(services) };
  const sps = services.servicePrincipals;
  const read = 'Tessera.Directory/servicePrincipals/read';
  const write = 'Tessera.Directory/servicePrincipals/write';

  app.get<{ Querystring: ListQuery }>('/v1.0/servicePrincipals', auth, async (request) => {
    const caller = await authorize(services, request, read, '/');
    const filter = parseGraphFilter(request.query.$filter, ['servicePrincipalNames', 'appId', 'displayName', 'id']);
    if (filter) {
      const found = async (value: string) => { const row = await sps.get(caller.tenantId, value).catch(absentWhenNotFound); return row && sps.view(row); };
      return { value: await filterOne(filter, found, (v, p) => (p === 'displayName' ? v.displayName : p === 'id' ? v.id : v.appId)) };
    }
    const rows = await sps.list(caller.tenantId, topOf(request.query));
    return { value: await Promise.all(rows.map((r) => sps.view(r))) };
  });

  app.post<{ Body: { displayName: string } }>('/v1.0/servicePrincipals', { ...auth, schema: createSchema }, async (request, reply) => {
    const caller = await authorize(services, request, write, '/');
    const row = await sps.create(caller.tenantId, request.body.displayName, caller.objectId);
    return reply.status(201).send(await sps.view(row));
  });

  app.get<{ Params: IdParams }>('/v1.0/servicePrincipals/:id', { ...auth, schema: { params: idParams } }, async (request) => {
    const caller = await authorize(services, request, read, '/');
    return sps.view(await sps.get(caller.tenantId, request.params.id));
  });

  app.patch<{ Params: IdParams; Body: { displayName?: string; accountEnabled?: boolean } }>('/v1.0/servicePrincipals/:id', { ...auth, schema: patchSchema }, async (request) => {
    const caller = await authorize(services, request, write, '/');
    const row = await sps.update(caller.tenantId, request.params.id, { displayName: request.body.displayName, enabled: request.body.accountEnabled });
    return sps.view(row);
  });

  app.delete<{ Params: IdParams }>('/v1.0/servicePrincipals/:id', { ...auth, schema: { params: idParams } }, async (request, reply) => {
    const caller = await authorize(services, request, 'Tessera.Directory/servicePrincipals/delete', '/');
    await sps.delete(caller.tenantId, request.params.id);
    services.access.invalidate();
    return reply.status(204).send();
  });

  app.post<{ Params: IdParams; Body: { passwordCredential?: { displayName?: string; endDateTime?: string }; removeOthers?: boolean } | undefined }>(
    '/v1.0/servicePrincipals/:id/addPassword',
    { ...auth, schema: addPasswordSchema },
    async (request) => {
      const caller = await authorize(services, request, write, '/');
      const input = request.body?.passwordCredential ?? {};
      return sps.addPassword(caller.tenantId, request.params.id, { displayName: input.displayName, endDateTime: input.endDateTime }, request.body?.removeOthers === true);
    },
  );

  app.post<{ Params: IdParams; Body: { keyId: string } }>('/v1.0/servicePrincipals/:id/removePassword', { ...auth, schema: removeSchema }, async (request, reply) => {
    const caller = await authorize(services, request, write, '/');
    await sps.removeCredential(caller.tenantId, request.params.id, request.body.keyId, 'secret');
    return reply.status(204).send();
  });

  app.post<{ Params: IdParams; Body: { keyCredential: { key: string; displayName?: string } } }>('/v1.0/servicePrincipals/:id/addKey', { ...auth, schema: addKeySchema }, async (request) => {
    const caller = await authorize(services, request, write, '/');
    return sps.addKey(caller.tenantId, request.params.id, request.body.keyCredential);
  });

  app.post<{ Params: IdParams; Body: { keyId: string } }>('/v1.0/servicePrincipals/:id/removeKey', { ...auth, schema: removeSchema }, async (request, reply) => {
    const caller = await authorize(services, request, write, '/');
    await sps.removeCredential(caller.tenantId, request.params.id, request.body.keyId, 'certificate');
    return reply.status(204).send();
  });
}
