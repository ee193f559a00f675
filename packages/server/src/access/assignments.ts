/**
 * Role assignments (principal × role × scope) and the access decision made from them at
 * request time. Effective permission is the union of the assignments at the scope and
 * its ancestors, made directly or through groups; NotActions subtract within their own
 * role only, as in Azure.
 */
import crypto from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Store } from '../store/db.js';
import type { RoleAssignmentsTable } from '../store/schema.js';
import type { Clock } from '../clock.js';
import { TesseraError } from '../errors.js';
import { BUILT_IN_ROLES, type RoleDefinition } from './roles.js';
import { actionMatches, normalizeScope, scopeContains } from './match.js';

export type AssignmentRow = Selectable<RoleAssignmentsTable>;

export interface Decision {
  allowed: boolean;
  /** The assignments that granted the action (empty when denied). */
  grantedBy: AssignmentRow[];
}

const CACHE_TTL_MS = 1000;

export class AccessControl {
  private readonly roles = new Map<string, RoleDefinition>(BUILT_IN_ROLES.map((r) => [r.id, r]));
  /** Per principal: the assignments reaching it (direct and through groups), for one second. */
  private readonly cache = new Map<string, { at: number; rows: AssignmentRow[] }>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async assign(input: { tenantId: string; principalId: string; principalType: 'User' | 'Group'; roleDefinitionId: string; scope: string; createdBy: string | null }): Promise<AssignmentRow> {
    if (!this.roles.has(input.roleDefinitionId)) throw new TesseraError('ResourceNotFound', 'No role definition has that id.');
    const row: AssignmentRow = {
      id: crypto.randomUUID(),
      tenant_id: input.tenantId,
      principal_id: input.principalId,
      principal_type: input.principalType,
      role_definition_id: input.roleDefinitionId,
      scope: normalizeScope(input.scope),
      created_at: this.clock.now(),
      created_by: input.createdBy,
    };
    await this.store.db.insertInto('role_assignments').values(row).execute();
    this.invalidate();
    return row;
  }

  /** Drops cached assignments (after any assignment or membership change on this replica). */
  invalidate(): void {
    this.cache.clear();
  }

  /** Decides whether `principalId` may perform `action` at `scope`. */
  async decide(principalId: string, action: string, scope: string): Promise<Decision> {
    const target = normalizeScope(scope);
    const grantedBy: AssignmentRow[] = [];
    for (const assignment of await this.assignmentsReaching(principalId)) {
      if (!scopeContains(assignment.scope, target)) continue;
      const role = this.roles.get(assignment.role_definition_id);
      if (role && role.permissions.some((p) => p.actions.some((a) => actionMatches(a, action)) && !p.notActions.some((n) => actionMatches(n, action)))) {
        grantedBy.push(assignment);
      }
    }
    return { allowed: grantedBy.length > 0, grantedBy };
  }

  private async assignmentsReaching(principalId: string): Promise<AssignmentRow[]> {
    const now = this.clock.now();
    const hit = this.cache.get(principalId);
    if (hit && now - hit.at < CACHE_TTL_MS) return hit.rows;
    const groupIds = this.store.db.selectFrom('group_members').select('group_id').where('member_id', '=', principalId);
    const rows = await this.store.db
      .selectFrom('role_assignments')
      .selectAll()
      .where((eb) => eb.or([eb('principal_id', '=', principalId), eb('principal_id', 'in', groupIds)]))
      .execute();
    if (this.cache.size > 50_000) this.cache.clear();
    this.cache.set(principalId, { at: now, rows });
    return rows;
  }
}
