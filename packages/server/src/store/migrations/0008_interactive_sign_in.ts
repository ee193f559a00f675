/**
 * Interactive sign-in: registered applications (redirect URIs, public-client flows),
 * authorization codes, device codes, browser sessions, and which browser session began
 * a refresh-token chain (so signing out ends what the browser started).
 */
import type { Kysely, Migration } from 'kysely';

export const interactiveSignIn: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('applications')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('tenant_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('app_id', 'varchar(36)', (c) => c.notNull().unique())
      .addColumn('display_name', 'varchar(256)', (c) => c.notNull())
      .addColumn('name_key', 'varchar(256)', (c) => c.notNull())
      .addColumn('public_redirect_uris', 'text', (c) => c.notNull())
      .addColumn('web_redirect_uris', 'text', (c) => c.notNull())
      .addColumn('is_fallback_public_client', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('created_by', 'varchar(36)')
      .execute();
    // Names are unique per tenant (as service principals' are), so a name finds one application.
    await db.schema.createIndex('applications_tenant_name').unique().on('applications').columns(['tenant_id', 'name_key']).execute();

    await db.schema
      .createTable('authorization_codes')
      .addColumn('code_hash', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('tenant_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('client_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('redirect_uri', 'text', (c) => c.notNull())
      .addColumn('code_challenge', 'varchar(128)')
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('nonce', 'varchar(256)')
      .addColumn('user_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('session_id', 'varchar(64)')
      .addColumn('chain_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('auth_time', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('redeemed_at', 'bigint')
      .execute();
    await db.schema.createIndex('authorization_codes_expiry').on('authorization_codes').column('expires_at').execute();

    await db.schema
      .createTable('device_codes')
      .addColumn('device_code_hash', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('user_code_hash', 'varchar(64)', (c) => c.notNull().unique())
      .addColumn('tenant_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('client_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('v1', 'integer', (c) => c.notNull())
      .addColumn('interval_sec', 'integer', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(36)')
      .addColumn('session_id', 'varchar(64)')
      .addColumn('chain_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('auth_time', 'bigint')
      .addColumn('last_poll_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('device_codes_expiry').on('device_codes').column('expires_at').execute();

    await db.schema
      .createTable('browser_sessions')
      .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('secret_hash', 'varchar(64)', (c) => c.notNull())
      .addColumn('tenant_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('auth_time', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('revoked_at', 'bigint')
      .execute();
    await db.schema.createIndex('browser_sessions_user').on('browser_sessions').column('user_id').execute();

    await db.schema.alterTable('refresh_chains').addColumn('session_id', 'varchar(64)').execute();
    await db.schema.createIndex('refresh_chains_session').on('refresh_chains').column('session_id').execute();
  },
};
