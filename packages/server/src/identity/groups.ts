/**
 * Groups of principals. A role assigned to a group reaches its members; membership is
 * read at request time, so leaving a group takes effect at once.
 */
import crypto from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Store } from '../store/db.js';
import { isUniqueViolation } from '../store/db.js';
import type { GroupsTable } from '../store/schema.js';
import type { Clock } from '../clock.js';
import { TesseraError } from '../errors.js';
import { checkDisplayName, hasControlChars, isGuid } from './validate.js';
import { LOCAL_SOURCE, directoryManaged, isDirectorySource } from './sources.js';

export type GroupRow = Selectable<GroupsTable>;

export interface GroupView {
  id: string;
  displayName: string;
  description: string;
  createdDateTime: string;
  /** `local`, or `ldap:NAME` for a directory's group (its membership is read-only here). */
  source: string;
  onPremisesSyncEnabled: boolean | null;
}

export interface MemberView {
  id: string;
  '@odata.type': '#microsoft.graph.user' | '#microsoft.graph.servicePrincipal';
  displayName: string;
  /** A user's name, or a service principal's application id. */
  userName?: string;
  appId?: string;
}

/** Called after memberships change, so cached access decisions are dropped. */
export type MembershipChanged = () => void;

export class Groups {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly membershipChanged: MembershipChanged,
  ) {}

  view(row: GroupRow): GroupView {
    return {
      id: row.id,
      displayName: row.display_name,
      description: row.description,
      createdDateTime: new Date(row.created_at).toISOString(),
      source: row.source,
      onPremisesSyncEnabled: isDirectorySource(row.source) ? true : null,
    };
  }

  async create(tenantId: string, input: { displayName: string; description?: string | undefined }): Promise<GroupRow> {
    const displayName = checkDisplayName(input.displayName);
    const description = input.description === undefined ? '' : input.description.trim();
    if ([...description].length > 1024 || /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(description)) {
      throw new TesseraError('InvalidParameter', 'description must be at most 1024 printable characters.');
    }
    const row: GroupRow = {
      id: crypto.randomUUID(),
      tenant_id: tenantId,
      display_name: displayName,
      name_key: displayName.toLowerCase(),
      description,
      created_at: this.clock.now(),
      source: LOCAL_SOURCE,
      external_id: null,
      directory_dn: null,
      synced_at: null,
    };
    try {
      await this.store.db.insertInto('groups').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new TesseraError('Conflict', `A group named '${displayName}' already exists.`);
      throw err;
    }
    return row;
  }

  /** Finds a group by object id or display name. */
  async get(tenantId: string, idOrName: string): Promise<GroupRow> {
    const query = this.store.db.selectFrom('groups').selectAll().where('tenant_id', '=', tenantId);
    const row = hasControlChars(idOrName)
      ? undefined
      : isGuid(idOrName)
      ? await query.where('id', '=', idOrName.toLowerCase()).executeTakeFirst()
      : await query.where('name_key', '=', idOrName.trim().toLowerCase()).executeTakeFirst();
    if (!row) throw new TesseraError('ResourceNotFound', 'No group has that id or name.');
    return row;
  }

  list(tenantId: string, top: number): Promise<GroupRow[]> {
    return this.store.db.selectFrom('groups').selectAll().where('tenant_id', '=', tenantId).orderBy('name_key').limit(top).execute();
  }

  async delete(tenantId: string, idOrName: string): Promise<void> {
    const row = await this.get(tenantId, idOrName);
    await this.store.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('group_members').where('group_id', '=', row.id).execute();
      await trx.deleteFrom('role_assignments').where('principal_id', '=', row.id).execute();
      await trx.deleteFrom('groups').where('id', '=', row.id).execute();
    });
    this.membershipChanged();
  }

  /** Adds a user or service principal; adding one already there is not an error (Graph answers 400; we keep it idempotent). */
  async addMember(tenantId: string, idOrName: string, memberId: string): Promise<void> {
    const group = await this.get(tenantId, idOrName);
    if (isDirectorySource(group.source)) throw directoryManaged('group', group.source);
    if (!isGuid(memberId)) throw new TesseraError('InvalidParameter', 'The member must be given by its object id (a GUID).');
    const id = memberId.toLowerCase();
    const member =
      (await this.store.db.selectFrom('users').select('id').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()) ??
      (await this.store.db.selectFrom('service_principals').select('id').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst());
    if (!member) throw new TesseraError('ResourceNotFound', 'No user or service principal has that object id.');
    try {
      await this.store.db.insertInto('group_members').values({ group_id: group.id, member_id: member.id, added_at: this.clock.now() }).execute();
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
    this.membershipChanged();
  }

  async removeMember(tenantId: string, idOrName: string, memberId: string): Promise<void> {
    const group = await this.get(tenantId, idOrName);
    if (isDirectorySource(group.source)) throw directoryManaged('group', group.source);
    if (!isGuid(memberId)) throw new TesseraError('ResourceNotFound', 'That principal is not a member of the group.');
    const result = await this.store.db
      .deleteFrom('group_members')
      .where('group_id', '=', group.id)
      .where('member_id', '=', memberId.toLowerCase())
      .executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw new TesseraError('ResourceNotFound', 'That principal is not a member of the group.');
    this.membershipChanged();
  }

  async members(tenantId: string, idOrName: string): Promise<MemberView[]> {
    const group = await this.get(tenantId, idOrName);
    const users = await this.store.db
      .selectFrom('group_members')
      .innerJoin('users', 'users.id', 'group_members.member_id')
      .select(['users.id', 'users.display_name', 'users.username'])
      .where('group_members.group_id', '=', group.id)
      .orderBy('users.username')
      .execute();
    const apps = await this.store.db
      .selectFrom('group_members')
      .innerJoin('service_principals', 'service_principals.id', 'group_members.member_id')
      .select(['service_principals.id', 'service_principals.display_name', 'service_principals.app_id'])
      .where('group_members.group_id', '=', group.id)
      .orderBy('service_principals.name_key')
      .execute();
    return [
      ...users.map((r): MemberView => ({ id: r.id, '@odata.type': '#microsoft.graph.user', displayName: r.display_name, userName: r.username })),
      ...apps.map((r): MemberView => ({ id: r.id, '@odata.type': '#microsoft.graph.servicePrincipal', displayName: r.display_name, appId: r.app_id })),
    ];
  }

  /** The ids of the groups `principalId` belongs to. */
  async groupIdsOf(principalId: string): Promise<string[]> {
    const rows = await this.store.db.selectFrom('group_members').select('group_id').where('member_id', '=', principalId).execute();
    return rows.map((r) => r.group_id);
  }
}
