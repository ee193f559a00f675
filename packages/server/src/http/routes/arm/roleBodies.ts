/**
 * The bodies of the Microsoft.Authorization routes. A custom role comes either in
 * Azure's role JSON (`Name`, `Actions`, `NotActions`, …, `AssignableScopes`: what
 * `az role definition create --role-definition @role.json` takes) or in ARM's envelope
 * (`{properties: {roleName, permissions: [{actions, …}], assignableScopes}}`); both are
 * read as written. Field names match without regard to case.
 */
import { TesseraError } from '../../../errors.js';
import type { RoleInput } from '../../../access/roleCatalog.js';
import { roleIdOf } from '../../../access/roleCatalog.js';
import type { RolePermission } from '../../../access/roles.js';
import { fields, objectBody, onlyNull, optionalString, requiredString, stringList } from '../../../validation/jsonFields.js';

const ROLE_JSON_FIELDS = ['Name', 'roleName', 'Id', 'IsCustom', 'Description', 'Actions', 'NotActions', 'DataActions', 'NotDataActions', 'AssignableScopes', 'permissions', 'roleType', 'type', 'createdOn', 'updatedOn', 'createdBy', 'updatedBy'] as const;
const ENVELOPE_FIELDS = ['id', 'name', 'type', 'properties'] as const;
const PROPERTIES_FIELDS = ['roleName', 'description', 'type', 'permissions', 'assignableScopes', 'createdOn', 'updatedOn', 'createdBy', 'updatedBy'] as const;
const PERMISSION_FIELDS = ['actions', 'notActions', 'dataActions', 'notDataActions', 'condition', 'conditionVersion'] as const;

function permissionOf(value: unknown, where: string): RolePermission {
  const p = fields(objectBody(value, where), PERMISSION_FIELDS, where);
  onlyNull(p.condition, 'condition', 'Tessera has no role conditions');
  onlyNull(p.conditionVersion, 'conditionVersion', 'Tessera has no role conditions');
  return {
    actions: stringList(p.actions, 'actions', 200, 256),
    notActions: stringList(p.notActions, 'notActions', 200, 256),
    dataActions: stringList(p.dataActions, 'dataActions', 200, 256),
    notDataActions: stringList(p.notDataActions, 'notDataActions', 200, 256),
  };
}

function permissionsOf(value: unknown): RolePermission[] {
  if (!Array.isArray(value)) throw new TesseraError('InvalidParameter', "The field 'permissions' must be an array of {actions, notActions, dataActions, notDataActions}.");
  if (value.length > 5) throw new TesseraError('InvalidParameter', "The field 'permissions' may hold at most 5 blocks.");
  return value.map((p, i) => permissionOf(p, `permissions[${i}]`));
}

function checkType(value: unknown, field: string): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'string' || !/^(customrole|microsoft\.authorization\/roledefinitions)$/i.test(value)) {
    throw new TesseraError('InvalidParameter', `The field '${field}' must be 'CustomRole': only custom roles can be written.`);
  }
}

/** Checks a role id given in the body against the URL's. */
function checkSameId(value: unknown, urlId: string, field: string): void {
  if (value === undefined || value === null) return;
  const id = typeof value === 'string' ? roleIdOf(value) : undefined;
  if (id !== urlId.toLowerCase()) throw new TesseraError('InvalidParameter', `The field '${field}' does not match the role definition id in the URL.`);
}

/** Reads a custom role from either JSON shape. */
export function roleInputOf(body: unknown, urlId: string): RoleInput {
  const top = objectBody(body);
  if (Object.keys(top).some((k) => k.toLowerCase() === 'properties')) {
    const envelope = fields(top, ENVELOPE_FIELDS, 'The role definition');
    checkSameId(envelope.name, urlId, 'name');
    checkSameId(envelope.id, urlId, 'id');
    checkType(envelope.type, 'type');
    const props = fields(objectBody(envelope.properties, "The field 'properties'"), PROPERTIES_FIELDS, "The role definition's 'properties'");
    checkType(props.type, 'properties.type');
    if (props.permissions === undefined) throw new TesseraError('InvalidParameter', "The field 'properties.permissions' is required.");
    return {
      roleName: requiredString(props.roleName, 'properties.roleName'),
      description: optionalString(props.description, 'properties.description', 2048, true) ?? '',
      permissions: permissionsOf(props.permissions),
      assignableScopes: stringList(props.assignableScopes, 'properties.assignableScopes', 50),
    };
  }
  const role = fields(top, ROLE_JSON_FIELDS, 'The role definition');
  let roleName = role.Name ?? role.roleName;
  if (role.Name !== undefined && role.roleName !== undefined) {
    // `az role definition list` output: `name` is the GUID and `roleName` the name.
    if (typeof role.Name !== 'string' || !roleIdOf(role.Name)) throw new TesseraError('InvalidParameter', "Give the role's name once: 'Name' or 'roleName', not both.");
    checkSameId(role.Name, urlId, 'name');
    roleName = role.roleName;
  }
  checkSameId(role.Id, urlId, 'Id');
  if (role.IsCustom !== undefined && role.IsCustom !== null && role.IsCustom !== true) {
    throw new TesseraError('InvalidParameter', "The field 'IsCustom' must be true: only custom roles can be written.");
  }
  checkType(role.roleType, 'roleType');
  checkType(role.type, 'type');
  const flat = ['Actions', 'NotActions', 'DataActions', 'NotDataActions'] as const;
  const hasFlat = flat.some((f) => role[f] !== undefined);
  if (hasFlat && role.permissions !== undefined) throw new TesseraError('InvalidParameter', "Give 'Actions'/'NotActions'/'DataActions'/'NotDataActions' or 'permissions', not both.");
  const permissions = role.permissions !== undefined
    ? permissionsOf(role.permissions)
    : [{
        actions: stringList(role.Actions, 'Actions', 200, 256),
        notActions: stringList(role.NotActions, 'NotActions', 200, 256),
        dataActions: stringList(role.DataActions, 'DataActions', 200, 256),
        notDataActions: stringList(role.NotDataActions, 'NotDataActions', 200, 256),
      }];
  return {
    roleName: requiredString(roleName, 'Name'),
    description: optionalString(role.Description, 'Description', 2048, true) ?? '',
    permissions,
    assignableScopes: stringList(role.AssignableScopes, 'AssignableScopes', 50),
  };
}

export interface AssignmentBody {
  roleDefinitionId: string;
  principalId: string;
  principalType: string | undefined;
  scope: string | undefined;
}

const ASSIGNMENT_PROPERTIES = [
  'roleDefinitionId',
  'principalId',
  'principalType',
  'scope',
  'description',
  'condition',
  'conditionVersion',
  'canDelegate',
  'delegatedManagedIdentityResourceId',
  'createdOn',
  'updatedOn',
  'createdBy',
  'updatedBy',
  'roleName',
] as const;

/** Reads `{properties: {roleDefinitionId, principalId, principalType?}}`. */
export function assignmentBodyOf(body: unknown, urlId: string): AssignmentBody {
  const envelope = fields(objectBody(body), ENVELOPE_FIELDS, 'The role assignment');
  if (envelope.name !== undefined && envelope.name !== null && (typeof envelope.name !== 'string' || envelope.name.toLowerCase() !== urlId.toLowerCase())) {
    throw new TesseraError('InvalidParameter', "The field 'name' does not match the role assignment id in the URL.");
  }
  const props = fields(objectBody(envelope.properties, "The field 'properties'"), ASSIGNMENT_PROPERTIES, "The role assignment's 'properties'");
  onlyNull(props.condition, 'properties.condition', 'Tessera has no assignment conditions');
  onlyNull(props.conditionVersion, 'properties.conditionVersion', 'Tessera has no assignment conditions');
  onlyNull(props.delegatedManagedIdentityResourceId, 'properties.delegatedManagedIdentityResourceId', 'Tessera has no delegated managed identities');
  onlyNull(props.canDelegate, 'properties.canDelegate', 'Tessera has no delegation', false);
  if (optionalString(props.description, 'properties.description', 1024, true)) {
    throw new TesseraError('InvalidParameter', "The field 'properties.description' is not supported: role assignments have no description in Tessera.");
  }
  return {
    roleDefinitionId: requiredString(props.roleDefinitionId, 'properties.roleDefinitionId', 1024),
    principalId: requiredString(props.principalId, 'properties.principalId', 64),
    principalType: optionalString(props.principalType, 'properties.principalType', 32),
    scope: optionalString(props.scope, 'properties.scope', 1024),
  };
}

export interface CheckAccessBody {
  principalId: string;
  action: string;
  scope: string;
  dataAction: boolean;
}

/** Reads `{principalId, action, scope}` (and `dataAction: true` to ask about a data action). */
export function checkAccessBodyOf(body: unknown): CheckAccessBody {
  const b = fields(objectBody(body), ['principalId', 'action', 'scope', 'dataAction'], 'The access check');
  const action = requiredString(b.action, 'action');
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]*(?:\/[A-Za-z0-9._-]+)+$/.test(action)) {
    throw new TesseraError('InvalidParameter', "The field 'action' must be a concrete action such as 'Microsoft.MachineLearningServices/workspaces/read' (no wildcards).");
  }
  if (b.dataAction !== undefined && typeof b.dataAction !== 'boolean') throw new TesseraError('InvalidParameter', "The field 'dataAction' must be true or false.");
  return {
    principalId: requiredString(b.principalId, 'principalId', 320),
    action,
    scope: requiredString(b.scope, 'scope', 1024),
    dataAction: b.dataAction === true,
  };
}
