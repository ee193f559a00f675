/**
 * The OAuth clients that may sign users in: first-party public clients built into the
 * server, and applications registered in a tenant (identity/applications.ts). Azure
 * CLI's and Azure PowerShell's well-known ids are built in so that scripts and tools
 * written for them work unchanged. Built-in clients take loopback redirects on any port
 * and device codes; none has a web (confidential) redirect.
 */
import type { Applications, ApplicationRow } from '../identity/applications.js';
import type { Tenant } from './tenants.js';

/** What the authorization server needs to know about a client. */
export interface OAuthClient {
  clientId: string;
  name: string;
  /** Redirect URIs of a public client (PKCE required, no secret). */
  publicRedirectUris: readonly string[];
  /** Redirect URIs of a web app, which must authenticate when it redeems the code. */
  webRedirectUris: readonly string[];
  /** Device-code and password flows without a client secret. */
  allowPublicFlows: boolean;
  builtIn: boolean;
}

/** The `tessera` CLI and SDK. */
export const TESSERA_CLI_CLIENT_ID = '3c8a5a4e-0f7d-4b8e-9d3a-7e2b1c6f9a01';
/** Machine Learning Server's `/login`. */
export const ML_SERVER_CLIENT_ID = '6f1b2d3c-8e4a-4c5b-a9d7-2e0f1a3b5c02';

const LOOPBACK = ['http://localhost', 'http://127.0.0.1', 'http://[::1]'];

const BUILT_IN: OAuthClient[] = [
  { clientId: TESSERA_CLI_CLIENT_ID, name: 'Tessera CLI' },
  { clientId: ML_SERVER_CLIENT_ID, name: 'Machine Learning Server login' },
  { clientId: '04b07795-8ddb-461a-bbee-02f9e1bf7b46', name: 'Azure CLI' },
  { clientId: '1950a258-227b-4e31-a9cf-717495945fc2', name: 'Azure PowerShell' },
].map((c) => ({ ...c, publicRedirectUris: LOOPBACK, webRedirectUris: [], allowPublicFlows: true, builtIn: true }));

const byId = new Map(BUILT_IN.map((c) => [c.clientId, c]));

/** A first-party public client, by client id. */
export function findPublicClient(clientId: string): OAuthClient | undefined {
  return byId.get(clientId.toLowerCase());
}

/** A registered application as a client. */
export function clientOfApplication(row: ApplicationRow): OAuthClient {
  const uris = (json: string) => (JSON.parse(json) as string[]).filter((u) => typeof u === 'string');
  return {
    clientId: row.app_id,
    name: row.display_name,
    publicRedirectUris: uris(row.public_redirect_uris),
    webRedirectUris: uris(row.web_redirect_uris),
    allowPublicFlows: row.is_fallback_public_client === 1,
    builtIn: false,
  };
}

/** The client `clientId` names in `tenant`: built in, or registered there. */
export async function findClient(applications: Applications, tenant: Tenant, clientId: string): Promise<OAuthClient | undefined> {
  const builtIn = findPublicClient(clientId);
  if (builtIn) return builtIn;
  const row = await applications.byAppId(clientId);
  return row && row.tenant_id === tenant.id ? clientOfApplication(row) : undefined;
}
