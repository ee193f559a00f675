/**
 * `multipart/form-data`: accepted only by routes that declare `acceptsMultipart` in their
 * config, which are handed the raw request stream (wrapped in {@link MultipartBody}) to
 * parse as it arrives; nothing is buffered. Every other route answers 415.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { TesseraError } from '../errors.js';

/** The unread body of a multipart request. */
export class MultipartBody {
  constructor(
    readonly stream: IncomingMessage,
    /** The request's Content-Type, with its boundary. */
    readonly contentType: string,
  ) {}
}

/** What a route declares in its `config` to receive multipart bodies. */
export interface MultipartRouteConfig {
  acceptsMultipart?: boolean;
}

/** The refusal of a multipart body where none is taken. */
export function multipartNotAccepted(): TesseraError {
  return new TesseraError('UnsupportedMediaType', 'multipart/form-data is accepted only by model uploads (PUT …/models/{name}/versions/{version}) and run artifacts (POST …/jobs/{id}/artifacts): send application/json here.');
}

/** Registers the pass-through parser. */
export function registerMultipartParser(app: FastifyInstance): void {
  app.addContentTypeParser('multipart/form-data', (request, payload, done) => {
    if (!(request.routeOptions.config as MultipartRouteConfig | undefined)?.acceptsMultipart) {
      done(multipartNotAccepted(), undefined);
      return;
    }
    done(null, new MultipartBody(payload, String(request.headers['content-type'] ?? '')));
  });
}
