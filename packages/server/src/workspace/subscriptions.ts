/**
 * Subscriptions: the top of the resource hierarchy. Bootstrap makes the first; more are
 * made through aliases (subscriptionAliases.ts), as Azure's Microsoft.Subscription
 * provider makes them. A subscription is renamed, cancelled (`Disabled`: everything
 * under it is read-only, as ARM makes it) and enabled again; it is never deleted.
 */
import type { Selectable } from 'kysely';
import type { Store } from '../store/db.js';
import type { SubscriptionState, SubscriptionsTable } from '../store/schema.js';
import { TesseraError } from '../errors.js';
import { checkGuid } from './names.js';

export type SubscriptionRow = Selectable<SubscriptionsTable>;
export type { SubscriptionState };

const DISPLAY_NAME_MAX = 64;
/** Any control character, tab and newline included: a display name is one line. */
const CONTROL = /[\p{Cc}]/u;

/**
 * Throws 400 unless `value` is a subscription display name: 1 to 64 characters (code
 * points), not only spaces, no control characters. Markup is allowed and kept as text: it
 * is only ever sent in JSON and printed, never interpreted. Names need not be unique.
 */
export function checkSubscriptionDisplayName(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new TesseraError('InvalidParameter', `The field '${field}' must be a string: the subscription's display name.`);
  const length = [...value].length;
  if (length === 0 || length > DISPLAY_NAME_MAX || value.trim() === '' || CONTROL.test(value)) {
    throw new TesseraError('InvalidParameter', `The field '${field}' must be 1 to ${DISPLAY_NAME_MAX} characters, not only spaces, without control characters.`);
  }
  return value;
}

/** Subscriptions of a tenant: read, renamed, cancelled and enabled. */
export class Subscriptions {
  constructor(private readonly store: Store) {}

  /** The tenant's subscriptions, oldest first. */
  list(tenantId: string): Promise<SubscriptionRow[]> {
    return this.store.db.selectFrom('subscriptions').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at').orderBy('id').execute();
  }

  /** The subscription (a lower-case GUID) in this tenant, or undefined. */
  find(tenantId: string, id: string): Promise<SubscriptionRow | undefined> {
    return this.store.db.selectFrom('subscriptions').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id.toLowerCase()).executeTakeFirst();
  }

  /** The subscription (a lower-case GUID) in this tenant; 404 otherwise. */
  async get(tenantId: string, id: string): Promise<SubscriptionRow> {
    const row = await this.find(tenantId, id);
    if (!row) throw new TesseraError('ResourceNotFound', `The subscription '${id.toLowerCase()}' could not be found.`);
    return row;
  }

  /**
   * Throws 409 ReadOnlyDisabledSubscription when the subscription is Disabled; the
   * management API calls it before every write under a subscription. One primary-key
   * read; an unknown subscription passes (the operation answers its own 404).
   */
  async assertWritable(tenantId: string, id: string): Promise<void> {
    const row = await this.store.db.selectFrom('subscriptions').select('state').where('id', '=', id.toLowerCase()).where('tenant_id', '=', tenantId).executeTakeFirst();
    if (row?.state === 'Disabled') {
      throw new TesseraError(
        'ReadOnlyDisabledSubscription',
        `The subscription '${id.toLowerCase()}' is disabled and therefore marked as read only. You cannot perform any write actions on this subscription until it is re-enabled.`,
      );
    }
  }

  /** Changes the display name; 404 for a subscription not in the tenant. */
  async rename(tenantId: string, id: string, displayName: unknown): Promise<SubscriptionRow> {
    const name = checkSubscriptionDisplayName(displayName, 'subscriptionName');
    const row = await this.get(tenantId, checkGuid(id, 'subscription id'));
    await this.store.db.updateTable('subscriptions').set({ display_name: name }).where('id', '=', row.id).execute();
    return { ...row, display_name: name };
  }

  /** Sets the state (cancel → Disabled, enable → Enabled); doing it twice is harmless. */
  async setState(tenantId: string, id: string, state: SubscriptionState): Promise<SubscriptionRow> {
    const row = await this.get(tenantId, checkGuid(id, 'subscription id'));
    if (row.state !== state) await this.store.db.updateTable('subscriptions').set({ state }).where('id', '=', row.id).execute();
    return { ...row, state };
  }
}
