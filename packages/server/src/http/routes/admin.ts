/**
 * Administration: signing keys (list, rotate) and sign-in lockouts (list, clear).
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import { TesseraError } from '../../errors.js';
import { authorize, requireAuth } from '../auth.js';
import type { SigningAlg } from '../../config.js';
import type { AuditQuery } from '../../audit/auditLog.js';
import { isGuid } from '../../identity/validate.js';
import { topOf } from './listing.js';

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
}
