/**
 * `tessera login --identity`, for programs too: inside a job on a compute with a managed
 * identity, gets a management token from the node's identity endpoint and keeps an
 * identity session (see {@link IdentitySession}) that {@link CliAuthentication}, and so
 * every `tessera` command, uses from then on. Nothing secret is stored.
 */
import { Audience } from './audience.js';
import type { Account } from './cliAuthentication.js';
import { TesseraConnectionError } from './errors.js';
import { HttpClient } from './http.js';
import { requestManagedIdentityToken } from './msiAuthentication.js';
import { RUN_ENV } from './runTokenAuthentication.js';
import { normalizeServerUrl } from './serverUrl.js';
import { configDir, type IdentitySession } from './session.js';
import { storeSession, unverifiedClaims } from './userSession.js';

/** What {@link loginWithManagedIdentity} takes. */
export interface ManagedIdentityLoginOptions {
  /** Default: the run's `AZUREML_SERVICE_ENDPOINT`. */
  server?: string | undefined;
  /** A user-assigned identity's client id (az's `--username`); default: the compute's default identity. */
  clientId?: string | undefined;
  configDir?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  requestTimeoutMs?: number | undefined;
}

/**
 * Signs in as the compute's managed identity and keeps the session; a user session it replaces is revoked.
 * @example await loginWithManagedIdentity({ clientId: process.env.DEFAULT_IDENTITY_CLIENT_ID })
 */
export async function loginWithManagedIdentity(options: ManagedIdentityLoginOptions = {}): Promise<Account> {
  const env = options.env ?? process.env;
  const serverText = options.server ?? env[RUN_ENV.server];
  if (serverText === undefined || serverText === '') throw new TypeError(`The server is unknown: give it (--server), or sign in inside a run, where ${RUN_ENV.server} names it.`);
  const server = normalizeServerUrl(serverText);
  const http = new HttpClient({ timeoutMs: options.requestTimeoutMs });
  const selector = options.clientId === undefined ? undefined : { type: 'client_id' as const, value: options.clientId };
  const token = await requestManagedIdentityToken(http, Audience.ControlPlane, selector, env);
  const claims = unverifiedClaims(token.token);
  const clientId = token.clientId ?? (typeof claims.appid === 'string' ? claims.appid : typeof claims.azp === 'string' ? claims.azp : options.clientId);
  if (typeof claims.tid !== 'string' || typeof claims.oid !== 'string' || clientId === undefined) {
    throw new TesseraConnectionError('InvalidResponse', "The identity's access token names no tenant (tid), object id (oid) or client id.");
  }
  const session: IdentitySession = {
    kind: 'identity',
    server,
    tenantId: claims.tid,
    clientId,
    objectId: claims.oid,
    ...(options.clientId !== undefined ? { requestedClientId: options.clientId } : {}),
    tokens: { [Audience.ControlPlane]: { accessToken: token.token, expiresOn: token.expiresOn } },
  };
  return storeSession(configDir(options.configDir), session, http);
}
