/**
 * A role definition made ready for decisions: its patterns compiled once, and each
 * action's answer remembered, since a server asks about a small fixed set of actions.
 */
import { actionMatches, compileAction } from './match.js';
import type { RoleDefinition } from './roles.js';

/** Whether a question is about a control-plane action or a data action. */
export type ActionKind = 'action' | 'dataAction';

/** Why a role does or does not grant an action. */
export type RoleVerdict = { granted: true } | { granted: false; reason: string };

interface CompiledPermission {
  allow: string[];
  deny: string[];
}

const MEMO_LIMIT = 4096;

/** A role with compiled patterns and a memo of answers. */
export class CompiledRole {
  private readonly actions: CompiledPermission[];
  private readonly dataActions: CompiledPermission[];
  private readonly memo = new Map<string, boolean>();

  constructor(readonly definition: RoleDefinition) {
    // Compiled now (and cached by match.ts), so the first decision pays nothing extra.
    const compile = (patterns: string[]) => patterns.map((pattern) => (compileAction(pattern), pattern));
    this.actions = definition.permissions.map((p) => ({ allow: compile(p.actions), deny: compile(p.notActions) }));
    this.dataActions = definition.permissions.map((p) => ({ allow: compile(p.dataActions), deny: compile(p.notDataActions) }));
  }

  get id(): string {
    return this.definition.id;
  }

  /** Whether the role grants `action`: some permission block allows it and its own NotActions do not take it away. */
  grants(action: string, kind: ActionKind = 'action'): boolean {
    const key = kind === 'action' ? action : `data:${action}`;
    let answer = this.memo.get(key);
    if (answer === undefined) {
      answer = this.verdict(action, kind).granted;
      if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
      this.memo.set(key, answer);
    }
    return answer;
  }

  /** The same answer as {@link grants}, with the reason when it is no. */
  verdict(action: string, kind: ActionKind = 'action'): RoleVerdict {
    const blocks = kind === 'action' ? this.actions : this.dataActions;
    const field = kind === 'action' ? 'NotActions' : 'NotDataActions';
    let excludedBy: string | undefined;
    for (const block of blocks) {
      if (!block.allow.some((a) => actionMatches(a, action))) continue;
      const deny = block.deny.find((n) => actionMatches(n, action));
      if (!deny) return { granted: true };
      excludedBy ??= deny;
    }
    if (excludedBy !== undefined) return { granted: false, reason: `${field} '${excludedBy}' excludes it` };
    return { granted: false, reason: kind === 'action' ? 'role does not grant the action' : 'role does not grant the data action' };
  }
}
