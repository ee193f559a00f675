/**
 * Azure's action grammar (`Provider/resourceType/verb`, `*` matching any run of
 * characters, case-insensitive) and scope containment (`/` holds everything; a scope
 * holds itself and every path below it).
 *
 * A `*` standing for a whole path segment (`a/*\/b`) may also stand for no segment at
 * all, so `workspaces/*\/write` covers `workspaces/write` and `workspaces/computes/*\/write`
 * covers `workspaces/computes/write`. Azure's own built-in roles depend on this: the AzureML
 * Data Scientist's NotActions `…/computes/*\/write` is what stops it creating compute.
 */

/** A pattern, compiled: literal characters, `*` (any run), and `/*` before a `/` (no segment, or `/` and any run). */
type Token = { kind: 'char'; c: string } | { kind: 'star' } | { kind: 'segment' };

const compiled = new Map<string, Token[]>();

/** Compiles an action pattern once; the result is cached (patterns come from a small set of roles). */
export function compileAction(pattern: string): Token[] {
  let tokens = compiled.get(pattern);
  if (!tokens) {
    tokens = [];
    const p = pattern.toLowerCase();
    for (let i = 0; i < p.length; i++) {
      if (p[i] === '/' && p[i + 1] === '*' && p[i + 2] === '/') {
        tokens.push({ kind: 'segment' });
        i++; // the '*'; the following '/' stays a literal
      } else if (p[i] === '*') {
        if (tokens[tokens.length - 1]?.kind !== 'star') tokens.push({ kind: 'star' });
      } else tokens.push({ kind: 'char', c: p[i]! });
    }
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(pattern, tokens);
  }
  return tokens;
}

/**
 * Whether `action` is matched by `pattern`. A dynamic program over (pattern token, action
 * position): time is the product of the two lengths whatever the pattern, so no role a
 * user writes can make matching slow (a backtracking regex over `*****…` could take seconds).
 */
export function actionMatches(pattern: string, action: string): boolean {
  const tokens = compileAction(pattern);
  const a = action.toLowerCase();
  const n = a.length;
  // can[j]: the tokens so far match the first j characters of the action.
  let can = new Array<boolean>(n + 1).fill(false);
  can[0] = true;
  for (const token of tokens) {
    const next = new Array<boolean>(n + 1).fill(false);
    if (token.kind === 'char') {
      for (let j = 0; j < n; j++) if (can[j] && a[j] === token.c) next[j + 1] = true;
    } else if (token.kind === 'star') {
      let any = false;
      for (let j = 0; j <= n; j++) {
        any ||= can[j]!;
        next[j] = any;
      }
    } else {
      // Nothing, or '/' followed by any run (the next token is the literal '/').
      let afterSlash = false;
      for (let j = 0; j <= n; j++) {
        next[j] = can[j]! || afterSlash;
        if (can[j] && a[j] === '/') afterSlash = true;
      }
    }
    can = next;
  }
  return can[n]!;
}

/** `*`, or `Provider/type/…/verb` with `*` wildcards (segments begin and end with a letter, digit or `*`): what a role's Actions may hold. */
const ACTION_GRAMMAR = /^(?:\*|[A-Za-z0-9*](?:[A-Za-z0-9.*-]*[A-Za-z0-9*])?(?:\/[A-Za-z0-9*](?:[A-Za-z0-9._*-]*[A-Za-z0-9*])?)+)$/;

/** Whether `value` is a well-formed action (or data action) pattern. */
export function isValidAction(value: string): boolean {
  return value.length <= 256 && ACTION_GRAMMAR.test(value);
}

/** Lower-cased, without a trailing slash; the root stays `/`. */
export function normalizeScope(scope: string): string {
  const trimmed = scope.toLowerCase().replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

/** Whether `scope` is `target` or one of its ancestors. Both must be normalized. */
export function scopeContains(scope: string, target: string): boolean {
  return scope === '/' || target === scope || target.startsWith(scope + '/');
}
