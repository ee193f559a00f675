/**
 * `tessera identity create|list|show|delete`: user-assigned managed identities, as
 * `az identity` has them, printed flat as az prints them (clientId, principalId, tenantId
 * beside id and name).
 */
import type { Command } from 'commander';
import type { UserAssignedIdentity } from '@tessera/sdk';
import { parseTags } from '../parsers.js';
import { subscriptionOf } from '../resolve.js';
import { signedIn } from '../signedIn.js';
import { printing } from './action.js';
import { subscriptionOption } from './group.js';

interface IdentityOptions {
  resourceGroup: string;
  name: string;
  subscription?: string;
}

/** An identity as `az identity show` prints it. */
export function identityView(identity: UserAssignedIdentity): Record<string, unknown> {
  const resourceGroup = /\/resourceGroups\/([^/]+)\//i.exec(identity.id)?.[1];
  return {
    id: identity.id,
    name: identity.name,
    type: identity.type,
    location: identity.location,
    resourceGroup,
    tags: identity.tags,
    clientId: identity.properties.clientId,
    principalId: identity.properties.principalId,
    tenantId: identity.properties.tenantId,
  };
}

function identityCommand(parent: Command, name: string, description: string): Command {
  return subscriptionOption(
    parent.command(name).description(description).requiredOption('-g, --resource-group <name>', 'resource group name').requiredOption('-n, --name <name>', 'identity name'),
  );
}

/** Adds `identity` to `program`. */
export function registerIdentity(program: Command): void {
  const identity = program.command('identity').description('user-assigned managed identities (a compute carries them; role assignments name their principalId)');

  identityCommand(identity, 'create', 'create an identity, or update its tags')
    .option('-l, --location <location>', "location (default: the resource group's)")
    .option('--tags <tags>', 'space-separated key=value pairs', parseTags)
    .action(
      printing(async (o: IdentityOptions & { location?: string; tags?: Record<string, string> }) => {
        const s = await signedIn();
        return identityView(await s.identities.createOrUpdate(await subscriptionOf(s, o.subscription), o.resourceGroup, o.name, { location: o.location, tags: o.tags }));
      }, 'identity'),
    );

  subscriptionOption(identity.command('list').description('list the identities of a resource group').requiredOption('-g, --resource-group <name>', 'resource group name')).action(
    printing(async (o: { resourceGroup: string; subscription?: string }) => {
      const s = await signedIn();
      return (await s.identities.list(await subscriptionOf(s, o.subscription), o.resourceGroup)).map(identityView);
    }, 'identity'),
  );

  identityCommand(identity, 'show', 'show an identity: its id, clientId, principalId and tenantId').action(
    printing(async (o: IdentityOptions) => {
      const s = await signedIn();
      return identityView(await s.identities.get(await subscriptionOf(s, o.subscription), o.resourceGroup, o.name));
    }, 'identity'),
  );

  identityCommand(identity, 'delete', 'delete an identity with its service principal and role assignments').action(
    printing(async (o: IdentityOptions) => {
      const s = await signedIn();
      await s.identities.delete(await subscriptionOf(s, o.subscription), o.resourceGroup, o.name);
    }),
  );
}
