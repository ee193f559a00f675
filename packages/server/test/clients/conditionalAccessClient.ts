/**
 * @azure/identity, unmodified, from a chosen loopback source address: the credential is
 * given an `httpClient` (a documented client option) that sends every request through an
 * HTTPS agent bound to `localAddress`, so the server sees the request come from
 * 127.0.0.2 while it listens on 127.0.0.1. Prints {"token"} or {"error"} as one JSON line.
 */
import https from 'node:https';
import { ClientSecretCredential, UsernamePasswordCredential } from '@azure/identity';
import { createDefaultHttpClient, type HttpClient } from '@azure/core-rest-pipeline';

interface Args {
  mode: 'secret' | 'password';
  url: string;
  tenant: string;
  clientId: string;
  secret?: string;
  username?: string;
  password?: string;
  scope: string;
  localAddress: string;
}

const args = JSON.parse(process.env.TESSERA_CLIENT_ARGS ?? '{}') as Args;
const agent = new https.Agent({ localAddress: args.localAddress, keepAlive: false });
const inner = createDefaultHttpClient();
const httpClient: HttpClient = {
  sendRequest(request) {
    request.agent = agent;
    return inner.sendRequest(request);
  },
};

async function run(): Promise<string> {
  const options = { authorityHost: args.url, disableInstanceDiscovery: true, httpClient };
  const credential =
    args.mode === 'secret'
      ? new ClientSecretCredential(args.tenant, args.clientId, args.secret!, options)
      : new UsernamePasswordCredential(args.tenant, args.clientId, args.username!, args.password!, options);
  return (await credential.getToken(args.scope))!.token;
}

run().then(
  (token) => process.stdout.write(`${JSON.stringify({ token })}\n`),
  (err: unknown) => process.stdout.write(`${JSON.stringify({ error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) })}\n`),
);
