/**
 * Subscriptions made, renamed and cancelled through the API, as Azure's
 * Microsoft.Subscription provider does: a subscription's `state` (`Enabled`, or
 * `Disabled` once cancelled, which makes everything under it read-only), the workload
 * and billing scope it was created with, and the aliases it was created or adopted under
 * (unique per tenant without regard to case, through `name_key`).
 */
import { sql, type Kysely, type Migration } from 'kysely';

export const subscriptionLifecycle: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('subscriptions').addColumn('state', 'varchar(16)', (c) => c.notNull().defaultTo(sql`'Enabled'`)).execute();
    await db.schema
      .createTable('subscription_aliases')
      .addColumn('tenant_id', 'varchar(36)', (c) => c.notNull().references('tenants.id'))
      .addColumn('name', 'varchar(64)', (c) => c.notNull())
      .addColumn('name_key', 'varchar(64)', (c) => c.notNull())
      .addColumn('subscription_id', 'varchar(36)', (c) => c.notNull().references('subscriptions.id'))
      .addColumn('workload', 'varchar(16)', (c) => c.notNull())
      .addColumn('billing_scope', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('created_by', 'varchar(36)')
      .addPrimaryKeyConstraint('subscription_aliases_pk', ['tenant_id', 'name_key'])
      .execute();
    await db.schema.createIndex('subscription_aliases_subscription').on('subscription_aliases').column('subscription_id').execute();
  },
};
