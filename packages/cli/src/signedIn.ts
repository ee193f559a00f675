/** The stored CLI session, as clients for the commands that call the server. */
import {
  Administration,
  AuthorizationManagement,
  CliAuthentication,
  Directory,
  ManagedIdentities,
  ResourceManagement,
  ServicePrincipals,
  TesseraClient,
  type Account,
} from '@tessera/sdk';
import { serverFor } from './settings.js';

/** The clients a signed-in command uses. */
export interface SignedIn {
  account: Account;
  auth: CliAuthentication;
  client: TesseraClient;
  directory: Directory;
  servicePrincipals: ServicePrincipals;
  admin: Administration;
  /** Subscriptions, resource groups, workspaces. */
  resources: ResourceManagement;
  /** Role definitions, role assignments, access checks. */
  rbac: AuthorizationManagement;
  /** User-assigned managed identities. */
  identities: ManagedIdentities;
}

/** Clients for the server of the stored session; throws NotSignedInError without one. */
export async function signedIn(): Promise<SignedIn> {
  const auth = new CliAuthentication();
  // The session's server, unless TESSERA_SERVER names another (warned about in serverFor).
  const account = { ...(await auth.account()) };
  account.server = serverFor(account).value;
  const client = new TesseraClient(account.server, auth);
  return {
    account,
    auth,
    client,
    directory: new Directory(client),
    servicePrincipals: new ServicePrincipals(client),
    admin: new Administration(client),
    resources: new ResourceManagement(client),
    rbac: new AuthorizationManagement(client),
    identities: new ManagedIdentities(client),
  };
}
