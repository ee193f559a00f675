/**
 * Why a principal may or may not perform an action at a scope: the assignments that
 * granted it, and the nearest ones at, above or below the scope that did not apply, each
 * with its reason. Tessera's own addition (`tessera role check`), built from the same
 * rules as the decision.
 */
import { canonicalScope } from '../workspace/resourceIds.js';
import type { ActionKind, CompiledRole } from './compiledRole.js';
import { scopeContains } from './match.js';
import type { AssignmentRow } from './roleAssignments.js';

export interface AssignmentRef {
  assignmentId: string;
  roleDefinitionId: string;
  roleName: string;
  scope: string;
  /** Who the assignment is to: the principal itself, or one of its groups. */
  principalId: string;
  principalType: string;
}

export interface NotApplied extends AssignmentRef {
  reason: string;
}

export interface AccessExplanation {
  allowed: boolean;
  decidedBy: AssignmentRef[];
  notApplied: NotApplied[];
}

/**
 * Explains the decision over `rows` (the assignments reaching the principal) for `action` at
 * the normalized `target`. Only assignments on the target's own line are shown — at the
 * target, above it, or below it — since the asker is entitled to see assignments there
 * (roleAssignments/read at the target); one at a sibling scope elsewhere in the tenant is
 * left out, so the answer never names scopes or roles the asker could not list.
 */
export function explainDecision(
  rows: readonly AssignmentRow[],
  roleOf: (id: string) => CompiledRole | undefined,
  action: string,
  target: string,
  kind: ActionKind = 'action',
  limit = 20,
): AccessExplanation {
  const decidedBy: AssignmentRef[] = [];
  const missed: { ref: NotApplied; rank: number }[] = [];
  for (const row of rows) {
    const contains = scopeContains(row.scope, target);
    if (!contains && !scopeContains(target, row.scope)) continue;
    const role = roleOf(row.role_definition_id);
    const ref: AssignmentRef = {
      assignmentId: row.id,
      roleDefinitionId: row.role_definition_id,
      roleName: role?.definition.roleName ?? '(deleted role)',
      scope: canonicalScope(row.scope),
      principalId: row.principal_id,
      principalType: row.principal_type,
    };
    const verdict = role ? role.verdict(action, kind) : { granted: false as const, reason: 'role definition no longer exists' };
    if (contains && verdict.granted) {
      decidedBy.push(ref);
      continue;
    }
    let reason: string;
    let rank: number;
    if (contains) {
      reason = verdict.granted ? '' : verdict.reason;
      // Same scope chain, wrong role: the closest misses; deeper scopes first.
      rank = 10_000 + row.scope.length;
    } else {
      reason = 'assignment scope is below the target scope: roles reach down to child scopes, never up';
      if (!verdict.granted) reason += `; besides, ${verdict.reason}`;
      // Below the target: after the misses on the chain; those whose role would grant it first.
      rank = verdict.granted ? 50 : 0;
    }
    missed.push({ ref: { ...ref, reason }, rank });
  }
  missed.sort((a, b) => b.rank - a.rank);
  return { allowed: decidedBy.length > 0, decidedBy, notApplied: missed.slice(0, limit).map((m) => m.ref) };
}
