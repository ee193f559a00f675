/**
 * First-party public clients: the applications allowed to sign users in with a
 * password or a refresh token. Azure CLI's and Azure PowerShell's well-known ids are
 * accepted so that scripts written for them work unchanged. (Registered applications
 * and service principals come with the service-principal work.)
 */

export interface PublicClient {
  clientId: string;
  name: string;
}

/** The `tessera` CLI and SDK. */
export const TESSERA_CLI_CLIENT_ID = '3c8a5a4e-0f7d-4b8e-9d3a-7e2b1c6f9a01';
/** Machine Learning Server's `/login`. */
export const ML_SERVER_CLIENT_ID = '6f1b2d3c-8e4a-4c5b-a9d7-2e0f1a3b5c02';

const CLIENTS: PublicClient[] = [
  { clientId: TESSERA_CLI_CLIENT_ID, name: 'Tessera CLI' },
  { clientId: ML_SERVER_CLIENT_ID, name: 'Machine Learning Server login' },
  { clientId: '04b07795-8ddb-461a-bbee-02f9e1bf7b46', name: 'Azure CLI' },
  { clientId: '1950a258-227b-4e31-a9cf-717495945fc2', name: 'Azure PowerShell' },
];

const byId = new Map(CLIENTS.map((c) => [c.clientId, c]));

export function findPublicClient(clientId: string): PublicClient | undefined {
  return byId.get(clientId.toLowerCase());
}
