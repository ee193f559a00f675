/**
 * Subscription aliases (`Microsoft.Subscription/aliases`): the tenant-level name a
 * subscription was created under, as in Azure. PUT with a display name creates a
 * subscription in the caller's tenant; PUT with an existing `subscriptionId` only names
 * it; the same alias again answers what it already names (an alias never updates its
 * subscription: rename is its own operation). Deleting an alias leaves the subscription.
 */
import crypto from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Store } from '../store/db.js';
import { isUniqueViolation } from '../store/db.js';
import type { SubscriptionAliasesTable } from '../store/schema.js';
import type { Clock } from '../clock.js';
import type { AccessControl } from '../access/assignments.js';
import type { PrincipalType } from '../access/principals.js';
import { OWNER_ROLE_ID } from '../access/roles.js';
import { TesseraError } from '../errors.js';
import { checkGuid, hasControl, shown } from './names.js';
import { checkSubscriptionDisplayName, type SubscriptionRow, type Subscriptions } from './subscriptions.js';
import { fields, objectBody, optionalString } from '../validation/jsonFields.js';

export type SubscriptionAliasRow = Selectable<SubscriptionAliasesTable>;

/** An alias with the subscription it names. */
export interface AliasRecord {
  alias: SubscriptionAliasRow;
  subscription: SubscriptionRow;
}

export type Workload = 'Production' | 'DevTest';

/** What a PUT asks for, checked. */
export interface AliasRequest {
  displayName: string | undefined;
  workload: Workload;
  billingScope: string | undefined;
  subscriptionId: string | undefined;
}

/** Who creates the alias: a new subscription's first Owner. */
export interface AliasCreator {
  principalId: string;
  principalType: PrincipalType;
}

const ALIAS_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const PUT_FIELDS = ['displayName', 'workload', 'billingScope', 'subscriptionId', 'resellerId', 'additionalProperties'] as const;

/** Throws 400 unless `name` is an alias name: 1 to 64 letters, digits, `-`, `_` or `.`, starting with a letter or digit. */
export function checkAliasName(name: string): string {
  if (!ALIAS_NAME.test(name)) {
    throw new TesseraError('InvalidParameter', `The alias name ${shown(name)} is invalid: use 1 to 64 letters, digits, hyphens, underscores or periods, starting with a letter or digit.`);
  }
  return name;
}

/**
 * Reads the body of `PUT …/aliases/{name}`: `{properties: {displayName, workload?,
 * billingScope?, subscriptionId?}}` (`resellerId` and `additionalProperties`, which need
 * Azure's billing, must be absent or null). A display name is needed unless
 * `subscriptionId` names an existing subscription.
 */
export function readAliasRequest(body: unknown): AliasRequest {
  const envelope = fields(objectBody(body), ['properties', 'id', 'name', 'type'], 'The alias');
  const props = fields(objectBody(envelope.properties, "The field 'properties'"), PUT_FIELDS, "The alias's properties");
  for (const field of ['resellerId', 'additionalProperties'] as const) {
    if (props[field] !== undefined && props[field] !== null) throw new TesseraError('InvalidParameter', `The field 'properties.${field}' is not supported: Tessera has no billing accounts or management groups.`);
  }
  const workload = props.workload ?? 'Production';
  if (workload !== 'Production' && workload !== 'DevTest') throw new TesseraError('InvalidParameter', "The field 'properties.workload' must be 'Production' or 'DevTest'.");
  const subscriptionId = props.subscriptionId === undefined || props.subscriptionId === null ? undefined : checkSubscriptionIdField(props.subscriptionId);
  const displayName = props.displayName === undefined || props.displayName === null ? undefined : checkSubscriptionDisplayName(props.displayName, 'properties.displayName');
  if (displayName === undefined && subscriptionId === undefined) {
    throw new TesseraError('InvalidParameter', "The field 'properties.displayName' is required to create a subscription (or give 'properties.subscriptionId' to alias an existing one).");
  }
  return { displayName, workload, billingScope: optionalString(props.billingScope, 'properties.billingScope', 1024), subscriptionId };
}

function checkSubscriptionIdField(value: unknown): string {
  if (typeof value !== 'string' || hasControl(value)) throw new TesseraError('InvalidParameter', "The field 'properties.subscriptionId' must be a subscription id (a GUID).");
  return checkGuid(value.replace(/^\/subscriptions\//i, ''), 'properties.subscriptionId');
}

/** Alias CRUD; creating one may create a subscription and make its creator Owner of it. */
export class SubscriptionAliases {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly subscriptions: Subscriptions,
    private readonly access: AccessControl,
  ) {}

  /** The alias by name (any case), or undefined. */
  async find(tenantId: string, name: string): Promise<AliasRecord | undefined> {
    const alias = await this.store.db.selectFrom('subscription_aliases').selectAll().where('tenant_id', '=', tenantId).where('name_key', '=', checkAliasName(name).toLowerCase()).executeTakeFirst();
    return alias && { alias, subscription: await this.subscriptions.get(tenantId, alias.subscription_id) };
  }

  /** The alias; 404 when the tenant has none by that name. */
  async get(tenantId: string, name: string): Promise<AliasRecord> {
    const found = await this.find(tenantId, name);
    if (!found) throw new TesseraError('ResourceNotFound', `The subscription alias ${shown(name)} could not be found.`);
    return found;
  }

  /** The tenant's aliases, by name. */
  async list(tenantId: string): Promise<AliasRecord[]> {
    const rows = await this.store.db
      .selectFrom('subscription_aliases')
      .innerJoin('subscriptions', 'subscriptions.id', 'subscription_aliases.subscription_id')
      .selectAll('subscription_aliases')
      .select(['subscriptions.display_name as sub_display_name', 'subscriptions.state as sub_state', 'subscriptions.created_at as sub_created_at'])
      .where('subscription_aliases.tenant_id', '=', tenantId)
      .orderBy('subscription_aliases.name_key')
      .execute();
    return rows.map(({ sub_display_name, sub_state, sub_created_at, ...alias }) => ({
      alias,
      subscription: { id: alias.subscription_id, tenant_id: alias.tenant_id, display_name: sub_display_name, state: sub_state, created_at: sub_created_at },
    }));
  }

  /**
   * PUT: answers the existing alias unchanged (`created: false`) or makes it. With a
   * `subscriptionId` the alias names that subscription of the tenant (404 if none); without,
   * a new subscription is made, and its creator becomes its Owner, as Azure makes whoever
   * creates a subscription its owner. Aliasing an existing subscription grants nothing.
   */
  async put(tenantId: string, name: string, request: AliasRequest, creator: AliasCreator): Promise<AliasRecord & { created: boolean }> {
    const checkedName = checkAliasName(name);
    for (let attempt = 0; ; attempt++) {
      const existing = await this.find(tenantId, checkedName);
      if (existing) {
        if (request.subscriptionId !== undefined && request.subscriptionId !== existing.subscription.id) {
          throw new TesseraError('Conflict', `The alias ${shown(checkedName)} already names the subscription '${existing.subscription.id}'; an alias cannot be moved to another subscription (delete it first).`);
        }
        return { ...existing, created: false };
      }
      const now = this.clock.now();
      const target = request.subscriptionId === undefined ? undefined : await this.subscriptions.get(tenantId, request.subscriptionId);
      if (!target && request.displayName === undefined) throw new TesseraError('InvalidParameter', "The field 'properties.displayName' is required to create a subscription.");
      const subscription: SubscriptionRow = target ?? { id: crypto.randomUUID(), tenant_id: tenantId, display_name: checkSubscriptionDisplayName(request.displayName, 'properties.displayName'), state: 'Enabled', created_at: now };
      const alias: SubscriptionAliasRow = {
        tenant_id: tenantId,
        name: checkedName,
        name_key: checkedName.toLowerCase(),
        subscription_id: subscription.id,
        workload: request.workload,
        billing_scope: request.billingScope ?? null,
        created_at: now,
        created_by: creator.principalId,
      };
      try {
        await this.store.db.transaction().execute(async (trx) => {
          if (!target) await trx.insertInto('subscriptions').values(subscription).execute();
          await trx.insertInto('subscription_aliases').values(alias).execute();
        });
      } catch (err) {
        // The same alias made concurrently: its subscription was rolled back; answer the winner's.
        if (!isUniqueViolation(err) || attempt > 0) throw err;
        continue;
      }
      if (!target) {
        await this.access.assign({ tenantId, principalId: creator.principalId, principalType: creator.principalType, roleDefinitionId: OWNER_ROLE_ID, scope: `/subscriptions/${subscription.id}`, createdBy: creator.principalId });
      }
      return { alias, subscription, created: true };
    }
  }

  /** Deletes the alias (never its subscription); false when there was none. */
  async delete(tenantId: string, name: string): Promise<boolean> {
    const result = await this.store.db.deleteFrom('subscription_aliases').where('tenant_id', '=', tenantId).where('name_key', '=', checkAliasName(name).toLowerCase()).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
