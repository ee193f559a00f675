/**
 * The node protocol (docs/compute-and-runs.md): what `tessera node start` calls, with the
 * node's credential as its bearer token. Routes are thin: compute/nodeService.ts decides.
 */
import type { FastifyContextConfig, FastifyInstance, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import type { Services } from '../../services.js';
import { TesseraError } from '../../errors.js';
import type { Poller } from '../../compute/nodeService.js';
import { workspaceContext } from '../../compute/workspaceContext.js';
import { MultipartBody, type MultipartRouteConfig } from '../multipart.js';
import { discardRest, receiveModelUpload } from './arm/modelUpload.js';

declare module 'fastify' {
  interface FastifyRequest {
    node: Poller | null;
  }
}

const BEARER = /^Bearer +(\S+) *$/i;

const runParams = { type: 'object', properties: { runId: { type: 'string', minLength: 1, maxLength: 64 } } } as const;
const pollSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['capacity'],
    properties: {
      running: { type: 'array', maxItems: 256, items: { type: 'string', maxLength: 64 } },
      capacity: { type: 'integer', minimum: 0, maximum: 64 },
      waitSec: { type: 'integer', minimum: 0, maximum: 20 },
    },
  },
} as const;
const eventSchema = {
  params: runParams,
  body: { type: 'object', additionalProperties: false, properties: { status: { type: 'string', maxLength: 16 }, error: {}, exitCode: {}, logs: { type: 'array', maxItems: 5000 } } },
} as const;
const tokenSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['runId', 'resource'],
    properties: {
      runId: { type: 'string', maxLength: 64 },
      resource: { type: 'string', minLength: 1, maxLength: 512 },
      clientId: { type: 'string', maxLength: 64 },
      objectId: { type: 'string', maxLength: 64 },
      resourceId: { type: 'string', maxLength: 600 },
    },
  },
} as const;

export function nodeRoutes(app: FastifyInstance, services: Services): void {
  const { compute } = services;
  app.decorateRequest('node', null);
  const authenticate = async (request: FastifyRequest): Promise<void> => {
    const match = BEARER.exec(request.headers.authorization ?? '');
    if (!match) throw new TesseraError('InvalidAuthenticationToken', "A node authenticates with its credential: 'Authorization: Bearer tsnd_…'.", { bearerError: null });
    const node = await compute.nodes.authenticate(match[1]!);
    request.node = { kind: 'node', node };
  };
  const poller = (request: FastifyRequest): Poller => request.node!;

  app.get('/nodes/v1/me', { preHandler: authenticate }, async (request) => {
    const p = poller(request);
    if (p.kind !== 'node') throw new Error('unreachable');
    const row = await compute.computes.byId(p.node.compute_id);
    const ws = row ? await workspaceContext(services.store, row.workspace_id) : undefined;
    if (!row || !ws) throw new TesseraError('ResourceNotFound', "The node's compute no longer exists.");
    return { nodeId: p.node.id, name: p.node.name, compute: row.name, workspace: ws.id };
  });

  app.post<{ Body: { running?: string[]; capacity: number; waitSec?: number } }>('/nodes/v1/poll', { preHandler: authenticate, schema: pollSchema }, async (request) => {
    const abort = new AbortController();
    request.raw.once('close', () => abort.abort());
    return compute.nodeService.poll(poller(request), { running: request.body.running ?? [], capacity: request.body.capacity, waitSec: request.body.waitSec ?? 0 }, abort.signal);
  });

  app.post<{ Params: { runId: string }; Body: Record<string, unknown> }>('/nodes/v1/runs/:runId/events', { preHandler: authenticate, schema: eventSchema, bodyLimit: 8 * 1024 * 1024 }, async (request) =>
    compute.nodeService.report(poller(request), request.params.runId, request.body),
  );

  app.post<{ Params: { runId: string } }>(
    '/nodes/v1/runs/:runId/artifacts',
    { preHandler: authenticate, schema: { params: runParams }, config: { acceptsMultipart: true } satisfies MultipartRouteConfig as FastifyContextConfig },
    async (request, reply) => {
      const body = request.body;
      try {
        if (!(body instanceof MultipartBody)) throw new TesseraError('UnsupportedMediaType', "Artifacts are uploaded as multipart/form-data: one 'file' part per file, its filename the artifact's path.");
        const row = await compute.nodeService.heldRun(poller(request), request.params.runId);
        const stored: string[] = [];
        await receiveModelUpload(
          body,
          {
            async addFile(p: string, stream: Readable) {
              const artifact = await compute.runs.files.writeArtifact(row.id, p, stream);
              await compute.runs.recordArtifact(row.id, artifact);
              stored.push(artifact.path);
            },
            setDescription() {
              throw new TesseraError('InvalidParameter', "An artifact upload takes only 'file' parts.");
            },
            setTags() {
              throw new TesseraError('InvalidParameter', "An artifact upload takes only 'file' parts.");
            },
          },
          compute.runs.files.artifactLimit,
        );
        return reply.status(201).send({ value: stored });
      } catch (err) {
        await discardRest(request.raw);
        throw err;
      }
    },
  );

  app.post<{ Body: { runId: string; resource: string; clientId?: string; objectId?: string; resourceId?: string } }>('/nodes/v1/token', { preHandler: authenticate, schema: tokenSchema }, async (request) => {
    const { runId, ...wanted } = request.body;
    return compute.nodeService.identityToken(poller(request), runId, wanted);
  });
}
