/**
 * Indexes for the management API: role assignments listed at, above and below a scope,
 * and counted per role definition (a custom role still assigned cannot be deleted); and
 * at most one assignment of a role to a principal at a scope.
 */
import type { Kysely, Migration } from 'kysely';

export const accessIndexes: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.createIndex('role_assignments_scope').on('role_assignments').columns(['tenant_id', 'scope']).execute();
    await db.schema.createIndex('role_assignments_role').on('role_assignments').column('role_definition_id').execute();
    // One assignment per (principal, role, scope): concurrent PUTs cannot make duplicates.
    await db.schema.createIndex('role_assignments_unique').on('role_assignments').columns(['principal_id', 'role_definition_id', 'scope']).unique().execute();
  },
};
