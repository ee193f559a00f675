/**
 * Resources in ARM's envelope (`id`, `name`, `type`, `location`, `tags`, `properties`),
 * so Azure's CLI and SDKs read them unchanged.
 */
import type { SubscriptionRow } from './subscriptions.js';
import type { AliasRecord } from './subscriptionAliases.js';
import { resourceGroupId, type ResourceGroupRow } from './resourceGroups.js';
import { workspaceId, type WorkspaceRecord } from './workspaces.js';

function parsed(json: string): Record<string, unknown> {
  try {
    const value = JSON.parse(json) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** A subscription as `GET /subscriptions/{id}` returns it. */
export function subscriptionView(row: SubscriptionRow): Record<string, unknown> {
  return {
    id: `/subscriptions/${row.id}`,
    authorizationSource: 'RoleBased',
    managedByTenants: [],
    subscriptionId: row.id,
    tenantId: row.tenant_id,
    displayName: row.display_name,
    state: row.state,
    subscriptionPolicies: { locationPlacementId: 'Public_2014-09-01', quotaId: 'Tessera', spendingLimit: 'Off' },
  };
}

/** A subscription alias as `GET /providers/Microsoft.Subscription/aliases/{name}` returns it (api-version 2021-10-01). */
export function subscriptionAliasView({ alias, subscription }: AliasRecord): Record<string, unknown> {
  const createdAt = new Date(alias.created_at).toISOString();
  return {
    id: `/providers/Microsoft.Subscription/aliases/${alias.name}`,
    name: alias.name,
    type: 'Microsoft.Subscription/aliases',
    properties: {
      subscriptionId: subscription.id,
      displayName: subscription.display_name,
      provisioningState: 'Succeeded',
      workload: alias.workload,
      billingScope: alias.billing_scope,
      createdTime: createdAt,
    },
    systemData: { createdAt, createdBy: alias.created_by, createdByType: alias.created_by ? 'User' : null },
  };
}

/** A resource group in ARM's shape. */
export function resourceGroupView(row: ResourceGroupRow): Record<string, unknown> {
  return {
    id: resourceGroupId(row.subscription_id, row.name),
    name: row.name,
    type: 'Microsoft.Resources/resourceGroups',
    location: row.location,
    managedBy: null,
    tags: parsed(row.tags),
    properties: { provisioningState: 'Succeeded' },
  };
}

/** A workspace in ARM's shape; the server's read-only properties (with `discoveryUrl`, the server's public URL) are filled in. */
export function workspaceView(record: WorkspaceRecord, discoveryUrl: string): Record<string, unknown> {
  const { row, group } = record;
  const properties = parsed(row.properties);
  const createdAt = new Date(row.created_at).toISOString();
  return {
    id: workspaceId(group.subscription_id, group.name, row.name),
    name: row.name,
    type: 'Microsoft.MachineLearningServices/workspaces',
    location: row.location,
    tags: parsed(row.tags),
    kind: 'Default',
    sku: { name: 'Basic', tier: 'Basic' },
    properties: {
      friendlyName: row.name,
      ...properties,
      provisioningState: 'Succeeded',
      workspaceId: row.id,
      creationTime: createdAt,
      discoveryUrl,
    },
    systemData: { createdAt, createdBy: row.created_by, createdByType: row.created_by ? 'User' : null },
  };
}
