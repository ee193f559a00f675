/**
 * The Fastify application: body parsers, error mapping, request logging, and the routes
 * (each area in its own file under routes/), mounted under the public URL's path.
 */
import crypto from 'node:crypto';
import type { Socket } from 'node:net';
import Fastify, { LogController, type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { AuditInfo, RouteAuditConfig } from '../audit/requestAudit.js';
import type { Logger } from 'pino';
import type { Services } from '../services.js';
import { TesseraError } from '../errors.js';
import { registerBodyParsers } from './parsers.js';
import { handleError, sendError, toTesseraError } from './errors.js';
import { healthRoutes } from './routes/health.js';
import { discoveryRoutes } from './routes/discovery.js';
import { tokenRoutes } from './routes/token.js';
import { mlServerLoginRoutes } from './routes/mlServerLogin.js';
import { meRoutes } from './routes/me.js';
import { userRoutes } from './routes/users.js';
import { mfaRoutes } from './routes/mfa.js';
import { groupRoutes } from './routes/groups.js';
import { adminRoutes } from './routes/admin.js';
import { directoryRoutes } from './routes/directories.js';
import { servicePrincipalRoutes } from './routes/servicePrincipals.js';
import { applicationRoutes } from './routes/applications.js';
import { authorizeRoutes } from './routes/authorize.js';
import { deviceLoginRoutes } from './routes/deviceLogin.js';
import { logoutRoutes } from './routes/logout.js';
import { armRoutes } from './routes/arm/index.js';
import { modelOperations } from './routes/arm/models.js';
import { onlineEndpointOperations } from './routes/arm/onlineEndpoints.js';
import { computeOperations } from './routes/arm/compute.js';
import { jobOperations } from './routes/arm/jobs.js';
import { nodeRoutes } from './routes/nodes.js';
import { scoringRoutes } from './routes/scoring.js';
import { mlServerServiceRoutes } from './routes/mlServerServices.js';
import { conditionalAccessRoutes } from './routes/conditionalAccess.js';
import { cloudRoutes } from './routes/cloud.js';
import { directoryObjectRoutes } from './routes/directoryObjects.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** How many requests are being handled now. */
    inFlight(): number;
    /** Set when shutdown begins: responses then close their connections. */
    draining: boolean;
  }
}

export interface AppOptions {
  logger: Logger;
  https?: { cert: string; key: string } | undefined;
}

/** Answers malformed requests that never reach a route (oversized headers, bad framing) in JSON. */
function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) return;
  const [status, code, reason] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'RequestHeaderFieldsTooLarge', 'Request Header Fields Too Large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'RequestTimeout', 'Request Timeout']
        : [400, 'InvalidRequestContent', 'Bad Request'];
  const message = status === 431 ? 'The request headers are too large.' : status === 408 ? 'The request took too long to arrive.' : 'The request is not valid HTTP.';
  const body = JSON.stringify({ error: { code, message } });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** Writes the audit record of a sign-in, a management change, or a refusal. */
function auditResponse(services: Services, request: FastifyRequest, status: number): void {
  const info = request.audit;
  if (!info || info.skip || !info.tenantId) return;
  const signIn = (request.routeOptions.config as RouteAuditConfig | undefined)?.audit === 'signIn';
  const write = request.method !== 'GET' && request.method !== 'HEAD';
  if (!signIn && !(request.caller && (write || status === 403))) return;
  void services.audit.record({
    tenantId: info.tenantId,
    category: signIn ? 'SignIn' : 'Management',
    operation: info.operation ?? `${request.method} ${request.routeOptions.url ?? ''}`,
    result: status < 400 ? 'Success' : status === 403 ? 'Denied' : 'Failure',
    status,
    reason: info.reason,
    actorId: info.actorId,
    actorName: info.actorName,
    target: info.target ?? request.url.split('?', 1)[0],
    requestId: request.id,
    clientIp: request.ip,
  });
}

export async function buildApp(services: Services, options: AppOptions): Promise<FastifyInstance> {
  const serverOptions: FastifyServerOptions = {
    loggerInstance: options.logger,
    // One log line per request, written in onResponse below, without the query string.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    bodyLimit: services.config.bodyLimit,
    genReqId: () => crypto.randomUUID(),
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    requestTimeout: 60_000,
    clientErrorHandler,
    // Fastify's own answers to a malformed URL echo the URL; ours name the problem only.
    frameworkErrors: (err, request, reply) => sendError(request, reply, toTesseraError(err) ?? new TesseraError('InvalidParameter', 'The request URL is malformed.')),
    // Fastify accepts a hop count at run time; its type declaration leaves numbers out.
    trustProxy: services.config.trustProxy as boolean | string[],
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: false, maxParamLength: 512 },
  };
  // Fastify's types split HTTP and HTTPS instances; the routes are the same for both.
  const create = Fastify as unknown as (opts: FastifyServerOptions & { https?: object }) => FastifyInstance;
  const app = create(options.https ? { ...serverOptions, https: { cert: options.https.cert, key: options.https.key, minVersion: 'TLSv1.2' } } : serverOptions);
  app.decorateRequest('caller', null);
  // Set per request in onRequest (a shared object default would leak between requests).
  app.decorateRequest('audit', null as unknown as AuditInfo);
  registerBodyParsers(app);
  app.setErrorHandler((err, request, reply) => handleError(err, request, reply));
  app.setNotFoundHandler((request, reply) => sendError(request, reply, new TesseraError('RouteNotFound', `No endpoint answers ${request.method} at that path.`)));

  // Requests between arrival and response, so shutdown can wait for them before closing the store.
  let inFlight = 0;
  // One shared listener rather than a closure (and once()'s wrapper) per request.
  const ended = () => inFlight--;
  app.decorate('inFlight', () => inFlight);
  app.decorate('draining', false);
  app.addHook('onRequest', (request, reply, next) => {
    request.audit = { requestId: request.id };
    inFlight++;
    // 'close' fires once, when the response is sent or the connection dies, whichever comes first.
    reply.raw.on('close', ended);
    next();
  });

  const logInfo = options.logger.isLevelEnabled('info');
  // Callback-style hooks: these run on every request, and an async hook costs a promise each.
  app.addHook('onSend', (request, reply, payload, next) => {
    reply.header('x-ms-request-id', request.id);
    reply.header('x-content-type-options', 'nosniff');
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    // While stopping, a kept-alive connection would hold shutdown open until it times out.
    if (app.draining) reply.header('connection', 'close');
    // An answer before the whole body arrived (a refused upload): the unread rest would be
    // taken for the next request, so the connection ends with this answer.
    else if (!request.raw.complete && request.raw.readable) reply.header('connection', 'close');
    next(null, payload);
  });
  app.addHook('onResponse', (request, reply, next) => {
    auditResponse(services, request, reply.statusCode);
    if (logInfo) {
      request.log.info(
        { method: request.method, path: request.url.split('?', 1)[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 },
        'request',
      );
    }
    next();
  });

  await app.register(
    async (scoped) => {
      healthRoutes(scoped, services);
      discoveryRoutes(scoped, services);
      cloudRoutes(scoped, services);
      tokenRoutes(scoped, services);
      authorizeRoutes(scoped, services);
      deviceLoginRoutes(scoped, services);
      logoutRoutes(scoped, services);
      mlServerLoginRoutes(scoped, services);
      meRoutes(scoped, services);
      userRoutes(scoped, services);
      mfaRoutes(scoped, services);
      groupRoutes(scoped, services);
      conditionalAccessRoutes(scoped, services);
      adminRoutes(scoped, services);
      directoryRoutes(scoped, services);
      servicePrincipalRoutes(scoped, services);
      directoryObjectRoutes(scoped, services);
      applicationRoutes(scoped, services);
      armRoutes(scoped, services, [...modelOperations, ...onlineEndpointOperations, ...computeOperations, ...jobOperations]);
      nodeRoutes(scoped, services);
      await scoringRoutes(scoped, services);
      mlServerServiceRoutes(scoped, services);
    },
    { prefix: services.publicUrl.pathPrefix },
  );
  return app;
}
