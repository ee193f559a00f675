/**
 * Multi-factor authentication: each user's confirmed TOTP authenticator (the secret
 * sealed under the master key, the last step a code was accepted in) and their recovery
 * codes (keyed hashes; used ones keep their time). Enrollments not yet confirmed are not
 * stored: they live in the sealed state of the enrollment page.
 */
import type { Kysely, Migration } from 'kysely';

export const mfa: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('mfa_totp')
      .addColumn('user_id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('tenant_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('method_id', 'varchar(36)', (c) => c.notNull().unique())
      .addColumn('secret_sealed', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_step', 'bigint')
      .addColumn('last_used_at', 'bigint')
      .execute();

    await db.schema
      .createTable('mfa_recovery_codes')
      .addColumn('code_hash', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('user_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .execute();
    await db.schema.createIndex('mfa_recovery_codes_user').on('mfa_recovery_codes').column('user_id').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('mfa_recovery_codes').execute();
    await db.schema.dropTable('mfa_totp').execute();
  },
};
