/**
 * Compute: user-assigned managed identities, computes (with their identities), the nodes
 * that run their jobs, and runs with their logs, metrics and artifacts. A managed identity
 * is a service principal (`sp_type` ManagedIdentity, `managed_by` the resource that owns
 * it), so role assignments, the principal cache and token checks treat it as any other.
 */
import type { Kysely, Migration } from 'kysely';

export const compute: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('service_principals').addColumn('sp_type', 'varchar(24)', (c) => c.notNull().defaultTo('Application')).execute();
    await db.schema.alterTable('service_principals').addColumn('managed_by', 'varchar(600)').execute();

    await db.schema
      .createTable('user_assigned_identities')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('resource_group_id', 'varchar(36)', (c) => c.notNull().references('resource_groups.id').onDelete('cascade'))
      .addColumn('name', 'varchar(128)', (c) => c.notNull())
      .addColumn('name_key', 'varchar(128)', (c) => c.notNull())
      .addColumn('location', 'varchar(64)', (c) => c.notNull())
      .addColumn('tags', 'text', (c) => c.notNull())
      .addColumn('sp_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('created_by', 'varchar(36)')
      .addUniqueConstraint('user_assigned_identities_rg_name', ['resource_group_id', 'name_key'])
      .execute();

    await db.schema
      .createTable('computes')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('workspace_id', 'varchar(36)', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
      .addColumn('name', 'varchar(32)', (c) => c.notNull())
      .addColumn('name_key', 'varchar(32)', (c) => c.notNull())
      .addColumn('compute_type', 'varchar(32)', (c) => c.notNull())
      .addColumn('location', 'varchar(64)', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('identity_type', 'varchar(40)', (c) => c.notNull())
      // The system-assigned identity's service principal, when it has one.
      .addColumn('system_sp_id', 'varchar(36)')
      .addColumn('max_concurrent_runs', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('modified_at', 'bigint', (c) => c.notNull())
      .addColumn('created_by', 'varchar(36)')
      .addUniqueConstraint('computes_workspace_name', ['workspace_id', 'name_key'])
      .execute();

    await db.schema
      .createTable('compute_identities')
      .addColumn('compute_id', 'varchar(36)', (c) => c.notNull().references('computes.id').onDelete('cascade'))
      .addColumn('identity_id', 'varchar(36)', (c) => c.notNull().references('user_assigned_identities.id').onDelete('cascade'))
      .addPrimaryKeyConstraint('compute_identities_pk', ['compute_id', 'identity_id'])
      .execute();

    await db.schema
      .createTable('compute_nodes')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('compute_id', 'varchar(36)', (c) => c.notNull().references('computes.id').onDelete('cascade'))
      .addColumn('name', 'varchar(64)', (c) => c.notNull())
      // SHA-256 of the node's credential, hex: also its lookup key.
      .addColumn('credential_hash', 'varchar(64)', (c) => c.notNull().unique())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('rotated_at', 'bigint', (c) => c.notNull())
      .addColumn('last_seen_at', 'bigint')
      .addColumn('created_by', 'varchar(36)')
      .execute();
    await db.schema.createIndex('compute_nodes_compute').on('compute_nodes').column('compute_id').execute();

    await db.schema
      .createTable('runs')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('workspace_id', 'varchar(36)', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('name_key', 'varchar(255)', (c) => c.notNull())
      .addColumn('experiment', 'varchar(255)', (c) => c.notNull())
      // Null once its compute is deleted (the run was canceled then).
      .addColumn('compute_id', 'varchar(36)', (c) => c.references('computes.id').onDelete('set null'))
      .addColumn('compute_name', 'varchar(32)', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('command', 'text', (c) => c.notNull())
      /** JSON: display name, description, tags, environment, variables, timeout. */
      .addColumn('settings', 'text', (c) => c.notNull())
      .addColumn('node_id', 'varchar(36)')
      .addColumn('cancel_requested', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('error_code', 'varchar(64)')
      .addColumn('error_message', 'text')
      .addColumn('exit_code', 'integer')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('started_at', 'bigint')
      .addColumn('ended_at', 'bigint')
      .addColumn('created_by', 'varchar(36)', (c) => c.notNull())
      .addColumn('created_by_type', 'varchar(16)', (c) => c.notNull())
      .addColumn('log_seq', 'integer', (c) => c.notNull().defaultTo(0))
      .addUniqueConstraint('runs_workspace_name', ['workspace_id', 'name_key'])
      .execute();
    await db.schema.createIndex('runs_compute_status').on('runs').columns(['compute_id', 'status']).execute();
    await db.schema.createIndex('runs_status').on('runs').column('status').execute();

    await db.schema
      .createTable('run_logs')
      .addColumn('run_id', 'varchar(36)', (c) => c.notNull().references('runs.id').onDelete('cascade'))
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('stream', 'varchar(8)', (c) => c.notNull())
      .addColumn('text', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('run_logs_pk', ['run_id', 'seq'])
      .execute();

    await db.schema
      .createTable('run_metrics')
      .addColumn('run_id', 'varchar(36)', (c) => c.notNull().references('runs.id').onDelete('cascade'))
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('step', 'integer', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('run_metrics_run').on('run_metrics').columns(['run_id', 'name', 'step']).execute();

    await db.schema
      .createTable('run_artifacts')
      .addColumn('run_id', 'varchar(36)', (c) => c.notNull().references('runs.id').onDelete('cascade'))
      .addColumn('path', 'varchar(512)', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('sha256', 'varchar(64)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('run_artifacts_pk', ['run_id', 'path'])
      .execute();
  },
};
