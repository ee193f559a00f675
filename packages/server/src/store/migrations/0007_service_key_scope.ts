/**
 * A web service key's hash is unique within its service, no longer across the server: a
 * caller choosing a key value must not learn that another service uses it. The column's
 * unique constraint cannot be dropped on SQLite, so the table is rebuilt (on both stores,
 * the same way).
 */
import { sql, type Kysely, type Migration } from 'kysely';

export const serviceKeyScope: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('web_service_keys_next')
      .addColumn('service_id', 'varchar(36)', (c) => c.notNull().references('web_services.id').onDelete('cascade'))
      .addColumn('key_type', 'varchar(16)', (c) => c.notNull())
      .addColumn('key_hash', 'varchar(64)', (c) => c.notNull())
      .addColumn('key_sealed', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_used_at', 'bigint')
      .addColumn('expires_at', 'bigint')
      .addPrimaryKeyConstraint('web_service_keys_type_pk', ['service_id', 'key_type'])
      .execute();
    await sql`insert into web_service_keys_next (service_id, key_type, key_hash, key_sealed, created_at, last_used_at, expires_at)
      select service_id, key_type, key_hash, key_sealed, created_at, last_used_at, expires_at from web_service_keys`.execute(db);
    await db.schema.dropTable('web_service_keys').execute();
    await db.schema.alterTable('web_service_keys_next').renameTo('web_service_keys').execute();
    await db.schema.createIndex('web_service_keys_service_hash').unique().on('web_service_keys').columns(['service_id', 'key_hash']).execute();
    // Key use is recorded by hash.
    await db.schema.createIndex('web_service_keys_hash').on('web_service_keys').column('key_hash').execute();
  },
};
