/**
 * `tessera ad sp …`: service principals as az has them. `create-for-rbac` makes one with
 * a secret (printed once, in az's shape or, with --sdk-auth, the SDK-auth file's shape
 * pointing at this server) and optionally role assignments; `show`, `list`, `delete`;
 * and `credential reset|list|delete` for secrets and certificates.
 */
import type { Command } from 'commander';
import { TesseraApiError, type NewPasswordCredential, type ServicePrincipal } from '@tessera/sdk';
import { readCertificateArgument, readCertificateFile } from '../fileArguments.js';
import { parseDateTime, parseGuid, parseScopes, parseSubscription, parseTop, parseYears } from '../parsers.js';
import { resolveRole, subscriptionOf } from '../resolve.js';
import { signedIn, type SignedIn } from '../signedIn.js';
import { UsageError } from '../usageError.js';
import { print, printing } from './action.js';
import { warn } from '../log.js';

interface CreateForRbacOptions {
  name: string;
  role?: string;
  scopes?: string[];
  years?: number;
  sdkAuth?: boolean;
  subscription?: string;
}

interface ResetOptions {
  id: string;
  append?: boolean;
  years?: number;
  endDate?: string;
  displayName?: string;
  cert?: string;
  certFile?: string;
}

function say(text: string): void {
  process.stderr.write(`${text}\n`);
}

const PROTECT_WARNING = 'The output includes credentials that you must protect. Do not put them in your code or check them into source control.';

/** The end of a credential that lives `years` from now (calendar years, UTC). */
function yearsFromNow(years: number): string {
  const end = new Date();
  end.setUTCFullYear(end.getUTCFullYear() + years);
  return end.toISOString();
}

function endDateOf(o: { years?: number; endDate?: string }): string | undefined {
  if (o.years !== undefined && o.endDate !== undefined) throw new UsageError('give --years or --end-date, not both.');
  return o.endDate ?? (o.years === undefined ? undefined : yearsFromNow(o.years));
}

/** The SDK-auth file (the JSON `az ad sp create-for-rbac --sdk-auth` printed), pointing at this server. */
function sdkAuth(server: string, appId: string, secret: string, subscriptionId: string, tenantId: string): Record<string, string> {
  return {
    clientId: appId,
    clientSecret: secret,
    subscriptionId,
    tenantId,
    activeDirectoryEndpointUrl: server,
    resourceManagerEndpointUrl: `${server}/`,
    activeDirectoryGraphResourceId: `${server}/`,
    sqlManagementEndpointUrl: `${server}/`,
    galleryEndpointUrl: `${server}/`,
    managementEndpointUrl: `${server}/`,
  };
}

/**
 * Runs `removeOld` (removing the credentials a new one replaces) and resolves with
 * `result`. If the removal fails, `result` is printed anyway, since a new secret is shown
 * only this once, and the failure is reported (exit status 1).
 */
async function replacing(result: unknown, command: Command, removeOld: () => Promise<void>): Promise<unknown> {
  try {
    await removeOld();
    return result;
  } catch (err) {
    print(result, command);
    const reason = err instanceof TesseraApiError ? `(${err.code}) ${err.message}` : err instanceof Error ? err.message : String(err);
    throw new Error(`the new credential was added (printed above), but removing the old ones failed: ${reason}`);
  }
}

/** Creates the principal, or takes the one of that name as az does (its secrets are replaced once all else has worked). */
async function createOrReuse(s: SignedIn, name: string): Promise<{ sp: ServicePrincipal; created: boolean }> {
  try {
    return { sp: await s.servicePrincipals.create(name), created: true };
  } catch (err) {
    if (!(err instanceof TesseraApiError && err.code === 'Conflict')) throw err;
    const sp = await s.servicePrincipals.get(name);
    say(`Found an existing service principal named '${sp.displayName}' (appId ${sp.appId}): its secrets will be replaced by a new one.`);
    return { sp, created: false };
  }
}

async function createForRbac(o: CreateForRbacOptions, command: Command): Promise<unknown> {
  const scopes = o.scopes ?? [];
  if ((o.role === undefined) !== (scopes.length === 0)) throw new UsageError('to create role assignments, give both --role and --scopes.');
  const s = await signedIn();
  // What can be wrong with the request is found before anything is created.
  const roles = o.role === undefined ? [] : await Promise.all(scopes.map((scope) => resolveRole(s, o.role!, scope)));
  const subscriptionId = o.sdkAuth ? await subscriptionOf(s, o.subscription) : undefined;
  const endDateTime = o.years === undefined ? undefined : yearsFromNow(o.years);

  const { sp, created } = await createOrReuse(s, o.name);
  let secret: NewPasswordCredential | undefined;
  try {
    secret = await s.servicePrincipals.addPassword(sp.id, { displayName: 'rbac', endDateTime });
    for (const [i, scope] of scopes.entries()) {
      const roleName = roles[i]!.properties.roleName;
      say(`Creating '${roleName}' role assignment under scope '${scope}'`);
      try {
        await s.rbac.createRoleAssignment(scope, { roleDefinitionId: roles[i]!.id, principalId: sp.id, principalType: 'ServicePrincipal' });
      } catch (err) {
        // A reused principal may have it already (the id is new, so a conflict is that): run again, as az is.
        if (created || !(err instanceof TesseraApiError && err.code === 'Conflict')) throw err;
        say(`  (it has '${roleName}' there already)`);
      }
    }
  } catch (err) {
    // Leave nothing half made: a principal or secret that was never shown is of no use.
    if (created) await s.servicePrincipals.delete(sp.id).catch(() => undefined);
    else if (secret) await s.servicePrincipals.removePassword(sp.id, secret.keyId).catch(() => undefined);
    throw err;
  }
  warn(PROTECT_WARNING);
  const tenant = s.account.tenantId;
  const result = o.sdkAuth
    ? sdkAuth(s.account.server, sp.appId, secret.secretText, subscriptionId!, tenant)
    : { appId: sp.appId, displayName: sp.displayName, password: secret.secretText, tenant };
  return replacing(result, command, async () => {
    for (const old of sp.passwordCredentials) await s.servicePrincipals.removePassword(sp.id, old.keyId);
  });
}

async function resetCredential(o: ResetOptions, command: Command): Promise<unknown> {
  if (o.cert !== undefined && o.certFile !== undefined) throw new UsageError('give --cert or --cert-file, not both.');
  const certificate = o.cert !== undefined ? readCertificateArgument(o.cert) : o.certFile !== undefined ? readCertificateFile(o.certFile) : undefined;
  if (certificate !== undefined && (o.years !== undefined || o.endDate !== undefined)) throw new UsageError('a certificate credential lasts as long as the certificate: --years and --end-date apply to secrets only.');
  const endDateTime = endDateOf(o);
  const s = await signedIn();
  const sp = await s.servicePrincipals.get(o.id);
  const tenant = s.account.tenantId;
  if (certificate === undefined) {
    // Without --append the server replaces the other secrets in the same transaction: a refused reset changes nothing.
    const secret = await s.servicePrincipals.addPassword(sp.id, { displayName: o.displayName, endDateTime, removeOthers: !o.append });
    warn(PROTECT_WARNING);
    return { appId: sp.appId, password: secret.secretText, tenant, keyId: secret.keyId, endDateTime: secret.endDateTime };
  }
  // Likewise the new certificate is in place before the others go.
  const key = await s.servicePrincipals.addKey(sp.id, certificate, o.displayName);
  const result = { appId: sp.appId, tenant, keyId: key.keyId, customKeyIdentifier: key.customKeyIdentifier, startDateTime: key.startDateTime, endDateTime: key.endDateTime };
  return replacing(result, command, async () => {
    if (!o.append) for (const old of sp.keyCredentials) await s.servicePrincipals.removeKey(sp.id, old.keyId);
  });
}

/** Adds `sp` to the `ad` command. */
export function registerAdSp(ad: Command): void {
  const sp = ad.command('sp').description('service principals: identities for automation');

  sp.command('create-for-rbac')
    .description('create a service principal with a secret, and optionally role assignments; prints the secret (only this once)')
    .requiredOption('-n, --name <name>', 'display name (an existing principal of that name is reused and its secrets replaced)')
    .option('--role <role>', 'role to assign (name or id); needs --scopes')
    .option('--scopes <scopes>', 'scopes to assign the role at, space-separated or repeated; needs --role', parseScopes)
    .option('--years <n>', 'years the secret is valid (default 1; the server allows at most 2)', parseYears)
    .option('--sdk-auth', 'print the SDK-auth JSON (clientId, clientSecret, subscriptionId, tenantId, endpoint URLs of this server)')
    .option('--subscription <id-or-name>', "subscription for --sdk-auth (default: the account's one)", parseSubscription)
    .action(printing(createForRbac));

  sp.command('show')
    .description('show a service principal (its credentials without secrets)')
    .requiredOption('--id <id>', 'object id, appId or display name')
    .action(printing(async (o: { id: string }) => (await signedIn()).servicePrincipals.get(o.id), 'servicePrincipal'));

  sp.command('list')
    .description('list service principals')
    .option('--display-name <name>', 'only those whose display name starts with this (case-insensitive)')
    .option('--top <n>', 'at most this many (1 to 999)', parseTop)
    .action(
      printing(async (o: { displayName?: string; top?: number }) => {
        const all = await (await signedIn()).servicePrincipals.list(o.top);
        const prefix = o.displayName?.toLowerCase();
        return prefix === undefined ? all : all.filter((p) => p.displayName.toLowerCase().startsWith(prefix));
      }, 'servicePrincipal'),
    );

  sp.command('delete')
    .description('delete a service principal, its credentials and its role assignments')
    .requiredOption('--id <id>', 'object id, appId or display name')
    .action(printing(async (o: { id: string }) => (await signedIn()).servicePrincipals.delete(o.id)));

  const credential = sp.command('credential').description("a service principal's secrets and certificates");

  credential
    .command('reset')
    .description('add a new secret (printed only this once) or certificate, removing the others of its kind unless --append')
    .requiredOption('--id <id>', 'object id, appId or display name')
    .option('--append', 'keep the existing credentials')
    .option('--years <n>', 'years the secret is valid (default 1; the server allows at most 2)', parseYears)
    .option('--end-date <date>', 'when the secret stops working (ISO 8601)', parseDateTime)
    .option('--display-name <name>', "the credential's display name")
    .option('--cert <cert>', 'register a certificate instead: PEM or base64 DER inline, or @file (only the certificate is sent, never a key)')
    .option('--cert-file <path>', 'register the certificate in this PEM or DER file')
    .action(printing(resetCredential));

  credential
    .command('list')
    .description("list a service principal's secrets (hint and expiry only), or with --cert its certificates")
    .requiredOption('--id <id>', 'object id, appId or display name')
    .option('--cert', 'list certificates')
    .action(
      printing(async (o: { id: string; cert?: boolean }) => {
        const found = await (await signedIn()).servicePrincipals.get(o.id);
        return o.cert ? found.keyCredentials : found.passwordCredentials;
      }),
    );

  credential
    .command('delete')
    .description('delete a secret or certificate by its key id')
    .requiredOption('--id <id>', 'object id, appId or display name')
    .requiredOption('--key-id <keyId>', 'the credential\'s keyId (from credential list)', parseGuid)
    .option('--cert', 'the credential is a certificate (found by its key id anyway)')
    .action(
      printing(async (o: { id: string; keyId: string; cert?: boolean }) => {
        const s = await signedIn();
        const found = await s.servicePrincipals.get(o.id);
        const isCert = o.cert || found.keyCredentials.some((k) => k.keyId === o.keyId);
        if (isCert) await s.servicePrincipals.removeKey(found.id, o.keyId);
        else await s.servicePrincipals.removePassword(found.id, o.keyId);
      }),
    );
}
