/**
 * Every role a decision can meet: the built-ins, and the tenants' custom roles kept in
 * memory (compiled) and reloaded from the store at most once a second, so a change made
 * on another replica takes effect within a second and one made here at once.
 */
import type { Store } from '../store/db.js';
import { isUniqueViolation } from '../store/db.js';
import type { Clock } from '../clock.js';
import { TesseraError } from '../errors.js';
import { canonicalScope, parseScope, resourceId } from '../workspace/resourceIds.js';
import { CompiledRole } from './compiledRole.js';
import { isValidAction, normalizeScope, scopeContains } from './match.js';
import { BUILT_IN_ROLES, type RoleDefinition, type RolePermission } from './roles.js';

/** A custom role as submitted (either of the two JSON shapes, already read into fields). */
export interface RoleInput {
  roleName: string;
  description: string;
  permissions: RolePermission[];
  assignableScopes: string[];
}

export interface RoleListFilter {
  /** Roles usable at or below this scope (built-ins everywhere; custom ones whose AssignableScopes meet it). */
  scope?: string | undefined;
  roleName?: string | undefined;
  roleType?: 'BuiltInRole' | 'CustomRole' | undefined;
}

const RELOAD_MS = 1000;
const CONTROL = /[\u0000-\u001f\u007f]/;
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_PATTERNS = 200;

interface CustomEntry {
  tenantId: string;
  role: CompiledRole;
}

/** Built-in and custom roles, compiled, with custom-role CRUD. */
export class RoleCatalog {
  private readonly builtIns = new Map<string, CompiledRole>(BUILT_IN_ROLES.map((r) => [r.id, new CompiledRole(r)]));
  private custom = new Map<string, CustomEntry>();
  private loadedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | undefined;
  private generation = 0;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** Called after a custom role changes here, so cached decisions are dropped. */
    private readonly changed: () => void,
  ) {}

  /** Makes sure custom roles are at most a second old. */
  async fresh(): Promise<void> {
    // A load that began before a change made here is not fresh enough: go round again.
    for (let round = 0; round < 3 && this.clock.now() - this.loadedAt >= RELOAD_MS; round++) {
      this.loading ??= this.reload().finally(() => (this.loading = undefined));
      await this.loading;
    }
  }

  /** Forgets the loaded custom roles; the next {@link fresh} reloads them. */
  invalidate(): void {
    this.generation++;
    this.loadedAt = Number.NEGATIVE_INFINITY;
  }

  /** The compiled role with this id (call {@link fresh} first). */
  compiled(id: string): CompiledRole | undefined {
    return this.builtIns.get(id) ?? this.custom.get(id)?.role;
  }

  /** Whether `id` is a built-in role's. */
  isBuiltIn(id: string): boolean {
    return this.builtIns.has(id.toLowerCase());
  }

  /** Finds a role by id (a GUID, or a full roleDefinitions resource ID) or by name, without regard to case. */
  async find(tenantId: string, idOrName: string): Promise<RoleDefinition | undefined> {
    await this.fresh();
    const ref = roleIdOf(idOrName) ?? idOrName;
    const key = ref.trim().toLowerCase();
    for (const role of this.builtIns.values()) {
      if (role.id === key || role.definition.roleName.toLowerCase() === key) return role.definition;
    }
    for (const entry of this.custom.values()) {
      if (entry.tenantId !== tenantId) continue;
      if (entry.role.id === key || entry.role.definition.roleName.toLowerCase() === key) return entry.role.definition;
    }
    return undefined;
  }

  /** The roles of a tenant, built-ins first, filtered. */
  async list(tenantId: string, filter: RoleListFilter = {}): Promise<RoleDefinition[]> {
    await this.fresh();
    const scope = filter.scope === undefined ? undefined : normalizeScope(filter.scope);
    const name = filter.roleName?.toLowerCase();
    const out: RoleDefinition[] = [];
    const consider = (role: RoleDefinition) => {
      if (name !== undefined && role.roleName.toLowerCase() !== name) return;
      if (filter.roleType !== undefined && role.roleType !== filter.roleType) return;
      if (scope !== undefined && !role.assignableScopes.some((s) => scopeContains(normalizeScope(s), scope) || scopeContains(scope, normalizeScope(s)))) return;
      out.push(role);
    };
    for (const role of this.builtIns.values()) consider(role.definition);
    const custom = [...this.custom.values()].filter((e) => e.tenantId === tenantId).map((e) => e.role.definition);
    custom.sort((a, b) => a.roleName.localeCompare(b.roleName));
    for (const role of custom) consider(role);
    return out;
  }

  /**
   * Creates or replaces a custom role; AssignableScopes may not shrink away from its
   * assignments. When the role exists, `mayChange` is called with it as stored before
   * anything is written (the management API checks the caller's right at its old scopes).
   */
  async put(tenantId: string, id: string, input: RoleInput, mayChange?: (existing: RoleDefinition) => Promise<void>): Promise<{ definition: RoleDefinition; created: boolean }> {
    const roleId = id.toLowerCase();
    if (!GUID.test(roleId)) throw new TesseraError('InvalidParameter', 'A role definition id must be a GUID.');
    if (this.builtIns.has(roleId)) throw new TesseraError('InvalidParameter', `'${this.builtIns.get(roleId)!.definition.roleName}' is a built-in role: built-in roles cannot be changed.`);
    const checked = checkRoleInput(input);
    const builtInNamed = [...this.builtIns.values()].find((r) => r.definition.roleName.toLowerCase() === checked.roleName.toLowerCase());
    if (builtInNamed) throw new TesseraError('Conflict', `A built-in role is named '${builtInNamed.definition.roleName}': choose another name.`);
    const db = this.store.db;
    const existing = await db.selectFrom('role_definitions').selectAll().where('id', '=', roleId).executeTakeFirst();
    if (existing && existing.tenant_id !== tenantId) throw new TesseraError('Conflict', 'That role definition id is already in use.');
    if (existing && mayChange) await mayChange(storedDefinition(existing));
    const now = this.clock.now();
    const row = {
      role_name: checked.roleName,
      name_key: checked.roleName.toLowerCase(),
      description: checked.description,
      permissions: JSON.stringify(checked.permissions),
      assignable_scopes: JSON.stringify(checked.assignableScopes.map(normalizeScope)),
      updated_at: now,
    };
    try {
      if (existing) {
        const stranded = await this.assignmentsOutside(roleId, checked.assignableScopes.map(normalizeScope));
        if (stranded > 0) {
          throw new TesseraError('Conflict', `The role '${existing.role_name}' is assigned at ${stranded} scope(s) outside the new AssignableScopes: remove those assignments or keep their scopes assignable.`);
        }
        await db.updateTable('role_definitions').set(row).where('id', '=', roleId).execute();
      } else {
        await db.insertInto('role_definitions').values({ id: roleId, tenant_id: tenantId, created_at: now, ...row }).execute();
      }
    } catch (err) {
      if (isUniqueViolation(err)) throw new TesseraError('Conflict', `A role named '${checked.roleName}' already exists.`);
      throw err;
    }
    this.invalidate();
    this.changed();
    const definition: RoleDefinition = {
      id: roleId,
      roleName: checked.roleName,
      description: checked.description,
      roleType: 'CustomRole',
      permissions: checked.permissions,
      assignableScopes: checked.assignableScopes,
      createdAt: existing?.created_at ?? now,
      updatedAt: now,
    };
    return { definition, created: !existing };
  }

  /**
   * Deletes a custom role; refuses built-ins (400) and roles still assigned (409). Undefined
   * when there was none. `mayDelete` is called with the role as stored before anything else
   * is said about it (the management API checks the caller's right at its scopes).
   */
  async delete(tenantId: string, id: string, mayDelete?: (existing: RoleDefinition) => Promise<void>): Promise<RoleDefinition | undefined> {
    const roleId = id.toLowerCase();
    if (this.builtIns.has(roleId)) throw new TesseraError('InvalidParameter', `'${this.builtIns.get(roleId)!.definition.roleName}' is a built-in role: built-in roles cannot be deleted.`);
    const db = this.store.db;
    const row = await db.selectFrom('role_definitions').selectAll().where('id', '=', roleId).where('tenant_id', '=', tenantId).executeTakeFirst();
    if (!row) return undefined;
    if (mayDelete) await mayDelete(storedDefinition(row));
    const uses = await db.selectFrom('role_assignments').select((eb) => eb.fn.countAll<number | string>().as('n')).where('role_definition_id', '=', roleId).executeTakeFirstOrThrow();
    if (Number(uses.n) > 0) {
      throw new TesseraError('Conflict', `The role '${row.role_name}' is still assigned (${Number(uses.n)} assignment(s)): delete its role assignments first.`);
    }
    await db.deleteFrom('role_definitions').where('id', '=', roleId).execute();
    this.invalidate();
    this.changed();
    return definitionOf(row);
  }

  private async assignmentsOutside(roleId: string, scopes: string[]): Promise<number> {
    const rows = await this.store.db.selectFrom('role_assignments').select('scope').where('role_definition_id', '=', roleId).execute();
    return rows.filter((r) => !scopes.some((s) => scopeContains(s, normalizeScope(r.scope)))).length;
  }

  private async reload(): Promise<void> {
    const generation = this.generation;
    const startedAt = this.clock.now();
    const rows = await this.store.db.selectFrom('role_definitions').selectAll().execute();
    const custom = new Map<string, CustomEntry>();
    for (const row of rows) {
      const definition = definitionOf(row);
      if (definition) custom.set(row.id, { tenantId: row.tenant_id, role: new CompiledRole(definition) });
    }
    // A change made here while the query ran leaves the cache marked stale for the next caller.
    this.custom = custom;
    if (generation === this.generation) this.loadedAt = startedAt;
  }
}

interface RoleRow {
  id: string;
  role_name: string;
  description: string;
  permissions: string;
  assignable_scopes: string;
  created_at: number;
  updated_at: number;
}

/** The stored role; one whose JSON cannot be read counts as assignable at `/`, so only a caller allowed everywhere may change it. */
function storedDefinition(row: RoleRow): RoleDefinition {
  return (
    definitionOf(row) ?? {
      id: row.id,
      roleName: row.role_name,
      description: row.description,
      roleType: 'CustomRole',
      permissions: [],
      assignableScopes: ['/'],
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    }
  );
}

function definitionOf(row: RoleRow): RoleDefinition | undefined {
  try {
    const permissions = JSON.parse(row.permissions) as RolePermission[];
    const scopes = JSON.parse(row.assignable_scopes) as string[];
    return {
      id: row.id,
      roleName: row.role_name,
      description: row.description,
      roleType: 'CustomRole',
      permissions,
      assignableScopes: scopes.map((s) => canonicalScope(s)),
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  } catch {
    return undefined;
  }
}

/** The GUID at the end of `…/providers/Microsoft.Authorization/roleDefinitions/{guid}`, or `value` itself when it is a GUID. */
export function roleIdOf(value: string): string | undefined {
  if (GUID.test(value)) return value.toLowerCase();
  const match = /\/providers\/Microsoft\.Authorization\/roleDefinitions\/([0-9a-f-]{36})$/i.exec(value);
  return match && GUID.test(match[1]!) ? match[1]!.toLowerCase() : undefined;
}

function checkPatterns(value: string[], field: string): string[] {
  if (value.length > MAX_PATTERNS) throw new TesseraError('InvalidParameter', `'${field}' may hold at most ${MAX_PATTERNS} entries.`);
  for (const pattern of value) {
    if (!isValidAction(pattern)) {
      throw new TesseraError(
        'InvalidParameter',
        `'${field}' holds an invalid action${/^[\w./*-]{1,120}$/.test(pattern) ? ` '${pattern}'` : ''}: use '*' or Provider/resourceType/…/verb with '*' wildcards, e.g. 'Microsoft.MachineLearningServices/workspaces/*/read'.`,
      );
    }
  }
  return [...new Set(value)];
}

/** Validates a custom role's fields, naming the one that is wrong. */
export function checkRoleInput(input: RoleInput): RoleInput {
  const roleName = input.roleName.trim();
  if (roleName.length === 0 || [...roleName].length > 256 || CONTROL.test(roleName)) {
    throw new TesseraError('InvalidParameter', "'roleName' (Name) must be 1 to 256 printable characters.");
  }
  if ([...input.description].length > 2048 || CONTROL_IN_TEXT.test(input.description)) {
    throw new TesseraError('InvalidParameter', "'description' must be at most 2048 characters without control characters.");
  }
  if (input.permissions.length === 0 || input.permissions.length > 5) throw new TesseraError('InvalidParameter', "'permissions' must hold 1 to 5 permission blocks.");
  const permissions = input.permissions.map((p) => ({
    actions: checkPatterns(p.actions, 'Actions'),
    notActions: checkPatterns(p.notActions, 'NotActions'),
    dataActions: checkPatterns(p.dataActions, 'DataActions'),
    notDataActions: checkPatterns(p.notDataActions, 'NotDataActions'),
  }));
  if (!permissions.some((p) => p.actions.length > 0 || p.dataActions.length > 0)) {
    throw new TesseraError('InvalidParameter', "A role must grant something: 'Actions' or 'DataActions' must not be empty.");
  }
  if (input.assignableScopes.length === 0 || input.assignableScopes.length > 50) {
    throw new TesseraError('InvalidParameter', "'AssignableScopes' must hold 1 to 50 scopes, such as /subscriptions/{id}.");
  }
  const seen = new Set<string>();
  const assignableScopes: string[] = [];
  for (const scope of input.assignableScopes) {
    const id = resourceId(parseScope(scope, 'AssignableScopes entry'));
    if (!seen.has(id.toLowerCase())) assignableScopes.push(id);
    seen.add(id.toLowerCase());
  }
  return { roleName: roleName.normalize('NFC'), description: input.description, permissions, assignableScopes };
}
