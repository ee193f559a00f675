/**
 * Azure's resource-ID grammar: `/subscriptions/{sub}/resourceGroups/{rg}/providers/
 * {Namespace}/{type}/{name}[/{childType}/{childName}…]`, with further `/providers/…`
 * chains for extension resources (role assignments live under any scope that way).
 * Keywords match without regard to case and are written back in Azure's casing; names
 * are kept as given. One parser serves URL paths (which may end in a collection or an
 * action segment) and scope strings (which may not).
 */
import { TesseraError } from '../errors.js';
import { checkResourceGroupName, hasControl, isGuid, shown } from './names.js';

/** One named step of a resource ID. */
export interface ResourceLevel {
  /** What precedes the name, as Azure writes it: `subscriptions`, `resourceGroups`, `providers/Microsoft.MachineLearningServices/workspaces`, `computes`. */
  key: string;
  /** The full resource type, as actions name it: `Microsoft.Resources/subscriptions/resourceGroups`. */
  type: string;
  name: string;
}

/** A parsed path: the named levels, and a trailing type segment with no name (a collection, or an action when POSTed). */
export interface ResourcePath {
  levels: ResourceLevel[];
  tail: { key: string; type: string } | null;
}

export const SUBSCRIPTION_TYPE = 'Microsoft.Resources/subscriptions';
export const RESOURCE_GROUP_TYPE = 'Microsoft.Resources/subscriptions/resourceGroups';
export const WORKSPACE_TYPE = 'Microsoft.MachineLearningServices/workspaces';

/** Azure's casing for the namespaces and types Tessera knows; others keep the caller's. */
const CANONICAL = new Map(
  [
    'Microsoft.MachineLearningServices',
    'Microsoft.Authorization',
    'Microsoft.Resources',
    'Tessera.Authorization',
    'Microsoft.Subscription',
    'aliases',
    'rename',
    'enable',
    'workspaces',
    'roleAssignments',
    'roleDefinitions',
    'checkAccess',
    'computes',
    'onlineEndpoints',
    'batchEndpoints',
    'deployments',
    'models',
    'versions',
    'datastores',
    'jobs',
    'environments',
    'services',
    'listKeys',
    'regenerateKeys',
    'getLogs',
    'token',
    'Microsoft.ManagedIdentity',
    'userAssignedIdentities',
    'nodes',
    'registerNode',
    'rotateCredential',
    'cancel',
    'logs',
    'metrics',
    'artifacts',
  ].map((w) => [w.toLowerCase(), w]),
);

const KEYWORD = /^[A-Za-z][A-Za-z0-9.-]{0,127}$/;

function canonical(word: string): string {
  return CANONICAL.get(word.toLowerCase()) ?? word;
}

function keyword(segment: string): string {
  if (!KEYWORD.test(segment)) throw new TesseraError('InvalidParameter', `The path segment ${shown(segment)} is not a valid resource provider namespace or type.`);
  return canonical(segment);
}

/** Generic name rules: printable, at most 260 characters, no slashes, not `.` or `..`. */
function resourceName(segment: string): string {
  if (segment.length === 0 || segment.length > 260 || hasControl(segment) || /[/\\?#]/.test(segment) || segment === '.' || segment === '..') {
    throw new TesseraError('InvalidParameter', `The resource name ${shown(segment)} is invalid: use 1 to 260 printable characters without slashes.`);
  }
  return segment;
}

/** Parses already-split, already-decoded segments (no empty ones). */
export function parseSegments(segments: string[]): ResourcePath {
  const levels: ResourceLevel[] = [];
  const n = segments.length;
  let i = 0;
  const is = (word: string) => i < n && segments[i]!.toLowerCase() === word;
  if (is('subscriptions')) {
    i++;
    if (i === n) return { levels, tail: { key: 'subscriptions', type: SUBSCRIPTION_TYPE } };
    const sub = segments[i++]!;
    if (!isGuid(sub)) throw new TesseraError('InvalidParameter', `The subscription id ${shown(sub)} is not a valid GUID.`);
    levels.push({ key: 'subscriptions', type: SUBSCRIPTION_TYPE, name: sub.toLowerCase() });
    if (is('resourcegroups')) {
      i++;
      if (i === n) return { levels, tail: { key: 'resourceGroups', type: RESOURCE_GROUP_TYPE } };
      levels.push({ key: 'resourceGroups', type: RESOURCE_GROUP_TYPE, name: checkResourceGroupName(segments[i++]!) });
    }
  }
  let inProvider = false;
  while (i < n) {
    let key: string;
    let type: string;
    if (is('providers')) {
      i++;
      if (n - i < 2) throw new TesseraError('RouteNotFound', 'A path ending in /providers or /providers/{namespace} names no resource type.');
      const namespace = keyword(segments[i++]!);
      // Subscriptions and resource groups exist only at the top of an ID. A nested
      // `/providers/Microsoft.Resources/subscriptions/…` chain would let a path inside one
      // group (where the caller holds a role) name another group to the handler.
      if (namespace.toLowerCase() === 'microsoft.resources') {
        throw new TesseraError('InvalidParameter', 'Microsoft.Resources types (subscriptions, resource groups) appear only at the start of a resource ID.');
      }
      const first = keyword(segments[i++]!);
      key = `providers/${namespace}/${first}`;
      type = `${namespace}/${first}`;
      inProvider = true;
    } else if (inProvider) {
      const child = keyword(segments[i++]!);
      key = child;
      type = `${levels[levels.length - 1]!.type}/${child}`;
    } else {
      throw new TesseraError('RouteNotFound', `No endpoint answers at that path: ${shown(segments[i]!)} cannot follow ${levels.length === 0 ? 'the root' : `'${levels[levels.length - 1]!.key}'`}.`);
    }
    // A type cannot contain itself: handlers find a level by its type, so each type names one level.
    if (levels.some((l) => l.type.toLowerCase() === type.toLowerCase())) {
      throw new TesseraError('InvalidParameter', `A resource ID may hold one level of type '${type}', not several.`);
    }
    if (i === n) return { levels, tail: { key, type } };
    levels.push({ key, type, name: resourceName(segments[i++]!) });
  }
  return { levels, tail: null };
}

/** The resource ID of `levels`: `/` for none. */
export function resourceId(levels: readonly ResourceLevel[]): string {
  if (levels.length === 0) return '/';
  return levels.map((l) => `/${l.key}/${l.name}`).join('');
}

/**
 * Parses a scope string (`/`, `/subscriptions/{sub}`, `…/resourceGroups/{rg}`, a resource
 * ID), throwing 400 naming `field` when it is not one.
 */
export function parseScope(scope: string, field = 'scope'): ResourceLevel[] {
  if (typeof scope !== 'string' || scope.length === 0 || scope.length > 1024 || hasControl(scope) || !scope.startsWith('/')) {
    throw new TesseraError('InvalidParameter', `The ${field} must be '/' or a resource ID such as /subscriptions/{id}/resourceGroups/{name} (at most 1024 characters).`);
  }
  const trimmed = scope.replace(/\/+$/, '');
  if (trimmed === '') return [];
  const segments = trimmed.slice(1).split('/');
  if (segments.some((s) => s === '')) throw new TesseraError('InvalidParameter', `The ${field} holds an empty path segment ('//').`);
  let path: ResourcePath;
  try {
    path = parseSegments(segments);
  } catch (err) {
    if (err instanceof TesseraError) throw new TesseraError('InvalidParameter', `The ${field} is not a valid scope: ${err.message}`);
    throw err;
  }
  if (path.tail) throw new TesseraError('InvalidParameter', `The ${field} is not a valid scope: it ends in a resource type ('${path.tail.key}') without a name.`);
  return path.levels;
}

/** A scope in Azure's casing (keywords) with names as given, e.g. for assignable scopes read back. */
export function canonicalScope(scope: string): string {
  try {
    return resourceId(parseScope(scope));
  } catch {
    return scope;
  }
}

/** The subscription, resource group and workspace a scope names, as far as it goes. */
export function scopeParts(levels: readonly ResourceLevel[]): { subscriptionId?: string; resourceGroup?: string; workspace?: string } {
  const parts: { subscriptionId?: string; resourceGroup?: string; workspace?: string } = {};
  for (const level of levels) {
    if (level.type === SUBSCRIPTION_TYPE) parts.subscriptionId = level.name;
    else if (level.type === RESOURCE_GROUP_TYPE) parts.resourceGroup = level.name;
    else if (level.type.toLowerCase() === WORKSPACE_TYPE.toLowerCase() && parts.workspace === undefined) parts.workspace = level.name;
  }
  return parts;
}
