/**
 * Directory accounts as Tessera principals. A directory user becomes (or updates) a
 * Tessera user keyed by the directory's unique id, so a rename keeps the object id and
 * with it every role assignment; the directory's groups become Tessera groups the same
 * way, and the user's memberships in them are replaced with what the directory says
 * (local groups are left alone). No password is ever stored for them.
 */
import crypto from 'node:crypto';
import type { Store } from '../store/db.js';
import { isUniqueViolation } from '../store/db.js';
import type { Clock } from '../clock.js';
import type { UserRow } from '../identity/users.js';
import type { GroupRow } from '../identity/groups.js';
import { directorySource } from '../identity/sources.js';
import { TesseraError } from '../errors.js';
import type { DirectoryAccount, DirectoryGroup } from './directory.js';

const CHUNK = 500;

function chunks<T>(list: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** Directory text as Tessera stores it: no control characters, bounded. */
function clean(value: string, max: number): string {
  const cleaned = value.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return [...cleaned].slice(0, max).join('');
}

export interface AccountChanges {
  /** Called when memberships changed, so cached access decisions are dropped. */
  membershipChanged(): void;
  /** Called when a user's name or state changed, so the principal cache drops it. */
  principalChanged(userId: string): void;
}

export class DirectoryAccounts {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly changes: AccountChanges,
  ) {}

  /** The Tessera user of a directory entry, if it signed in before. */
  byEntry(tenantId: string, directory: string, uniqueId: string): Promise<UserRow | undefined> {
    return this.store.db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where('source', '=', directorySource(directory)).where('external_id', '=', uniqueId).executeTakeFirst();
  }

  /** Every user of a directory, for a sync. */
  usersOf(directory: string): Promise<UserRow[]> {
    return this.store.db.selectFrom('users').selectAll().where('source', '=', directorySource(directory)).execute();
  }

  /** Creates or updates the user for `account` and sets their directory group memberships. */
  async provision(tenantId: string, account: DirectoryAccount, groups: DirectoryGroup[]): Promise<UserRow> {
    const source = directorySource(account.directory);
    const now = this.clock.now();
    const username = clean(account.username, 64);
    if (username === '') throw new TesseraError('DirectoryError', `The directory '${account.directory}' returned an account without a sign-in name.`);
    const fields = {
      username,
      display_name: clean(account.displayName, 256) || username,
      email: account.mail === null ? null : clean(account.mail, 320) || null,
      directory_dn: account.dn.slice(0, 4096),
      synced_at: now,
      updated_at: now,
    };
    let user = await this.byEntry(tenantId, account.directory, account.uniqueId);
    try {
      if (user) {
        await this.store.db.updateTable('users').set(fields).where('id', '=', user.id).execute();
        user = { ...user, ...fields };
      } else {
        user = {
          id: crypto.randomUUID(),
          tenant_id: tenantId,
          enabled: 1,
          password_hash: null,
          password_changed_at: null,
          created_at: now,
          source,
          external_id: account.uniqueId,
          ...fields,
        };
        await this.store.db.insertInto('users').values(user).execute();
      }
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new TesseraError('Conflict', `The directory account '${username}' has the name of another Tessera user: rename one of them (a local account keeps its name).`);
      }
      throw err;
    }
    this.changes.principalChanged(user.id);
    await this.setMemberships(tenantId, user.id, source, groups);
    return user;
  }

  /** The Tessera groups for these directory groups, created or renamed as needed. */
  private async groupRows(tenantId: string, source: string, groups: DirectoryGroup[]): Promise<GroupRow[]> {
    const now = this.clock.now();
    const rows: GroupRow[] = [];
    for (const part of chunks(groups)) {
      const existing = await this.store.db
        .selectFrom('groups')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('source', '=', source)
        .where(
          'external_id',
          'in',
          part.map((g) => g.uniqueId),
        )
        .execute();
      const known = new Map(existing.map((r) => [r.external_id!, r]));
      for (const g of part) {
        const name = clean(g.name, 256) || g.uniqueId;
        const row = known.get(g.uniqueId);
        if (row) {
          if (row.display_name !== name || row.directory_dn !== g.dn) {
            await this.store.db.updateTable('groups').set({ display_name: name, directory_dn: g.dn, synced_at: now }).where('id', '=', row.id).execute();
          }
          rows.push({ ...row, display_name: name });
          continue;
        }
        rows.push(await this.createGroup(tenantId, source, g, name, now));
      }
    }
    return rows;
  }

  /** A new directory group; its name is suffixed with the source when a local group has it already. */
  private async createGroup(tenantId: string, source: string, g: DirectoryGroup, name: string, now: number): Promise<GroupRow> {
    for (const displayName of [name, `${name} (${source})`]) {
      const row: GroupRow = {
        id: crypto.randomUUID(),
        tenant_id: tenantId,
        display_name: displayName,
        name_key: displayName.toLowerCase(),
        description: `From the directory ${source.replace(/^ldap:/, '')}: ${g.dn}`.slice(0, 1024),
        created_at: now,
        source,
        external_id: g.uniqueId,
        directory_dn: g.dn,
        synced_at: now,
      };
      try {
        await this.store.db.insertInto('groups').values(row).execute();
        return row;
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        // Created meanwhile by another sign-in of the same directory: use that one.
        const raced = await this.store.db.selectFrom('groups').selectAll().where('tenant_id', '=', tenantId).where('source', '=', source).where('external_id', '=', g.uniqueId).executeTakeFirst();
        if (raced) return raced;
      }
    }
    throw new TesseraError('Conflict', `The directory group '${name}' cannot be named: rename the local group of that name.`);
  }

  /** Makes the user's memberships in this source's groups exactly `groups`. */
  async setMemberships(tenantId: string, userId: string, source: string, groups: DirectoryGroup[]): Promise<void> {
    const wanted = await this.groupRows(tenantId, source, groups);
    const wantedIds = new Set(wanted.map((g) => g.id));
    const current = await this.store.db
      .selectFrom('group_members')
      .innerJoin('groups', 'groups.id', 'group_members.group_id')
      .select('group_members.group_id as id')
      .where('group_members.member_id', '=', userId)
      .where('groups.source', '=', source)
      .execute();
    const currentIds = new Set(current.map((r) => r.id));
    const removed = [...currentIds].filter((id) => !wantedIds.has(id));
    const added = [...wantedIds].filter((id) => !currentIds.has(id));
    for (const part of chunks(removed)) await this.store.db.deleteFrom('group_members').where('member_id', '=', userId).where('group_id', 'in', part).execute();
    const now = this.clock.now();
    for (const part of chunks(added)) {
      await this.store.db
        .insertInto('group_members')
        .values(part.map((group_id) => ({ group_id, member_id: userId, added_at: now })))
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
    if (removed.length > 0 || added.length > 0) this.changes.membershipChanged();
  }

  /** The directory groups a user is in (names), for showing. */
  async groupNamesOf(userId: string, source: string): Promise<string[]> {
    const rows = await this.store.db
      .selectFrom('group_members')
      .innerJoin('groups', 'groups.id', 'group_members.group_id')
      .select('groups.display_name as name')
      .where('group_members.member_id', '=', userId)
      .where('groups.source', '=', source)
      .orderBy('groups.display_name')
      .execute();
    return rows.map((r) => r.name);
  }

  /** Disables a user the directory no longer has (their sessions are ended by the caller). */
  async disable(userId: string, source: string): Promise<void> {
    await this.store.db.updateTable('users').set({ enabled: 0, updated_at: this.clock.now() }).where('id', '=', userId).execute();
    await this.setMemberships('', userId, source, []);
    this.changes.principalChanged(userId);
    this.changes.membershipChanged();
  }
}
