/**
 * `tessera login` and `tessera logout`. Login, as az does it:
 *
 *   tessera login --server URL                           the browser (authorization code + PKCE, loopback redirect)
 *   tessera login --server URL --use-device-code         a code to enter on another device
 *   tessera login --server URL -u NAME [-p PASSWORD]     a password (prompted for, without echo, on a terminal)
 *   tessera login --server URL --service-principal -u APPID (-p SECRET | --certificate FILE) --tenant T
 *   tessera login --identity [-u CLIENT_ID]             inside a job: the compute's managed identity (server: AZUREML_SERVICE_ENDPOINT)
 *
 * Each keeps the session in the same file (see the SDK's session.ts); a replaced user
 * session is revoked at the server. Without --server, the current session's server is used.
 */
import { InvalidArgumentError, type Command } from 'commander';
import {
  loginWithBrowser,
  loginWithDeviceCode,
  loginWithManagedIdentity,
  loginWithPassword,
  loginWithServicePrincipal,
  logout,
  openSystemBrowser,
  readStoredSession,
  configDir,
  type Account,
} from '@tessera/sdk';
import { AccountProfile } from '@tessera/sdk';
import { warn } from '../log.js';
import { parseServerUrl } from '../parsers.js';
import { UsageError } from '../usageError.js';
import { canPrompt, readHidden } from '../passwordPrompt.js';
import { printing } from './action.js';

interface LoginOptions {
  server?: string;
  username?: string;
  password?: string;
  tenant?: string;
  useDeviceCode?: boolean;
  servicePrincipal?: boolean;
  identity?: boolean;
  certificate?: string;
  timeout?: number;
}

/** `--timeout`: whole seconds, 1 to 3600. */
function parseSeconds(value: string): number {
  if (!/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > 3600) throw new InvalidArgumentError('It must be a whole number of seconds from 1 to 3600.');
  return Number(value);
}

/** `--server`, or the current session's server. */
async function serverOf(options: LoginOptions): Promise<string> {
  if (options.server !== undefined) return options.server;
  const session = await readStoredSession(configDir()).catch(() => undefined);
  if (session) return session.server;
  throw new UsageError('--server URL is required: there is no earlier session to take the server from');
}

/** `-p`, or the answer to a prompt on the terminal; a usage error when there is no terminal to ask on. */
async function secretOf(given: string | undefined, what: 'password' | 'secret', flag: string): Promise<string> {
  if (given !== undefined) return given;
  if (!canPrompt(process.stdin)) {
    throw new UsageError(`${flag} is required when the standard input is not a terminal (on a terminal, tessera login prompts for the ${what} without echoing it)`);
  }
  const value = await readHidden(what === 'password' ? 'Password: ' : 'Client secret: ');
  if (value === '') throw new UsageError(`no ${what} was typed`);
  return value;
}

/** Opens the browser as az does, and says so; a failure is reported by the SDK, which prints the URL again. */
async function openBrowserAndSay(url: string): Promise<void> {
  process.stderr.write(
    `Opening a web browser at ${url}\nContinue the sign-in in the web browser. If no web browser is available or it fails to open, use tessera login --use-device-code.\n`,
  );
  await openSystemBrowser(url);
}

async function login(o: LoginOptions): Promise<Account> {
  const forms = [o.useDeviceCode && '--use-device-code', o.servicePrincipal && '--service-principal', o.identity && '--identity'].filter(Boolean);
  if (forms.length > 1) throw new UsageError(`${forms.join(' and ')} cannot be combined`);
  if (o.identity) {
    if (o.password !== undefined || o.certificate !== undefined || o.tenant !== undefined || o.timeout !== undefined) {
      throw new UsageError("--identity takes no password, certificate, tenant or timeout: the compute's identity endpoint answers (-u names a user-assigned identity's client id)");
    }
    return loginWithManagedIdentity({ server: o.server, clientId: o.username });
  }
  if (o.certificate !== undefined && !o.servicePrincipal) throw new UsageError('--certificate is for --service-principal');
  if (o.timeout !== undefined && (o.servicePrincipal || o.username !== undefined)) throw new UsageError('--timeout is for the browser and device-code sign-ins');

  if (o.servicePrincipal) {
    if (o.username === undefined) throw new UsageError("--service-principal needs -u APPID (the principal's application id)");
    if (o.tenant === undefined) throw new UsageError('--service-principal needs --tenant (the tenant id or domain)');
    if (o.password !== undefined && o.certificate !== undefined) throw new UsageError('give -p SECRET or --certificate FILE, not both');
    const server = await serverOf(o);
    if (o.certificate !== undefined) return loginWithServicePrincipal({ server, tenant: o.tenant, appId: o.username, certificateFile: o.certificate });
    return loginWithServicePrincipal({ server, tenant: o.tenant, appId: o.username, secret: await secretOf(o.password, 'secret', '-p SECRET (or --certificate FILE)') });
  }
  if (o.useDeviceCode) {
    if (o.username !== undefined || o.password !== undefined) throw new UsageError('--use-device-code signs in on the device-login page: leave out -u and -p');
    return loginWithDeviceCode({
      server: await serverOf(o),
      tenant: o.tenant,
      timeoutMs: o.timeout === undefined ? undefined : o.timeout * 1000,
      onMessage: (message) => process.stderr.write(`${message}\n`),
    });
  }
  if (o.username !== undefined) {
    const server = await serverOf(o);
    return loginWithPassword({ server, username: o.username, password: await secretOf(o.password, 'password', '-p PASSWORD'), tenant: o.tenant });
  }
  if (o.password !== undefined) throw new UsageError('-p needs -u NAME (without either, the sign-in happens in a browser)');
  return loginWithBrowser({
    server: await serverOf(o),
    tenant: o.tenant,
    openBrowser: openBrowserAndSay,
    timeoutMs: o.timeout === undefined ? undefined : o.timeout * 1000,
  });
}

/** Adds `login` and `logout` to `program`. */
export function registerLogin(program: Command): void {
  program
    .command('login')
    .description('sign in (in a browser, with a device code, a password, as a service principal or a managed identity) and keep the session in ~/.tessera (TESSERA_CONFIG_DIR)')
    .option('--server <url>', "the server, e.g. https://127.0.0.1:5080 (default: the current session's)", parseServerUrl)
    .option('-u, --username <name>', "user name (then a password, not the browser); with --service-principal, the application id")
    .option('-p, --password <password>', 'password; with --service-principal, the client secret (left out on a terminal, it is prompted for without echo)')
    .option('--tenant <tenant>', "tenant id or domain (default: the server's default tenant)")
    .option('--use-device-code', "sign in on another device: print a code to enter on the server's device-login page")
    .option('--service-principal', 'sign in as a service principal: -u APPID with -p SECRET or --certificate FILE, and --tenant')
    .option('--identity', "inside a job: sign in as the compute's managed identity (-u CLIENT_ID for a user-assigned one; server: --server or AZUREML_SERVICE_ENDPOINT)")
    .option('--certificate <file>', "with --service-principal: a PEM file holding the principal's certificate and its private key")
    .option('--timeout <seconds>', 'how long to wait for the browser or device-code sign-in (default: 300 s for the browser; a device code\'s own lifetime)', parseSeconds)
    .action(
      printing(async (o: LoginOptions) => {
        await login(o);
        // As az login shows it: the subscription in use, and who is signed in.
        const profile = new AccountProfile();
        try {
          await profile.refresh();
        } catch (err) {
          // Signed in all the same; the tenant stands in for a subscription until a refresh finds one.
          warn(`Signed in, but the subscriptions could not be listed (${err instanceof Error ? err.message : String(err)}): run tessera account list --refresh later.`);
          await profile.forget();
        }
        return profile.show();
      }),
    );

  program
    .command('logout')
    .description('revoke the session at the server and delete it here')
    .action(async () => {
      const result = await logout();
      if (!result.signedOut) process.stderr.write('Not signed in: nothing to do.\n');
      if (result.revokeError) {
        throw new Error(`signed out here, but the server did not revoke the session (it lapses after 14 days unused): ${result.revokeError.message}`);
      }
    });
}
