/** The foundation: tenants, subscriptions, users, groups, signing keys, refresh tokens, throttle, role assignments. */
import type { Kysely, Migration } from 'kysely';

export const initial: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('tenants')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('domain', 'varchar(253)', (c) => c.notNull().unique())
      .addColumn('display_name', 'varchar(256)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('subscriptions')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('tenant_id', 'varchar(36)', (c) => c.notNull().references('tenants.id'))
      .addColumn('display_name', 'varchar(256)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('users')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('tenant_id', 'varchar(36)', (c) => c.notNull().references('tenants.id'))
      .addColumn('username', 'varchar(64)', (c) => c.notNull())
      .addColumn('display_name', 'varchar(256)', (c) => c.notNull())
      .addColumn('email', 'varchar(320)')
      .addColumn('enabled', 'integer', (c) => c.notNull())
      .addColumn('password_hash', 'varchar(256)')
      .addColumn('password_changed_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('users_tenant_username', ['tenant_id', 'username'])
      .execute();
    await db.schema
      .createTable('groups')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('tenant_id', 'varchar(36)', (c) => c.notNull().references('tenants.id'))
      .addColumn('display_name', 'varchar(256)', (c) => c.notNull())
      .addColumn('name_key', 'varchar(256)', (c) => c.notNull())
      .addColumn('description', 'varchar(1024)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('groups_tenant_name', ['tenant_id', 'name_key'])
      .execute();
    await db.schema
      .createTable('group_members')
      .addColumn('group_id', 'varchar(36)', (c) => c.notNull().references('groups.id').onDelete('cascade'))
      .addColumn('member_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('added_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('group_members_pk', ['group_id', 'member_id'])
      .execute();
    await db.schema.createIndex('group_members_member').on('group_members').column('member_id').execute();
    await db.schema
      .createTable('signing_keys')
      .addColumn('kid', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('tenant_id', 'varchar(36)', (c) => c.notNull().references('tenants.id'))
      .addColumn('alg', 'varchar(16)', (c) => c.notNull())
      .addColumn('public_jwk', 'text', (c) => c.notNull())
      .addColumn('private_jwk_sealed', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('retired_at', 'bigint')
      .addColumn('expires_at', 'bigint')
      .execute();
    await db.schema
      .createTable('refresh_tokens')
      .addColumn('token_hash', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('chain_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('tenant_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('client_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('scope', 'varchar(2048)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('chain_expires_at', 'bigint', (c) => c.notNull())
      .addColumn('rotated_at', 'bigint')
      .addColumn('revoked_at', 'bigint')
      .execute();
    await db.schema.createIndex('refresh_tokens_chain').on('refresh_tokens').column('chain_id').execute();
    await db.schema.createIndex('refresh_tokens_user').on('refresh_tokens').column('user_id').execute();
    await db.schema.createIndex('refresh_tokens_expiry').on('refresh_tokens').column('expires_at').execute();
    await db.schema
      .createTable('signin_throttle')
      .addColumn('key', 'varchar(320)', (c) => c.primaryKey())
      .addColumn('failures', 'integer', (c) => c.notNull())
      .addColumn('last_failure_at', 'bigint', (c) => c.notNull())
      .addColumn('locked_until', 'bigint')
      .execute();
    await db.schema
      .createTable('role_assignments')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('tenant_id', 'varchar(36)', (c) => c.notNull().references('tenants.id'))
      .addColumn('principal_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('principal_type', 'varchar(32)', (c) => c.notNull())
      .addColumn('role_definition_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('scope', 'varchar(1024)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('created_by', 'varchar(36)')
      .execute();
    await db.schema.createIndex('role_assignments_principal').on('role_assignments').column('principal_id').execute();
  },
};
