/**
 * Web services (online endpoints), their keys, and the model versions each uses.
 * A service's `route_key` is unique on the server (the scoring URL names no workspace):
 * the lower-cased name, or `name/version` for ML Server's versioned services.
 */
import type { Kysely, Migration } from 'kysely';

export const webServices: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('web_services')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('workspace_id', 'varchar(36)', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
      .addColumn('tenant_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('name', 'varchar(64)', (c) => c.notNull())
      .addColumn('name_key', 'varchar(64)', (c) => c.notNull())
      .addColumn('route_key', 'varchar(160)', (c) => c.notNull().unique())
      .addColumn('kind', 'varchar(16)', (c) => c.notNull())
      .addColumn('mlserver_version', 'varchar(64)')
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('tags', 'text', (c) => c.notNull())
      .addColumn('target', 'varchar(16)', (c) => c.notNull())
      .addColumn('auth_mode', 'varchar(16)', (c) => c.notNull())
      .addColumn('runtime', 'varchar(16)', (c) => c.notNull())
      .addColumn('entry_script_name', 'varchar(256)')
      .addColumn('entry_script', 'text')
      .addColumn('contract', 'text', (c) => c.notNull())
      .addColumn('model_refs', 'text', (c) => c.notNull())
      .addColumn('cpu_cores', 'double precision', (c) => c.notNull())
      .addColumn('memory_gb', 'double precision', (c) => c.notNull())
      .addColumn('replicas', 'integer', (c) => c.notNull())
      .addColumn('scoring_timeout_ms', 'integer', (c) => c.notNull())
      .addColumn('max_queue_size', 'integer', (c) => c.notNull())
      .addColumn('state', 'varchar(16)', (c) => c.notNull())
      .addColumn('error', 'text')
      .addColumn('generation', 'bigint', (c) => c.notNull())
      .addColumn('config_version', 'bigint', (c) => c.notNull())
      .addColumn('created_by', 'varchar(36)')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('web_services_workspace').on('web_services').column('workspace_id').execute();
    await db.schema
      .createTable('web_service_keys')
      .addColumn('service_id', 'varchar(36)', (c) => c.notNull().references('web_services.id').onDelete('cascade'))
      .addColumn('key_type', 'varchar(16)', (c) => c.notNull())
      .addColumn('key_hash', 'varchar(64)', (c) => c.notNull().unique())
      .addColumn('key_sealed', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_used_at', 'bigint')
      .addColumn('expires_at', 'bigint')
      .addPrimaryKeyConstraint('web_service_keys_pk', ['service_id', 'key_type'])
      .execute();
    await db.schema
      .createTable('web_service_models')
      .addColumn('service_id', 'varchar(36)', (c) => c.notNull().references('web_services.id').onDelete('cascade'))
      .addColumn('model_version_id', 'varchar(64)', (c) => c.notNull())
      .addPrimaryKeyConstraint('web_service_models_pk', ['service_id', 'model_version_id'])
      .execute();
    await db.schema.createIndex('web_service_models_model').on('web_service_models').column('model_version_id').execute();
  },
};
