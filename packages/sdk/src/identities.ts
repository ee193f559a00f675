/**
 * User-assigned managed identities (`Microsoft.ManagedIdentity/userAssignedIdentities`),
 * on ARM's paths: a resource in a resource group whose principal (`principalId`, with a
 * `clientId`) is a service principal that role assignments name like any other, and that
 * a compute can carry.
 */
import { armQuery, resourceGroupId, scopePath, userAssignedIdentityId } from './armPaths.js';
import { API_VERSIONS } from './resourceManagement.js';
import type { TesseraClient } from './tesseraClient.js';

/** An identity, as the server returns it. */
export interface UserAssignedIdentity {
  id: string;
  name: string;
  type: 'Microsoft.ManagedIdentity/userAssignedIdentities';
  location: string;
  tags: Record<string, string>;
  properties: {
    tenantId: string;
    /** The object id of the identity's service principal: what role assignments name. */
    principalId: string;
    /** The application (client) id: what a run names to get this identity's token. */
    clientId: string;
  };
}

/** What to create an identity with, or replace its tags with. */
export interface UserAssignedIdentityInput {
  /** Default: the resource group's. */
  location?: string | undefined;
  tags?: Record<string, string> | undefined;
}

/**
 * User-assigned identities of a subscription's resource groups.
 * @example
 * const identities = new ManagedIdentities(client);
 * const id = await identities.createOrUpdate(sub, 'ml', 'trainer');
 * await rbac.createRoleAssignment(workspaceScope, { roleDefinitionId, principalId: id.properties.principalId });
 */
export class ManagedIdentities {
  constructor(private readonly client: TesseraClient) {}

  /** Creates an identity, or replaces the tags of an existing one. */
  createOrUpdate(subscription: string, resourceGroup: string, name: string, input: UserAssignedIdentityInput = {}): Promise<UserAssignedIdentity> {
    const body: Record<string, unknown> = {};
    if (input.location !== undefined) body.location = input.location;
    if (input.tags !== undefined) body.tags = input.tags;
    return this.client.request<UserAssignedIdentity>('PUT', this.path(userAssignedIdentityId(subscription, resourceGroup, name)), body);
  }

  /** One identity (404 {@link TesseraApiError} when absent). */
  get(subscription: string, resourceGroup: string, name: string): Promise<UserAssignedIdentity> {
    return this.client.request<UserAssignedIdentity>('GET', this.path(userAssignedIdentityId(subscription, resourceGroup, name)));
  }

  /** The identities of a resource group the caller may read. */
  async list(subscription: string, resourceGroup: string): Promise<UserAssignedIdentity[]> {
    const parent = `${resourceGroupId(subscription, resourceGroup)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities`;
    return (await this.client.request<{ value: UserAssignedIdentity[] }>('GET', this.path(parent))).value;
  }

  /** Deletes an identity with its service principal and role assignments (nothing to do when absent). */
  async delete(subscription: string, resourceGroup: string, name: string): Promise<void> {
    await this.client.request('DELETE', this.path(userAssignedIdentityId(subscription, resourceGroup, name)));
  }

  private path(id: string): string {
    return `${scopePath(id)}${armQuery(API_VERSIONS.managedIdentities)}`;
  }
}
