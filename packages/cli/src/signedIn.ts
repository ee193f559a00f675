/** The stored CLI session, as clients for the commands that call the server. */
import { Administration, CliAuthentication, Directory, TesseraClient } from '@tessera/sdk';

/** The clients a signed-in command uses. */
export interface SignedIn {
  auth: CliAuthentication;
  client: TesseraClient;
  directory: Directory;
  admin: Administration;
}

/** Clients for the server of the stored session; throws NotSignedInError without one. */
export async function signedIn(): Promise<SignedIn> {
  const auth = new CliAuthentication();
  const { server } = await auth.account();
  const client = new TesseraClient(server, auth);
  return { auth, client, directory: new Directory(client), admin: new Administration(client) };
}
