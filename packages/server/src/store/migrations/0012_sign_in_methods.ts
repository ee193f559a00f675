/**
 * How each sign-in was made (`amr`, space-separated: `pwd`, `pwd mfa otp`, …), kept by
 * every step that carries a sign-in forward, so tokens minted later say what it was.
 * Rows from before default to a password alone, which is what they were.
 */
import { sql, type Kysely, type Migration } from 'kysely';

const TABLES = ['browser_sessions', 'authorization_codes', 'device_codes', 'refresh_chains'] as const;

export const signInMethods: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    for (const table of TABLES) {
      await db.schema.alterTable(table).addColumn('amr', 'varchar(64)', (c) => c.notNull().defaultTo(sql`'pwd'`)).execute();
    }
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const table of TABLES) await db.schema.alterTable(table).dropColumn('amr').execute();
  },
};
