/** What a run needs to know of its workspace: its tenant, IDs and names, looked up by row id. */
import type { Store } from '../store/db.js';
import { workspaceId } from '../workspace/workspaces.js';

export interface WorkspaceContext {
  rowId: string;
  /** The workspace's resource ID. */
  id: string;
  tenantId: string;
  subscriptionId: string;
  groupName: string;
  workspaceName: string;
  location: string;
}

export async function workspaceContext(store: Store, workspaceRowId: string): Promise<WorkspaceContext | undefined> {
  const row = await store.db
    .selectFrom('workspaces')
    .innerJoin('resource_groups', 'resource_groups.id', 'workspaces.resource_group_id')
    .innerJoin('subscriptions', 'subscriptions.id', 'resource_groups.subscription_id')
    .select(['workspaces.id as rowId', 'workspaces.name as workspaceName', 'workspaces.location as location', 'resource_groups.name as groupName', 'subscriptions.id as subscriptionId', 'subscriptions.tenant_id as tenantId'])
    .where('workspaces.id', '=', workspaceRowId)
    .executeTakeFirst();
  if (!row) return undefined;
  return { ...row, id: workspaceId(row.subscriptionId, row.groupName, row.workspaceName) };
}
