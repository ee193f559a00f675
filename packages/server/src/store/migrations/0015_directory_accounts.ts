/**
 * Users and groups that come from an LDAP or Active Directory directory: `source`
 * (`local`, or `ldap:NAME`), the directory's never-changing id for the entry
 * (entryUUID, objectGUID) so a renamed account keeps its role assignments, its DN, and
 * when it was last read from the directory. Directories set through the API are kept
 * with their service account's password sealed under the master key.
 */
import { sql, type Kysely, type Migration } from 'kysely';

export const directoryAccounts: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    for (const table of ['users', 'groups'] as const) {
      await db.schema.alterTable(table).addColumn('source', 'varchar(40)', (c) => c.notNull().defaultTo(sql`'local'`)).execute();
      await db.schema.alterTable(table).addColumn('external_id', 'varchar(128)').execute();
      await db.schema.alterTable(table).addColumn('directory_dn', 'text').execute();
      await db.schema.alterTable(table).addColumn('synced_at', 'bigint').execute();
      await db.schema.createIndex(`${table}_directory_entry`).unique().on(table).columns(['tenant_id', 'source', 'external_id']).execute();
    }
    await db.schema
      .createTable('directories')
      .addColumn('name', 'varchar(32)', (c) => c.primaryKey())
      .addColumn('settings', 'text', (c) => c.notNull())
      .addColumn('bind_password_sealed', 'text')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_by', 'varchar(36)')
      .execute();
  },
};
