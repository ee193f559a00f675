/**
 * `tessera account show|list|set|get-access-token`, as `az account` has them (az's field
 * names, so scripts written for az read the output unchanged), plus `account alias` and
 * `account subscription` for creating, renaming, cancelling and enabling subscriptions
 * (az's `account alias` and `account subscription` commands).
 */
import { Option, type Command } from 'commander';
import { AccountProfile, Audience, resourceOf, type ResourceManagement } from '@tessera/sdk';
import { parseGuid, parseSubscription } from '../parsers.js';
import { signedIn } from '../signedIn.js';
import { UsageError } from '../usageError.js';
import { warn } from '../log.js';
import { printing } from './action.js';

const subscriptionFlag = (description: string) => new Option('-s, --subscription <id-or-name>', description).argParser(parseSubscription);

const ALIAS_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
function parseAliasName(value: string): string {
  if (!ALIAS_NAME.test(value)) throw new UsageError(`--name must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit, not ${JSON.stringify(value.slice(0, 70))}.`);
  return value;
}

async function resources(): Promise<ResourceManagement> {
  return (await signedIn()).resources;
}

/** Runs a change to subscriptions, then updates the list the session remembers (as --refresh would). */
async function changing<T>(change: (arm: ResourceManagement) => Promise<T>): Promise<T> {
  const result = await change(await resources());
  try {
    await new AccountProfile().refresh();
  } catch (err) {
    warn(`Done, but the remembered subscriptions could not be refreshed (${err instanceof Error ? err.message : String(err)}): run tessera account list --refresh.`);
  }
  return result;
}

/** Adds `account` to `program`. */
export function registerAccount(program: Command): void {
  const account = program.command('account').description('the signed-in account and its subscriptions');

  account
    .command('show')
    .description('show the subscription in use (or the one --subscription names) and who is signed in')
    .addOption(subscriptionFlag('a subscription id or name (default: the one in use)'))
    .action(printing((o: { subscription?: string }) => new AccountProfile().show(o.subscription), 'account'));

  account
    .command('list')
    .description('list the enabled subscriptions the account can see; isDefault marks the one in use')
    .option('--all', 'list every subscription, also those that are not Enabled')
    .option('--refresh', 'ask the server again, instead of the list remembered at sign-in')
    .action(
      printing(async (o: { all?: boolean; refresh?: boolean }) => {
        const profile = new AccountProfile();
        const listed = await profile.list({ all: o.all, refresh: o.refresh });
        if (o.all !== true && (await profile.hiddenCount()) > 0) warn("A few subscriptions are skipped as they don't have 'Enabled' state. Use '--all' to display them.");
        return listed;
      }, 'account'),
    );

  account
    .command('set')
    .description('choose the subscription commands use when none is given (kept in the session)')
    .addOption(subscriptionFlag('a subscription id or name').makeOptionMandatory())
    .action(
      printing(async (o: { subscription: string }) => {
        await new AccountProfile().set(o.subscription);
        return undefined; // az account set prints nothing
      }),
    );

  account
    .command('get-access-token')
    .description('print an access token, refreshing it silently when needed')
    .option('--resource <uri>', `resource the token is for (default ${Audience.ControlPlane}; https://management.azure.com/ and https://ml.azure.com work)`)
    .option('--scope <scope>', "a resource's /.default scope, as az takes it (https://management.azure.com//.default)")
    .addOption(subscriptionFlag('the subscription the token is for (default: the one in use)'))
    .action(
      printing((o: { resource?: string; scope?: string; subscription?: string }) => {
        if (o.resource !== undefined && o.scope !== undefined) throw new UsageError('--resource and --scope cannot be used together.');
        try {
          resourceOf(o); // a scope that names no resource is a usage error, found before any request
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
        return new AccountProfile().getAccessToken(o);
      }),
    );

  registerAlias(account);
  registerSubscription(account);
}

/** `account alias`: making subscriptions (Microsoft.Subscription/aliases). */
function registerAlias(account: Command): void {
  const alias = account.command('alias').description('subscription aliases: how new subscriptions are made');
  alias
    .command('create')
    .description('create a subscription under a new alias (or give an existing subscription an alias with --subscription-id)')
    .requiredOption('-n, --name <alias>', 'alias name', parseAliasName)
    .option('--display-name <name>', "the new subscription's name")
    .addOption(new Option('--workload <workload>', 'workload type').choices(['Production', 'DevTest']))
    .option('--billing-scope <scope>', 'kept and shown (Tessera has no billing)')
    .option('--subscription-id <id>', 'alias this existing subscription instead of creating one', parseGuid)
    .action(
      printing(async (o: { name: string; displayName?: string; workload?: 'Production' | 'DevTest'; billingScope?: string; subscriptionId?: string }) => {
        if (o.displayName === undefined && o.subscriptionId === undefined) throw new UsageError('give --display-name (a new subscription) or --subscription-id (an existing one).');
        return changing((arm) => arm.createSubscriptionAlias(o.name, { displayName: o.displayName, workload: o.workload, billingScope: o.billingScope, subscriptionId: o.subscriptionId }));
      }),
    );
  alias
    .command('list')
    .description('list the aliases')
    .action(printing(async () => (await resources()).listSubscriptionAliases(), 'subscriptionAlias'));
  alias
    .command('show')
    .description('show an alias')
    .requiredOption('-n, --name <alias>', 'alias name', parseAliasName)
    .action(printing(async (o: { name: string }) => (await resources()).getSubscriptionAlias(o.name), 'subscriptionAlias'));
  alias
    .command('delete')
    .description('delete an alias (the subscription stays)')
    .requiredOption('-n, --name <alias>', 'alias name', parseAliasName)
    .action(
      printing(async (o: { name: string }) => {
        await (await resources()).deleteSubscriptionAlias(o.name);
      }),
    );
}

/** `account subscription`: reading, renaming, cancelling and enabling subscriptions. */
function registerSubscription(account: Command): void {
  const subscription = account.command('subscription').description('subscriptions: list, show, rename, cancel, enable');
  subscription
    .command('list')
    .description('list the subscriptions the account can see, in every state, as ARM returns them')
    .action(printing(async () => (await resources()).listSubscriptions(), 'subscription'));
  subscription
    .command('show')
    .description('show a subscription as ARM returns it')
    .requiredOption('--id <subscription-id>', 'subscription id', parseGuid)
    .action(printing(async (o: { id: string }) => (await resources()).getSubscription(o.id), 'subscription'));
  subscription
    .command('rename')
    .description('rename a subscription')
    .requiredOption('--id <subscription-id>', 'subscription id', parseGuid)
    .requiredOption('-n, --name <name>', 'the new name')
    .action(printing((o: { id: string; name: string }) => changing((arm) => arm.renameSubscription(o.id, o.name))));
  subscription
    .command('cancel')
    .description('cancel a subscription: it becomes Disabled, and everything in it read-only')
    .requiredOption('--id <subscription-id>', 'subscription id', parseGuid)
    .option('-y, --yes', 'do not ask for confirmation (tessera never asks; accepted for az scripts)')
    .action(printing((o: { id: string }) => changing((arm) => arm.cancelSubscription(o.id))));
  subscription
    .command('enable')
    .description('enable a cancelled subscription again')
    .requiredOption('--id <subscription-id>', 'subscription id', parseGuid)
    .action(printing((o: { id: string }) => changing((arm) => arm.enableSubscription(o.id))));
}
