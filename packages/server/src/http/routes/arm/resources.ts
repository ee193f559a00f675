/**
 * Subscriptions, resource groups and workspaces under ARM's paths. Lists hold only what
 * the caller may read, under a parent the caller may know of (403 otherwise, whether or
 * not it exists); everything else is checked by the router's one rule.
 */
import type { ResourceLevel } from '../../../workspace/resourceIds.js';
import { RESOURCE_GROUP_TYPE, SUBSCRIPTION_TYPE, WORKSPACE_TYPE } from '../../../workspace/resourceIds.js';
import { resourceGroupView, subscriptionView, workspaceView } from '../../../workspace/views.js';
import { workspaceId } from '../../../workspace/workspaces.js';
import { resourceGroupId } from '../../../workspace/resourceGroups.js';
import { checkWorkspaceName, shown } from '../../../workspace/names.js';
import { TesseraError } from '../../../errors.js';
import { authorize } from '../../auth.js';
import { OWNER_ROLE_ID } from '../../../access/roles.js';
import type { ArmContext, ArmOperation } from './router.js';
import { fields, objectBody, onlyNull } from '../../../validation/jsonFields.js';

const ENVELOPE = ['id', 'name', 'type', 'location', 'tags', 'properties', 'managedBy'] as const;
const WORKSPACE_ENVELOPE = ['id', 'name', 'type', 'location', 'tags', 'properties', 'identity', 'sku', 'kind', 'systemData', 'etag'] as const;

/** The name of the level of `type` in `levels`. */
export function nameOf(levels: readonly ResourceLevel[], type: string): string {
  const level = levels.find((l) => l.type.toLowerCase() === type.toLowerCase());
  if (!level) throw new Error(`no ${type} level`);
  return level.name;
}

/** The `items` the caller may read, in order. */
export async function readable<T>(ctx: ArmContext, items: T[], action: string, idOf: (item: T) => string): Promise<T[]> {
  const out: T[] = [];
  for (const item of items) {
    if ((await ctx.services.access.decide(ctx.caller.objectId, action, idOf(item))).allowed) out.push(item);
  }
  return out;
}

/** A body's `name`, when given, must be the URL's (without regard to case). */
function sameName(given: unknown, name: string): void {
  if (given === undefined || given === null) return;
  if (typeof given !== 'string' || given.toLowerCase() !== name.toLowerCase()) {
    throw new TesseraError('InvalidParameter', `The field 'name' in the body (${typeof given === 'string' ? shown(given) : 'not a string'}) does not match the name in the URL.`);
  }
}

/** As in ARM, a subscription is visible to whoever may read it or holds a role anywhere inside it. */
async function seesSubscription(ctx: ArmContext, id: string): Promise<boolean> {
  const { access } = ctx.services;
  const scope = `/subscriptions/${id}`;
  return (await access.decide(ctx.caller.objectId, `${SUBSCRIPTION_TYPE}/read`, scope)).allowed || (await access.reachesInto(ctx.caller.objectId, scope));
}

/**
 * Before a list looks its parent up (and answers 404 when it is missing), the caller must
 * be entitled to know of the parent: allowed to read it (`readAction`), holding a role at
 * or below it, or allowed the list's own read there. Otherwise 403, as ARM answers, the
 * same whether or not the parent exists, so lists cannot be used to probe for names.
 */
export async function mayListUnder(ctx: ArmContext, parent: string, readAction: string): Promise<void> {
  const { access } = ctx.services;
  if ((await access.decide(ctx.caller.objectId, readAction, parent)).allowed || (await access.reachesInto(ctx.caller.objectId, parent))) return;
  await authorize(ctx.services, ctx.request, ctx.permission.action, ctx.permission.scope);
}

const listSubscriptions: ArmOperation = {
  method: 'GET',
  shape: 'collection',
  resourceType: SUBSCRIPTION_TYPE,
  parents: ['root'],
  check: 'filtered',
  async handle(ctx) {
    const rows = await ctx.services.workspace.subscriptions.list(ctx.caller.tenantId);
    const visible: typeof rows = [];
    for (const row of rows) if (await seesSubscription(ctx, row.id)) visible.push(row);
    return { body: { value: visible.map(subscriptionView) } };
  },
};

const getSubscription: ArmOperation = {
  method: 'GET',
  shape: 'instance',
  resourceType: SUBSCRIPTION_TYPE,
  parents: ['root'],
  check: 'handler',
  async handle(ctx) {
    if (!(await seesSubscription(ctx, ctx.name!))) await authorize(ctx.services, ctx.request, ctx.permission.action, ctx.permission.scope);
    return { body: subscriptionView(await ctx.services.workspace.subscriptions.get(ctx.caller.tenantId, ctx.name!)) };
  },
};

const listResourceGroups: ArmOperation = {
  method: 'GET',
  shape: 'collection',
  resourceType: RESOURCE_GROUP_TYPE,
  parents: [SUBSCRIPTION_TYPE],
  check: 'filtered',
  async handle(ctx) {
    const sub = nameOf(ctx.levels, SUBSCRIPTION_TYPE);
    await mayListUnder(ctx, ctx.parentId, `${SUBSCRIPTION_TYPE}/read`);
    const rows = await ctx.services.workspace.resourceGroups.list(ctx.caller.tenantId, sub);
    const visible = await readable(ctx, rows, `${RESOURCE_GROUP_TYPE}/read`, (r) => resourceGroupId(r.subscription_id, r.name));
    return { body: { value: visible.map(resourceGroupView) } };
  },
};

const getResourceGroup: ArmOperation = {
  method: 'GET',
  shape: 'instance',
  resourceType: RESOURCE_GROUP_TYPE,
  parents: [SUBSCRIPTION_TYPE],
  async handle(ctx) {
    const row = await ctx.services.workspace.resourceGroups.get(ctx.caller.tenantId, nameOf(ctx.levels, SUBSCRIPTION_TYPE), ctx.name!);
    return { body: resourceGroupView(row) };
  },
};

const putResourceGroup: ArmOperation = {
  method: 'PUT',
  shape: 'instance',
  resourceType: RESOURCE_GROUP_TYPE,
  parents: [SUBSCRIPTION_TYPE],
  async handle(ctx) {
    const body = fields(objectBody(ctx.body), ENVELOPE, 'The resource group');
    sameName(body.name, ctx.name!);
    onlyNull(body.managedBy, 'managedBy', 'Tessera has no managing applications');
    if (body.properties !== undefined && body.properties !== null) objectBody(body.properties, "The field 'properties'");
    const { row, created } = await ctx.services.workspace.resourceGroups.put(
      ctx.caller.tenantId,
      nameOf(ctx.levels, SUBSCRIPTION_TYPE),
      ctx.name!,
      { location: body.location, tags: body.tags },
      ctx.caller.objectId,
    );
    return { status: created ? 201 : 200, body: resourceGroupView(row) };
  },
};

const patchResourceGroup: ArmOperation = {
  method: 'PATCH',
  shape: 'instance',
  resourceType: RESOURCE_GROUP_TYPE,
  parents: [SUBSCRIPTION_TYPE],
  async handle(ctx) {
    const body = fields(objectBody(ctx.body), ENVELOPE, 'The resource group');
    sameName(body.name, ctx.name!);
    onlyNull(body.managedBy, 'managedBy', 'Tessera has no managing applications');
    const row = await ctx.services.workspace.resourceGroups.patch(ctx.caller.tenantId, nameOf(ctx.levels, SUBSCRIPTION_TYPE), ctx.name!, { location: body.location, tags: body.tags });
    return { body: resourceGroupView(row) };
  },
};

/**
 * Deleting a workspace deletes its services whatever ML Server's creator rule says, so a
 * scope holding services published through ML Server's API is deleted only by an Owner
 * of it (409 for anyone else, who must delete those services first).
 */
async function guardMlServerServices(ctx: ArmContext, workspaceRowIds: string[], what: string): Promise<void> {
  const count = await ctx.services.workspace.webServices.countMlServer(workspaceRowIds);
  if (count === 0) return;
  const decision = await ctx.services.access.decide(ctx.caller.objectId, ctx.permission.action, ctx.permission.scope);
  if (decision.grantedBy.some((a) => a.role_definition_id === OWNER_ROLE_ID)) return;
  throw new TesseraError(
    'Conflict',
    `The ${what} holds ${count} service${count === 1 ? '' : 's'} published through Machine Learning Server's API: only an Owner of it may delete it while they exist; delete those services first.`,
  );
}

const deleteResourceGroup: ArmOperation = {
  method: 'DELETE',
  shape: 'instance',
  resourceType: RESOURCE_GROUP_TYPE,
  parents: [SUBSCRIPTION_TYPE],
  async handle(ctx) {
    const subscription = nameOf(ctx.levels, SUBSCRIPTION_TYPE);
    if (await ctx.services.workspace.resourceGroups.find(ctx.caller.tenantId, subscription, ctx.name!)) {
      const inGroup = await ctx.services.workspace.workspaces.list(ctx.caller.tenantId, subscription, ctx.name!);
      await guardMlServerServices(ctx, inGroup.map((w) => w.row.id), 'resource group');
    }
    const deleted = await ctx.services.workspace.resourceGroups.delete(ctx.caller.tenantId, nameOf(ctx.levels, SUBSCRIPTION_TYPE), ctx.name!);
    if (!deleted) throw new TesseraError('ResourceNotFound', `Resource group '${ctx.name!}' could not be found.`);
    return { status: 200 };
  },
};

/** Workspaces of a resource group, or of a whole subscription. */
const listWorkspaces: ArmOperation = {
  method: 'GET',
  shape: 'collection',
  resourceType: WORKSPACE_TYPE,
  parents: [SUBSCRIPTION_TYPE, RESOURCE_GROUP_TYPE],
  check: 'filtered',
  async handle(ctx) {
    const sub = nameOf(ctx.levels, SUBSCRIPTION_TYPE);
    const group = ctx.levels.find((l) => l.type === RESOURCE_GROUP_TYPE)?.name;
    await mayListUnder(ctx, ctx.parentId, group === undefined ? `${SUBSCRIPTION_TYPE}/read` : `${RESOURCE_GROUP_TYPE}/read`);
    const records = await ctx.services.workspace.workspaces.list(ctx.caller.tenantId, sub, group);
    const visible = await readable(ctx, records, `${WORKSPACE_TYPE}/read`, (r) => workspaceId(r.group.subscription_id, r.group.name, r.row.name));
    return { body: { value: visible.map((r) => workspaceView(r, ctx.services.publicUrl.base)) } };
  },
};

function workspaceArgs(ctx: ArmContext): [string, string, string, string] {
  return [ctx.caller.tenantId, nameOf(ctx.levels, SUBSCRIPTION_TYPE), nameOf(ctx.levels, RESOURCE_GROUP_TYPE), checkWorkspaceName(ctx.name!)];
}

const getWorkspace: ArmOperation = {
  method: 'GET',
  shape: 'instance',
  resourceType: WORKSPACE_TYPE,
  parents: [RESOURCE_GROUP_TYPE],
  async handle(ctx) {
    return { body: workspaceView(await ctx.services.workspace.workspaces.get(...workspaceArgs(ctx)), ctx.services.publicUrl.base) };
  },
};

function workspaceBody(ctx: ArmContext): Record<string, unknown> {
  const body = fields(objectBody(ctx.body), WORKSPACE_ENVELOPE, 'The workspace');
  sameName(body.name, ctx.name!);
  for (const field of ['identity', 'sku', 'systemData'] as const) {
    if (body[field] !== undefined && body[field] !== null) objectBody(body[field], `The field '${field}'`);
  }
  if (body.kind !== undefined && body.kind !== null && (typeof body.kind !== 'string' || body.kind.length > 64)) {
    throw new TesseraError('InvalidParameter', "The field 'kind' must be a string such as 'Default'.");
  }
  return body;
}

const putWorkspace: ArmOperation = {
  method: 'PUT',
  shape: 'instance',
  resourceType: WORKSPACE_TYPE,
  parents: [RESOURCE_GROUP_TYPE],
  async handle(ctx) {
    const body = workspaceBody(ctx);
    const record = await ctx.services.workspace.workspaces.put(...workspaceArgs(ctx), { location: body.location, tags: body.tags, properties: body.properties }, ctx.caller.objectId);
    return { status: record.created ? 201 : 200, body: workspaceView(record, ctx.services.publicUrl.base) };
  },
};

const patchWorkspace: ArmOperation = {
  method: 'PATCH',
  shape: 'instance',
  resourceType: WORKSPACE_TYPE,
  parents: [RESOURCE_GROUP_TYPE],
  async handle(ctx) {
    const body = workspaceBody(ctx);
    const record = await ctx.services.workspace.workspaces.patch(...workspaceArgs(ctx), { location: body.location, tags: body.tags, properties: body.properties });
    return { body: workspaceView(record, ctx.services.publicUrl.base) };
  },
};

const deleteWorkspace: ArmOperation = {
  method: 'DELETE',
  shape: 'instance',
  resourceType: WORKSPACE_TYPE,
  parents: [RESOURCE_GROUP_TYPE],
  async handle(ctx) {
    const found = await ctx.services.workspace.workspaces.find(...workspaceArgs(ctx));
    if (found) await guardMlServerServices(ctx, [found.row.id], 'workspace');
    const deleted = await ctx.services.workspace.workspaces.delete(...workspaceArgs(ctx));
    return { status: deleted ? 200 : 204 };
  },
};

/** The operations on subscriptions, resource groups and workspaces. */
export const resourceOperations: ArmOperation[] = [
  listSubscriptions,
  getSubscription,
  listResourceGroups,
  getResourceGroup,
  putResourceGroup,
  patchResourceGroup,
  deleteResourceGroup,
  listWorkspaces,
  getWorkspace,
  putWorkspace,
  patchWorkspace,
  deleteWorkspace,
];
