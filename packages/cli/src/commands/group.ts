/** `tessera group create|list|show|exists|delete`: resource groups, as `az group` has them. */
import type { Command } from 'commander';
import { TesseraApiError } from '@tessera/sdk';
import { parseSubscription, parseTags } from '../parsers.js';
import { subscriptionOf } from '../resolve.js';
import { signedIn } from '../signedIn.js';
import { printing } from './action.js';

interface NameOptions {
  name: string;
  subscription?: string;
}

/** `--subscription`, taken by every command that works in a subscription. */
export function subscriptionOption(command: Command): Command {
  return command.option('--subscription <id-or-name>', 'subscription id or name (default: TESSERA_SUBSCRIPTION, else the one tessera account set chose)', parseSubscription);
}

/** Adds `group` to `program`. */
export function registerGroup(program: Command): void {
  const group = program.command('group').description('resource groups');

  subscriptionOption(
    group
      .command('create')
      .description('create a resource group, or update the tags of an existing one')
      .requiredOption('-n, --name <name>', 'resource group name')
      .requiredOption('-l, --location <location>', 'location (cannot change later)')
      .option('--tags <tags>', 'space-separated key=value pairs', parseTags),
  ).action(
    printing(async (o: NameOptions & { location: string; tags?: Record<string, string> }) => {
      const s = await signedIn();
      return s.resources.createOrUpdateResourceGroup(await subscriptionOf(s, o.subscription), o.name, { location: o.location, tags: o.tags });
    }, 'resourceGroup'),
  );

  subscriptionOption(group.command('list').description('list the resource groups you can read')).action(
    printing(async (o: { subscription?: string }) => {
      const s = await signedIn();
      return s.resources.listResourceGroups(await subscriptionOf(s, o.subscription));
    }, 'resourceGroup'),
  );

  subscriptionOption(group.command('show').description('show a resource group').requiredOption('-n, --name <name>', 'resource group name')).action(
    printing(async (o: NameOptions) => {
      const s = await signedIn();
      return s.resources.getResourceGroup(await subscriptionOf(s, o.subscription), o.name);
    }, 'resourceGroup'),
  );

  subscriptionOption(group.command('exists').description('print true if the resource group exists, else false').requiredOption('-n, --name <name>', 'resource group name')).action(
    printing(async (o: NameOptions) => {
      const s = await signedIn();
      const subscription = await subscriptionOf(s, o.subscription);
      try {
        await s.resources.getResourceGroup(subscription, o.name);
        return true;
      } catch (err) {
        if (err instanceof TesseraApiError && err.status === 404) return false;
        throw err;
      }
    }),
  );

  subscriptionOption(
    group
      .command('delete')
      .description('delete a resource group with its workspaces and the role assignments under it')
      .requiredOption('-n, --name <name>', 'resource group name')
      .option('-y, --yes', 'do not ask for confirmation (tessera never asks; accepted for az scripts)'),
  ).action(
    printing(async (o: NameOptions) => {
      const s = await signedIn();
      await s.resources.deleteResourceGroup(await subscriptionOf(s, o.subscription), o.name);
    }),
  );
}
