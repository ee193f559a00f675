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
} as const;

/** A subscription: the top of the resource hierarchy (a Tessera tenant has one). */
export interface Subscription {
  id: string;
  subscriptionId: string;
  tenantId: string;
  displayName: string;
  state: string;
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

function envelope(input: { location?: string | undefined; tags?: Record<string, string> | undefined; properties?: Record<string, unknown> | undefined }): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (input.location !== undefined) body.location = input.location;
  if (input.tags !== undefined) body.tags = input.tags;
  if (input.properties !== undefined) body.properties = input.properties;
  return body;
}

/**
 * Resource groups and workspaces.
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
