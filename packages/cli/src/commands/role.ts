/**
 * `tessera role …`, as az has it: `definition create|list|update|delete` (custom roles in
 * Azure's role JSON, inline or `@file`), `assignment create|list|delete`, and Tessera's
 * `check` (may this principal do that there, and which assignment says so).
 * Definitions and assignments print flattened, as az prints them.
 */
import crypto from 'node:crypto';
import { Option, type Command } from 'commander';
import { subscriptionId, type RoleAssignment, type RoleDefinition } from '@tessera/sdk';
import { readJsonArgument } from '../fileArguments.js';
import { parseGuid, parseScope } from '../parsers.js';
import { resolveAssignee, resolveRole, subscriptionOf, type Principal } from '../resolve.js';
import { signedIn, type SignedIn } from '../signedIn.js';
import { UsageError } from '../usageError.js';
import { printing } from './action.js';
import { subscriptionOption } from './group.js';
import { warn } from '../log.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PRINCIPAL_TYPES = ['User', 'Group', 'ServicePrincipal'] as const;

/** A role definition as az prints it: the properties lifted to the top. */
export function definitionView(d: RoleDefinition): Record<string, unknown> {
  const p = d.properties;
  return {
    name: d.name,
    roleName: p.roleName,
    roleType: p.type,
    description: p.description,
    id: d.id,
    type: d.type,
    createdOn: p.createdOn,
    updatedOn: p.updatedOn,
    assignableScopes: p.assignableScopes,
    permissions: p.permissions,
  };
}

/** A role assignment as az prints it: the properties lifted to the top. */
export function assignmentView(a: RoleAssignment): Record<string, unknown> {
  const p = a.properties;
  return {
    principalId: p.principalId,
    principalType: p.principalType,
    roleDefinitionName: p.roleName,
    scope: p.scope,
    name: a.name,
    id: a.id,
    roleDefinitionId: p.roleDefinitionId,
    createdOn: p.createdOn,
    createdBy: p.createdBy,
    type: a.type,
  };
}

/** A field of a JSON object, matched without regard to case (as ARM reads role JSON). */
function field(obj: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : obj[key];
}

/** `--role-definition`'s JSON: an object, with what the command needs found in either of its shapes. */
function readRoleDefinition(value: string): { body: Record<string, unknown>; id?: string; roleName?: string; scopes: string[] } {
  const body = readJsonArgument(value, '--role-definition');
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new UsageError('--role-definition: the JSON must be an object (Azure\'s custom-role JSON).');
  const obj = body as Record<string, unknown>;
  const props = field(obj, 'properties');
  const inner = props !== null && typeof props === 'object' && !Array.isArray(props) ? (props as Record<string, unknown>) : obj;
  const scopes = field(inner, 'assignableScopes');
  const name = field(obj, 'name');
  const roleName = field(inner, 'roleName') ?? (typeof name === 'string' && !GUID.test(name) ? name : undefined);
  return {
    body: obj,
    id: roleIdOf(field(obj, 'id')) ?? (typeof name === 'string' && GUID.test(name) ? name.toLowerCase() : undefined),
    roleName: typeof roleName === 'string' ? roleName : undefined,
    scopes: Array.isArray(scopes) ? scopes.filter((x): x is string => typeof x === 'string') : [],
  };
}

/** The GUID of a role id given as a GUID or as a roleDefinitions resource ID. */
function roleIdOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const guid = /(?:^|\/roleDefinitions\/)([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i.exec(value)?.[1];
  return guid?.toLowerCase();
}

/** The scope `--scope` names, or the account's subscription. */
async function scopeOrSubscription(s: SignedIn, o: { scope?: string; subscription?: string }): Promise<string> {
  return o.scope ?? subscriptionId(await subscriptionOf(s, o.subscription));
}

/** The principal of `--assignee`, or of `--assignee-object-id` taken as given. */
async function assigneeOf(s: SignedIn, o: { assignee?: string; assigneeObjectId?: string; assigneePrincipalType?: Principal['type'] }): Promise<Principal | undefined> {
  if (o.assignee !== undefined && o.assigneeObjectId !== undefined) throw new UsageError('give --assignee or --assignee-object-id, not both.');
  if (o.assigneePrincipalType !== undefined && o.assigneeObjectId === undefined) throw new UsageError('--assignee-principal-type goes with --assignee-object-id.');
  if (o.assigneeObjectId !== undefined) return { id: o.assigneeObjectId, type: o.assigneePrincipalType, displayName: '' };
  return o.assignee === undefined ? undefined : resolveAssignee(s, o.assignee);
}

/** Whether `a` is an assignment of the role `role` (a name or GUID, without regard to case). */
function hasRole(a: RoleAssignment, role: string): boolean {
  const r = role.toLowerCase();
  return a.properties.roleName?.toLowerCase() === r || a.properties.roleDefinitionId.toLowerCase().endsWith(`/${r}`) || a.properties.roleDefinitionId.toLowerCase() === r;
}

function sameScope(a: string, b: string): boolean {
  return a.replace(/\/+$/, '').toLowerCase() === b.replace(/\/+$/, '').toLowerCase();
}

interface AssignmentOptions {
  assignee?: string;
  assigneeObjectId?: string;
  assigneePrincipalType?: Principal['type'];
  role?: string;
  scope?: string;
  subscription?: string;
}

function registerDefinitions(role: Command): void {
  const definition = role.command('definition').description('role definitions (custom roles in Azure\'s JSON)');

  definition
    .command('create')
    .description('create a custom role (under a new id) at its first AssignableScope')
    .requiredOption('--role-definition <json>', "Azure's custom-role JSON, inline or @file (Name, Description, Actions, NotActions, DataActions, NotDataActions, AssignableScopes)")
    .action(
      printing(async (o: { roleDefinition: string }) => {
        const role = readRoleDefinition(o.roleDefinition);
        if (role.scopes.length === 0) throw new UsageError('--role-definition: the role needs AssignableScopes (e.g. ["/subscriptions/{id}"]).');
        // As az does: a new role always gets a new id, so create never replaces a role.
        const body = Object.fromEntries(Object.entries(role.body).filter(([k, v]) => !/^id$/i.test(k) && !(/^name$/i.test(k) && typeof v === 'string' && GUID.test(v))));
        const s = await signedIn();
        return definitionView(await s.rbac.createOrUpdateRoleDefinition(role.scopes[0]!, crypto.randomUUID(), body));
      }, 'roleDefinition'),
    );

  subscriptionOption(
    definition
      .command('list')
      .description('list the roles assignable at a scope')
      .option('-n, --name <name>', 'only the role with this name or id')
      .option('--custom-role-only', 'only custom roles')
      .option('--scope <scope>', 'scope (default: the subscription)', parseScope),
  ).action(
    printing(async (o: { name?: string; customRoleOnly?: boolean; scope?: string; subscription?: string }) => {
      const s = await signedIn();
      const scope = await scopeOrSubscription(s, o);
      const type = o.customRoleOnly ? ('CustomRole' as const) : undefined;
      const roles = o.name !== undefined && GUID.test(o.name)
        ? (await s.rbac.listRoleDefinitions(scope, { type })).filter((r) => r.name === o.name!.toLowerCase())
        : await s.rbac.listRoleDefinitions(scope, { roleName: o.name, type });
      return roles.map(definitionView);
    }, 'roleDefinition'),
  );

  definition
    .command('update')
    .description('replace a custom role, found by its id or name in the JSON')
    .requiredOption('--role-definition <json>', "the role's JSON, inline or @file (as create takes, or as list prints)")
    .action(
      printing(async (o: { roleDefinition: string }) => {
        const role = readRoleDefinition(o.roleDefinition);
        if (role.scopes.length === 0) throw new UsageError('--role-definition: the role needs AssignableScopes.');
        if (role.id === undefined && role.roleName === undefined) throw new UsageError('--role-definition: give the role\'s id (Id or name) or its Name, to say which role to update.');
        const s = await signedIn();
        const scope = role.scopes[0]!;
        let id = role.id;
        if (id === undefined) {
          const [found] = await s.rbac.listRoleDefinitions(scope, { roleName: role.roleName, type: 'CustomRole' });
          if (!found) throw new Error(`no custom role named '${role.roleName!}' is assignable at '${scope}'.`);
          id = found.name;
        }
        return definitionView(await s.rbac.createOrUpdateRoleDefinition(scope, id, role.body));
      }, 'roleDefinition'),
    );

  subscriptionOption(
    definition
      .command('delete')
      .description('delete a custom role (it must have no assignments)')
      .requiredOption('-n, --name <name>', 'role name or id')
      .option('--scope <scope>', 'scope to look the role up at (default: the subscription)', parseScope),
  ).action(
    printing(async (o: { name: string; scope?: string; subscription?: string }) => {
      const s = await signedIn();
      const scope = await scopeOrSubscription(s, o);
      const found = await resolveRole(s, o.name, scope);
      await s.rbac.deleteRoleDefinition(scope, found.name);
    }),
  );
}

function assigneeOptions(command: Command): Command {
  return command
    .option('--assignee <assignee>', 'user name or UPN, object id, service principal appId or name, or group name')
    .option('--assignee-object-id <oid>', 'the object id, used as given (no directory lookup)', parseGuid)
    .addOption(new Option('--assignee-principal-type <type>', 'with --assignee-object-id: its type').choices(PRINCIPAL_TYPES));
}

function registerAssignments(role: Command): void {
  const assignment = role.command('assignment').description('role assignments');

  assigneeOptions(assignment.command('create').description('assign a role to a user, group or service principal at a scope'))
    .requiredOption('--role <role>', 'role name or id')
    .requiredOption('--scope <scope>', 'scope, e.g. /subscriptions/{id}/resourceGroups/{name}', parseScope)
    .action(
      printing(async (o: AssignmentOptions & { role: string; scope: string }) => {
        if (o.assignee === undefined && o.assigneeObjectId === undefined) throw new UsageError('give --assignee (or --assignee-object-id).');
        const s = await signedIn();
        const [principal, role] = await Promise.all([assigneeOf(s, o), resolveRole(s, o.role, o.scope)]);
        return assignmentView(await s.rbac.createRoleAssignment(o.scope, { roleDefinitionId: role.id, principalId: principal!.id, principalType: principal!.type }));
      }, 'roleAssignment'),
    );

  subscriptionOption(
    assigneeOptions(assignment.command('list').description('list role assignments: at the subscription (or --scope) by default, everything under it with --all'))
      .option('--role <role>', 'only assignments of this role (name or id)')
      .option('--scope <scope>', 'scope (default: the subscription)', parseScope)
      .option('--all', 'also the assignments below the scope, and those above it')
      .option('--include-inherited', 'also the assignments above the scope, which apply at it too')
      .option('--include-groups', "with --assignee: also the assignments of the assignee's groups"),
  ).action(
    printing(async (o: AssignmentOptions & { all?: boolean; includeInherited?: boolean; includeGroups?: boolean }) => {
      const s = await signedIn();
      const scope = await scopeOrSubscription(s, o);
      const principal = await assigneeOf(s, o);
      const filter = principal === undefined ? {} : o.includeGroups ? { assignedTo: principal.id } : { principalId: principal.id };
      let found = await s.rbac.listRoleAssignments(scope, { ...filter, atScope: !o.all });
      if (!o.all && !o.includeInherited) found = found.filter((a) => sameScope(a.properties.scope, scope));
      if (o.role !== undefined) found = found.filter((a) => hasRole(a, o.role!));
      return found.map(assignmentView);
    }, 'roleAssignment'),
  );

  subscriptionOption(
    assigneeOptions(assignment.command('delete').description('delete role assignments: by --ids, or those at a scope matching --assignee and --role'))
      .option('--ids <ids...>', 'role assignment resource ids')
      .option('--role <role>', 'role name or id')
      .option('--scope <scope>', 'scope (default: the subscription)', parseScope)
      .option('-y, --yes', 'do not ask for confirmation (tessera never asks; accepted for az scripts)'),
  ).action(
    printing(async (o: AssignmentOptions & { ids?: string[] }) => {
      const s = await signedIn();
      if (o.ids !== undefined) {
        if (o.assignee !== undefined || o.assigneeObjectId !== undefined || o.role !== undefined || o.scope !== undefined) throw new UsageError('give --ids alone, or --assignee/--role/--scope without --ids.');
        for (const id of o.ids) {
          if (!/\/providers\/Microsoft\.Authorization\/roleAssignments\/[0-9a-f-]{36}\/?$/i.test(id)) throw new UsageError(`--ids: '${id}' is not a role assignment id ({scope}/providers/Microsoft.Authorization/roleAssignments/{guid}).`);
        }
        for (const id of o.ids) await s.rbac.deleteRoleAssignmentById(id);
        return undefined;
      }
      if (o.assignee === undefined && o.assigneeObjectId === undefined && o.role === undefined && o.scope === undefined) {
        throw new UsageError('give at least one of --ids, --assignee, --role or --scope.');
      }
      const scope = await scopeOrSubscription(s, o);
      const principal = await assigneeOf(s, o);
      let found = (await s.rbac.listRoleAssignments(scope, { atScope: true, principalId: principal?.id })).filter((a) => sameScope(a.properties.scope, scope));
      if (o.role !== undefined) found = found.filter((a) => hasRole(a, o.role!));
      if (found.length === 0) warn('No matched assignments were found to delete.');
      for (const a of found) await s.rbac.deleteRoleAssignmentById(a.id);
      return undefined;
    }),
  );
}

/** Adds `role` to `program`. */
export function registerRole(program: Command): void {
  const role = program.command('role').description('role-based access control: role definitions, assignments, access checks');
  registerDefinitions(role);
  registerAssignments(role);

  role
    .command('check')
    .description('say whether a principal may perform an action at a scope, and which role assignments decide it')
    .requiredOption('--assignee <assignee>', 'user name or UPN, object id, service principal appId or name, or group name')
    .requiredOption('--action <action>', 'e.g. Microsoft.MachineLearningServices/workspaces/read')
    .requiredOption('--scope <scope>', 'e.g. /subscriptions/{id}/resourceGroups/{name}', parseScope)
    .option('--data-action', 'the action is a data action')
    .action(
      printing(async (o: { assignee: string; action: string; scope: string; dataAction?: boolean }) => {
        const s = await signedIn();
        return s.rbac.checkAccess({ principalId: o.assignee, action: o.action, scope: o.scope, dataAction: o.dataAction });
      }),
    );
}
