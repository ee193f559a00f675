/**
 * Azure's action grammar (`Provider/resourceType/verb`, `*` matching any run of
 * characters, case-insensitive) and scope containment (`/` holds everything; a scope
 * holds itself and every path below it).
 */

const patterns = new Map<string, RegExp>();

/** Whether `action` is matched by `pattern`. */
export function actionMatches(pattern: string, action: string): boolean {
  let re = patterns.get(pattern);
  if (!re) {
    const body = pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    re = new RegExp(`^${body}$`, 'i');
    patterns.set(pattern, re);
  }
  return re.test(action);
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
