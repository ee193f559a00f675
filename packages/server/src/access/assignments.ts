/**
 * The access decision, made at request time from the current role assignments.
 * Effective permission is the union of the assignments at the scope and its ancestors,
 * made directly or through groups; NotActions subtract within their own role only, as in
 * Azure. The assignments reaching a principal are cached for one second (and dropped at
 * once on any change here); role patterns are compiled once and their answers memoized.
 */
import crypto from 'node:crypto';
import type { Store } from '../store/db.js';
import type { Clock } from '../clock.js';
import { TesseraError } from '../errors.js';
import type { ActionKind } from './compiledRole.js';
import { explainDecision, type AccessExplanation } from './explain.js';
import { normalizeScope, scopeContains } from './match.js';
import { PrincipalDirectory, type PrincipalType } from './principals.js';
import { RoleAssignments, type AssignmentRow } from './roleAssignments.js';
import { RoleCatalog } from './roleCatalog.js';

export type { AssignmentRow } from './roleAssignments.js';

export interface Decision {
  allowed: boolean;
  /** The assignments that granted the action (empty when denied). */
  grantedBy: AssignmentRow[];
}

const CACHE_TTL_MS = 1000;
const CACHE_LIMIT = 50_000;
const MEMO_LIMIT = 1000;

interface CacheEntry {
  at: number;
  rows: AssignmentRow[];
  /** Decisions already made from these rows: `kind\naction\nscope` → decision. */
  memo: Map<string, Decision>;
}

/** Decisions, and the role catalogue and assignments they are made from. */
export class AccessControl {
  /** Built-in and custom role definitions. */
  readonly roles: RoleCatalog;
  /** Users, groups and service principals, for checking an assignment's principal. */
  readonly principals: PrincipalDirectory;
  /** Role-assignment management (create, read, delete, list). */
  readonly assignments: RoleAssignments;
  /** Per principal: the assignments reaching it (direct and through groups), for one second. */
  private readonly cache = new Map<string, CacheEntry>();
  private generation = 0;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {
    this.roles = new RoleCatalog(store, clock, () => this.invalidate());
    this.principals = new PrincipalDirectory(store);
    this.assignments = new RoleAssignments(store, clock, this.roles, this.principals, () => this.invalidate());
  }

  /** Records an assignment without the management API's checks (bootstrap, tests, tools). */
  async assign(input: {
    tenantId: string;
    principalId: string;
    principalType: PrincipalType;
    roleDefinitionId: string;
    scope: string;
    createdBy: string | null;
    id?: string;
  }): Promise<AssignmentRow> {
    await this.roles.fresh();
    if (!this.roles.compiled(input.roleDefinitionId.toLowerCase())) throw new TesseraError('ResourceNotFound', 'No role definition has that id.');
    const row: AssignmentRow = {
      id: input.id?.toLowerCase() ?? crypto.randomUUID(),
      tenant_id: input.tenantId,
      principal_id: input.principalId.toLowerCase(),
      principal_type: input.principalType,
      role_definition_id: input.roleDefinitionId.toLowerCase(),
      scope: normalizeScope(input.scope),
      created_at: this.clock.now(),
      created_by: input.createdBy,
    };
    await this.store.db.insertInto('role_assignments').values(row).execute();
    this.invalidate();
    return row;
  }

  /** Drops cached assignments and custom roles (after any assignment, role or membership change on this replica). */
  invalidate(): void {
    this.generation++;
    this.cache.clear();
    this.roles.invalidate();
  }

  /** Decides whether `principalId` may perform `action` (or, with kind 'dataAction', the data action) at `scope`. */
  async decide(principalId: string, action: string, scope: string, kind: ActionKind = 'action'): Promise<Decision> {
    const target = normalizeScope(scope);
    const entry = await this.entryFor(principalId);
    const key = `${kind}\n${action}\n${target}`;
    const known = entry.memo.get(key);
    if (known) return known;
    const grantedBy: AssignmentRow[] = [];
    for (const assignment of entry.rows) {
      if (!scopeContains(assignment.scope, target)) continue;
      if (this.roles.compiled(assignment.role_definition_id)?.grants(action, kind)) grantedBy.push(assignment);
    }
    const decision: Decision = { allowed: grantedBy.length > 0, grantedBy };
    if (entry.memo.size >= MEMO_LIMIT) entry.memo.clear();
    entry.memo.set(key, decision);
    return decision;
  }

  /** Whether some assignment reaching the principal is at or below `scope` (ARM shows a subscription to anyone with a role inside it). */
  async reachesInto(principalId: string, scope: string): Promise<boolean> {
    const target = normalizeScope(scope);
    const entry = await this.entryFor(principalId);
    return entry.rows.some((row) => scopeContains(target, row.scope));
  }

  /** The assignments reaching a principal (directly and through groups), from the one-second cache (conditional access reads roles here). */
  async reaching(principalId: string): Promise<readonly AssignmentRow[]> {
    return (await this.entryFor(principalId)).rows;
  }

  /** The decision with its reasons, from the assignments as they are now (not cached). */
  async explain(principalId: string, action: string, scope: string, kind: ActionKind = 'action'): Promise<AccessExplanation> {
    await this.roles.fresh();
    const rows = await this.fetchReaching(principalId.toLowerCase());
    return explainDecision(rows, (id) => this.roles.compiled(id), action, normalizeScope(scope), kind);
  }

  private async entryFor(principalId: string): Promise<CacheEntry> {
    await this.roles.fresh();
    const now = this.clock.now();
    const hit = this.cache.get(principalId);
    if (hit && now - hit.at < CACHE_TTL_MS) return hit;
    const generation = this.generation;
    const rows = await this.fetchReaching(principalId);
    const entry: CacheEntry = { at: now, rows, memo: new Map() };
    // An invalidation while the query ran means these rows may already be stale: use them once, keep nothing.
    if (generation === this.generation) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(principalId, entry);
    }
    return entry;
  }

  private fetchReaching(principalId: string): Promise<AssignmentRow[]> {
    const groupIds = this.store.db.selectFrom('group_members').select('group_id').where('member_id', '=', principalId);
    return this.store.db
      .selectFrom('role_assignments')
      .selectAll()
      .where((eb) => eb.or([eb('principal_id', '=', principalId), eb('principal_id', 'in', groupIds)]))
      .execute();
  }
}
