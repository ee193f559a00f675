/**
 * @azure/msal-node's device-code sign-in, unmodified, in its own process (so
 * NODE_EXTRA_CA_CERTS applies), for the MFA suite: prints one JSON line with the user
 * code and verification URI when MSAL asks for them to be shown, waits while the test
 * signs in with Chromium (password, then a TOTP code), then prints the result:
 * {"token", "idToken", "fromCache"} or {"error"}. Arguments arrive as JSON in
 * TESSERA_CLIENT_ARGS: url, tenant, clientId, scope.
 */
import { PublicClientApplication } from '@azure/msal-node';

const args = JSON.parse(process.env.TESSERA_CLIENT_ARGS ?? '{}') as { url: string; tenant: string; clientId: string; scope: string };
const say = (value: object) => process.stdout.write(JSON.stringify(value) + '\n');

try {
  const app = new PublicClientApplication({ auth: { clientId: args.clientId, authority: `${args.url}/${args.tenant}`, knownAuthorities: [new URL(args.url).host] } });
  const result = await app.acquireTokenByDeviceCode({
    scopes: [args.scope],
    deviceCodeCallback: (response) => say({ userCode: response.userCode, verificationUri: response.verificationUri }),
  });
  if (!result) throw new Error('msal returned no result');
  const [account] = await app.getTokenCache().getAllAccounts();
  const silent = account ? await app.acquireTokenSilent({ account, scopes: [args.scope] }) : null;
  say({ token: result.accessToken, idToken: result.idToken, fromCache: silent?.accessToken === result.accessToken });
} catch (err) {
  say({ error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
}
