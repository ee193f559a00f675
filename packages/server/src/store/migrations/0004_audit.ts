/** The audit trail: management changes, refusals and sign-ins. */
import type { Kysely, Migration } from 'kysely';

export const audit: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('audit_records')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('tenant_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('category', 'varchar(16)', (c) => c.notNull())
      .addColumn('operation', 'varchar(256)', (c) => c.notNull())
      .addColumn('result', 'varchar(16)', (c) => c.notNull())
      .addColumn('status', 'integer', (c) => c.notNull())
      .addColumn('reason', 'varchar(64)')
      .addColumn('actor_id', 'varchar(36)')
      .addColumn('actor_name', 'varchar(320)')
      .addColumn('target', 'varchar(1024)')
      .addColumn('request_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('client_ip', 'varchar(64)')
      .execute();
    await db.schema.createIndex('audit_records_tenant_at').on('audit_records').columns(['tenant_id', 'at']).execute();
  },
};
