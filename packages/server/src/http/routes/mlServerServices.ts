/**
 * Machine Learning Server's publishing and consumption API (docs/models-and-services.md,
 * "Machine Learning Server publishing"), under a management-audience bearer token such as
 * `POST /login` gives. Permissions are RBAC at the service's scope
 * `W/onlineEndpoints/{engine name}` (publish: write; update: write; delete: delete;
 * list/get/swagger: read; consume: score/action), checked before the service is looked up
 * so a refusal says nothing of what exists; update and delete also follow the creator rule.
 * The caller is authenticated on arrival (onRequest), before any body is read.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import { TesseraError } from '../../errors.js';
import { ONLINE_ENDPOINT_TYPE, SCORE_ACTION, type WebServiceRow } from '../../workspace/webServices.js';
import { MlServerPublishing } from '../../mlserver/publishing.js';
import { checkMlServerName, checkMlServerVersion, engineNameOf } from '../../mlserver/names.js';
import { PUBLISH_BODY_LIMIT, parsePublishBody, parseUpdateBody } from '../../mlserver/definitions.js';
import { checkInputs } from '../../mlserver/inputs.js';
import { consumeUrl, serviceDescription, serviceSwagger } from '../../mlserver/views.js';
import type { ScriptContract } from '../../scoring/runtimes/types.js';
import { authorize, callerOf, requireAuth, type Caller } from '../auth.js';

const READ = `${ONLINE_ENDPOINT_TYPE}/read`;
const WRITE = `${ONLINE_ENDPOINT_TYPE}/write`;
const DELETE = `${ONLINE_ENDPOINT_TYPE}/delete`;

interface NameParams {
  name: string;
}
interface VersionParams extends NameParams {
  version: string;
}

function creatorRule(verb: 'update' | 'delete', name: string): TesseraError {
  return new TesseraError('AuthorizationFailed', `Only the creator of the service '${name}' or an Owner of its scope may ${verb} it (the creator rule of Machine Learning Server), even with '${verb === 'update' ? WRITE : DELETE}'.`);
}

/** ML Server's answer to a consume. */
function consumeResult(success: boolean, errorMessage: string, consoleOutput: string, outputParameters: Record<string, unknown>): Record<string, unknown> {
  return { success, errorMessage, consoleOutput, changedFiles: [], outputParameters, outputFiles: {} };
}

export function mlServerServiceRoutes(app: FastifyInstance, services: Services): void {
  const publishing = new MlServerPublishing(services);
  const { webServices } = services.workspace;
  const { gateway } = services.scoring;
  const auth = requireAuth(services);

  /** Checks the URL's name (and version) and the caller's permission at the service's scope. */
  async function permitted(request: FastifyRequest, action: string, name: string, version?: string): Promise<Caller> {
    checkMlServerName(name);
    if (version !== undefined) checkMlServerVersion(version);
    return authorize(services, request, action, await publishing.scopeOf(name));
  }

  async function describe(caller: Caller, row: WebServiceRow): Promise<Record<string, unknown>> {
    const scope = await publishing.scopeOfRow(row);
    const [publisher, write] = await Promise.all([
      row.created_by ? services.principals.get(row.created_by) : undefined,
      services.access.decide(caller.objectId, WRITE, scope),
    ]);
    const mayWrite = write.allowed && (await webServices.mayChange(caller.objectId, row));
    return serviceDescription(row, { publicUrl: services.publicUrl.base, publishedBy: publisher?.exists ? publisher.clientName : (row.created_by ?? ''), permission: mayWrite ? 'write' : 'read' });
  }

  /** The rows the caller may read, described. */
  async function describeReadable(caller: Caller, rows: WebServiceRow[]): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    for (const row of rows) {
      if ((await services.access.decide(caller.objectId, READ, await publishing.scopeOfRow(row))).allowed) out.push(await describe(caller, row));
    }
    return out;
  }

  app.post<{ Params: VersionParams }>('/services/:name/:version', { onRequest: auth, bodyLimit: PUBLISH_BODY_LIMIT }, async (request, reply) => {
    const { name, version } = request.params;
    const caller = await permitted(request, WRITE, name, version);
    const def = parsePublishBody(request.body);
    await publishing.publish(caller.objectId, name, version, def);
    return reply.code(201).type('application/json; charset=utf-8').send(JSON.stringify(consumeUrl(services.publicUrl.base, name, version)));
  });

  app.get('/services', { onRequest: auth }, async (request) => {
    const caller = callerOf(request);
    return describeReadable(caller, await webServices.listMlServer());
  });

  app.get<{ Params: NameParams }>('/services/:name', { onRequest: auth }, async (request) => {
    const { name } = request.params;
    const caller = await permitted(request, READ, name);
    const rows = await publishing.versionsOf(name);
    if (rows.length === 0) throw new TesseraError('ResourceNotFound', `No service named '${name}' is published.`);
    return describeReadable(caller, rows);
  });

  app.get<{ Params: VersionParams }>('/services/:name/:version', { onRequest: auth }, async (request) => {
    const { name, version } = request.params;
    const caller = await permitted(request, READ, name, version);
    return [await describe(caller, await publishing.get(name, version))];
  });

  app.patch<{ Params: VersionParams }>('/services/:name/:version', { onRequest: auth, bodyLimit: PUBLISH_BODY_LIMIT }, async (request) => {
    const { name, version } = request.params;
    const caller = await permitted(request, WRITE, name, version);
    const def = parseUpdateBody(request.body);
    const row = await publishing.get(name, version);
    if (!(await webServices.mayChange(caller.objectId, row))) throw creatorRule('update', name);
    return describe(caller, await publishing.update(row, def, caller.objectId));
  });

  app.delete<{ Params: VersionParams }>('/services/:name/:version', { onRequest: auth }, async (request, reply) => {
    const { name, version } = request.params;
    const caller = await permitted(request, DELETE, name, version);
    const row = await publishing.get(name, version);
    if (!(await webServices.mayChange(caller.objectId, row))) throw creatorRule('delete', name);
    await publishing.remove(row);
    return reply.code(200).send();
  });

  app.post<{ Params: VersionParams }>('/api/:name/:version', { onRequest: auth, bodyLimit: services.config.scoring.bodyLimit }, async (request) => {
    const { name, version } = request.params;
    checkMlServerName(name);
    checkMlServerVersion(version);
    const scope = await publishing.scopeOf(name);
    await authorize(services, request, SCORE_ACTION, scope);
    const entry = gateway.findMlServer(engineNameOf(name), version);
    // A record published under an earlier workspace setting keeps its own scope.
    if (entry.resourceId.toLowerCase() !== scope.toLowerCase()) await authorize(services, request, SCORE_ACTION, entry.resourceId);
    // Consuming changes nothing: no audit record (refusals above still get one).
    request.audit.skip = true;
    const contract = entry.contract as Extract<ScriptContract, { kind: 'mlserver' }>;
    const inputs = checkInputs(request.body, contract.inputs);
    const outcome = await gateway.outcome(entry, JSON.stringify(inputs));
    // After the inputs were checked, a refusal is the code's own error: ML Server answered it as success false.
    if (!outcome.ok && outcome.reason === 'client') return consumeResult(false, outcome.message, '', {});
    if (!outcome.ok) throw gateway.failure(entry, outcome);
    const answer = outcome.json;
    const result = JSON.parse(answer) as { outputs?: Record<string, unknown>; console?: string };
    return consumeResult(true, '', result.console ?? '', result.outputs ?? {});
  });

  app.get<{ Params: VersionParams }>('/api/:name/:version/swagger.json', { onRequest: auth }, async (request) => {
    const { name, version } = request.params;
    await permitted(request, READ, name, version);
    const row = await publishing.get(name, version);
    const entry = gateway.findMlServer(row.name, version);
    return serviceSwagger(entry, row, services.publicUrl.base);
  });
}
