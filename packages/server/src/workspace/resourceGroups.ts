/**
 * Resource groups under a subscription. Names are kept as given and matched without
 * regard to case. Deleting a group deletes what it holds, as ARM does, and the role
 * assignments at the removed scopes.
 */
import crypto from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Store } from '../store/db.js';
import { isUniqueViolation } from '../store/db.js';
import type { ResourceGroupsTable } from '../store/schema.js';
import type { Clock } from '../clock.js';
import { TesseraError } from '../errors.js';
import { checkLocation, checkResourceGroupName, checkTags } from './names.js';
import type { Subscriptions } from './subscriptions.js';

export type ResourceGroupRow = Selectable<ResourceGroupsTable>;

/** Called after a resource is deleted, with the tenant and the resource ID that no longer exists. */
export type ScopeRemoved = (tenantId: string, scope: string) => Promise<void>;

/**
 * Called before workspaces are deleted with their row ids; the function it returns runs
 * after the delete (the models part removes the files nothing holds any more).
 */
export type WorkspacesRemoving = (workspaceRowIds: string[]) => Promise<() => Promise<void>>;

export interface ResourceGroupInput {
  location?: unknown;
  tags?: unknown;
}

/** The resource ID of a resource group. */
export function resourceGroupId(subscriptionId: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${name}`;
}

/** Resource-group CRUD. */
export class ResourceGroups {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly subscriptions: Subscriptions,
    private readonly scopeRemoved: ScopeRemoved,
    private readonly workspacesRemoving: WorkspacesRemoving = async () => async () => undefined,
  ) {}

  /** The group, or undefined; the subscription must be the tenant's (404 otherwise). */
  async find(tenantId: string, subscriptionId: string, name: string): Promise<ResourceGroupRow | undefined> {
    await this.subscriptions.get(tenantId, subscriptionId);
    return this.store.db
      .selectFrom('resource_groups')
      .selectAll()
      .where('subscription_id', '=', subscriptionId.toLowerCase())
      .where('name_key', '=', checkResourceGroupName(name).toLowerCase())
      .executeTakeFirst();
  }

  /** The group; 404 ResourceNotFound when there is none. */
  async get(tenantId: string, subscriptionId: string, name: string): Promise<ResourceGroupRow> {
    const row = await this.find(tenantId, subscriptionId, name);
    if (!row) throw new TesseraError('ResourceNotFound', `Resource group '${name}' could not be found.`);
    return row;
  }

  /** The subscription's groups, by name. */
  async list(tenantId: string, subscriptionId: string): Promise<ResourceGroupRow[]> {
    await this.subscriptions.get(tenantId, subscriptionId);
    return this.store.db.selectFrom('resource_groups').selectAll().where('subscription_id', '=', subscriptionId.toLowerCase()).orderBy('name_key').execute();
  }

  /** PUT: creates the group, or replaces its tags; its location cannot change. */
  async put(tenantId: string, subscriptionId: string, name: string, input: ResourceGroupInput, createdBy: string | null): Promise<{ row: ResourceGroupRow; created: boolean }> {
    const checkedName = checkResourceGroupName(name);
    const tags = checkTags(input.tags);
    const location = input.location === undefined ? undefined : checkLocation(input.location);
    for (let attempt = 0; ; attempt++) {
      const existing = await this.find(tenantId, subscriptionId, checkedName);
      if (existing) {
        if (location !== undefined && location !== existing.location) {
          throw new TesseraError('Conflict', `Invalid resource group location '${location}': the resource group already exists in location '${existing.location}'.`);
        }
        const serialized = JSON.stringify(tags);
        await this.store.db.updateTable('resource_groups').set({ tags: serialized }).where('id', '=', existing.id).execute();
        return { row: { ...existing, tags: serialized }, created: false };
      }
      if (location === undefined) throw new TesseraError('InvalidParameter', "The field 'location' is required to create a resource group.");
      const row: ResourceGroupRow = {
        id: crypto.randomUUID(),
        subscription_id: subscriptionId.toLowerCase(),
        name: checkedName,
        name_key: checkedName.toLowerCase(),
        location,
        tags: JSON.stringify(tags),
        created_at: this.clock.now(),
        created_by: createdBy,
      };
      try {
        await this.store.db.insertInto('resource_groups').values(row).execute();
        return { row, created: true };
      } catch (err) {
        // Created concurrently: go round once more and update it instead.
        if (!isUniqueViolation(err) || attempt > 0) throw err;
      }
    }
  }

  /** PATCH: changes the tags of an existing group. */
  async patch(tenantId: string, subscriptionId: string, name: string, input: ResourceGroupInput): Promise<ResourceGroupRow> {
    const existing = await this.get(tenantId, subscriptionId, name);
    if (input.location !== undefined && checkLocation(input.location) !== existing.location) {
      throw new TesseraError('Conflict', `The location of resource group '${existing.name}' cannot change.`);
    }
    if (input.tags === undefined) return existing;
    const serialized = JSON.stringify(checkTags(input.tags));
    await this.store.db.updateTable('resource_groups').set({ tags: serialized }).where('id', '=', existing.id).execute();
    return { ...existing, tags: serialized };
  }

  /** Deletes the group, its workspaces, and the role assignments at and below it; false when there was no such group. */
  async delete(tenantId: string, subscriptionId: string, name: string): Promise<boolean> {
    const existing = await this.find(tenantId, subscriptionId, name);
    if (!existing) return false;
    const held = await this.store.db.selectFrom('workspaces').select('id').where('resource_group_id', '=', existing.id).execute();
    const cleanUp = await this.workspacesRemoving(held.map((w) => w.id));
    await this.store.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('workspaces').where('resource_group_id', '=', existing.id).execute();
      await trx.deleteFrom('resource_groups').where('id', '=', existing.id).execute();
    });
    await this.scopeRemoved(tenantId, resourceGroupId(existing.subscription_id, existing.name));
    await cleanUp();
    return true;
  }
}
