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

const patterns = new Map<string, RegExp>();

/** Compiles an action pattern once; the result is cached (patterns come from a small set of roles). */
export function compileAction(pattern: string): RegExp {
  let re = patterns.get(pattern);
  if (!re) {
    const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    const body = escaped.replace(/\/\*(?=\/)/g, '(?:/\u0000)?').replace(/\*/g, '.*').replace(/\u0000/g, '.*');
    re = new RegExp(`^${body}$`, 'i');
    if (patterns.size > 10_000) patterns.clear();
    patterns.set(pattern, re);
  }
  return re;
}

/** Whether `action` is matched by `pattern`. */
export function actionMatches(pattern: string, action: string): boolean {
  return compileAction(pattern).test(action);
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
