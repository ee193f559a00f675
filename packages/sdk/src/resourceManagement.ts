/**
 * Subscriptions, resource groups and workspaces through the management API, on Azure
 * Resource Manager's paths and in its shapes.
 */
import { armQuery, resourceGroupId, scopePath, subscriptionId, workspaceId } from './armPaths.js';
import type { TesseraClient } from './tesseraClient.js';

/** The api-versions sent (the server serves every version alike; these are Azure's current ones). */
export const API_VERSIONS = {
  subscriptions: '2022-12-01',
  resourceGroups: '2021-04-01',
  workspaces: '2024-04-01',
  authorization: '2022-04-01',
  managedIdentities: '2023-01-31',
  subscriptionAliases: '2021-10-01',
} as const;

/** Azure's subscription states; Tessera's subscriptions are `Enabled`, or `Disabled` (read-only) once cancelled. */
export type SubscriptionState = 'Enabled' | 'Disabled' | 'Warned' | 'PastDue' | 'Deleted';

/** A subscription: the top of the resource hierarchy. */
export interface Subscription {
  id: string;
  subscriptionId: string;
  tenantId: string;
  displayName: string;
  state: SubscriptionState;
  [field: string]: unknown;
}

/** What a subscription alias is created with: a new subscription's name, or an existing subscription to alias. */
export interface SubscriptionAliasInput {
  /** The new subscription's display name (1 to 64 characters; need not be unique). */
  displayName?: string | undefined;
  /** Default `Production`. */
  workload?: 'Production' | 'DevTest' | undefined;
  /** Kept and shown; Tessera has no billing. */
  billingScope?: string | undefined;
  /** Alias this existing subscription of the tenant instead of creating one. */
  subscriptionId?: string | undefined;
}

/** A subscription alias (`Microsoft.Subscription/aliases`): the name a subscription was created or adopted under. */
export interface SubscriptionAlias {
  id: string;
  name: string;
  type: 'Microsoft.Subscription/aliases';
  properties: {
    subscriptionId: string;
    provisioningState: 'Succeeded' | 'Accepted' | 'Failed';
    displayName: string;
    workload: 'Production' | 'DevTest';
    billingScope?: string | null;
    createdTime?: string;
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

/** A resource in ARM's envelope. */
export interface ArmResource {
  id: string;
  name: string;
  type: string;
  location: string;
  tags: Record<string, string>;
  properties: Record<string, unknown>;
  [field: string]: unknown;
}

/** What to create or replace a resource group with. */
export interface ResourceGroupInput {
  /** Required to create; cannot change afterwards. */
  location?: string | undefined;
  tags?: Record<string, string> | undefined;
}

/** What to create or replace a workspace with. */
export interface WorkspaceInput {
  /** Default: the resource group's. */
  location?: string | undefined;
  tags?: Record<string, string> | undefined;
  /** `friendlyName`, `description`, … as ARM's workspace properties. */
  properties?: Record<string, unknown> | undefined;
}

/** `/providers/Microsoft.Subscription/aliases[/{name}]?api-version=…`. */
function aliasPath(alias?: string): string {
  if (alias !== undefined && (typeof alias !== 'string' || alias === '' || alias === '.' || alias === '..' || /[/\\?#\u0000-\u001f\u007f]/.test(alias))) throw new TypeError('The alias name must be a non-empty name without slashes.');
  const name = alias === undefined ? '' : `/${encodeURIComponent(alias)}`;
  return `/providers/Microsoft.Subscription/aliases${name}${armQuery(API_VERSIONS.subscriptionAliases)}`;
}

/** `/subscriptions/{sub}/providers/Microsoft.Subscription/{action}?api-version=…`. */
function subscriptionActionPath(subscription: string, action: 'rename' | 'cancel' | 'enable'): string {
  return `${scopePath(subscriptionId(subscription))}/providers/Microsoft.Subscription/${action}${armQuery(API_VERSIONS.subscriptionAliases)}`;
}

function envelope(input: { location?: string | undefined; tags?: Record<string, string> | undefined; properties?: Record<string, unknown> | undefined }): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (input.location !== undefined) body.location = input.location;
  if (input.tags !== undefined) body.tags = input.tags;
  if (input.properties !== undefined) body.properties = input.properties;
  return body;
}

/**
 * Subscriptions, resource groups and workspaces.
 * @example
 * const arm = new ResourceManagement(client);
 * const [sub] = await arm.listSubscriptions();
 * await arm.createOrUpdateResourceGroup(sub.subscriptionId, 'ml-rg', { location: 'local' });
 */
export class ResourceManagement {
  constructor(private readonly client: TesseraClient) {}

  /** The subscriptions the caller may read. */
  async listSubscriptions(): Promise<Subscription[]> {
    return (await this.client.request<{ value: Subscription[] }>('GET', `/subscriptions${armQuery(API_VERSIONS.subscriptions)}`)).value;
  }

  /** One subscription. */
  getSubscription(subscription: string): Promise<Subscription> {
    return this.client.request<Subscription>('GET', `${scopePath(subscriptionId(subscription))}${armQuery(API_VERSIONS.subscriptions)}`);
  }

  /**
   * Creates a subscription in the caller's tenant under an alias, as Azure's
   * `Microsoft.Subscription/aliases` PUT; the caller becomes its Owner. Sending the same
   * alias again answers the existing alias; with `subscriptionId` it aliases that
   * subscription instead. Needs `Microsoft.Subscription/aliases/write` at `/`.
   * @example
   * const alias = await arm.createSubscriptionAlias('team-b', { displayName: 'Team B', workload: 'DevTest' });
   * await arm.createOrUpdateResourceGroup(alias.properties.subscriptionId, 'ml-rg', { location: 'local' });
   */
  createSubscriptionAlias(alias: string, input: SubscriptionAliasInput): Promise<SubscriptionAlias> {
    const properties: Record<string, unknown> = {};
    for (const key of ['displayName', 'workload', 'billingScope', 'subscriptionId'] as const) if (input[key] !== undefined) properties[key] = input[key];
    return this.client.request<SubscriptionAlias>('PUT', aliasPath(alias), { properties });
  }

  /** One subscription alias (404 when the tenant has none by that name). */
  getSubscriptionAlias(alias: string): Promise<SubscriptionAlias> {
    return this.client.request<SubscriptionAlias>('GET', aliasPath(alias));
  }

  /** The tenant's subscription aliases. */
  async listSubscriptionAliases(): Promise<SubscriptionAlias[]> {
    return (await this.client.request<{ value: SubscriptionAlias[] }>('GET', aliasPath())).value;
  }

  /** Deletes an alias; the subscription it names stays, as in Azure. */
  async deleteSubscriptionAlias(alias: string): Promise<void> {
    await this.client.request('DELETE', aliasPath(alias));
  }

  /**
   * Changes a subscription's display name (1 to 64 characters; several subscriptions may
   * share one). Needs `Microsoft.Subscription/rename/action` on the subscription.
   * @example
   * await arm.renameSubscription(sub.subscriptionId, 'Team B (archived)');
   */
  async renameSubscription(subscription: string, subscriptionName: string): Promise<{ subscriptionId: string }> {
    return this.client.request<{ subscriptionId: string }>('POST', subscriptionActionPath(subscription, 'rename'), { subscriptionName });
  }

  /**
   * Cancels a subscription: its state becomes `Disabled` and, as in Azure, everything
   * under it is read-only (writes answer 409 `ReadOnlyDisabledSubscription`) until it is
   * enabled again. Needs `Microsoft.Subscription/cancel/action` on the subscription.
   */
  async cancelSubscription(subscription: string): Promise<{ subscriptionId: string }> {
    return this.client.request<{ subscriptionId: string }>('POST', subscriptionActionPath(subscription, 'cancel'));
  }

  /** Enables a cancelled subscription again. Needs `Microsoft.Subscription/enable/action` on it. */
  async enableSubscription(subscription: string): Promise<{ subscriptionId: string }> {
    return this.client.request<{ subscriptionId: string }>('POST', subscriptionActionPath(subscription, 'enable'));
  }

  /** The resource groups of a subscription the caller may read. */
  async listResourceGroups(subscription: string): Promise<ArmResource[]> {
    return (await this.client.request<{ value: ArmResource[] }>('GET', `${scopePath(subscriptionId(subscription))}/resourcegroups${armQuery(API_VERSIONS.resourceGroups)}`)).value;
  }

  /** One resource group. */
  getResourceGroup(subscription: string, resourceGroup: string): Promise<ArmResource> {
    return this.client.request<ArmResource>('GET', `${scopePath(resourceGroupId(subscription, resourceGroup))}${armQuery(API_VERSIONS.resourceGroups)}`);
  }

  /** Creates a resource group, or replaces its tags. */
  createOrUpdateResourceGroup(subscription: string, resourceGroup: string, input: ResourceGroupInput): Promise<ArmResource> {
    return this.client.request<ArmResource>('PUT', `${scopePath(resourceGroupId(subscription, resourceGroup))}${armQuery(API_VERSIONS.resourceGroups)}`, envelope(input));
  }

  /** Deletes a resource group with its workspaces and the role assignments under it. */
  async deleteResourceGroup(subscription: string, resourceGroup: string): Promise<void> {
    await this.client.request('DELETE', `${scopePath(resourceGroupId(subscription, resourceGroup))}${armQuery(API_VERSIONS.resourceGroups)}`);
  }

  /** The workspaces of a resource group, or of the whole subscription, that the caller may read. */
  async listWorkspaces(subscription: string, resourceGroup?: string): Promise<ArmResource[]> {
    const parent = resourceGroup === undefined ? subscriptionId(subscription) : resourceGroupId(subscription, resourceGroup);
    const path = `${scopePath(parent)}/providers/Microsoft.MachineLearningServices/workspaces${armQuery(API_VERSIONS.workspaces)}`;
    return (await this.client.request<{ value: ArmResource[] }>('GET', path)).value;
  }

  /** One workspace. */
  getWorkspace(subscription: string, resourceGroup: string, workspace: string): Promise<ArmResource> {
    return this.client.request<ArmResource>('GET', `${scopePath(workspaceId(subscription, resourceGroup, workspace))}${armQuery(API_VERSIONS.workspaces)}`);
  }

  /** Creates a workspace, or replaces its tags and properties. */
  createOrUpdateWorkspace(subscription: string, resourceGroup: string, workspace: string, input: WorkspaceInput = {}): Promise<ArmResource> {
    return this.client.request<ArmResource>('PUT', `${scopePath(workspaceId(subscription, resourceGroup, workspace))}${armQuery(API_VERSIONS.workspaces)}`, envelope(input));
  }

  /** Deletes a workspace and the role assignments under it. */
  async deleteWorkspace(subscription: string, resourceGroup: string, workspace: string): Promise<void> {
    await this.client.request('DELETE', `${scopePath(workspaceId(subscription, resourceGroup, workspace))}${armQuery(API_VERSIONS.workspaces)}`);
  }
}
