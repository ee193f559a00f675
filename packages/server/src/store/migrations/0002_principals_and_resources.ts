/**
 * Refresh-token chains; service principals and their credentials; resource groups and workspaces (the ARM
 * hierarchy below subscriptions); custom role definitions.
 */
import type { Kysely, Migration } from 'kysely';

export const principalsAndResources: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    // One row per sign-in session: revoking it here revokes every token of the chain,
    // including a successor inserted concurrently with the revocation.
    await db.schema
      .createTable('refresh_chains')
      .addColumn('chain_id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('user_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('revoked_at', 'bigint')
      .execute();
    await db.schema.createIndex('refresh_chains_user').on('refresh_chains').column('user_id').execute();
    await db.schema
      .createTable('service_principals')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('tenant_id', 'varchar(36)', (c) => c.notNull().references('tenants.id'))
      .addColumn('app_id', 'varchar(36)', (c) => c.notNull().unique())
      .addColumn('display_name', 'varchar(256)', (c) => c.notNull())
      .addColumn('name_key', 'varchar(256)', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('created_by', 'varchar(36)')
      .addUniqueConstraint('service_principals_tenant_name', ['tenant_id', 'name_key'])
      .execute();
    await db.schema
      .createTable('sp_credentials')
      .addColumn('key_id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('sp_id', 'varchar(36)', (c) => c.notNull().references('service_principals.id').onDelete('cascade'))
      .addColumn('type', 'varchar(16)', (c) => c.notNull())
      .addColumn('display_name', 'varchar(256)', (c) => c.notNull())
      .addColumn('secret_hash', 'varchar(64)', (c) => c.unique())
      .addColumn('hint', 'varchar(8)')
      .addColumn('certificate_pem', 'text')
      .addColumn('thumbprint_sha1', 'varchar(64)')
      .addColumn('thumbprint_sha256', 'varchar(64)')
      .addColumn('start_at', 'bigint', (c) => c.notNull())
      .addColumn('end_at', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('sp_credentials_sp').on('sp_credentials').column('sp_id').execute();
    await db.schema
      .createTable('resource_groups')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('subscription_id', 'varchar(36)', (c) => c.notNull().references('subscriptions.id'))
      .addColumn('name', 'varchar(90)', (c) => c.notNull())
      .addColumn('name_key', 'varchar(90)', (c) => c.notNull())
      .addColumn('location', 'varchar(64)', (c) => c.notNull())
      .addColumn('tags', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('created_by', 'varchar(36)')
      .addUniqueConstraint('resource_groups_sub_name', ['subscription_id', 'name_key'])
      .execute();
    await db.schema
      .createTable('workspaces')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('resource_group_id', 'varchar(36)', (c) => c.notNull().references('resource_groups.id'))
      .addColumn('name', 'varchar(64)', (c) => c.notNull())
      .addColumn('name_key', 'varchar(64)', (c) => c.notNull())
      .addColumn('location', 'varchar(64)', (c) => c.notNull())
      .addColumn('tags', 'text', (c) => c.notNull())
      .addColumn('properties', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('created_by', 'varchar(36)')
      .addUniqueConstraint('workspaces_rg_name', ['resource_group_id', 'name_key'])
      .execute();
    await db.schema
      .createTable('role_definitions')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('tenant_id', 'varchar(36)', (c) => c.notNull().references('tenants.id'))
      .addColumn('role_name', 'varchar(256)', (c) => c.notNull())
      .addColumn('name_key', 'varchar(256)', (c) => c.notNull())
      .addColumn('description', 'varchar(2048)', (c) => c.notNull())
      .addColumn('permissions', 'text', (c) => c.notNull())
      .addColumn('assignable_scopes', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('role_definitions_tenant_name', ['tenant_id', 'name_key'])
      .execute();
  },
};
