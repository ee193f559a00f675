/**
 * The node's managed-identity endpoint, on 127.0.0.1 only, in the two shapes
 * @azure/identity (MSAL) reads (../shared/WIRE.md):
 *
 *   App Service   GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=R[&client_id|object_id|mi_res_id]
 *                 with X-IDENTITY-HEADER: {IDENTITY_HEADER}
 *   Azure ML      GET {MSI_ENDPOINT}?api-version=2017-09-01&resource=R[&clientid]
 *                 with Metadata: true and secret: {MSI_SECRET}
 *
 * Each run has its own secret (`tsms_…`, 256 bits), known only to the run's environment
 * and, as its SHA-256, to this endpoint while the run lasts. The token itself comes from
 * the server, asked with the node's own credential for the run it holds.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { hashSecret } from '../../crypto/secrets.js';
import type { NodeLink } from './link.js';
import { NodeLinkRefusal } from './link.js';

export const IDENTITY_PATH = '/metadata/identity/oauth2/token';

function send(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  response.end(text);
}

function refuse(response: http.ServerResponse, status: number, error: string, description: string): void {
  send(response, status, { error, error_description: description });
}

export class IdentityEndpoint {
  private server: http.Server | undefined;
  /** SHA-256 of a run's secret → the run. */
  private readonly secrets = new Map<string, string>();
  private url = '';

  constructor(private readonly link: NodeLink) {}

  async start(): Promise<void> {
    const server = http.createServer((request, response) => void this.handle(request, response));
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${IDENTITY_PATH}`;
  }

  /** The endpoint's URL (IDENTITY_ENDPOINT and MSI_ENDPOINT). */
  get endpoint(): string {
    return this.url;
  }

  /** Lets the holder of `secret` get tokens for the run, until {@link forget}. */
  allow(secret: string, runRowId: string): void {
    this.secrets.set(hashSecret(secret), runRowId);
  }

  forget(secret: string): void {
    this.secrets.delete(hashSecret(secret));
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    request.resume();
    try {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      if (url.pathname !== IDENTITY_PATH) return refuse(response, 404, 'not_found', `The identity endpoint is ${IDENTITY_PATH}.`);
      if (request.method !== 'GET') return refuse(response, 405, 'invalid_request', 'The identity endpoint answers GET only.');
      const appService = request.headers['x-identity-header'];
      const mlSecret = request.headers.secret;
      let secret: string;
      let identity: { clientId?: string; objectId?: string; resourceId?: string };
      const q = url.searchParams;
      if (typeof appService === 'string') {
        secret = appService;
        identity = { clientId: q.get('client_id') ?? undefined, objectId: q.get('object_id') ?? q.get('principal_id') ?? undefined, resourceId: q.get('mi_res_id') ?? undefined };
      } else if (typeof mlSecret === 'string') {
        if (String(request.headers.metadata).toLowerCase() !== 'true') return refuse(response, 400, 'invalid_request', "The request needs the header 'Metadata: true'.");
        secret = mlSecret;
        identity = { clientId: q.get('clientid') ?? q.get('client_id') ?? undefined };
      } else {
        return refuse(response, 401, 'unauthorized', "The request needs the run's secret: X-IDENTITY-HEADER (IDENTITY_HEADER) or secret (MSI_SECRET).");
      }
      const runRowId = secret.length <= 128 ? this.secrets.get(hashSecret(secret)) : undefined;
      if (runRowId === undefined) return refuse(response, 401, 'unauthorized', 'The secret is not that of a running job on this node.');
      const resource = q.get('resource');
      if (!resource) return refuse(response, 400, 'invalid_request', "The parameter 'resource' is required.");
      for (const value of [identity.clientId, identity.objectId, identity.resourceId]) {
        if (value !== undefined && (value.length > 600 || /[\u0000-\u001f]/.test(value))) return refuse(response, 400, 'invalid_request', 'The identity given is not an id.');
      }
      const answer = await this.link.identityToken(runRowId, { resource, ...identity });
      send(response, 200, { ...answer, expires_on: answer.expires_on, resource });
    } catch (err) {
      if (err instanceof NodeLinkRefusal) return refuse(response, err.status === 404 ? 401 : 400, err.status === 404 ? 'unauthorized' : 'invalid_request', err.message);
      refuse(response, 502, 'server_unreachable', 'The node could not get a token from the server; try again.');
    }
  }
}
