/**
 * Machine-learning workspaces in a resource group. The ARM `properties` are kept as
 * given (friendlyName, description, …) apart from the read-only ones the server fills in.
 */
import crypto from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Store } from '../store/db.js';
import { isUniqueViolation } from '../store/db.js';
import type { WorkspacesTable } from '../store/schema.js';
import type { Clock } from '../clock.js';
import { TesseraError } from '../errors.js';
import { checkFreeForm, checkLocation, checkTags, checkWorkspaceName } from './names.js';
import { resourceGroupId, type ResourceGroupRow, type ResourceGroups, type ScopeRemoved, type WorkspacesRemoving } from './resourceGroups.js';

export type WorkspaceRow = Selectable<WorkspacesTable>;

/** A workspace with the group that holds it (its resource ID needs both). */
export interface WorkspaceRecord {
  row: WorkspaceRow;
  group: ResourceGroupRow;
}

export interface WorkspaceInput {
  location?: unknown;
  tags?: unknown;
  properties?: unknown;
}

/** Properties the server owns: ignored when sent, as ARM ignores read-only fields. */
const READ_ONLY_PROPERTIES = new Set(['provisioningstate', 'workspaceid', 'creationtime', 'tenantid', 'discoveryurl', 'mlflowtrackinguri']);

function ownProperties(value: unknown): Record<string, unknown> {
  const checked = checkFreeForm(value, 'properties');
  return Object.fromEntries(Object.entries(checked).filter(([k]) => !READ_ONLY_PROPERTIES.has(k.toLowerCase())));
}

/** The resource ID of a workspace. */
export function workspaceId(subscriptionId: string, groupName: string, name: string): string {
  return `${resourceGroupId(subscriptionId, groupName)}/providers/Microsoft.MachineLearningServices/workspaces/${name}`;
}

/** Workspace CRUD. */
export class Workspaces {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly groups: ResourceGroups,
    private readonly scopeRemoved: ScopeRemoved,
    private readonly workspacesRemoving: WorkspacesRemoving = async () => async () => undefined,
  ) {}

  /** The workspace, or undefined; 404 when the subscription or group is missing. */
  async find(tenantId: string, subscriptionId: string, groupName: string, name: string): Promise<WorkspaceRecord | undefined> {
    const group = await this.groups.get(tenantId, subscriptionId, groupName);
    const row = await this.store.db
      .selectFrom('workspaces')
      .selectAll()
      .where('resource_group_id', '=', group.id)
      .where('name_key', '=', checkWorkspaceName(name).toLowerCase())
      .executeTakeFirst();
    return row ? { row, group } : undefined;
  }

  /** The workspace; 404 ResourceNotFound when there is none. */
  async get(tenantId: string, subscriptionId: string, groupName: string, name: string): Promise<WorkspaceRecord> {
    const found = await this.find(tenantId, subscriptionId, groupName, name);
    if (!found) throw new TesseraError('ResourceNotFound', `The Resource 'Microsoft.MachineLearningServices/workspaces/${name}' under resource group '${groupName}' was not found.`);
    return found;
  }

  /** The workspaces of a resource group, or of the whole subscription when `groupName` is absent. */
  async list(tenantId: string, subscriptionId: string, groupName?: string): Promise<WorkspaceRecord[]> {
    const groups = groupName === undefined ? await this.groups.list(tenantId, subscriptionId) : [await this.groups.get(tenantId, subscriptionId, groupName)];
    if (groups.length === 0) return [];
    const byId = new Map(groups.map((g) => [g.id, g]));
    const rows = await this.store.db.selectFrom('workspaces').selectAll().where('resource_group_id', 'in', [...byId.keys()]).orderBy('name_key').execute();
    return rows.map((row) => ({ row, group: byId.get(row.resource_group_id)! }));
  }

  /** PUT: creates the workspace (location defaults to its group's) or replaces its tags and properties. */
  async put(tenantId: string, subscriptionId: string, groupName: string, name: string, input: WorkspaceInput, createdBy: string | null): Promise<WorkspaceRecord & { created: boolean }> {
    const checkedName = checkWorkspaceName(name);
    const tags = JSON.stringify(checkTags(input.tags));
    const properties = JSON.stringify(ownProperties(input.properties));
    const location = input.location === undefined ? undefined : checkLocation(input.location);
    for (let attempt = 0; ; attempt++) {
      const found = await this.find(tenantId, subscriptionId, groupName, checkedName);
      if (found) {
        if (location !== undefined && location !== found.row.location) {
          throw new TesseraError('Conflict', `The location of workspace '${found.row.name}' is '${found.row.location}' and cannot change.`);
        }
        await this.store.db.updateTable('workspaces').set({ tags, properties }).where('id', '=', found.row.id).execute();
        return { row: { ...found.row, tags, properties }, group: found.group, created: false };
      }
      const group = await this.groups.get(tenantId, subscriptionId, groupName);
      const row: WorkspaceRow = {
        id: crypto.randomUUID(),
        resource_group_id: group.id,
        name: checkedName,
        name_key: checkedName.toLowerCase(),
        location: location ?? group.location,
        tags,
        properties,
        created_at: this.clock.now(),
        created_by: createdBy,
      };
      try {
        await this.store.db.insertInto('workspaces').values(row).execute();
        return { row, group, created: true };
      } catch (err) {
        if (!isUniqueViolation(err) || attempt > 0) throw err;
      }
    }
  }

  /** PATCH: merges tags (replacing them when given) and properties into an existing workspace. */
  async patch(tenantId: string, subscriptionId: string, groupName: string, name: string, input: WorkspaceInput): Promise<WorkspaceRecord> {
    const found = await this.get(tenantId, subscriptionId, groupName, name);
    if (input.location !== undefined && checkLocation(input.location) !== found.row.location) {
      throw new TesseraError('Conflict', `The location of workspace '${found.row.name}' cannot change.`);
    }
    const tags = input.tags === undefined ? found.row.tags : JSON.stringify(checkTags(input.tags));
    const merged = { ...(JSON.parse(found.row.properties) as Record<string, unknown>), ...ownProperties(input.properties) };
    const properties = JSON.stringify(checkFreeForm(merged, 'properties'));
    await this.store.db.updateTable('workspaces').set({ tags, properties }).where('id', '=', found.row.id).execute();
    return { row: { ...found.row, tags, properties }, group: found.group };
  }

  /** Deletes the workspace and the role assignments at and below it; false when there was none. */
  async delete(tenantId: string, subscriptionId: string, groupName: string, name: string): Promise<boolean> {
    const found = await this.find(tenantId, subscriptionId, groupName, name);
    if (!found) return false;
    const cleanUp = await this.workspacesRemoving([found.row.id]);
    await this.store.db.deleteFrom('workspaces').where('id', '=', found.row.id).execute();
    await this.scopeRemoved(tenantId, workspaceId(found.group.subscription_id, found.group.name, found.row.name));
    await cleanUp();
    return true;
  }
}
