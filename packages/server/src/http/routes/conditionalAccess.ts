/**
 * Conditional access in Microsoft Graph's shape under `/v1.0/identity/conditionalAccess`:
 * `policies` and `namedLocations` (create, list, read, PATCH, delete), and
 * `POST …/evaluate` (what-if), which runs the evaluation the token paths run. A policy that
 * would block its author is refused with 409 ConditionalAccessLockout unless `?force=true`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import { TesseraError } from '../../errors.js';
import { authorize, requireAuth, type Caller } from '../auth.js';
import { topOf, type ListQuery } from './listing.js';
import { RESOURCE_URIS } from '../../tokens/audiences.js';
import { locationView, policyView } from '../../conditionalAccess/catalog.js';
import type { PolicyBody } from '../../conditionalAccess/policies.js';
import { WHAT_IF_SCHEMA, whatIfRequest, type WhatIfInput } from '../../conditionalAccess/whatIf.js';
import type { AccessRequest } from '../../conditionalAccess/evaluate.js';

const BASE = '/v1.0/identity/conditionalAccess';
const POLICIES = 'Tessera.Directory/conditionalAccessPolicies';
const LOCATIONS = 'Tessera.Directory/namedLocations';

interface IdParams {
  id: string;
}

interface WriteQuery {
  force?: string;
}

const idParams = { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 64 } } } as const;
const writeQuery = { type: 'object', additionalProperties: false, properties: { force: { type: 'string', enum: ['true', 'false'] } } } as const;
// The shape is checked below the route (conditionalAccess/policies.ts), naming the field that is wrong.
const objectBody = { type: 'object' } as const;

export function conditionalAccessRoutes(app: FastifyInstance, services: Services): void {
  const auth = { preHandler: requireAuth(services) };
  const ca = services.conditionalAccess;
  const { catalog } = ca;

  /** Refuses a policy that would block the caller, unless forced. */
  async function guardLockout(request: FastifyRequest<{ Querystring: WriteQuery }>, caller: Caller, body: PolicyBody): Promise<void> {
    if (body.state !== 'enabled' || request.query.force === 'true') return;
    const who: Omit<AccessRequest, 'clientApp'> =
      caller.kind === 'user'
        ? { tenantId: caller.tenantId, subject: { kind: 'user', userId: caller.objectId }, clientAppId: caller.token.clientId, resource: RESOURCE_URIS.management, address: request.ip, amr: ['pwd', 'mfa'] }
        : { tenantId: caller.tenantId, subject: { kind: 'servicePrincipal', servicePrincipalId: caller.objectId, appId: caller.token.clientId }, clientAppId: caller.token.clientId, resource: RESOURCE_URIS.management, address: request.ip, amr: [] };
    const blocked = await ca.wouldBlock(who, body);
    if (blocked.length === 0) return;
    throw new TesseraError(
      'ConditionalAccessLockout',
      `The policy '${body.displayName}' would block you (${caller.clientName}) from ${request.ip} when signing in by ${blocked.join(', ')}. Exclude yourself, or send it again with force=true (tessera ca policy create|update --force).`,
    );
  }

  app.get<{ Querystring: ListQuery }>(`${BASE}/policies`, auth, async (request) => {
    const caller = await authorize(services, request, `${POLICIES}/read`, '/');
    return { value: (await catalog.listPolicies(caller.tenantId, topOf(request.query))).map(policyView) };
  });

  app.post<{ Body: unknown; Querystring: WriteQuery }>(`${BASE}/policies`, { ...auth, schema: { body: objectBody, querystring: writeQuery } }, async (request, reply) => {
    const caller = await authorize(services, request, `${POLICIES}/write`, '/');
    const body = await catalog.checkNew(caller.tenantId, request.body);
    await guardLockout(request, caller, body);
    const row = await catalog.createPolicy(caller.tenantId, body, caller.objectId);
    request.audit.target = `${BASE}/policies/${row.id}`;
    return reply.status(201).send(policyView(row));
  });

  app.get<{ Params: IdParams }>(`${BASE}/policies/:id`, { ...auth, schema: { params: idParams } }, async (request) => {
    const caller = await authorize(services, request, `${POLICIES}/read`, '/');
    return policyView(await catalog.getPolicy(caller.tenantId, request.params.id));
  });

  app.patch<{ Params: IdParams; Body: unknown; Querystring: WriteQuery }>(
    `${BASE}/policies/:id`,
    { ...auth, schema: { params: idParams, body: objectBody, querystring: writeQuery } },
    async (request, reply) => {
      const caller = await authorize(services, request, `${POLICIES}/write`, '/');
      const { row, body } = await catalog.checkUpdate(caller.tenantId, request.params.id, request.body);
      await guardLockout(request, caller, body);
      await catalog.updatePolicy(row, body);
      request.audit.target = `${BASE}/policies/${row.id}`;
      return reply.status(204).send();
    },
  );

  app.delete<{ Params: IdParams }>(`${BASE}/policies/:id`, { ...auth, schema: { params: idParams } }, async (request, reply) => {
    const caller = await authorize(services, request, `${POLICIES}/delete`, '/');
    await catalog.deletePolicy(caller.tenantId, request.params.id);
    return reply.status(204).send();
  });

  app.get<{ Querystring: ListQuery }>(`${BASE}/namedLocations`, auth, async (request) => {
    const caller = await authorize(services, request, `${LOCATIONS}/read`, '/');
    return { value: (await catalog.listLocations(caller.tenantId, topOf(request.query))).map(locationView) };
  });

  app.post<{ Body: unknown }>(`${BASE}/namedLocations`, { ...auth, schema: { body: objectBody } }, async (request, reply) => {
    const caller = await authorize(services, request, `${LOCATIONS}/write`, '/');
    const row = await catalog.createLocation(caller.tenantId, request.body);
    request.audit.target = `${BASE}/namedLocations/${row.id}`;
    return reply.status(201).send(locationView(row));
  });

  app.get<{ Params: IdParams }>(`${BASE}/namedLocations/:id`, { ...auth, schema: { params: idParams } }, async (request) => {
    const caller = await authorize(services, request, `${LOCATIONS}/read`, '/');
    return locationView(await catalog.getLocation(caller.tenantId, request.params.id));
  });

  app.patch<{ Params: IdParams; Body: unknown }>(`${BASE}/namedLocations/:id`, { ...auth, schema: { params: idParams, body: objectBody } }, async (request, reply) => {
    const caller = await authorize(services, request, `${LOCATIONS}/write`, '/');
    await catalog.updateLocation(caller.tenantId, request.params.id, request.body);
    return reply.status(204).send();
  });

  app.delete<{ Params: IdParams }>(`${BASE}/namedLocations/:id`, { ...auth, schema: { params: idParams } }, async (request, reply) => {
    const caller = await authorize(services, request, `${LOCATIONS}/delete`, '/');
    await catalog.deleteLocation(caller.tenantId, request.params.id);
    return reply.status(204).send();
  });

  app.post<{ Body: WhatIfInput }>(`${BASE}/evaluate`, { ...auth, schema: { body: WHAT_IF_SCHEMA } }, async (request) => {
    const caller = await authorize(services, request, `${POLICIES}/read`, '/');
    const req = await whatIfRequest(caller.tenantId, request.body, {
      user: (idOrName) => services.users.find(caller.tenantId, idOrName),
      servicePrincipal: async (idOrName) => {
        const sp = await services.servicePrincipals.get(caller.tenantId, idOrName).catch(() => undefined);
        return sp && { id: sp.id, appId: sp.app_id };
      },
    });
    const decision = await ca.evaluate(req);
    return { ...decision, request: { subject: req.subject, clientAppId: req.clientAppId, resource: req.resource, ipAddress: req.address, clientApp: req.clientApp, amr: req.amr } };
  });
}
