/**
 * Built-in role definitions, in Azure's JSON shape and with Azure's ids, so role JSON
 * and assignments copied from Azure's documentation work as written.
 */
export interface RolePermission {
  actions: string[];
  notActions: string[];
  dataActions: string[];
  notDataActions: string[];
}

export interface RoleDefinition {
  id: string;
  roleName: string;
  description: string;
  roleType: 'BuiltInRole' | 'CustomRole';
  permissions: RolePermission[];
  assignableScopes: string[];
}

function builtIn(id: string, roleName: string, description: string, actions: string[], notActions: string[] = []): RoleDefinition {
  return {
    id,
    roleName,
    description,
    roleType: 'BuiltInRole',
    permissions: [{ actions, notActions, dataActions: [], notDataActions: [] }],
    assignableScopes: ['/'],
  };
}

export const OWNER_ROLE_ID = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635';

export const BUILT_IN_ROLES: RoleDefinition[] = [
  builtIn(OWNER_ROLE_ID, 'Owner', 'Grants full access to manage all resources, including the ability to assign roles.', ['*']),
  builtIn('b24988ac-6180-42a0-ab88-20f7382dd24c', 'Contributor', 'Grants full access to manage all resources, but does not allow you to assign roles.', ['*'], [
    'Microsoft.Authorization/*/Delete',
    'Microsoft.Authorization/*/Write',
    'Microsoft.Authorization/elevateAccess/Action',
    // Tessera's directory and signing keys are Entra's business in Azure, not RBAC's:
    // a Contributor must not reset an Owner's password or rotate the keys.
    'Tessera.Directory/*/write',
    'Tessera.Directory/*/delete',
    'Tessera.Tokens/*',
  ]),
  builtIn('acdd72a7-3385-48ef-bd42-f606fba81ae7', 'Reader', 'View all resources, but does not allow you to make any changes.', ['*/read']),
];

/** Finds a built-in role by id or name (names compare without regard to case). */
export function findBuiltInRole(idOrName: string): RoleDefinition | undefined {
  const key = idOrName.toLowerCase();
  return BUILT_IN_ROLES.find((r) => r.id === key || r.roleName.toLowerCase() === key);
}
