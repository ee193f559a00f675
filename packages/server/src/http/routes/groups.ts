/**
 * Groups, in Microsoft Graph's shape under `/v1.0/groups`, with members added by
 * `POST …/members/$ref {"@odata.id": "…/directoryObjects/{id}"}` as Graph does.
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import { TesseraError } from '../../errors.js';
import { authorize, requireAuth } from '../auth.js';
import { DISPLAY_NAME_PATTERN } from '../../identity/validate.js';
import { topOf, type ListQuery } from './listing.js';
import { absentWhenNotFound, filterOne, parseGraphFilter } from '../../identity/graphFilter.js';

interface IdParams {
  id: string;
}

const idParams = { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 256 }, memberId: { type: 'string', minLength: 1, maxLength: 64 } } } as const;

const createSchema = {
  body: {
    type: 'object',
    required: ['displayName'],
    additionalProperties: false,
    properties: {
      displayName: { type: 'string', minLength: 1, maxLength: 256, pattern: DISPLAY_NAME_PATTERN },
      description: { type: 'string', maxLength: 1024 },
      mailNickname: { type: 'string', maxLength: 64 },
      securityEnabled: { type: 'boolean' },
      mailEnabled: { type: 'boolean' },
    },
  },
} as const;

const memberRefSchema = {
  params: idParams,
  body: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    maxProperties: 1,
    properties: { '@odata.id': { type: 'string', maxLength: 512 }, id: { type: 'string', maxLength: 64 } },
  },
} as const;

/** The object id at the end of an `@odata.id` reference, or a plain `id`. */
function memberIdOf(body: { '@odata.id'?: string; id?: string }): string {
  if (body.id) return body.id;
  const ref = body['@odata.id'] ?? '';
  const match = /\/directoryObjects\/([0-9a-fA-F-]{36})$/.exec(ref) ?? /\/users\/([0-9a-fA-F-]{36})$/.exec(ref);
  if (!match) throw new TesseraError('InvalidParameter', "'@odata.id' must end in /directoryObjects/{object id}.");
  return match[1]!;
}

export function groupRoutes(app: FastifyInstance, services: Services): void {
  const auth = { preHandler: requireAuth(services) };
  const { groups } = services;

  app.get<{ Querystring: ListQuery }>('/v1.0/groups', auth, async (request) => {
    const caller = await authorize(services, request, 'Tessera.Directory/groups/read', '/');
    const filter = parseGraphFilter(request.query.$filter, ['displayName', 'id']);
    if (filter) {
      const found = async (value: string) => { const row = await groups.get(caller.tenantId, value).catch(absentWhenNotFound); return row && groups.view(row); };
      return { value: await filterOne(filter, found, (v, p) => (p === 'id' ? v.id : v.displayName)) };
    }
    return { value: (await groups.list(caller.tenantId, topOf(request.query))).map((g) => groups.view(g)) };
  });

  app.post<{ Body: { displayName: string; description?: string } }>('/v1.0/groups', { ...auth, schema: createSchema }, async (request, reply) => {
    const caller = await authorize(services, request, 'Tessera.Directory/groups/write', '/');
    const row = await groups.create(caller.tenantId, request.body);
    return reply.status(201).send(groups.view(row));
  });

  app.get<{ Params: IdParams }>('/v1.0/groups/:id', { ...auth, schema: { params: idParams } }, async (request) => {
    const caller = await authorize(services, request, 'Tessera.Directory/groups/read', '/');
    return groups.view(await groups.get(caller.tenantId, request.params.id));
  });

  app.delete<{ Params: IdParams }>('/v1.0/groups/:id', { ...auth, schema: { params: idParams } }, async (request, reply) => {
    const caller = await authorize(services, request, 'Tessera.Directory/groups/delete', '/');
    await groups.delete(caller.tenantId, request.params.id);
    return reply.status(204).send();
  });

  app.get<{ Params: IdParams }>('/v1.0/groups/:id/members', { ...auth, schema: { params: idParams } }, async (request) => {
    const caller = await authorize(services, request, 'Tessera.Directory/groups/read', '/');
    return { value: await groups.members(caller.tenantId, request.params.id) };
  });

  app.post<{ Params: IdParams; Body: { '@odata.id'?: string; id?: string } }>('/v1.0/groups/:id/members/$ref', { ...auth, schema: memberRefSchema }, async (request, reply) => {
    const caller = await authorize(services, request, 'Tessera.Directory/groups/members/write', '/');
    await groups.addMember(caller.tenantId, request.params.id, memberIdOf(request.body));
    return reply.status(204).send();
  });

  app.delete<{ Params: IdParams & { memberId: string } }>('/v1.0/groups/:id/members/:memberId/$ref', { ...auth, schema: { params: idParams } }, async (request, reply) => {
    const caller = await authorize(services, request, 'Tessera.Directory/groups/members/write', '/');
    await groups.removeMember(caller.tenantId, request.params.id, request.params.memberId);
    return reply.status(204).send();
  });
}
