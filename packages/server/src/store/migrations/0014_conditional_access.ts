/**
 * Conditional access: policies (Graph's conditionalAccessPolicy; `body` holds the
 * normalized conditions and grant controls as JSON) and ip named locations.
 */
import type { Kysely, Migration } from 'kysely';

export const conditionalAccess: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('ca_policies')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('tenant_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('display_name', 'varchar(1024)', (c) => c.notNull())
      // `enabled`, `disabled` or `enabledForReportingButNotEnforced`.
      .addColumn('state', 'varchar(40)', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('modified_at', 'bigint')
      .addColumn('created_by', 'varchar(36)')
      .execute();
    await db.schema.createIndex('ca_policies_tenant').on('ca_policies').column('tenant_id').execute();
    await db.schema
      .createTable('ca_named_locations')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('tenant_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('display_name', 'varchar(1024)', (c) => c.notNull())
      .addColumn('name_key', 'varchar(1024)', (c) => c.notNull())
      .addColumn('is_trusted', 'integer', (c) => c.notNull())
      // JSON: [{"@odata.type", "cidrAddress"}].
      .addColumn('ip_ranges', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('modified_at', 'bigint')
      .addUniqueConstraint('ca_named_locations_name', ['tenant_id', 'name_key'])
      .execute();
  },
};
