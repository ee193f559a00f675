/**
 * Administration: signing keys (list, rotate), sign-in lockouts (list, clear), the audit
 * trail, and quotas (defaults, overrides, usage; the rules live in workspace/quotas.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import { TesseraError } from '../../errors.js';
import { authorize, requireAuth } from '../auth.js';
import type { SigningAlg } from '../../config.js';
import type { AuditQuery } from '../../audit/auditLog.js';
import { isGuid } from '../../identity/validate.js';
import { topOf } from './listing.js';
import { QUOTA_KEYS, QUOTA_MAXIMUM, type QuotaScopeKind } from '../../workspace/quotaLimits.js';

const QUOTA_READ = 'Tessera.Quotas/quotas/read';
const QUOTA_WRITE = 'Tessera.Quotas/quotas/write';
const QUOTA_DELETE = 'Tessera.Quotas/quotas/delete';

/** An override's body: any of the four limits, each a whole number in bounds or null (unlimited). */
const quotaLimits = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(QUOTA_KEYS.map((k) => [k, { type: ['integer', 'null'], minimum: 0, maximum: QUOTA_MAXIMUM[k] }])),
} as const;
const quotaSchemas = {
  default: { body: { type: 'object', additionalProperties: false, properties: { workspace: quotaLimits, principal: quotaLimits } } },
  workspace: { body: quotaLimits },
  principal: { body: quotaLimits },
  usage: {
    querystring: {
      type: 'object',
      additionalProperties: false,
      properties: { workspace: { type: 'string', minLength: 1, maxLength: 1024 }, principal: { type: 'string', minLength: 1, maxLength: 64 } },
    },
  },
} as const;

/**
 * What a `…/workspaces/{resource ID}` or `…/principals/{object id}` path ends in. Wildcards,
 * so an ID of any length or shape reaches the quota rules (a 400), not the router's limits.
 */
function restOfPath(params: unknown): string {
  const rest = (params as { '*'?: unknown })['*'];
  return typeof rest === 'string' ? rest : '';
}

/** The algorithm a rotate request asks for: `{"alg": "ES256" | "RS256"}`, or none for the configured one. */
function algOf(body: unknown, fallback: SigningAlg): SigningAlg {
  if (body === undefined || body === null) return fallback;
  if (typeof body !== 'object' || Array.isArray(body)) throw new TesseraError('InvalidParameter', 'The body must be a JSON object such as {"alg": "RS256"}.');
  const { alg, ...rest } = body as { alg?: unknown };
  if (Object.keys(rest).length > 0) throw new TesseraError('InvalidParameter', "The body may only have the field 'alg'.");
  if (alg === undefined) return fallback;
  if (alg !== 'ES256' && alg !== 'RS256') throw new TesseraError('InvalidParameter', "alg must be 'ES256' or 'RS256'.");
  return alg;
}

interface AuditQueryString {
  $top?: string;
  category?: string;
  since?: string;
  actorId?: string;
}

/** The audit query from the query string; every parameter optional, each checked. */
function auditQueryOf(q: AuditQueryString): AuditQuery {
  const category = q.category;
  if (category !== undefined && category !== 'Management' && category !== 'SignIn') throw new TesseraError('InvalidParameter', "category must be 'Management' or 'SignIn'.");
  let since: number | undefined;
  if (q.since !== undefined) {
    since = typeof q.since === 'string' && q.since.length <= 40 ? Date.parse(q.since) : NaN;
    if (!Number.isFinite(since)) throw new TesseraError('InvalidParameter', 'since must be an ISO 8601 date-time.');
  }
  if (q.actorId !== undefined && !(typeof q.actorId === 'string' && isGuid(q.actorId))) throw new TesseraError('InvalidParameter', 'actorId must be an object id (a GUID).');
  return { top: topOf(q), category, since, actorId: q.actorId?.toLowerCase() };
}

export function adminRoutes(app: FastifyInstance, services: Services): void {
  const auth = { preHandler: requireAuth(services) };

  /** The audit trail, newest first: management changes and refusals, and sign-ins. */
  app.get<{ Querystring: AuditQueryString }>('/admin/auditRecords', auth, async (request) => {
    const caller = await authorize(services, request, 'Tessera.Audit/records/read', '/');
    return { value: await services.audit.list(caller.tenantId, auditQueryOf(request.query)) };
  });

  app.get('/admin/signingKeys', auth, async (request) => {
    const caller = await authorize(services, request, 'Tessera.Tokens/signingKeys/read', '/');
    return { value: services.keys.list(caller.tenantId) };
  });

  app.post('/admin/signingKeys/rotate', auth, async (request, reply) => {
    const caller = await authorize(services, request, 'Tessera.Tokens/signingKeys/rotate/action', '/');
    const alg = algOf(request.body, services.config.signingAlg);
    return reply.status(201).send(await services.keys.rotate(caller.tenantId, alg));
  });

  app.get('/admin/signInLockouts', auth, async (request) => {
    const caller = await authorize(services, request, 'Tessera.Directory/signInLockouts/read', '/');
    return { value: await services.throttle.list(caller.tenantId) };
  });

  app.delete<{ Querystring: { key?: string } }>('/admin/signInLockouts', auth, async (request, reply) => {
    const caller = await authorize(services, request, 'Tessera.Directory/signInLockouts/delete', '/');
    const key = request.query.key;
    if (typeof key !== 'string' || !(key.startsWith(`account:${caller.tenantId}:`) || key.startsWith('address:')) || !/^[\x21-\x7e]{1,300}$/.test(key)) {
      throw new TesseraError('InvalidParameter', "The query parameter 'key' must be a key as the list shows it (account:… of this tenant, or address:…).");
    }
    if (!(await services.throttle.clear(key))) throw new TesseraError('ResourceNotFound', 'No failed sign-ins are recorded under that key.');
    return reply.status(204).send();
  });

  const { quotas } = services.workspace;

  /** The defaults (configured, and as stored over them) and every override. */
  app.get('/admin/quotas', auth, async (request) => {
    const caller = await authorize(services, request, QUOTA_READ, '/');
    return quotas.overview(caller.tenantId);
  });

  /** Usage against limits: `?workspace={resource ID}` or `?principal={object id}`. */
  app.get<{ Querystring: { workspace?: string; principal?: string } }>('/admin/quotas/usage', { ...auth, schema: quotaSchemas.usage }, async (request) => {
    const caller = await authorize(services, request, QUOTA_READ, '/');
    return quotas.usage(caller.tenantId, request.query);
  });

  app.put<{ Body: Partial<Record<QuotaScopeKind, unknown>> }>('/admin/quotas/default', { ...auth, schema: quotaSchemas.default }, async (request) => {
    const caller = await authorize(services, request, QUOTA_WRITE, '/');
    await quotas.setDefaults(request.body, caller.objectId);
    return quotas.overview(caller.tenantId);
  });

  app.delete('/admin/quotas/default', auth, async (request, reply) => {
    await authorize(services, request, QUOTA_DELETE, '/');
    await quotas.deleteDefaults();
    return reply.status(204).send();
  });

  app.put('/admin/quotas/workspaces/*', { ...auth, schema: quotaSchemas.workspace }, async (request) => {
    const caller = await authorize(services, request, QUOTA_WRITE, '/');
    return quotas.setWorkspace(caller.tenantId, `/${restOfPath(request.params)}`, request.body, caller.objectId);
  });

  app.delete('/admin/quotas/workspaces/*', auth, async (request, reply) => {
    const caller = await authorize(services, request, QUOTA_DELETE, '/');
    await quotas.deleteWorkspace(caller.tenantId, `/${restOfPath(request.params)}`);
    return reply.status(204).send();
  });

  app.put('/admin/quotas/principals/*', { ...auth, schema: quotaSchemas.principal }, async (request) => {
    const caller = await authorize(services, request, QUOTA_WRITE, '/');
    return quotas.setPrincipal(restOfPath(request.params), request.body, caller.objectId);
  });

  app.delete('/admin/quotas/principals/*', auth, async (request, reply) => {
    await authorize(services, request, QUOTA_DELETE, '/');
    await quotas.deletePrincipal(restOfPath(request.params));
    return reply.status(204).send();
  });
}
