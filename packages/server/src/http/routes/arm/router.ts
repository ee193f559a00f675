/**
 * The management API's router. Fastify routes are case-sensitive and ARM's are not, so
 * one catch-all route per method parses the resource ID itself and looks up the
 * operation by (method, shape, resource type). One rule maps every operation to its
 * permission check: the action is the resource type plus the verb (GET → read, PUT and
 * PATCH → write, DELETE → delete, POST …/x → x/action) and the scope is the resource ID —
 * for a collection, an action, a Microsoft.Authorization resource or a subscription alias,
 * the scope it lives under. Lists filter what the caller may read instead, and a few
 * operations check a scope named in their body; each operation declares which. Writes
 * under a Disabled subscription are refused (409), as ARM refuses them.
 */
import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../../services.js';
import type { WorkspaceServices } from '../../../workspace/index.js';
import { TesseraError } from '../../../errors.js';
import { authorize, requireAuth, runTokenRefused, type Caller } from '../../auth.js';
import { runTokenAllows } from '../../../compute/runTokens.js';
import { parseSegments, resourceId, SUBSCRIPTION_TYPE, type ResourceLevel, type ResourcePath } from '../../../workspace/resourceIds.js';
import { readQuery, type ArmQuery } from './query.js';
import { MultipartBody, multipartNotAccepted, type MultipartRouteConfig } from '../../multipart.js';

/** The services the management API needs: the server's, plus the workspace part. */
export type ArmServices = Services & { workspace: WorkspaceServices };

export type ArmMethod = 'GET' | 'PUT' | 'PATCH' | 'DELETE' | 'POST';
/** One resource, a list of them, or a POSTed action. */
export type ArmShape = 'instance' | 'collection' | 'action';

/** What a handler is given. */
export interface ArmContext {
  services: ArmServices;
  request: FastifyRequest;
  caller: Caller;
  method: ArmMethod;
  levels: ResourceLevel[];
  /** The addressed resource's ID (for a collection or action: the parent's). */
  id: string;
  /** The scope the resource, collection or action lives under (`/` at the top). */
  parentId: string;
  /** The parent's levels. */
  parentLevels: ResourceLevel[];
  /** The instance's name (as written in the URL); undefined for collections and actions. */
  name: string | undefined;
  query: ArmQuery;
  body: unknown;
  /** The permission the rule derived (already checked unless the operation says otherwise). */
  permission: { action: string; scope: string };
}

export interface ArmResult {
  status?: number;
  /** JSON, or a stream sent as it is (with its headers). */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ArmOperation {
  method: ArmMethod;
  shape: ArmShape;
  /** The resource type as actions name it, e.g. `Microsoft.MachineLearningServices/workspaces`. */
  resourceType: string;
  /** The types the parent may have (`root` for the top); any when absent. */
  parents?: readonly string[];
  /** `rule` (default): checked before the handler; `filtered`: the handler filters a list; `handler`: the handler checks a scope from its body. */
  check?: 'rule' | 'filtered' | 'handler';
  /** Takes a multipart/form-data body (a {@link MultipartBody}) instead of JSON. */
  multipart?: boolean;
  /** With `multipart`: a JSON body is taken too (a model version registered from a run's outputs). */
  alsoJson?: boolean;
  /** A larger JSON body than the server's limit (a web service's entry script). */
  bodyLimit?: number;
  /** Answers in a Disabled subscription although not a GET: a POSTed read (listKeys), or `enable` itself. */
  allowedWhenDisabled?: boolean;
  handle(ctx: ArmContext): Promise<ArmResult>;
}

const VERBS: Record<Exclude<ArmMethod, 'POST'>, string> = { GET: 'read', PUT: 'write', PATCH: 'write', DELETE: 'delete' };

/** The permission an ARM request needs, by the one rule. */
export function permissionFor(method: ArmMethod, path: ResourcePath): { action: string; scope: string } {
  if (path.tail) {
    const verb = method === 'POST' ? 'action' : VERBS[method];
    return { action: `${path.tail.type}/${verb}`, scope: resourceId(path.levels) };
  }
  const last = path.levels[path.levels.length - 1];
  if (!last || method === 'POST') throw new TesseraError('RouteNotFound', 'No endpoint answers that method at that path.');
  // Subscription aliases are tenant-level: creating one creates a subscription, so it is decided at `/`.
  const livesUnder = last.type.toLowerCase().startsWith('microsoft.authorization/') || last.type.toLowerCase() === 'microsoft.subscription/aliases';
  return { action: `${last.type}/${VERBS[method]}`, scope: resourceId(livesUnder ? path.levels.slice(0, -1) : path.levels) };
}

/** Splits and decodes a raw URL path (no query) into segments; 400 for empty or undecodable ones. */
export function segmentsOf(rawPath: string): string[] {
  const trimmed = rawPath.replace(/\/+$/, '');
  if (trimmed === '') return [];
  const raw = trimmed.slice(1).split('/');
  return raw.map((segment) => {
    if (segment === '') throw new TesseraError('InvalidParameter', "The request path holds an empty segment ('//').");
    try {
      return decodeURIComponent(segment);
    } catch {
      throw new TesseraError('InvalidParameter', 'The request path holds a malformed percent-encoding.');
    }
  });
}

/** The size of a parsed JSON body: as sent when the length was declared, else as re-serialized. */
function bodyBytes(request: FastifyRequest): number {
  const declared = Number(request.headers['content-length']);
  return Number.isFinite(declared) && declared > 0 ? declared : Buffer.byteLength(JSON.stringify(request.body) ?? '');
}

function tooLarge(): TesseraError {
  return new TesseraError('RequestEntityTooLarge', 'The request body is larger than this endpoint accepts.');
}

/** What routing a request found. */
interface Routed {
  op: ArmOperation;
  method: ArmMethod;
  path: ResourcePath;
  shape: ArmShape;
  parentLevels: ResourceLevel[];
}

/** Operations by (method, shape, type), and the catch-all routes that dispatch to them. */
export class ArmRouter {
  private readonly operations = new Map<string, ArmOperation>();
  private readonly routed = new WeakMap<FastifyRequest, Routed>();

  constructor(private readonly services: ArmServices) {}

  /** Adds operations; a duplicate is a programming error. */
  add(...operations: ArmOperation[]): this {
    for (const op of operations) {
      const key = `${op.method} ${op.shape} ${op.resourceType.toLowerCase()}`;
      if (this.operations.has(key)) throw new Error(`duplicate ARM operation ${key}`);
      this.operations.set(key, op);
    }
    return this;
  }

  /** Registers the catch-all routes on `app` (the public URL's prefix is the instance's). */
  register(app: FastifyInstance): void {
    const authenticate = requireAuth(this.services, 'management', { allowRunTokens: true });
    const limits = [...this.operations.values()].map((op) => op.bodyLimit ?? 0);
    app.route({
      method: ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'POST'],
      url: '/*',
      exposeHeadRoute: false,
      // The largest any operation takes; each operation's own limit is checked before the body is read.
      bodyLimit: Math.max(this.services.config.bodyLimit, ...limits),
      // The parser hands the stream on; operations without `multipart` refuse it below.
      config: { acceptsMultipart: true } satisfies MultipartRouteConfig as FastifyContextConfig,
      // Nothing of the body is read before the caller is known and the operation's limit checked.
      onRequest: async (request, reply) => {
        this.rawPathOf(request);
        await authenticate.call(reply.server, request, reply);
      },
      preParsing: async (request, _reply, payload) => {
        const routed = this.route(request);
        const declared = Number(request.headers['content-length']);
        if (!routed.op.multipart && Number.isFinite(declared) && declared > (routed.op.bodyLimit ?? this.services.config.bodyLimit)) throw tooLarge();
        return payload;
      },
      handler: async (request, reply) => this.dispatch(request, reply),
    });
  }

  /** The path below the route's prefix; 404 unless it is an ARM path. */
  private rawPathOf(request: FastifyRequest): string {
    const routeUrl = request.routeOptions.url ?? '/*';
    const prefix = routeUrl.slice(0, routeUrl.length - 2);
    const rawPath = request.url.split('?', 1)[0]!.slice(prefix.length);
    const first = /^\/([^/]*)/.exec(rawPath)?.[1]?.toLowerCase();
    if (first !== 'subscriptions' && first !== 'providers') {
      throw new TesseraError('RouteNotFound', `No endpoint answers ${request.method} at that path.`);
    }
    return rawPath;
  }

  /** The operation a request addresses (found once per request); 404 when none. */
  private route(request: FastifyRequest): Routed {
    const known = this.routed.get(request);
    if (known) return known;
    const method: ArmMethod = request.method === 'HEAD' ? 'GET' : (request.method as ArmMethod);
    const path = parseSegments(segmentsOf(this.rawPathOf(request)));
    const shape: ArmShape = path.tail ? (method === 'POST' ? 'action' : 'collection') : 'instance';
    const type = path.tail?.type ?? path.levels[path.levels.length - 1]?.type ?? '';
    const op = this.operations.get(`${method} ${shape} ${type.toLowerCase()}`);
    const parentLevels = shape === 'instance' ? path.levels.slice(0, -1) : path.levels;
    const parentType = parentLevels[parentLevels.length - 1]?.type ?? 'root';
    if (!op || (op.parents && !op.parents.some((p) => p.toLowerCase() === parentType.toLowerCase()))) {
      throw new TesseraError('RouteNotFound', `No endpoint answers ${method} on ${shape === 'collection' ? 'the collection ' : ''}'${type || '/'}' ${parentType === 'root' ? 'at the root' : `under '${parentType}'`}.`);
    }
    const routed = { op, method, path, shape, parentLevels };
    this.routed.set(request, routed);
    return routed;
  }

  private async dispatch(request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const caller = request.caller!;
    const { op, method, path, shape, parentLevels } = this.route(request);
    const permission = permissionFor(method, path);
    const query = readQuery(request.query);
    if ((op.check ?? 'rule') === 'rule') await authorize(this.services, request, permission.action, permission.scope);
    // A run token reaches only what its rule allows; lists and body-checked operations filter by roles, so they too must pass it.
    else if (caller.token.run && !runTokenAllows(caller.token.run.scope, permission.action, permission.scope).allowed) {
      throw runTokenRefused(caller, `perform action '${permission.action}' over scope '${permission.scope}'`);
    }
    // ARM makes a Disabled subscription read-only: one primary-key read, on writes only.
    const sub = path.levels[0];
    if (method !== 'GET' && sub?.type === SUBSCRIPTION_TYPE && !op.allowedWhenDisabled) await this.services.workspace.subscriptions.assertWritable(caller.tenantId, sub.name);
    const multipart = request.body instanceof MultipartBody;
    if (multipart && !op.multipart) throw multipartNotAccepted();
    if (!multipart && request.body !== undefined && bodyBytes(request) > (op.bodyLimit ?? this.services.config.bodyLimit)) {
      throw tooLarge();
    }
    if (!multipart && op.multipart && !(op.alsoJson && request.body !== undefined)) throw new TesseraError('UnsupportedMediaType', 'This endpoint takes multipart/form-data: one part per file, named \'file\', its filename the path in the model.');
    const result = await op.handle({
      services: this.services,
      request,
      caller,
      method,
      levels: path.levels,
      id: resourceId(path.levels),
      parentId: resourceId(parentLevels),
      parentLevels,
      name: shape === 'instance' ? path.levels[path.levels.length - 1]!.name : undefined,
      query,
      body: request.body,
      permission,
    });
    const status = result.status ?? 200;
    if (result.headers) void reply.headers(result.headers);
    if (request.method === 'HEAD') return reply.status(status === 200 ? 204 : status).send();
    if (result.body === undefined) return reply.status(status).send();
    return reply.status(status).send(result.body);
  }
}
