/**
 * `tessera ml workspace create|list|show|delete|share|download-config`: workspaces, as
 * the azure-cli-ml extension had them (`-w` workspace, `-g` resource group); and `ml model`.
 */
import type { Command } from 'commander';
import path from 'node:path';
import { Workspace, workspaceId } from '@tessera/sdk';
import { parseTags } from '../parsers.js';
import { resolveAssignee, resolveRole, subscriptionOf } from '../resolve.js';
import { signedIn } from '../signedIn.js';
import { printing } from './action.js';
import { subscriptionOption } from './group.js';
import { assignmentView } from './role.js';
import { registerMlModel } from './mlModel.js';
import { registerMlService } from './mlService.js';
import { registerMlCompute } from './mlCompute.js';
import { registerMlRun } from './mlRun.js';
import { registerMlJob } from './mlJob.js';

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
  const ml = program.command('ml').description('machine learning: workspaces, models, web services, computes, runs and jobs');
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
      }, 'workspace'),
    );

  subscriptionOption(workspace.command('list').description('list the workspaces you can read, in a resource group or the whole subscription').option('-g, --resource-group <name>', 'resource group name')).action(
    printing(async (o: { resourceGroup?: string; subscription?: string }) => {
      const s = await signedIn();
      return s.resources.listWorkspaces(await subscriptionOf(s, o.subscription), o.resourceGroup);
    }, 'workspace'),
  );

  workspaceCommand(workspace, 'show', 'show a workspace').action(
    printing(async (o: WorkspaceOptions) => {
      const s = await signedIn();
      return s.resources.getWorkspace(await subscriptionOf(s, o.subscription), o.resourceGroup, o.workspaceName);
    }, 'workspace'),
  );

  workspaceCommand(workspace, 'download-config', "write the workspace's config.json (for Workspace.fromConfig and the model commands)")
    .option('--path <dir>', 'directory to write config.json into (default: the current directory)')
    .action(
      printing(async (o: WorkspaceOptions & { path?: string }) => {
        const s = await signedIn();
        const ws = await Workspace.get({ name: o.workspaceName, resourceGroup: o.resourceGroup, subscriptionId: await subscriptionOf(s, o.subscription), auth: s.auth, serverUrl: s.account.server });
        return { path: await ws.writeConfig({ path: path.resolve(o.path ?? '.') }) };
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

  registerMlModel(ml);
  registerMlService(ml);
  registerMlCompute(ml);
  registerMlRun(ml);
  registerMlJob(ml);
}
