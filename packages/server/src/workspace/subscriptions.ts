/**
 * Subscriptions: the top of the resource hierarchy. Bootstrap makes one per tenant;
 * they are read here, never created through the API.
 */
import type { Selectable } from 'kysely';
import type { Store } from '../store/db.js';
import type { SubscriptionsTable } from '../store/schema.js';
import { TesseraError } from '../errors.js';

export type SubscriptionRow = Selectable<SubscriptionsTable>;

/** Reads a tenant's subscriptions. */
export class Subscriptions {
  constructor(private readonly store: Store) {}

  /** The tenant's subscriptions, oldest first. */
  list(tenantId: string): Promise<SubscriptionRow[]> {
    return this.store.db.selectFrom('subscriptions').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at').execute();
  }

  /** The subscription (a lower-case GUID) in this tenant; 404 otherwise. */
  async get(tenantId: string, id: string): Promise<SubscriptionRow> {
    const row = await this.store.db.selectFrom('subscriptions').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id.toLowerCase()).executeTakeFirst();
    if (!row) throw new TesseraError('ResourceNotFound', `The subscription '${id.toLowerCase()}' could not be found.`);
    return row;
  }
}
