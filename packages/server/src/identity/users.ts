/**
 * Local user accounts: create, read, update, disable, delete, set password, and the
 * password check at sign-in. Shapes follow Microsoft Graph's user resource so scripts
 * written against Graph read them unchanged.
 */
import crypto from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Store } from '../store/db.js';
import { isUniqueViolation } from '../store/db.js';
import type { UsersTable } from '../store/schema.js';
import type { Clock } from '../clock.js';
import { TesseraError } from '../errors.js';
import { checkPasswordPolicy, type PasswordHasher } from './passwords.js';
import { checkDisplayName, checkEmail, checkUsername, hasControlChars, isGuid } from './validate.js';
import type { PrincipalCache } from './principalCache.js';
import { LOCAL_SOURCE, directoryManaged, isDirectorySource } from './sources.js';

export type UserRow = Selectable<UsersTable>;

/** A user as the API shows it (Graph's field names). */
export interface UserView {
  id: string;
  userName: string;
  userPrincipalName: string;
  displayName: string;
  mail: string | null;
  accountEnabled: boolean;
  createdDateTime: string;
  lastPasswordChangeDateTime: string | null;
  userType: 'Member';
  /** `local`, or `ldap:NAME` for a directory's user. */
  source: string;
  /** Graph's names for a directory user's origin (null for local users, as Graph has for cloud-only ones). */
  onPremisesSyncEnabled: boolean | null;
  onPremisesDistinguishedName: string | null;
  onPremisesImmutableId: string | null;
  onPremisesLastSyncDateTime: string | null;
}

export interface NewUser {
  username: string;
  displayName?: string | undefined;
  email?: string | null | undefined;
  password: string;
  enabled?: boolean | undefined;
}

export interface UserPatch {
  displayName?: string | undefined;
  email?: string | null | undefined;
  enabled?: boolean | undefined;
  password?: string | undefined;
}

/** Called when a user's sessions must end (password changed, disabled, deleted). */
export type RevokeSessions = (userId: string) => Promise<void>;

export class Users {
  constructor(
    private readonly store: Store,
    private readonly hasher: PasswordHasher,
    private readonly clock: Clock,
    private readonly principals: PrincipalCache,
    private readonly revokeSessions: RevokeSessions,
    /** The tenant's domain, for userPrincipalName. */
    private readonly domainOf: (tenantId: string) => string,
  ) {}

  view(row: UserRow): UserView {
    return {
      id: row.id,
      userName: row.username,
      userPrincipalName: `${row.username}@${this.domainOf(row.tenant_id)}`,
      displayName: row.display_name,
      mail: row.email,
      accountEnabled: row.enabled === 1,
      createdDateTime: new Date(row.created_at).toISOString(),
      lastPasswordChangeDateTime: row.password_changed_at === null ? null : new Date(row.password_changed_at).toISOString(),
      userType: 'Member',
      source: row.source,
      onPremisesSyncEnabled: isDirectorySource(row.source) ? true : null,
      onPremisesDistinguishedName: row.directory_dn,
      onPremisesImmutableId: row.external_id,
      onPremisesLastSyncDateTime: row.synced_at === null ? null : new Date(row.synced_at).toISOString(),
    };
  }

  async create(tenantId: string, input: NewUser): Promise<UserRow> {
    const username = checkUsername(input.username);
    const displayName = checkDisplayName(input.displayName ?? input.username);
    const email = input.email ? checkEmail(input.email) : null;
    checkPasswordPolicy(input.password, username);
    const now = this.clock.now();
    const row: UserRow = {
      id: crypto.randomUUID(),
      tenant_id: tenantId,
      username,
      display_name: displayName,
      email,
      enabled: input.enabled === false ? 0 : 1,
      password_hash: await this.hasher.hash(input.password),
      password_changed_at: now,
      created_at: now,
      updated_at: now,
      source: LOCAL_SOURCE,
      external_id: null,
      directory_dn: null,
      synced_at: null,
    };
    try {
      await this.store.db.insertInto('users').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new TesseraError('Conflict', `A user named '${username}' already exists.`);
      throw err;
    }
    return row;
  }

  /** Finds a user by object id, user name or userPrincipalName. */
  async find(tenantId: string, idOrName: string): Promise<UserRow | undefined> {
    const query = this.store.db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId);
    if (isGuid(idOrName)) return query.where('id', '=', idOrName.toLowerCase()).executeTakeFirst();
    // Names with control characters cannot exist (and PostgreSQL refuses NUL in text): no lookup.
    if (hasControlChars(idOrName)) return undefined;
    const name = idOrName.toLowerCase();
    const at = name.lastIndexOf('@');
    const username = at > 0 && name.slice(at + 1) === this.domainOf(tenantId) ? name.slice(0, at) : name;
    if (username.length > 64) return undefined;
    return query.where('username', '=', username).executeTakeFirst();
  }

  /** The user with this object id, in any tenant. */
  byId(id: string): Promise<UserRow | undefined> {
    return this.store.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async get(tenantId: string, idOrName: string): Promise<UserRow> {
    const row = await this.find(tenantId, idOrName);
    if (!row) throw new TesseraError('ResourceNotFound', 'No user has that id or name.');
    return row;
  }

  async list(tenantId: string, top: number): Promise<UserRow[]> {
    return this.store.db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).orderBy('username').limit(top).execute();
  }

  /** Applies a change; a new password or a disable ends the user's sessions. */
  async update(tenantId: string, idOrName: string, patch: UserPatch, actorId?: string): Promise<UserRow> {
    const row = await this.get(tenantId, idOrName);
    // The directory owns a directory user's name, mail and password; enabling or disabling them here still works.
    if (isDirectorySource(row.source) && (patch.displayName !== undefined || patch.email !== undefined || patch.password !== undefined)) throw directoryManaged('user', row.source);
    if (patch.enabled === false && row.id === actorId) throw new TesseraError('Conflict', 'You cannot disable your own account.');
    const changes: Partial<UserRow> = { updated_at: this.clock.now() };
    if (patch.displayName !== undefined) changes.display_name = checkDisplayName(patch.displayName);
    if (patch.email !== undefined) changes.email = patch.email === null ? null : checkEmail(patch.email);
    if (patch.enabled !== undefined) changes.enabled = patch.enabled ? 1 : 0;
    if (patch.password !== undefined) {
      checkPasswordPolicy(patch.password, row.username);
      changes.password_hash = await this.hasher.hash(patch.password);
      changes.password_changed_at = changes.updated_at!;
    }
    await this.store.db.updateTable('users').set(changes).where('id', '=', row.id).execute();
    this.principals.invalidate(row.id);
    if (patch.password !== undefined || patch.enabled === false) await this.revokeSessions(row.id);
    return { ...row, ...changes };
  }

  async delete(tenantId: string, idOrName: string, actorId?: string): Promise<void> {
    const row = await this.get(tenantId, idOrName);
    if (row.id === actorId) throw new TesseraError('Conflict', 'You cannot delete your own account.');
    await this.store.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('group_members').where('member_id', '=', row.id).execute();
      await trx.deleteFrom('role_assignments').where('principal_id', '=', row.id).execute();
      await trx.deleteFrom('mfa_totp').where('user_id', '=', row.id).execute();
      await trx.deleteFrom('mfa_recovery_codes').where('user_id', '=', row.id).execute();
      await trx.deleteFrom('users').where('id', '=', row.id).execute();
    });
    this.principals.invalidate(row.id);
    await this.revokeSessions(row.id);
  }

  /**
   * The password check at sign-in. With no user, spends the same time and returns false,
   * so an unknown name cannot be told from a wrong password.
   */
  async verifyPassword(user: UserRow | undefined, password: string): Promise<boolean> {
    const ok = await this.hasher.verify(user?.password_hash, password);
    if (!ok || !user) return false;
    if (this.hasher.needsRehash(user.password_hash!)) {
      // Parameters were raised since this hash was made: upgrade it while we hold the password.
      const rehashed = await this.hasher.hash(password);
      await this.store.db.updateTable('users').set({ password_hash: rehashed }).where('id', '=', user.id).execute();
    }
    return true;
  }
}
