/**
 * Administrators' quota overrides: the server default (per scope kind), one workspace's,
 * or one principal's. `limits` is a JSON object holding only the limits the override sets
 * (a number, or null for unlimited); the others inherit.
 */
import type { Kysely, Migration } from 'kysely';

export const quotas: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('quota_overrides')
      // `default`, `workspace` or `principal`.
      .addColumn('scope', 'varchar(16)', (c) => c.notNull())
      // default: `workspace` or `principal` (which kind it applies to); workspace: its row id; principal: its object id.
      .addColumn('target', 'varchar(64)', (c) => c.notNull())
      .addColumn('limits', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_by', 'varchar(36)')
      .addPrimaryKeyConstraint('quota_overrides_pk', ['scope', 'target'])
      .execute();
    // Per-principal usage sums a principal's services and model versions across workspaces.
    await db.schema.createIndex('web_services_created_by').on('web_services').column('created_by').execute();
    await db.schema.createIndex('models_created_by').on('models').column('created_by').execute();
  },
};
