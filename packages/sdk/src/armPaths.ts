/**
 * Resource IDs (Azure's grammar: `/subscriptions/{sub}/resourceGroups/{rg}/providers/…`)
 * and the management-API paths made from them.
 */

const seg = encodeURIComponent;

/** A resource name fit to go in a resource ID: no slash, no control character. */
function name(value: string, what: string): string {
  if (typeof value !== 'string' || value === '' || value === '.' || value === '..' || /[/\\?#\u0000-\u001f\u007f]/.test(value)) throw new TypeError(`The ${what} must be a non-empty name without slashes.`);
  return value;
}

/**
 * Checks a scope (`/`, `/subscriptions/{id}`, any resource ID) and returns its URL path,
 * each segment percent-encoded, without a trailing slash (`''` for `/`).
 */
export function scopePath(scope: string): string {
  if (typeof scope !== 'string' || !scope.startsWith('/') || /[\u0000-\u001f\u007f?#]/.test(scope)) {
    throw new TypeError("A scope must be '/' or a resource ID that starts with '/', e.g. /subscriptions/{id}/resourceGroups/{name}.");
  }
  const trimmed = scope.replace(/\/+$/, '');
  if (trimmed === '') return '';
  const segments = trimmed.slice(1).split('/');
  if (segments.some((s) => s === '')) throw new TypeError("A scope may not hold an empty segment ('//').");
  return segments.map((s) => `/${seg(s)}`).join('');
}

/** `?api-version=…`, with `$filter` when given. */
export function armQuery(apiVersion: string, filter?: string): string {
  return `?api-version=${apiVersion}${filter === undefined ? '' : `&$filter=${seg(filter)}`}`;
}

/** A quoted OData string literal (quotes doubled). */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** `/subscriptions/{sub}`. */
export function subscriptionId(subscription: string): string {
  return `/subscriptions/${name(subscription, 'subscription id')}`;
}

/** `/subscriptions/{sub}/resourceGroups/{rg}`. */
export function resourceGroupId(subscription: string, resourceGroup: string): string {
  return `${subscriptionId(subscription)}/resourceGroups/${name(resourceGroup, 'resource group name')}`;
}

/** `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}`. */
export function workspaceId(subscription: string, resourceGroup: string, workspace: string): string {
  return `${resourceGroupId(subscription, resourceGroup)}/providers/Microsoft.MachineLearningServices/workspaces/${name(workspace, 'workspace name')}`;
}

/** `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}`. */
export function userAssignedIdentityId(subscription: string, resourceGroup: string, identity: string): string {
  return `${resourceGroupId(subscription, resourceGroup)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name(identity, 'identity name')}`;
}

/**
 * `value` percent-encoded as one path segment of a child resource (`/computes/{name}`);
 * a TypeError for what a URL would not keep as one (empty, `.`, `..`) and for control characters.
 */
export function pathSegment(value: string, what: string): string {
  if (typeof value !== 'string' || value === '' || value === '.' || value === '..' || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new TypeError(`The ${what} must be a non-empty name without control characters.`);
  }
  return encodeURIComponent(value);
}
