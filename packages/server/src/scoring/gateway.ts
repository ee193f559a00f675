/**
 * The scoring gateway: find the service in the in-memory view, check the credential its
 * auth mode asks for, queue, run, answer. Key auth is one SHA-256 and one map lookup; a
 * service token is verified once and cached; an access token costs a cached verification
 * and a cached RBAC decision. The management store is never read here.
 *
 * ML Server's `/api/{name}/{version}` reuses {@link ScoringGateway.findMlServer} and
 * {@link ScoringGateway.outcome} after its own authentication.
 */
import crypto from 'node:crypto';
import type { Clock } from '../clock.js';
import { TesseraError } from '../errors.js';
import type { AccessControl } from '../access/assignments.js';
import type { PrincipalCache } from '../identity/principalCache.js';
import type { TokenVerifier } from '../tokens/verify.js';
import { SCORE_ACTION } from '../workspace/webServices.js';
import type { Deployments } from './deployments.js';
import type { ScoreOutcome } from './runtimes/types.js';
import type { KeyUsage } from './keyUsage.js';
import type { ServiceDirectory, ServiceEntry } from './serviceDirectory.js';
import { ServiceTokens } from './serviceTokens.js';
import { swaggerOf } from './swagger.js';

const BEARER = /^Bearer +(\S+) *$/i;
const MAX_MESSAGE = 2000;

function unauthorized(message: string, bearerError: 'invalid_token' | 'invalid_request' | null = 'invalid_token'): TesseraError {
  return new TesseraError('InvalidAuthenticationToken', message, { bearerError });
}

/** One-shot `crypto.hash` (Node ≥ 20.12) skips building a Hash object per request. */
const sha256Hex: (text: string) => string =
  typeof crypto.hash === 'function' ? (text) => crypto.hash('sha256', text, 'hex') : (text) => crypto.createHash('sha256').update(text).digest('hex');

const MISSING = unauthorized('Authentication is required: send Authorization: Bearer <key or token>.', null);

export class ScoringGateway {
  constructor(
    private readonly directory: ServiceDirectory,
    private readonly deployments: Deployments,
    private readonly tokens: ServiceTokens,
    private readonly verifier: TokenVerifier,
    private readonly principals: PrincipalCache,
    private readonly access: AccessControl,
    private readonly keyUsage: KeyUsage,
    private readonly clock: Clock,
    private readonly publicUrl: () => string,
  ) {}

  /** The service at `/api/v1/service/{name}`; 404 when there is none. */
  find(name: string): ServiceEntry {
    const entry = name.length <= 64 ? this.directory.get(name.toLowerCase()) : undefined;
    if (!entry || entry.kind !== 'azureml') throw new TesseraError('ResourceNotFound', 'No web service has that name.');
    return entry;
  }

  /** An ML Server service by name and version; 404 when there is none. */
  findMlServer(name: string, version: string): ServiceEntry {
    const entry = name.length <= 64 && version.length <= 64 ? this.directory.get(`${name.toLowerCase()}/${version}`) : undefined;
    if (!entry) throw new TesseraError('ResourceNotFound', `No service '${name.slice(0, 64)}' with that version is published.`);
    return entry;
  }

  /** Throws 401 (missing or invalid credential) or 403 (no score permission) unless `authorization` may score `entry`. */
  async authenticate(entry: ServiceEntry, authorization: string | undefined): Promise<void> {
    if (entry.authMode === 'none') return;
    if (authorization === undefined || authorization === '') throw MISSING;
    const match = BEARER.exec(authorization);
    if (!match) throw unauthorized('The Authorization header must be "Bearer <key or token>".', 'invalid_request');
    const credential = match[1]!;
    switch (entry.authMode) {
      case 'key': {
        const hash = sha256Hex(credential);
        const key = entry.keyByHash.get(hash);
        const now = this.clock.now();
        if (!key || (key.expiresAt !== null && key.expiresAt <= now)) throw unauthorized('The key is invalid or expired for this service.');
        this.keyUsage.touch(entry.id, hash, now);
        return;
      }
      case 'token': {
        const ok = await this.tokens.verify(credential, { serviceId: entry.id, audience: this.audienceOf(entry), tenantId: entry.tenantId });
        if (!ok) throw unauthorized('The service token is invalid, expired, or for another service.');
        return;
      }
      case 'aad': {
        const token = await this.verifier.verify(credential);
        if (token.run) throw new TesseraError('AuthorizationFailed', 'A run token acts for its run alone: it cannot score web services.');
        // A token for the workspace data plane (https://ml.azure.com or Tessera's own URI),
        // as Azure ML's aad_token endpoints take: a management token is not a scoring token.
        if (token.audience !== 'workspace') throw unauthorized('The access token is not for the workspace audience (api://tessera/workspace or https://ml.azure.com): ask for a token for that resource.');
        if (token.tenantId !== entry.tenantId) throw unauthorized("The access token is invalid: it is not from this service's tenant.");
        const state = await this.principals.get(token.objectId);
        if (!state.exists || !state.enabled || state.kind !== token.kind) throw unauthorized('The access token is invalid: its principal is disabled or deleted.');
        const decision = await this.access.decide(token.objectId, SCORE_ACTION, entry.resourceId);
        if (!decision.allowed) {
          throw new TesseraError('AuthorizationFailed', `The client '${state.clientName}' with object id '${token.objectId}' does not have authorization to perform action '${SCORE_ACTION}' over scope '${entry.resourceId}'.`);
        }
        return;
      }
    }
  }

  /**
   * Scores `body` (a JSON document, as sent) on the service: the runtime's JSON answer.
   * 409 not Healthy, 503 queue full, 400 refused input, 502 crash, 504 timeout.
   */
  async run(entry: ServiceEntry, body: string): Promise<string> {
    const outcome = await this.outcome(entry, body);
    if (outcome.ok) return outcome.json;
    throw this.failure(entry, outcome);
  }

  /**
   * Runs `body` and gives the runtime's outcome as it is, for callers that answer a
   * refused input in their own shape (ML Server's `success: false`). Still throws 409 and
   * 503: those are the gateway's, not the runtime's.
   */
  async outcome(entry: ServiceEntry, body: string): Promise<ScoreOutcome> {
    if (entry.state === 'Failed') throw new TesseraError('Conflict', `The web service '${entry.name}' is not Healthy (Failed): ${entry.error ?? 'its deployment failed'}`);
    const queue = this.deployments.queueOf(entry);
    // A free slot (the common case) runs at once, without the queue's promise and closure.
    if (queue.tryEnter()) {
      try {
        return await this.score(entry, body, entry.scoringTimeoutMs);
      } finally {
        queue.leave();
      }
    }
    return queue.run(entry.scoringTimeoutMs, (remainingMs) => this.score(entry, body, remainingMs));
  }

  /** The error a failed outcome is answered with: 400 refused input, 504 timeout, 502 crash. */
  failure(entry: ServiceEntry, outcome: Extract<ScoreOutcome, { ok: false }>): TesseraError {
    const message = outcome.message.length > MAX_MESSAGE ? `${outcome.message.slice(0, MAX_MESSAGE)}…` : outcome.message;
    switch (outcome.reason) {
      case 'client':
        return new TesseraError('InvalidRequestContent', `The service refused the input: ${message}`);
      case 'timeout':
        return new TesseraError('GatewayTimeout', `The request ran past the service's scoring timeout (${entry.scoringTimeoutMs} ms): ${message}`);
      default:
        return new TesseraError('BadGateway', `The service's worker failed and is being restarted: ${message}`);
    }
  }

  private async score(entry: ServiceEntry, body: string, remainingMs: number): Promise<ScoreOutcome> {
    const running = this.deployments.acquireNow(entry) ?? (await this.deployments.acquire(entry));
    try {
      return await running.runtime.score({ body }, Math.max(1, remainingMs));
    } finally {
      this.deployments.release(running);
    }
  }

  /** The service's OpenAPI document. */
  swagger(entry: ServiceEntry): Record<string, unknown> {
    return swaggerOf(entry, `${this.publicUrl()}/api/v1/service/${entry.name}`);
  }

  /** The audience of the service's tokens (computed once the public URL is known). */
  audienceOf(entry: ServiceEntry): string {
    entry.audience ??= ServiceTokens.audience(this.publicUrl(), entry.name);
    return entry.audience;
  }
}
