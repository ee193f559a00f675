/**
 * Runs one real client library against a Tessera server, as a user's program would, in
 * its own process (so NODE_EXTRA_CA_CERTS applies), and prints {"token": …} or
 * {"error": …} as one JSON line. Arguments arrive as JSON in TESSERA_CLIENT_ARGS.
 */
import { ClientCertificateCredential, ClientSecretCredential, UsernamePasswordCredential } from '@azure/identity';
import { ConfidentialClientApplication, PublicClientApplication } from '@azure/msal-node';
import * as oidc from 'openid-client';

interface Args {
  mode: string;
  url: string;
  tenant: string;
  clientId: string;
  secret?: string;
  certificatePem?: string;
  username?: string;
  password?: string;
  scope: string;
}

const args = JSON.parse(process.env.TESSERA_CLIENT_ARGS ?? '{}') as Args;
const host = new URL(args.url).host;

async function run(): Promise<string> {
  switch (args.mode) {
    case 'identity-secret': {
      const credential = new ClientSecretCredential(args.tenant, args.clientId, args.secret!, { authorityHost: args.url, disableInstanceDiscovery: true });
      return (await credential.getToken(args.scope))!.token;
    }
    case 'identity-certificate': {
      const credential = new ClientCertificateCredential(args.tenant, args.clientId, { certificate: args.certificatePem! }, { authorityHost: args.url, disableInstanceDiscovery: true });
      return (await credential.getToken(args.scope))!.token;
    }
    case 'identity-password': {
      const credential = new UsernamePasswordCredential(args.tenant, args.clientId, args.username!, args.password!, { authorityHost: args.url, disableInstanceDiscovery: true });
      return (await credential.getToken(args.scope))!.token;
    }
    case 'msal-confidential': {
      const app = new ConfidentialClientApplication({ auth: { clientId: args.clientId, authority: `${args.url}/${args.tenant}`, clientSecret: args.secret!, knownAuthorities: [host] } });
      const first = await app.acquireTokenByClientCredential({ scopes: [args.scope] });
      // A second call must come from MSAL's cache: it only caches what matches the scope it asked.
      const second = await app.acquireTokenByClientCredential({ scopes: [args.scope] });
      if (!first || !second || second.accessToken !== first.accessToken || !second.fromCache) throw new Error('msal did not cache the token');
      return first.accessToken;
    }
    case 'msal-password': {
      const app = new PublicClientApplication({ auth: { clientId: args.clientId, authority: `${args.url}/${args.tenant}`, knownAuthorities: [host] } });
      const result = await app.acquireTokenByUsernamePassword({ scopes: [args.scope], username: args.username!, password: args.password! });
      const accounts = await app.getTokenCache().getAllAccounts();
      const silent = await app.acquireTokenSilent({ account: accounts[0]!, scopes: [args.scope], forceRefresh: true });
      if (!silent || silent.accessToken === result!.accessToken) throw new Error('msal could not refresh silently');
      return silent.accessToken;
    }
    case 'openid-client': {
      const config = await oidc.discovery(new URL(`${args.url}/${args.tenant}/v2.0`), args.clientId, args.secret!);
      const tokens = await oidc.clientCredentialsGrant(config, { scope: args.scope });
      return tokens.access_token;
    }
    case 'openid-client-basic': {
      const config = await oidc.discovery(new URL(`${args.url}/${args.tenant}/v2.0`), args.clientId, {}, oidc.ClientSecretBasic(args.secret!));
      const tokens = await oidc.clientCredentialsGrant(config, { scope: args.scope });
      return tokens.access_token;
    }
    default:
      throw new Error(`unknown mode ${args.mode}`);
  }
}

run().then(
  (token) => process.stdout.write(JSON.stringify({ token }) + '\n'),
  (err: unknown) => {
    process.stdout.write(JSON.stringify({ error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }) + '\n');
    process.exitCode = 1;
  },
);
