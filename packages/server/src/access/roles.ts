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
  /** Custom roles: epoch milliseconds. */
  createdAt?: number | undefined;
  updatedAt?: number | undefined;
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
export const CONTRIBUTOR_ROLE_ID = 'b24988ac-6180-42a0-ab88-20f7382dd24c';
export const READER_ROLE_ID = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
export const DATA_SCIENTIST_ROLE_ID = 'f6c7c914-8db3-469d-8ca1-694a8f32e121';
export const COMPUTE_OPERATOR_ROLE_ID = 'e503ece1-11d0-4e8e-8e2c-7a6c3bf38815';

export const BUILT_IN_ROLES: RoleDefinition[] = [
  builtIn(OWNER_ROLE_ID, 'Owner', 'Grants full access to manage all resources, including the ability to assign roles.', ['*']),
  builtIn(CONTRIBUTOR_ROLE_ID, 'Contributor', 'Grants full access to manage all resources, but does not allow you to assign roles.', ['*'], [
    'Microsoft.Authorization/*/Delete',
    'Microsoft.Authorization/*/Write',
    'Microsoft.Authorization/elevateAccess/Action',
    // Tessera's directory and signing keys are Entra's business in Azure, not RBAC's:
    // a Contributor must not reset an Owner's password or rotate the keys.
    'Tessera.Directory/*/write',
    'Tessera.Directory/*/delete',
    'Tessera.Tokens/*',
    // Quotas bind principals: a Contributor may read them, not raise its own.
    'Tessera.Quotas/*/write',
    'Tessera.Quotas/*/delete',
  ]),
  // As Azure's Reader, it may also fetch a web service's token (onlineEndpoints/token/action).
  builtIn(READER_ROLE_ID, 'Reader', 'View all resources, but does not allow you to make any changes.', ['*/read', 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/token/action']),
  builtIn(
    DATA_SCIENTIST_ROLE_ID,
    'AzureML Data Scientist',
    'Can perform all actions within an Azure Machine Learning workspace, except for creating or deleting compute resources and modifying the workspace itself.',
    [
      'Microsoft.MachineLearningServices/workspaces/*/read',
      'Microsoft.MachineLearningServices/workspaces/*/action',
      'Microsoft.MachineLearningServices/workspaces/*/delete',
      'Microsoft.MachineLearningServices/workspaces/*/write',
    ],
    [
      'Microsoft.MachineLearningServices/workspaces/delete',
      'Microsoft.MachineLearningServices/workspaces/write',
      'Microsoft.MachineLearningServices/workspaces/computes/*/write',
      'Microsoft.MachineLearningServices/workspaces/computes/*/delete',
      'Microsoft.MachineLearningServices/workspaces/computes/listKeys/action',
      'Microsoft.Authorization/*/write',
      'Microsoft.MachineLearningServices/workspaces/listKeys/action',
      'Microsoft.MachineLearningServices/workspaces/hubs/write',
      'Microsoft.MachineLearningServices/workspaces/hubs/delete',
      'Microsoft.MachineLearningServices/workspaces/featurestores/write',
      'Microsoft.MachineLearningServices/workspaces/featurestores/delete',
    ],
  ),
  builtIn(
    COMPUTE_OPERATOR_ROLE_ID,
    'AzureML Compute Operator',
    'Can access and perform CRUD operations on Machine Learning Services managed compute resources (including Notebook VMs).',
    [
      'Microsoft.Authorization/*/read',
      'Microsoft.MachineLearningServices/workspaces/computes/*',
      'Microsoft.MachineLearningServices/workspaces/notebooks/vm/*',
    ],
  ),
];
