/**
 * User-assigned managed identities: a resource in a resource group whose principal is a
 * service principal of type ManagedIdentity (its `principalId`, with a `clientId`), so
 * role assignments name it like any principal. Deleting the resource deletes the
 * principal with its assignments.
 */
import crypto from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Store } from '../store/db.js';
import { isUniqueViolation } from '../store/db.js';
import type { UserAssignedIdentitiesTable } from '../store/schema.js';
import type { Clock } from '../clock.js';
import { TesseraError } from '../errors.js';
import type { ServicePrincipals } from '../identity/servicePrincipals.js';
import type { ResourceGroups, ResourceGroupRow } from '../workspace/resourceGroups.js';
import { resourceGroupId } from '../workspace/resourceGroups.js';
import { checkLocation, checkTags } from '../workspace/names.js';
import { checkIdentityName } from './names.js';

export type IdentityRow = Selectable<UserAssignedIdentitiesTable>;

/** An identity with what its view and tokens need. */
export interface IdentityRecord {
  row: IdentityRow;
  group: ResourceGroupRow;
  /** The resource ID. */
  id: string;
  principalId: string;
  clientId: string;
  tenantId: string;
}

export function identityId(subscriptionId: string, groupName: string, name: string): string {
  return `${resourceGroupId(subscriptionId, groupName)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
}

export interface IdentityView {
  id: string;
  name: string;
  type: 'Microsoft.ManagedIdentity/userAssignedIdentities';
  location: string;
  tags: Record<string, string>;
  properties: { tenantId: string; principalId: string; clientId: string };
}

export function identityView(record: IdentityRecord): IdentityView {
  return {
    id: record.id,
    name: record.row.name,
    type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
    location: record.row.location,
    tags: JSON.parse(record.row.tags) as Record<string, string>,
    properties: { tenantId: record.tenantId, principalId: record.principalId, clientId: record.clientId },
  };
}

export class UserAssignedIdentities {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly groups: ResourceGroups,
    private readonly servicePrincipals: ServicePrincipals,
  ) {}

  private async records(group: ResourceGroupRow, rows: IdentityRow[]): Promise<IdentityRecord[]> {
    if (rows.length === 0) return [];
    const sps = await this.store.db.selectFrom('service_principals').select(['id', 'app_id', 'tenant_id']).where('id', 'in', rows.map((r) => r.sp_id)).execute();
    const byId = new Map(sps.map((s) => [s.id, s]));
    return rows.flatMap((row) => {
      const sp = byId.get(row.sp_id);
      if (!sp) return [];
      return [{ row, group, id: identityId(group.subscription_id, group.name, row.name), principalId: sp.id, clientId: sp.app_id, tenantId: sp.tenant_id }];
    });
  }

  async find(tenantId: string, subscriptionId: string, groupName: string, name: string): Promise<IdentityRecord | undefined> {
    const group = await this.groups.get(tenantId, subscriptionId, groupName);
    const row = await this.store.db
      .selectFrom('user_assigned_identities')
      .selectAll()
      .where('resource_group_id', '=', group.id)
      .where('name_key', '=', checkIdentityName(name).toLowerCase())
      .executeTakeFirst();
    return row ? (await this.records(group, [row]))[0] : undefined;
  }

  async get(tenantId: string, subscriptionId: string, groupName: string, name: string): Promise<IdentityRecord> {
    const found = await this.find(tenantId, subscriptionId, groupName, name);
    if (!found) throw new TesseraError('ResourceNotFound', `The user-assigned identity '${name}' could not be found in resource group '${groupName}'.`);
    return found;
  }

  async list(tenantId: string, subscriptionId: string, groupName: string): Promise<IdentityRecord[]> {
    const group = await this.groups.get(tenantId, subscriptionId, groupName);
    const rows = await this.store.db.selectFrom('user_assigned_identities').selectAll().where('resource_group_id', '=', group.id).orderBy('name_key').execute();
    return this.records(group, rows);
  }

  /** The identities with these row ids (a compute's), as records. */
  async byRowIds(ids: readonly string[]): Promise<IdentityRecord[]> {
    if (ids.length === 0) return [];
    const rows = await this.store.db.selectFrom('user_assigned_identities').selectAll().where('id', 'in', [...ids]).execute();
    const out: IdentityRecord[] = [];
    for (const row of rows) {
      const group = await this.store.db.selectFrom('resource_groups').selectAll().where('id', '=', row.resource_group_id).executeTakeFirstOrThrow();
      out.push(...(await this.records(group, [row])));
    }
    return out;
  }

  /** PUT: creates the identity, or replaces its tags (its location cannot change). */
  async put(tenantId: string, subscriptionId: string, groupName: string, name: string, input: { location?: unknown; tags?: unknown }, createdBy: string | null): Promise<{ record: IdentityRecord; created: boolean }> {
    const checked = checkIdentityName(name);
    const tags = JSON.stringify(checkTags(input.tags));
    const location = input.location === undefined ? undefined : checkLocation(input.location);
    const existing = await this.find(tenantId, subscriptionId, groupName, checked);
    if (existing) {
      if (location !== undefined && location !== existing.row.location) throw new TesseraError('Conflict', `The location of identity '${existing.row.name}' cannot change.`);
      await this.store.db.updateTable('user_assigned_identities').set({ tags }).where('id', '=', existing.row.id).execute();
      return { record: { ...existing, row: { ...existing.row, tags } }, created: false };
    }
    const group = await this.groups.get(tenantId, subscriptionId, groupName);
    const id = identityId(group.subscription_id, group.name, checked);
    const row: IdentityRow = {
      id: crypto.randomUUID(),
      resource_group_id: group.id,
      name: checked,
      name_key: checked.toLowerCase(),
      location: location ?? group.location,
      tags,
      sp_id: '',
      created_at: this.clock.now(),
      created_by: createdBy,
    };
    try {
      await this.store.db.transaction().execute(async (trx) => {
        const sp = await this.servicePrincipals.createManaged(tenantId, checked, id, createdBy, trx);
        row.sp_id = sp.id;
        await trx.insertInto('user_assigned_identities').values(row).execute();
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new TesseraError('Conflict', `The identity '${checked}' was created at the same moment by another request.`);
      throw err;
    }
    return { record: (await this.records(group, [row]))[0]!, created: true };
  }

  /** Deletes the identity and its principal (with its role assignments); false when absent. */
  async delete(tenantId: string, subscriptionId: string, groupName: string, name: string): Promise<boolean> {
    const found = await this.find(tenantId, subscriptionId, groupName, name);
    if (!found) return false;
    await this.store.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('user_assigned_identities').where('id', '=', found.row.id).execute();
      await this.servicePrincipals.deleteManaged([found.principalId], trx);
    });
    return true;
  }
}
