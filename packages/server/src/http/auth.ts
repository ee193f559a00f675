/**
 * Bearer authentication and the per-route permission check. A verified token (cached)
 * is not enough: the principal must still exist and be enabled, asked per request, so a
 * disabled or deleted account stops on its next request. Permissions come from the
 * current role assignments, never from the token.
 */
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { TesseraError } from '../errors.js';
import type { Services } from '../services.js';
import type { AudienceId } from '../tokens/audiences.js';
import type { VerifiedToken } from '../tokens/verify.js';
import '../audit/requestAudit.js';
import { runTokenAllows } from '../compute/runTokens.js';

/** Who is calling, once authenticated. */
export interface Caller {
  objectId: string;
  tenantId: string;
  kind: 'user' | 'app';
  displayName: string;
  username: string | null;
  /** How refusals name the caller: a user's name or a service principal's application id. */
  clientName: string;
  token: VerifiedToken;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
  }
}

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

function challenge(message: string, bearerError: 'invalid_token' | 'invalid_request' | null): TesseraError {
  return new TesseraError('InvalidAuthenticationToken', message, { bearerError });
}

/** The refusal of a run token outside what it may do. */
export function runTokenRefused(caller: { clientName: string; objectId: string }, what: string): TesseraError {
  return new TesseraError('AuthorizationFailed', `The client '${caller.clientName}' with object id '${caller.objectId}' presented a run token, which acts for its run alone: it may not ${what}.`);
}

/**
 * A preHandler that requires a valid bearer token for `audience`. A run token passes only
 * where `allowRunTokens` is set (the management API, whose {@link authorize} restricts
 * it), and only while its run is active; elsewhere it is refused with 403.
 */
export function requireAuth(services: Services, audience: AudienceId = 'management', options: { allowRunTokens?: boolean } = {}): preHandlerAsyncHookHandler {
  return async function authenticate(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const header = request.headers.authorization;
    if (header === undefined || header === '') throw challenge('Authentication is required: send Authorization: Bearer <token>.', null);
    const match = BEARER.exec(header);
    if (!match) throw challenge('The Authorization header must be "Bearer <token>".', 'invalid_request');
    const token = await services.verifier.verify(match[1]!);
    if (token.audience !== audience) throw challenge(`The access token is invalid: it is not for this API's audience.`, 'invalid_token');
    const state = await services.principals.get(token.objectId);
    if (!state.exists || !state.enabled || state.kind !== token.kind) throw challenge('The access token is invalid: its principal is disabled or deleted.', 'invalid_token');
    request.audit.tenantId = token.tenantId;
    request.audit.actorId = token.objectId;
    request.audit.actorName = state.clientName;
    if (token.run) {
      if (!(await services.compute.runs.isActive(token.run.runRowId))) throw challenge('The access token is invalid: it is a run token and its run has ended.', 'invalid_token');
      if (!options.allowRunTokens) throw runTokenRefused({ clientName: state.clientName, objectId: token.objectId }, `call ${request.method} ${request.routeOptions.url ?? ''}`);
    }
    request.caller = {
      objectId: token.objectId,
      tenantId: token.tenantId,
      kind: token.kind,
      displayName: state.displayName,
      username: state.username,
      clientName: state.clientName,
      token,
    };
  };
}

/** The authenticated caller; only call behind {@link requireAuth}. */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new Error('route is missing requireAuth');
  return request.caller;
}

/** Throws 403 AuthorizationFailed unless the caller may perform `action` at `scope`. */
export async function authorize(services: Services, request: FastifyRequest, action: string, scope: string): Promise<Caller> {
  const caller = callerOf(request);
  request.audit.operation = action;
  request.audit.target = scope;
  const run = caller.token.run;
  if (run) {
    const verdict = runTokenAllows(run.scope, action, scope);
    if (!verdict.allowed) throw runTokenRefused(caller, `perform action '${action}' over scope '${scope}'`);
    if (!verdict.needsRbac) return caller;
  }
  const decision = await services.access.decide(caller.objectId, action, scope);
  if (!decision.allowed) {
    throw new TesseraError(
      'AuthorizationFailed',
      `The client '${caller.clientName}' with object id '${caller.objectId}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
    );
  }
  return caller;
}
