/**
 * Role assignments as the management API sees them: create (the principal must exist in
 * the tenant, a custom role only within its AssignableScopes), read, delete, and list at,
 * above and below a scope. Every change drops the cached decisions.
 */
import { sql, type Selectable } from 'kysely';
import type { Store } from '../store/db.js';
import type { RoleAssignmentsTable } from '../store/schema.js';
import type { Clock } from '../clock.js';
import { TesseraError } from '../errors.js';
import { isUniqueViolation } from '../store/db.js';
import { parseScope, resourceId } from '../workspace/resourceIds.js';
import { normalizeScope, scopeContains } from './match.js';
import type { PrincipalDirectory, PrincipalType } from './principals.js';
import type { RoleCatalog } from './roleCatalog.js';
import { OWNER_ROLE_ID } from './roles.js';

export type AssignmentRow = Selectable<RoleAssignmentsTable>;

export interface NewAssignment {
  /** The assignment's GUID, chosen by the client as in ARM. */
  id: string;
  scope: string;
  /** A role definition GUID, its full resource ID, or a role name. */
  role: string;
  principalId: string;
  /** When given, must match what the principal is. */
  principalType?: string | undefined;
}

export interface AssignmentQuery {
  scope: string;
  /** Only at the scope and above it (ARM's `atScope()`); otherwise below it too. */
  atScope?: boolean | undefined;
  /** Only this principal's own assignments. */
  principalId?: string | undefined;
  /** Assignments reaching this principal, directly or through its groups (ARM's `assignedTo()`). */
  assignedTo?: string | undefined;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PRINCIPAL_TYPES: PrincipalType[] = ['User', 'Group', 'ServicePrincipal'];

/** Every prefix of a normalized scope at a `/` boundary, with `/` and the scope itself. */
export function ancestorsOf(scope: string): string[] {
  const out = ['/'];
  if (scope === '/') return out;
  for (let i = scope.indexOf('/', 1); i > 0; i = scope.indexOf('/', i + 1)) out.push(scope.slice(0, i));
  out.push(scope);
  return out;
}

/**
 * A LIKE pattern (backslash escapes) matching every scope strictly below the
 * normalized `scope`. Matched in SQL rather than by `substr` on a length: JavaScript counts
 * UTF-16 units and the stores count code points, which differ for names such as '𝒜'.
 */
export function belowPattern(scope: string): string {
  return `${scope.replace(/[\\%_]/g, '\\$&')}/%`;
}

/** Role-assignment CRUD and listing. */
export class RoleAssignments {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly roles: RoleCatalog,
    private readonly principals: PrincipalDirectory,
    /** Called after any change, so cached decisions are dropped. */
    private readonly changed: () => void,
  ) {}

  /** Creates an assignment; the same one again is not an error (`created` is false). */
  async create(tenantId: string, input: NewAssignment, createdBy: string | null): Promise<{ row: AssignmentRow; created: boolean }> {
    if (!GUID.test(input.id)) throw new TesseraError('InvalidParameter', 'A role assignment id must be a GUID.');
    const id = input.id.toLowerCase();
    const scopeId = resourceId(parseScope(input.scope));
    const scope = normalizeScope(scopeId);
    const role = await this.roles.find(tenantId, input.role);
    if (!role) throw new TesseraError('InvalidParameter', "'properties.roleDefinitionId' names no role definition in this tenant (give a role's GUID, its resource ID or its name).");
    if (!role.assignableScopes.some((s) => scopeContains(normalizeScope(s), scope))) {
      throw new TesseraError(
        'InvalidParameter',
        `The role '${role.roleName}' cannot be assigned at scope '${scopeId}': its AssignableScopes allow only ${role.assignableScopes.map((s) => `'${s}'`).join(', ')} and below.`,
      );
    }
    if (!GUID.test(input.principalId)) throw new TesseraError('InvalidParameter', "'properties.principalId' must be the object id (a GUID) of a user, group or service principal.");
    const principal = await this.principals.byId(tenantId, input.principalId);
    if (!principal) throw new TesseraError('InvalidParameter', "'properties.principalId' names no user, group or service principal in this tenant.");
    if (input.principalType !== undefined) {
      const given = PRINCIPAL_TYPES.find((t) => t.toLowerCase() === input.principalType!.toLowerCase());
      if (!given) throw new TesseraError('InvalidParameter', "'properties.principalType' must be 'User', 'Group' or 'ServicePrincipal'.");
      if (given !== principal.type) throw new TesseraError('InvalidParameter', `'properties.principalType' is '${given}', but that principal is a ${principal.type}.`);
    }
    const db = this.store.db;
    const existing = await db.selectFrom('role_assignments').selectAll().where('id', '=', id).executeTakeFirst();
    if (existing) {
      if (existing.tenant_id === tenantId && existing.scope === scope && existing.principal_id === principal.id && existing.role_definition_id === role.id) {
        return { row: existing, created: false };
      }
      throw new TesseraError('Conflict', 'A role assignment with that id already exists with another principal, role or scope: its principal, role and scope cannot be changed. Delete it, or use a new id.');
    }
    const duplicate = await db
      .selectFrom('role_assignments')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('principal_id', '=', principal.id)
      .where('role_definition_id', '=', role.id)
      .where('scope', '=', scope)
      .executeTakeFirst();
    if (duplicate) throw new TesseraError('Conflict', `The role assignment already exists (id ${duplicate.id}).`);
    const row: AssignmentRow = {
      id,
      tenant_id: tenantId,
      principal_id: principal.id,
      principal_type: principal.type,
      role_definition_id: role.id,
      scope,
      created_at: this.clock.now(),
      created_by: createdBy,
    };
    try {
      await db.insertInto('role_assignments').values(row).execute();
    } catch (err) {
      // A concurrent PUT made the same assignment first.
      if (isUniqueViolation(err)) throw new TesseraError('Conflict', 'The role assignment already exists.');
      throw err;
    }
    this.changed();
    return { row, created: true };
  }

  /** The assignment with this id in the tenant, if any. */
  async get(tenantId: string, id: string): Promise<AssignmentRow | undefined> {
    if (!GUID.test(id)) return undefined;
    return this.store.db.selectFrom('role_assignments').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id.toLowerCase()).executeTakeFirst();
  }

  /**
   * Deletes an assignment (undefined when there was none); the tenant's last Owner at `/`
   * stays. The count and the delete happen in one transaction, with the Owner-at-root rows
   * locked on PostgreSQL (SQLite's one connection runs transactions one at a time), so two
   * concurrent deletes of the last two Owners cannot both see the other one still there.
   */
  async delete(tenantId: string, id: string): Promise<AssignmentRow | undefined> {
    const row = await this.get(tenantId, id);
    if (!row) return undefined;
    const deleted = await this.store.db.transaction().execute(async (trx) => {
      if (row.role_definition_id === OWNER_ROLE_ID && row.scope === '/') {
        let owners = trx
          .selectFrom('role_assignments')
          .select('id')
          .where('tenant_id', '=', tenantId)
          .where('role_definition_id', '=', OWNER_ROLE_ID)
          .where('scope', '=', '/')
          .orderBy('id');
        // Locked in one order, so concurrent deletes queue behind each other rather than deadlock.
        if (this.store.kind === 'postgres') owners = owners.forUpdate();
        const rows = await owners.execute();
        if (!rows.some((r) => r.id === row.id)) return false;
        if (rows.length <= 1) throw new TesseraError('Conflict', "This is the last Owner assignment at '/': assign Owner at '/' to someone else first, or nobody could manage roles any more.");
      }
      const result = await trx.deleteFrom('role_assignments').where('id', '=', row.id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    });
    if (!deleted) return undefined;
    this.changed();
    return row;
  }

  /** Assignments at the scope and above it, and (unless `atScope`) below it, oldest first. */
  async list(tenantId: string, query: AssignmentQuery): Promise<AssignmentRow[]> {
    const scope = normalizeScope(query.scope);
    const above = ancestorsOf(scope);
    let q = this.store.db.selectFrom('role_assignments').selectAll().where('tenant_id', '=', tenantId);
    if (query.atScope) {
      q = q.where('scope', 'in', above);
    } else if (scope !== '/') {
      q = q.where((eb) => eb.or([eb('scope', 'in', above), sql<boolean>`scope like ${belowPattern(scope)} escape '\\'`]));
    }
    if (query.principalId !== undefined) q = q.where('principal_id', '=', query.principalId.toLowerCase());
    if (query.assignedTo !== undefined) {
      const ids = [query.assignedTo.toLowerCase(), ...(await this.principals.groupsOf(query.assignedTo.toLowerCase()))];
      q = q.where('principal_id', 'in', ids);
    }
    return q.orderBy('created_at').orderBy('id').execute();
  }

  /** Deletes every assignment at `scope` or below it (the resource there was deleted). */
  async removeUnder(tenantId: string, scope: string): Promise<number> {
    const s = normalizeScope(scope);
    if (s === '/') throw new Error('refusing to remove every role assignment');
    const result = await this.store.db
      .deleteFrom('role_assignments')
      .where('tenant_id', '=', tenantId)
      .where((eb) => eb.or([eb('scope', '=', s), sql<boolean>`scope like ${belowPattern(s)} escape '\\'`]))
      .executeTakeFirst();
    const n = Number(result.numDeletedRows);
    if (n > 0) this.changed();
    return n;
  }
}
