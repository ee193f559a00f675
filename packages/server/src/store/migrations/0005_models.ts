/**
 * The model registry: immutable model versions in a workspace, the files each holds, and
 * the content-addressed blobs those files point to (with the claims uploads in progress
 * hold on them, so a concurrent delete never removes a blob an upload is about to use).
 */
import type { Kysely, Migration } from 'kysely';

export const models: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    // One row per version; a model (the container) is the set of versions sharing a name.
    await db.schema
      .createTable('models')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('workspace_id', 'varchar(36)', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('name_key', 'varchar(255)', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('tags', 'text', (c) => c.notNull())
      .addColumn('sha256', 'varchar(64)', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('kind', 'varchar(8)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('created_by', 'varchar(36)')
      .addUniqueConstraint('models_ws_name_version', ['workspace_id', 'name_key', 'version'])
      .execute();
    await db.schema.createIndex('models_sha256').on('models').column('sha256').execute();
    await db.schema
      .createTable('model_files')
      .addColumn('version_id', 'varchar(36)', (c) => c.notNull().references('models.id').onDelete('cascade'))
      .addColumn('path', 'varchar(512)', (c) => c.notNull())
      .addColumn('sha256', 'varchar(64)', (c) => c.notNull())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('model_files_pk', ['version_id', 'path'])
      .execute();
    await db.schema.createIndex('model_files_sha256').on('model_files').column('sha256').execute();
    // The row a blob's writers and its collector lock, so "is it unreferenced?" and
    // "remove it" happen as one step with respect to a new claim.
    await db.schema
      .createTable('model_blobs')
      .addColumn('sha256', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('size', 'bigint', (c) => c.notNull())
      .addColumn('claimed_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('model_blob_claims')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('upload_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('sha256', 'varchar(64)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('model_blob_claims_sha256').on('model_blob_claims').column('sha256').execute();
    await db.schema.createIndex('model_blob_claims_upload').on('model_blob_claims').column('upload_id').execute();
  },
};
