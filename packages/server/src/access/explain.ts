/**
 * Why a principal may or may not perform an action at a scope: the assignments that
 * granted it, and the nearest ones that did not apply, each with its reason. Tessera's
 * own addition (`tessera role check`), built from the same rules as the decision.
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

/** Length of the common leading path of two normalized scopes, in segments. */
function sharedDepth(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  let n = 0;
  while (n < x.length && n < y.length && x[n] === y[n]) n++;
  return n;
}

/** Explains the decision over `rows` (the assignments reaching the principal) for `action` at the normalized `target`. */
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
    const role = roleOf(row.role_definition_id);
    const ref: AssignmentRef = {
      assignmentId: row.id,
      roleDefinitionId: row.role_definition_id,
      roleName: role?.definition.roleName ?? '(deleted role)',
      scope: canonicalScope(row.scope),
      principalId: row.principal_id,
      principalType: row.principal_type,
    };
    const contains = scopeContains(row.scope, target);
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
      reason = scopeContains(target, row.scope)
        ? 'assignment scope is below the target scope: roles reach down to child scopes, never up'
        : 'assignment scope does not contain the target scope';
      if (!verdict.granted) reason += `; besides, ${verdict.reason}`;
      rank = sharedDepth(row.scope, target) * 100 + (verdict.granted ? 50 : 0);
    }
    missed.push({ ref: { ...ref, reason }, rank });
  }
  missed.sort((a, b) => b.rank - a.rank);
  return { allowed: decidedBy.length > 0, decidedBy, notApplied: missed.slice(0, limit).map((m) => m.ref) };
}
