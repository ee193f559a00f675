/**
 * Role definitions and role assignments in ARM's shape (Microsoft.Authorization), so
 * `az role …` and Azure's SDKs read them unchanged.
 */
import { canonicalScope } from '../workspace/resourceIds.js';
import type { AssignmentRow } from './roleAssignments.js';
import type { RoleDefinition } from './roles.js';

/** `{scope}/providers/Microsoft.Authorization/{type}/{id}`, without a doubled slash at the root. */
export function authorizationId(scope: string, type: 'roleDefinitions' | 'roleAssignments', id: string): string {
  return `${scope === '/' ? '' : scope.replace(/\/+$/, '')}/providers/Microsoft.Authorization/${type}/${id}`;
}

/** The subscription part of a scope (`/subscriptions/{id}`), or '/' above subscriptions. */
function subscriptionScopeOf(scope: string): string {
  const m = /^\/subscriptions\/([^/]+)/i.exec(scope);
  return m ? `/subscriptions/${m[1]}` : '/';
}

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

/** A role definition as read at `scope` (its `id` names that scope, as ARM's does). */
export function roleDefinitionView(role: RoleDefinition, scope: string): Record<string, unknown> {
  return {
    id: authorizationId(subscriptionScopeOf(scope), 'roleDefinitions', role.id),
    name: role.id,
    type: 'Microsoft.Authorization/roleDefinitions',
    properties: {
      roleName: role.roleName,
      type: role.roleType,
      description: role.description,
      assignableScopes: role.assignableScopes,
      permissions: role.permissions.map((p) => ({ actions: p.actions, notActions: p.notActions, dataActions: p.dataActions, notDataActions: p.notDataActions })),
      createdOn: iso(role.createdAt),
      updatedOn: iso(role.updatedAt),
      createdBy: null,
      updatedBy: null,
    },
  };
}

/** A role assignment in ARM's shape; `roleName` is Tessera's addition, for people reading lists. */
export function roleAssignmentView(row: AssignmentRow, roleName: string | undefined): Record<string, unknown> {
  const scope = canonicalScope(row.scope);
  const createdOn = new Date(row.created_at).toISOString();
  return {
    id: authorizationId(scope, 'roleAssignments', row.id),
    name: row.id,
    type: 'Microsoft.Authorization/roleAssignments',
    properties: {
      roleDefinitionId: authorizationId(subscriptionScopeOf(scope), 'roleDefinitions', row.role_definition_id),
      roleName: roleName ?? null,
      principalId: row.principal_id,
      principalType: row.principal_type,
      scope,
      condition: null,
      conditionVersion: null,
      description: null,
      delegatedManagedIdentityResourceId: null,
      createdOn,
      updatedOn: createdOn,
      createdBy: row.created_by,
      updatedBy: row.created_by,
    },
  };
}
