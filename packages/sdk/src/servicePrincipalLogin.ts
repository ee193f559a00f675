/**
 * `tessera login --service-principal`, for programs too: checks the principal's secret or
 * certificate by getting a token with it, then keeps a service-principal session (see
 * {@link ServicePrincipalSession}) that {@link CliAuthentication}, and so every `tessera`
 * command, uses from then on.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Audience } from './audience.js';
import type { Account } from './cliAuthentication.js';
import { TesseraConnectionError } from './errors.js';
import { HttpClient } from './http.js';
import { normalizeServerUrl } from './serverUrl.js';
import { ServicePrincipalAuthentication } from './servicePrincipalAuthentication.js';
import { configDir, type ServicePrincipalSession } from './session.js';
import { storeSession, unverifiedClaims } from './userSession.js';

/** What {@link loginWithServicePrincipal} needs: a secret or a certificate file, not both. */
export interface ServicePrincipalLoginOptions {
  server: string;
  /** The tenant id or domain (required, as az requires it). */
  tenant: string;
  /** The application (client) id. */
  appId: string;
  /** A client secret. It is kept in the session file (mode 0600), as az keeps it. */
  secret?: string | undefined;
  /** A PEM file with the registered certificate and its private key; its absolute path is kept, not its contents. */
  certificateFile?: string | undefined;
  configDir?: string | undefined;
  requestTimeoutMs?: number | undefined;
}

/**
 * Signs in as a service principal and keeps the session; a user session it replaces is revoked.
 * @example await loginWithServicePrincipal({ server, tenant, appId, secret })
 */
export async function loginWithServicePrincipal(options: ServicePrincipalLoginOptions): Promise<Account> {
  const server = normalizeServerUrl(options.server);
  if ((options.secret === undefined) === (options.certificateFile === undefined)) throw new TypeError('A service principal signs in with a secret or a certificate file (exactly one).');
  let certificate: string | undefined;
  let certificateFile: string | undefined;
  if (options.certificateFile !== undefined) {
    certificateFile = path.resolve(options.certificateFile);
    try {
      certificate = await fs.readFile(certificateFile, 'utf8');
    } catch (err) {
      throw new TypeError(`The certificate file ${certificateFile} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}).`);
    }
  }
  const credential = new ServicePrincipalAuthentication({
    server,
    tenantId: options.tenant,
    servicePrincipalId: options.appId,
    servicePrincipalPassword: options.secret,
    certificate,
    timeoutMs: options.requestTimeoutMs,
  });
  const token = await credential.getToken(Audience.ControlPlane);
  const claims = unverifiedClaims(token.token);
  if (typeof claims.tid !== 'string' || typeof claims.oid !== 'string') throw new TesseraConnectionError('InvalidResponse', 'The access token names no tenant (tid) or object id (oid).');
  const session: ServicePrincipalSession = {
    kind: 'servicePrincipal',
    server,
    tenantId: claims.tid,
    appId: options.appId,
    objectId: claims.oid,
    ...(options.secret !== undefined ? { secret: options.secret } : { certificateFile }),
    tokens: { [Audience.ControlPlane]: { accessToken: token.token, expiresOn: token.expiresOn } },
  };
  return storeSession(configDir(options.configDir), session, new HttpClient({ timeoutMs: options.requestTimeoutMs }));
}
