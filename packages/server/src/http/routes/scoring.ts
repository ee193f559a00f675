/**
 * The scoring endpoints: `POST /api/v1/service/{name}/score` and
 * `GET /api/v1/service/{name}/swagger.json`. The hot path: the gateway answers from its
 * in-memory view; nothing here touches the store or writes an audit record (no caller
 * is set, so the request audit skips these). The body reaches the runtime as sent, and
 * the runtime parses it (each does, and refuses what is not JSON: 400
 * InvalidRequestContent): parsing it here as well would cost the event loop, which every
 * request shares, a second parse of every body.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import { TesseraError } from '../../errors.js';
import type { ServiceEntry } from '../../scoring/serviceDirectory.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The service a scoring request was admitted to (set before its body is read). */
    scoringEntry: ServiceEntry | null;
  }
}

interface ServiceParams {
  name: string;
}

const NOT_JSON = new TesseraError('InvalidRequestContent', 'The request body must be a JSON document.');

/** Registers the scoring routes in their own context: any content type, read as text, up to the scoring body limit. */
export async function scoringRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { gateway } = services.scoring;
  const bodyLimit = services.config.scoring.bodyLimit;
  await app.register(async (scoped) => {
    scoped.removeAllContentTypeParsers();
    scoped.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (_request, body, done) => done(null, body));

    // The service is found and the caller authenticated when the request arrives, before
    // its body is read: an unauthenticated caller never makes the server read a megabyte.
    scoped.decorateRequest('scoringEntry', null);
    const admit = async (request: FastifyRequest<{ Params: ServiceParams }>): Promise<void> => {
      const entry = gateway.find(request.params.name);
      await gateway.authenticate(entry, request.headers.authorization);
      request.scoringEntry = entry;
    };

    scoped.post<{ Params: ServiceParams }>('/api/v1/service/:name/score', { bodyLimit, onRequest: admit }, async (request: FastifyRequest<{ Params: ServiceParams }>, reply: FastifyReply) => {
      const entry = request.scoringEntry!;
      const body = request.body;
      if (typeof body !== 'string' || body.length === 0) throw NOT_JSON;
      const answer = await gateway.run(entry, body);
      return reply.type('application/json; charset=utf-8').send(answer);
    });

    scoped.get<{ Params: ServiceParams }>('/api/v1/service/:name/swagger.json', async (request, reply) => {
      const entry = gateway.find(request.params.name);
      await gateway.authenticate(entry, request.headers.authorization);
      return reply.send(gateway.swagger(entry));
    });
  });
}
