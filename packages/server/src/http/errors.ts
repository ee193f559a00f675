/**
 * Turns any failure into the response the route's style calls for, and never a stack
 * trace: Azure's `{"error": {"code", "message"}}` on management APIs; RFC 6749 with
 * Entra ID's extra fields on OAuth endpoints; RFC 6750 `WWW-Authenticate` on 401s.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { TesseraError, isTesseraError } from '../errors.js';
import type { RouteAuditConfig } from '../audit/requestAudit.js';
import { errorPage } from './pages/errorPage.js';

export type ErrorStyle = 'management' | 'oauth' | 'page';

/** Maps Fastify's own errors (parsing, validation, limits) to ours. */
export function toTesseraError(err: unknown): TesseraError | undefined {
  if (isTesseraError(err)) return err;
  const e = err as Partial<FastifyError> & { validation?: unknown };
  if (e.validation) return new TesseraError('InvalidParameter', `The request is invalid: ${e.message ?? 'a field is wrong'}.`);
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new TesseraError('RequestEntityTooLarge', 'The request body is larger than this endpoint accepts.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new TesseraError('UnsupportedMediaType', 'The Content-Type is not accepted here: send application/json (or application/x-www-form-urlencoded to OAuth endpoints).');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new TesseraError('InvalidRequestContent', 'The request body is empty or does not match its Content-Length.');
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_ASYNC_CONSTRAINT':
      return new TesseraError('InvalidParameter', 'The request URL is malformed.');
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new TesseraError('InvalidRequestContent', 'The request is malformed.');
  }
  return undefined;
}

function timestamp(): string {
  return new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** Quoted-string safe: printable ASCII without quotes or backslashes. */
function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]|["\\]/g, "'");
}

export function sendError(request: FastifyRequest, reply: FastifyReply, err: TesseraError): void {
  if (request.audit) request.audit.reason = err.code;
  const style: ErrorStyle = (reply.routeOptions.config as RouteAuditConfig | undefined)?.errorStyle ?? 'management';
  // RFC 6749 §5.2: on OAuth endpoints only invalid_client is a 401; a bad grant is a 400.
  const status = style === 'oauth' && err.status === 401 && err.oauthError !== 'invalid_client' ? 400 : err.status;
  if (err.retryAfter !== undefined) reply.header('retry-after', String(err.retryAfter));
  if (status === 401) {
    // HTTP requires a challenge on every 401; bearer-protected routes say what was wrong with the token.
    reply.header(
      'www-authenticate',
      err.bearerError ? `Bearer error="${err.bearerError}", error_description="${headerSafe(err.message)}"` : 'Bearer',
    );
  }
  reply.header('cache-control', 'no-store');
  if (style === 'page') {
    // A person reads this: the message, the AAD code and the id to quote; 401 has no meaning for a page.
    const shown = errorPage({ status: status === 401 ? 400 : status, message: err.message, aadCode: err.aadCodes[0], correlationId: correlationId(request), timestamp: timestamp() });
    reply.removeHeader('www-authenticate');
    void reply.status(shown.status).headers(shown.headers).send(shown.html);
    return;
  }
  if (style === 'oauth') {
    const codes = err.aadCodes;
    const prefix = codes.length > 0 ? `AADSTS${codes[0]}: ` : '';
    void reply.status(status).send({
      error: err.oauthError,
      error_description: `${prefix}${err.message} Trace ID: ${request.id} Timestamp: ${timestamp()}`,
      error_codes: codes,
      timestamp: timestamp(),
      trace_id: request.id,
      correlation_id: correlationId(request),
      ...(err.suberror === undefined ? {} : { suberror: err.suberror }),
      ...(err.claims === undefined ? {} : { claims: err.claims }),
    });
    return;
  }
  void reply.status(status).send({ error: { code: err.code, message: err.message } });
}

/** The client's correlation id when it sent a well-formed one, else ours. */
export function correlationId(request: FastifyRequest): string {
  const sent = request.headers['client-request-id'] ?? request.headers['x-ms-client-request-id'];
  return typeof sent === 'string' && /^[0-9a-fA-F-]{8,64}$/.test(sent) ? sent : request.id;
}

export function handleError(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const known = toTesseraError(err);
  if (known) {
    sendError(request, reply, known);
    return;
  }
  request.log.error({ err }, 'unexpected failure');
  sendError(request, reply, new TesseraError('InternalServerError', `An unexpected error occurred. Quote request id ${request.id} to the administrator.`));
}
