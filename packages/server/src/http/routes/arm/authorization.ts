/**
 * Microsoft.Authorization under any scope — role definitions and role assignments — and
 * Tessera's access check (`POST /providers/Tessera.Authorization/checkAccess`).
 */
import { TesseraError } from '../../../errors.js';
import { authorize } from '../../auth.js';
import { parseScope, resourceId } from '../../../workspace/resourceIds.js';
import { checkGuid, isGuid } from '../../../workspace/names.js';
import { normalizeScope } from '../../../access/match.js';
import { roleAssignmentView, roleDefinitionView } from '../../../access/views.js';
import type { AssignmentRow } from '../../../access/roleAssignments.js';
import type { RoleDefinition } from '../../../access/roles.js';
import type { ArmContext, ArmOperation } from './router.js';
import { allowOnly } from './query.js';
import { assignmentBodyOf, checkAccessBodyOf, roleInputOf } from './roleBodies.js';

const ROLE_DEFINITIONS = 'Microsoft.Authorization/roleDefinitions';
const ROLE_ASSIGNMENTS = 'Microsoft.Authorization/roleAssignments';
const DIRECTORY_READ = 'Tessera.Directory/users/read';

/** The assignments as ARM shows them, with role names. */
async function assignmentViews(ctx: ArmContext, rows: AssignmentRow[]): Promise<Record<string, unknown>[]> {
  const roles = ctx.services.access.roles;
  await roles.fresh();
  return rows.map((r) => roleAssignmentView(r, roles.compiled(r.role_definition_id)?.definition.roleName));
}

/**
 * 403 unless the caller may perform `action` at every one of the role's AssignableScopes
 * as they stand: a custom role is changed or deleted for all of them, not only the URL's.
 */
async function authorizeAtAssignableScopes(ctx: ArmContext, role: RoleDefinition, action: string): Promise<void> {
  for (const scope of role.assignableScopes) await authorize(ctx.services, ctx.request, action, scope);
}

const listRoleDefinitions: ArmOperation = {
  method: 'GET',
  shape: 'collection',
  resourceType: ROLE_DEFINITIONS,
  async handle(ctx) {
    allowOnly(ctx.query.filter, ['roleName', 'type'], 'role definitions');
    await ctx.services.workspace.scopes.check(ctx.caller.tenantId, ctx.parentLevels);
    const roleName = ctx.query.filter.find((c) => c.kind === 'roleName')?.value;
    const type = ctx.query.filter.find((c) => c.kind === 'type')?.value;
    if (type !== undefined && !/^(BuiltInRole|CustomRole)$/i.test(type)) throw new TesseraError('InvalidParameter', "The $filter 'type eq' takes 'BuiltInRole' or 'CustomRole'.");
    const roleType = type === undefined ? undefined : type.toLowerCase() === 'builtinrole' ? 'BuiltInRole' : 'CustomRole';
    const roles = await ctx.services.access.roles.list(ctx.caller.tenantId, { scope: ctx.parentId, roleName, roleType });
    return { body: { value: roles.map((r) => roleDefinitionView(r, ctx.parentId)) } };
  },
};

const getRoleDefinition: ArmOperation = {
  method: 'GET',
  shape: 'instance',
  resourceType: ROLE_DEFINITIONS,
  async handle(ctx) {
    const id = checkGuid(ctx.name!, 'role definition id');
    const role = await ctx.services.access.roles.find(ctx.caller.tenantId, id);
    if (!role) throw new TesseraError('ResourceNotFound', `The role definition '${id}' could not be found.`);
    return { body: roleDefinitionView(role, ctx.parentId) };
  },
};

const putRoleDefinition: ArmOperation = {
  method: 'PUT',
  shape: 'instance',
  resourceType: ROLE_DEFINITIONS,
  async handle(ctx) {
    const id = checkGuid(ctx.name!, 'role definition id');
    const { access, workspace } = ctx.services;
    if (access.roles.isBuiltIn(id)) throw new TesseraError('InvalidParameter', 'Built-in roles cannot be changed: create a custom role with a new id instead.');
    const input = roleInputOf(ctx.body, id);
    await workspace.scopes.check(ctx.caller.tenantId, ctx.parentLevels);
    // Writing a role that can be assigned somewhere needs the right to write roles there too.
    for (const scope of input.assignableScopes) {
      const levels = parseScope(scope, 'AssignableScopes entry');
      await workspace.scopes.check(ctx.caller.tenantId, levels);
      await authorize(ctx.services, ctx.request, ctx.permission.action, resourceId(levels));
    }
    // Changing a role changes what it grants wherever it is assigned: that needs the right at its current scopes too.
    const { definition, created } = await access.roles.put(ctx.caller.tenantId, id, input, (existing) => authorizeAtAssignableScopes(ctx, existing, `${ROLE_DEFINITIONS}/write`));
    return { status: created ? 201 : 200, body: roleDefinitionView(definition, ctx.parentId) };
  },
};

const deleteRoleDefinition: ArmOperation = {
  method: 'DELETE',
  shape: 'instance',
  resourceType: ROLE_DEFINITIONS,
  async handle(ctx) {
    const id = checkGuid(ctx.name!, 'role definition id');
    const deleted = await ctx.services.access.roles.delete(ctx.caller.tenantId, id, (existing) => authorizeAtAssignableScopes(ctx, existing, `${ROLE_DEFINITIONS}/delete`));
    return deleted ? { body: roleDefinitionView(deleted, ctx.parentId) } : { status: 204 };
  },
};

const listRoleAssignments: ArmOperation = {
  method: 'GET',
  shape: 'collection',
  resourceType: ROLE_ASSIGNMENTS,
  async handle(ctx) {
    allowOnly(ctx.query.filter, ['atScope', 'principalId', 'assignedTo'], 'role assignments');
    await ctx.services.workspace.scopes.check(ctx.caller.tenantId, ctx.parentLevels);
    const principalId = ctx.query.filter.find((c) => c.kind === 'principalId')?.value;
    const assignedTo = ctx.query.filter.find((c) => c.kind === 'assignedTo')?.value;
    const rows = await ctx.services.access.assignments.list(ctx.caller.tenantId, {
      scope: ctx.parentId,
      atScope: ctx.query.filter.some((c) => c.kind === 'atScope'),
      principalId: principalId === undefined ? undefined : checkGuid(principalId, 'principalId in $filter'),
      assignedTo: assignedTo === undefined ? undefined : checkGuid(assignedTo, 'assignedTo() in $filter'),
    });
    return { body: { value: await assignmentViews(ctx, rows) } };
  },
};

/** The assignment with the URL's id, when it lives at the URL's scope. */
async function assignmentAtScope(ctx: ArmContext): Promise<AssignmentRow | undefined> {
  const id = checkGuid(ctx.name!, 'role assignment id');
  const row = await ctx.services.access.assignments.get(ctx.caller.tenantId, id);
  return row && row.scope === normalizeScope(ctx.parentId) ? row : undefined;
}

const getRoleAssignment: ArmOperation = {
  method: 'GET',
  shape: 'instance',
  resourceType: ROLE_ASSIGNMENTS,
  async handle(ctx) {
    const row = await assignmentAtScope(ctx);
    if (!row) throw new TesseraError('ResourceNotFound', `The role assignment '${ctx.name!.toLowerCase()}' is not found at scope '${ctx.parentId}'.`);
    return { body: (await assignmentViews(ctx, [row]))[0] };
  },
};

const putRoleAssignment: ArmOperation = {
  method: 'PUT',
  shape: 'instance',
  resourceType: ROLE_ASSIGNMENTS,
  async handle(ctx) {
    const id = checkGuid(ctx.name!, 'role assignment id');
    const body = assignmentBodyOf(ctx.body, id);
    if (body.scope !== undefined && normalizeScope(resourceId(parseScope(body.scope, 'properties.scope'))) !== normalizeScope(ctx.parentId)) {
      throw new TesseraError('InvalidParameter', "The field 'properties.scope' does not match the scope in the URL.");
    }
    await ctx.services.workspace.scopes.check(ctx.caller.tenantId, ctx.parentLevels);
    const { row, created } = await ctx.services.access.assignments.create(
      ctx.caller.tenantId,
      { id, scope: ctx.parentId, role: body.roleDefinitionId, principalId: body.principalId, principalType: body.principalType },
      ctx.caller.objectId,
    );
    return { status: created ? 201 : 200, body: (await assignmentViews(ctx, [row]))[0] };
  },
};

const deleteRoleAssignment: ArmOperation = {
  method: 'DELETE',
  shape: 'instance',
  resourceType: ROLE_ASSIGNMENTS,
  async handle(ctx) {
    const row = await assignmentAtScope(ctx);
    if (!row) return { status: 204 };
    const views = await assignmentViews(ctx, [row]);
    await ctx.services.access.assignments.delete(ctx.caller.tenantId, row.id);
    return { body: views[0] };
  },
};

/** Tessera's addition: allowed or denied, with the assignments that decided it or the nearest that did not apply. */
const checkAccess: ArmOperation = {
  method: 'POST',
  shape: 'action',
  resourceType: 'Tessera.Authorization/checkAccess',
  parents: ['root'],
  check: 'handler',
  async handle(ctx) {
    const body = checkAccessBodyOf(ctx.body);
    const scope = resourceId(parseScope(body.scope));
    const { access, tenants } = ctx.services;
    // Naming the principal (user name, UPN, application id, display name) searches the
    // directory, which needs the right to read it; an object id may be checked without.
    const names = (await access.decide(ctx.caller.objectId, DIRECTORY_READ, '/')).allowed;
    if (!names && !isGuid(body.principalId)) await authorize(ctx.services, ctx.request, DIRECTORY_READ, '/');
    // Checked last, so the audit record names the check this operation is about.
    await authorize(ctx.services, ctx.request, `${ROLE_ASSIGNMENTS}/read`, scope);
    const principal = await access.principals.resolve(ctx.caller.tenantId, body.principalId, tenants.domainOf(ctx.caller.tenantId), { names });
    if (!principal) throw new TesseraError('ResourceNotFound', "No user, group or service principal in this tenant has that 'principalId' (object id, user name, application id or name).");
    const explanation = await access.explain(principal.id, body.action, scope, body.dataAction ? 'dataAction' : 'action');
    return {
      body: {
        allowed: explanation.allowed && principal.enabled,
        principal: { id: principal.id, type: principal.type, displayName: principal.displayName, enabled: principal.enabled },
        action: body.action,
        scope,
        ...(principal.enabled ? {} : { reason: 'the principal is disabled: whatever its roles allow, it cannot sign in or use its tokens' }),
        decidedBy: explanation.decidedBy,
        notApplied: explanation.notApplied,
      },
    };
  },
};

/** The operations of Microsoft.Authorization and Tessera.Authorization. */
export const authorizationOperations: ArmOperation[] = [
  listRoleDefinitions,
  getRoleDefinition,
  putRoleDefinition,
  deleteRoleDefinition,
  listRoleAssignments,
  getRoleAssignment,
  putRoleAssignment,
  deleteRoleAssignment,
  checkAccess,
];
