/**
 * Whether a refresh-token chain began with an authenticated (confidential) client: such
 * a chain is refreshed only with that client's credential (RFC 6749 §6), even when the
 * same application also allows public-client flows.
 */
import type { Kysely, Migration } from 'kysely';

export const confidentialChains: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('refresh_chains').addColumn('confidential', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  },
};
