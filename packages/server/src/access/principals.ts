/**
 * The principals a role can be assigned to (users, groups, service principals), looked
 * up read-only in the directory's tables, for checking an assignment's principal and for
 * naming the principal in an access check.
 */
import type { Store } from '../store/db.js';

export type PrincipalType = 'User' | 'Group' | 'ServicePrincipal';

export interface PrincipalInfo {
  id: string;
  type: PrincipalType;
  displayName: string;
  enabled: boolean;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PLAIN = /^[^\u0000-\u001f\u007f]{1,320}$/;

/** Read-only lookups of principals in one tenant. */
export class PrincipalDirectory {
  constructor(private readonly store: Store) {}

  /** The principal with this object id in `tenantId`, if any. */
  async byId(tenantId: string, objectId: string): Promise<PrincipalInfo | undefined> {
    if (!GUID.test(objectId)) return undefined;
    const id = objectId.toLowerCase();
    const db = this.store.db;
    const user = await db.selectFrom('users').select(['id', 'display_name', 'enabled']).where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    if (user) return { id: user.id, type: 'User', displayName: user.display_name, enabled: user.enabled === 1 };
    const group = await db.selectFrom('groups').select(['id', 'display_name']).where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    if (group) return { id: group.id, type: 'Group', displayName: group.display_name, enabled: true };
    const sp = await db.selectFrom('service_principals').select(['id', 'display_name', 'enabled']).where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    if (sp) return { id: sp.id, type: 'ServicePrincipal', displayName: sp.display_name, enabled: sp.enabled === 1 };
    return undefined;
  }

  /**
   * Finds a principal as `az role assignment --assignee` does: an object id, a user name or
   * userPrincipalName, a service principal's application id or name, or a group's name.
   * Anything but an object id is a search of the directory: with `names` false (the asker
   * may not read the directory) only an object id is looked up.
   */
  async resolve(tenantId: string, idOrName: string, domain: string, options: { names: boolean }): Promise<PrincipalInfo | undefined> {
    if (!PLAIN.test(idOrName)) return undefined;
    const db = this.store.db;
    if (GUID.test(idOrName)) {
      const found = await this.byId(tenantId, idOrName);
      if (found || !options.names) return found;
      const sp = await db.selectFrom('service_principals').select(['id', 'display_name', 'enabled']).where('tenant_id', '=', tenantId).where('app_id', '=', idOrName.toLowerCase()).executeTakeFirst();
      return sp ? { id: sp.id, type: 'ServicePrincipal', displayName: sp.display_name, enabled: sp.enabled === 1 } : undefined;
    }
    if (!options.names) return undefined;
    const name = idOrName.trim().toLowerCase();
    const at = name.lastIndexOf('@');
    const username = at > 0 && name.slice(at + 1) === domain.toLowerCase() ? name.slice(0, at) : name;
    if (username.length <= 64) {
      const user = await db.selectFrom('users').select(['id', 'display_name', 'enabled']).where('tenant_id', '=', tenantId).where('username', '=', username).executeTakeFirst();
      if (user) return { id: user.id, type: 'User', displayName: user.display_name, enabled: user.enabled === 1 };
    }
    if (name.length > 256) return undefined;
    const sp = await db.selectFrom('service_principals').select(['id', 'display_name', 'enabled']).where('tenant_id', '=', tenantId).where('name_key', '=', name).executeTakeFirst();
    if (sp) return { id: sp.id, type: 'ServicePrincipal', displayName: sp.display_name, enabled: sp.enabled === 1 };
    const group = await db.selectFrom('groups').select(['id', 'display_name']).where('tenant_id', '=', tenantId).where('name_key', '=', name).executeTakeFirst();
    return group ? { id: group.id, type: 'Group', displayName: group.display_name, enabled: true } : undefined;
  }

  /** The ids of the groups `principalId` belongs to. */
  async groupsOf(principalId: string): Promise<string[]> {
    const rows = await this.store.db.selectFrom('group_members').select('group_id').where('member_id', '=', principalId).execute();
    return rows.map((r) => r.group_id);
  }
}
