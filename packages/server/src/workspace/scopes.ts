/**
 * Whether the resources a scope names exist in a tenant: a role assignment or a custom
 * role's AssignableScopes may only name a subscription, group or workspace that is there.
 * Deeper levels (a workspace's children) are taken as written.
 */
import { TesseraError } from '../errors.js';
import { RESOURCE_GROUP_TYPE, SUBSCRIPTION_TYPE, WORKSPACE_TYPE, type ResourceLevel } from './resourceIds.js';
import type { ResourceGroups } from './resourceGroups.js';
import type { Subscriptions } from './subscriptions.js';
import type { Workspaces } from './workspaces.js';

/** Checks scopes against the resources that exist. */
export class ScopeResolver {
  constructor(
    private readonly subscriptions: Subscriptions,
    private readonly groups: ResourceGroups,
    private readonly workspaces: Workspaces,
  ) {}

  /** Throws 404 unless every subscription, resource group and workspace that `levels` names exists in the tenant. */
  async check(tenantId: string, levels: readonly ResourceLevel[]): Promise<void> {
    const [sub, group, resource] = levels;
    if (!sub) return;
    if (sub.type !== SUBSCRIPTION_TYPE) throw new TesseraError('InvalidParameter', 'A scope below the root must begin with /subscriptions/{id}.');
    await this.subscriptions.get(tenantId, sub.name);
    if (!group) return;
    if (group.type !== RESOURCE_GROUP_TYPE) {
      throw new TesseraError('ResourceNotFound', `Tessera has no subscription-level resources of type '${group.type}'.`);
    }
    if (!resource) {
      await this.groups.get(tenantId, sub.name, group.name);
      return;
    }
    if (resource.type.toLowerCase() !== WORKSPACE_TYPE.toLowerCase()) {
      throw new TesseraError('ResourceNotFound', `Tessera has no resources of type '${resource.type}' in a resource group.`);
    }
    await this.workspaces.get(tenantId, sub.name, group.name, resource.name);
  }
}
