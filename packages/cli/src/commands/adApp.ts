/**
 * `tessera ad app …`: registered applications as az has them. `create`, `list`, `show`,
 * `update`, `delete`, and `credential reset` (a new secret, printed once in az's
 * `{appId, password, tenant}` shape). Each application has a service principal with the
 * same appId, made and removed with it: it holds the secrets and is what roles name.
 */
import type { Command } from 'commander';
import { Applications, type ApplicationChanges } from '@tessera/sdk';
import { parseBoolean, parseDateTime, parseTop, parseYears } from '../parsers.js';
import { signedIn } from '../signedIn.js';
import { UsageError } from '../usageError.js';
import { printing } from './action.js';
import { warn } from '../log.js';

interface AppOptions {
  displayName?: string;
  publicClientRedirectUris?: string[];
  webRedirectUris?: string[];
  isFallbackPublicClient?: boolean;
}

interface ResetOptions {
  id: string;
  append?: boolean;
  displayName?: string;
  years?: number;
  endDate?: string;
}

const PROTECT_WARNING = 'The output includes credentials that you must protect. Do not put them in your code or check them into source control.';

/** Space-separated redirect URIs, as az takes them; an empty value (`""`) gives none, to clear a list. */
function collectUris(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(/\s+/).filter((u) => u !== '')];
}

/** The end of a credential that lives `years` from now (calendar years, UTC). */
function yearsFromNow(years: number): string {
  const end = new Date();
  end.setUTCFullYear(end.getUTCFullYear() + years);
  return end.toISOString();
}

/** The fields the options name, in Graph's shape. */
function changesOf(o: AppOptions): ApplicationChanges {
  const changes: ApplicationChanges = {};
  if (o.displayName !== undefined) changes.displayName = o.displayName;
  if (o.publicClientRedirectUris !== undefined) changes.publicClient = { redirectUris: o.publicClientRedirectUris };
  if (o.webRedirectUris !== undefined) changes.web = { redirectUris: o.webRedirectUris };
  if (o.isFallbackPublicClient !== undefined) changes.isFallbackPublicClient = o.isFallbackPublicClient;
  return changes;
}

async function applications(): Promise<{ apps: Applications; tenant: string }> {
  const s = await signedIn();
  return { apps: new Applications(s.client), tenant: s.account.tenantId };
}

async function resetCredential(o: ResetOptions): Promise<unknown> {
  if (o.years !== undefined && o.endDate !== undefined) throw new UsageError('give --years or --end-date, not both.');
  const endDateTime = o.endDate ?? (o.years === undefined ? undefined : yearsFromNow(o.years));
  const { apps, tenant } = await applications();
  const app = await apps.get(o.id);
  // Without --append the server replaces the other secrets in the same transaction: a refused reset changes nothing.
  const secret = await apps.addPassword(app.id, { displayName: o.displayName, endDateTime, removeOthers: !o.append });
  warn(PROTECT_WARNING);
  return { appId: app.appId, password: secret.secretText, tenant };
}

/** The options create and update share. */
function redirectOptions(command: Command): Command {
  return command
    .option('--public-client-redirect-uris <uris...>', 'redirect URIs of a public client (native app, CLI; PKCE, no secret): https, http on loopback, or a private scheme; replaces the list ("" for none)', collectUris)
    .option('--web-redirect-uris <uris...>', 'redirect URIs of a web app (confidential): https, or http on loopback; replaces the list ("" for none)', collectUris)
    .option('--is-fallback-public-client <bool>', 'allow public client flows (device code, password) without a secret: true or false', parseBoolean);
}

/** Adds `app` to the `ad` command. */
export function registerAdApp(ad: Command): void {
  const app = ad.command('app').description('registered applications: OAuth clients with redirect URIs, each with its service principal');

  redirectOptions(
    app
      .command('create')
      .description('register an application (and its service principal, with the same appId)')
      .requiredOption('--display-name <name>', 'display name (unique among applications and service principals)'),
  ).action(
    printing(async (o: AppOptions & { displayName: string }) => {
      const { apps } = await applications();
      return apps.create({ ...changesOf(o), displayName: o.displayName });
    }),
  );

  app
    .command('list')
    .description('list applications')
    .option('--display-name <name>', 'only those whose display name starts with this (case-insensitive)')
    .option('--top <n>', 'at most this many (1 to 999)', parseTop)
    .action(
      printing(async (o: { displayName?: string; top?: number }) => {
        const all = await (await applications()).apps.list(o.top);
        const prefix = o.displayName?.toLowerCase();
        return prefix === undefined ? all : all.filter((a) => a.displayName.toLowerCase().startsWith(prefix));
      }, 'application'),
    );

  app
    .command('show')
    .description('show an application')
    .requiredOption('--id <id>', 'object id, appId or display name')
    .action(printing(async (o: { id: string }) => (await applications()).apps.get(o.id), 'application'));

  redirectOptions(
    app
      .command('update')
      .description('change an application: rename it (its service principal too), replace its redirect URIs, allow or refuse public client flows')
      .requiredOption('--id <id>', 'object id, appId or display name')
      .option('--display-name <name>', 'the new display name'),
  ).action(
    printing(async (o: AppOptions & { id: string }) => {
      const changes = changesOf(o);
      if (Object.keys(changes).length === 0) throw new UsageError('give at least one of --display-name, --public-client-redirect-uris, --web-redirect-uris, --is-fallback-public-client.');
      return (await applications()).apps.update(o.id, changes);
    }, 'application'),
  );

  app
    .command('delete')
    .description('delete an application and its service principal, with its credentials and role assignments')
    .requiredOption('--id <id>', 'object id, appId or display name')
    .action(printing(async (o: { id: string }) => (await applications()).apps.delete(o.id)));

  const credential = app.command('credential').description("an application's secrets");

  credential
    .command('reset')
    .description('add a new secret (printed only this once), removing the others unless --append')
    .requiredOption('--id <id>', 'object id, appId or display name')
    .option('--append', 'keep the existing secrets')
    .option('--display-name <name>', "the secret's display name")
    .option('--years <n>', 'years the secret is valid (default 1; the server allows at most 2)', parseYears)
    .option('--end-date <date>', 'when the secret stops working (ISO 8601)', parseDateTime)
    .action(printing(resetCredential));
}
