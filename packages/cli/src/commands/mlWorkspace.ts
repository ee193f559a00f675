/**
 * `tessera ml workspace create|list|show|delete|share`: workspaces, as the azure-cli-ml
 * extension had them (`-w` workspace, `-g` resource group).
 */
import type { Command } from 'commander';
import { workspaceId } from '@tessera/sdk';
import { parseTags } from '../parsers.js';
import { resolveAssignee, resolveRole, subscriptionOf } from '../resolve.js';
import { signedIn } from '../signedIn.js';
import { printing } from './action.js';
import { subscriptionOption } from './group.js';
import { assignmentView } from './role.js';

interface WorkspaceOptions {
  workspaceName: string;
  resourceGroup: string;
  subscription?: string;
}

interface CreateOptions extends WorkspaceOptions {
  location?: string;
  friendlyName?: string;
  description?: string;
  tags?: Record<string, string>;
}

function workspaceCommand(parent: Command, name: string, description: string): Command {
  return subscriptionOption(
    parent
      .command(name)
      .description(description)
      .requiredOption('-w, --workspace-name <name>', 'workspace name')
      .requiredOption('-g, --resource-group <name>', 'resource group name'),
  );
}

/** Adds `ml workspace` to `program`. */
export function registerMlWorkspace(program: Command): void {
  const ml = program.command('ml').description('machine learning: workspaces');
  const workspace = ml.command('workspace').description('workspaces');

  workspaceCommand(workspace, 'create', 'create a workspace in a resource group, or update its tags and properties')
    .option('-l, --location <location>', "location (default: the resource group's)")
    .option('--friendly-name <name>', 'display name')
    .option('--description <text>', 'description')
    .option('--tags <tags>', 'space-separated key=value pairs', parseTags)
    .action(
      printing(async (o: CreateOptions) => {
        const s = await signedIn();
        const properties: Record<string, unknown> = {};
        if (o.friendlyName !== undefined) properties.friendlyName = o.friendlyName;
        if (o.description !== undefined) properties.description = o.description;
        return s.resources.createOrUpdateWorkspace(await subscriptionOf(s, o.subscription), o.resourceGroup, o.workspaceName, {
          location: o.location,
          tags: o.tags,
          properties: Object.keys(properties).length === 0 ? undefined : properties,
        });
      }),
    );

  subscriptionOption(workspace.command('list').description('list the workspaces you can read, in a resource group or the whole subscription').option('-g, --resource-group <name>', 'resource group name')).action(
    printing(async (o: { resourceGroup?: string; subscription?: string }) => {
      const s = await signedIn();
      return s.resources.listWorkspaces(await subscriptionOf(s, o.subscription), o.resourceGroup);
    }),
  );

  workspaceCommand(workspace, 'show', 'show a workspace').action(
    printing(async (o: WorkspaceOptions) => {
      const s = await signedIn();
      return s.resources.getWorkspace(await subscriptionOf(s, o.subscription), o.resourceGroup, o.workspaceName);
    }),
  );

  workspaceCommand(workspace, 'delete', 'delete a workspace and the role assignments under it').action(
    printing(async (o: WorkspaceOptions) => {
      const s = await signedIn();
      await s.resources.deleteWorkspace(await subscriptionOf(s, o.subscription), o.resourceGroup, o.workspaceName);
    }),
  );

  workspaceCommand(workspace, 'share', 'give a user, group or service principal a role on the workspace')
    .requiredOption('--user <assignee>', 'user name or UPN, object id, service principal appId or name, or group name')
    .requiredOption('--role <role>', "role name or id, e.g. 'AzureML Data Scientist'")
    .action(
      printing(async (o: WorkspaceOptions & { user: string; role: string }) => {
        const s = await signedIn();
        const subscription = await subscriptionOf(s, o.subscription);
        const scope = workspaceId(subscription, o.resourceGroup, o.workspaceName);
        const [principal, role] = await Promise.all([resolveAssignee(s, o.user), resolveRole(s, o.role, scope)]);
        return assignmentView(await s.rbac.createRoleAssignment(scope, { roleDefinitionId: role.id, principalId: principal.id, principalType: principal.type }));
      }),
    );
}
