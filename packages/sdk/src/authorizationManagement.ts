/**
 * Role-based access control through the management API: role definitions and role
 * assignments (Microsoft.Authorization, under any scope), and Tessera's access check.
 */
import crypto from 'node:crypto';
import { armQuery, odataString, scopePath } from './armPaths.js';
import { API_VERSIONS } from './resourceManagement.js';
import type { TesseraClient } from './tesseraClient.js';

/** One block of a role's permissions. */
export interface RolePermission {
  actions: string[];
  notActions: string[];
  dataActions: string[];
  notDataActions: string[];
}

/** A role definition in ARM's shape. */
export interface RoleDefinition {
  /** `{scope}/providers/Microsoft.Authorization/roleDefinitions/{guid}`. */
  id: string;
  /** The role's GUID. */
  name: string;
  type: 'Microsoft.Authorization/roleDefinitions';
  properties: {
    roleName: string;
    type: 'BuiltInRole' | 'CustomRole';
    description: string;
    assignableScopes: string[];
    permissions: RolePermission[];
    createdOn: string | null;
    updatedOn: string | null;
  };
}

/** A role assignment in ARM's shape. */
export interface RoleAssignment {
  /** `{scope}/providers/Microsoft.Authorization/roleAssignments/{guid}`. */
  id: string;
  /** The assignment's GUID. */
  name: string;
  type: 'Microsoft.Authorization/roleAssignments';
  properties: {
    roleDefinitionId: string;
    /** Tessera's addition: the role's name. */
    roleName: string | null;
    principalId: string;
    principalType: 'User' | 'Group' | 'ServicePrincipal';
    scope: string;
    createdOn: string;
    createdBy: string | null;
    [field: string]: unknown;
  };
}

/** Which assignments {@link AuthorizationManagement.listRoleAssignments} returns. */
export interface RoleAssignmentFilter {
  /** Only at the scope and above it, not below (ARM's `atScope()`). */
  atScope?: boolean | undefined;
  /** Only this principal's own assignments (object id). */
  principalId?: string | undefined;
  /** Assignments reaching this principal, directly or through its groups (object id). */
  assignedTo?: string | undefined;
}

/** An assignment to make. */
export interface NewRoleAssignment {
  /** A role's GUID, its resource ID, or its name. */
  roleDefinitionId: string;
  /** The object id of a user, group or service principal. */
  principalId: string;
  principalType?: 'User' | 'Group' | 'ServicePrincipal' | undefined;
}

/** The answer of the access check. */
export interface AccessDecision {
  allowed: boolean;
  principal: { id: string; type: string; displayName: string; enabled: boolean };
  action: string;
  scope: string;
  reason?: string;
  decidedBy: unknown[];
  notApplied: unknown[];
}

const ROLE_DEFINITIONS = '/providers/Microsoft.Authorization/roleDefinitions';
const ROLE_ASSIGNMENTS = '/providers/Microsoft.Authorization/roleAssignments';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function guid(value: string, what: string): string {
  if (!GUID.test(value)) throw new TypeError(`The ${what} must be a GUID.`);
  return value.toLowerCase();
}

/**
 * Role definitions, role assignments and access checks. Scopes are resource IDs (`/` for everything).
 * @example
 * const rbac = new AuthorizationManagement(client);
 * await rbac.createRoleAssignment(workspaceScope, { roleDefinitionId: 'Reader', principalId: user.id });
 */
export class AuthorizationManagement {
  constructor(private readonly client: TesseraClient) {}

  /** The roles assignable at or below `scope` (all of them at `/`), optionally only those named `roleName` or of one type. */
  async listRoleDefinitions(scope: string, filter: { roleName?: string | undefined; type?: 'BuiltInRole' | 'CustomRole' | undefined } = {}): Promise<RoleDefinition[]> {
    const clauses: string[] = [];
    if (filter.roleName !== undefined) clauses.push(`roleName eq ${odataString(filter.roleName)}`);
    if (filter.type !== undefined) clauses.push(`type eq ${odataString(filter.type)}`);
    const query = armQuery(API_VERSIONS.authorization, clauses.length === 0 ? undefined : clauses.join(' and '));
    return (await this.client.request<{ value: RoleDefinition[] }>('GET', `${scopePath(scope)}${ROLE_DEFINITIONS}${query}`)).value;
  }

  /** One role definition by GUID. */
  getRoleDefinition(scope: string, roleId: string): Promise<RoleDefinition> {
    return this.client.request<RoleDefinition>('GET', `${scopePath(scope)}${ROLE_DEFINITIONS}/${guid(roleId, 'role definition id')}${armQuery(API_VERSIONS.authorization)}`);
  }

  /**
   * Creates or replaces a custom role. `definition` is Azure's custom-role JSON as written
   * (`Name`, `Actions`, …, `AssignableScopes`) or ARM's `{properties: {…}}` envelope.
   */
  createOrUpdateRoleDefinition(scope: string, roleId: string, definition: unknown): Promise<RoleDefinition> {
    return this.client.request<RoleDefinition>('PUT', `${scopePath(scope)}${ROLE_DEFINITIONS}/${guid(roleId, 'role definition id')}${armQuery(API_VERSIONS.authorization)}`, definition);
  }

  /** Deletes a custom role; resolves with what was deleted, or undefined when there was none. */
  deleteRoleDefinition(scope: string, roleId: string): Promise<RoleDefinition | undefined> {
    return this.client.request<RoleDefinition | undefined>('DELETE', `${scopePath(scope)}${ROLE_DEFINITIONS}/${guid(roleId, 'role definition id')}${armQuery(API_VERSIONS.authorization)}`);
  }

  /** Assignments at, above and (unless `atScope`) below `scope`. */
  async listRoleAssignments(scope: string, filter: RoleAssignmentFilter = {}): Promise<RoleAssignment[]> {
    const clauses: string[] = [];
    if (filter.atScope) clauses.push('atScope()');
    if (filter.principalId !== undefined) clauses.push(`principalId eq ${odataString(filter.principalId)}`);
    if (filter.assignedTo !== undefined) clauses.push(`assignedTo(${odataString(filter.assignedTo)})`);
    const query = armQuery(API_VERSIONS.authorization, clauses.length === 0 ? undefined : clauses.join(' and '));
    return (await this.client.request<{ value: RoleAssignment[] }>('GET', `${scopePath(scope)}${ROLE_ASSIGNMENTS}${query}`)).value;
  }

  /** Assigns a role at `scope`, under a new random GUID unless `assignmentId` is given. */
  createRoleAssignment(scope: string, assignment: NewRoleAssignment, assignmentId: string = crypto.randomUUID()): Promise<RoleAssignment> {
    const properties: Record<string, string> = { roleDefinitionId: assignment.roleDefinitionId, principalId: assignment.principalId };
    if (assignment.principalType !== undefined) properties.principalType = assignment.principalType;
    return this.client.request<RoleAssignment>('PUT', `${scopePath(scope)}${ROLE_ASSIGNMENTS}/${guid(assignmentId, 'role assignment id')}${armQuery(API_VERSIONS.authorization)}`, { properties });
  }

  /** Deletes an assignment by its resource ID (`{scope}/providers/Microsoft.Authorization/roleAssignments/{guid}`); undefined when there was none. */
  deleteRoleAssignmentById(assignmentResourceId: string): Promise<RoleAssignment | undefined> {
    const match = /^(.*)\/providers\/Microsoft\.Authorization\/roleAssignments\/([0-9a-f-]{36})\/?$/i.exec(assignmentResourceId);
    if (!match) throw new TypeError('A role assignment id must look like {scope}/providers/Microsoft.Authorization/roleAssignments/{guid}.');
    return this.client.request<RoleAssignment | undefined>('DELETE', `${scopePath(match[1] || '/')}${ROLE_ASSIGNMENTS}/${guid(match[2]!, 'role assignment id')}${armQuery(API_VERSIONS.authorization)}`);
  }

  /**
   * Whether `principal` (an object id, user name, application id or name) may perform
   * `action` at `scope`, and which assignments decide it.
   */
  checkAccess(input: { principalId: string; action: string; scope: string; dataAction?: boolean }): Promise<AccessDecision> {
    const body: Record<string, unknown> = { principalId: input.principalId, action: input.action, scope: input.scope };
    if (input.dataAction) body.dataAction = true;
    return this.client.request<AccessDecision>('POST', `/providers/Tessera.Authorization/checkAccess${armQuery(API_VERSIONS.authorization)}`, body);
  }
}
