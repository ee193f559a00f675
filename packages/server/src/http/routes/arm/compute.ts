/**
 * User-assigned identities (in a resource group), computes and their nodes (in a
 * workspace) under ARM's paths. Permissions follow the router's one rule; attaching an
 * identity to a compute also needs `assign/action` on the identity, as in Azure. A node's
 * credential appears only in registerNode's and rotateCredential's answers.
 */
import { TesseraError } from '../../../errors.js';
import { RESOURCE_GROUP_TYPE, SUBSCRIPTION_TYPE, WORKSPACE_TYPE } from '../../../workspace/resourceIds.js';
import { computeView, parseComputeBody, parseIdentityId, type ComputeRow } from '../../../compute/computes.js';
import { identityView } from '../../../compute/identities.js';
import type { NodeRow } from '../../../compute/nodes.js';
import { COMPUTE_TYPE, IDENTITY_TYPE, NODE_TYPE } from '../../../compute/names.js';
import { workspaceContext, type WorkspaceContext } from '../../../compute/workspaceContext.js';
import { authorize } from '../../auth.js';
import type { ArmContext, ArmOperation } from './router.js';
import { fields, objectBody, optionalString } from '../../../validation/jsonFields.js';
import { mayListUnder, nameOf, readable } from './resources.js';
import { workspaceOf } from './models.js';

const group = (ctx: ArmContext) => ({ sub: nameOf(ctx.levels, SUBSCRIPTION_TYPE), rg: nameOf(ctx.levels, RESOURCE_GROUP_TYPE) });

const listIdentities: ArmOperation = {
  method: 'GET',
  shape: 'collection',
  resourceType: IDENTITY_TYPE,
  parents: [RESOURCE_GROUP_TYPE],
  check: 'filtered',
  async handle(ctx) {
    await mayListUnder(ctx, ctx.parentId, `${RESOURCE_GROUP_TYPE}/read`);
    const { sub, rg } = group(ctx);
    const records = await ctx.services.compute.identities.list(ctx.caller.tenantId, sub, rg);
    const visible = await readable(ctx, records, `${IDENTITY_TYPE}/read`, (r) => r.id);
    return { body: { value: visible.map(identityView) } };
  },
};

const getIdentity: ArmOperation = {
  method: 'GET',
  shape: 'instance',
  resourceType: IDENTITY_TYPE,
  parents: [RESOURCE_GROUP_TYPE],
  async handle(ctx) {
    const { sub, rg } = group(ctx);
    return { body: identityView(await ctx.services.compute.identities.get(ctx.caller.tenantId, sub, rg, ctx.name!)) };
  },
};

const putIdentity: ArmOperation = {
  method: 'PUT',
  shape: 'instance',
  resourceType: IDENTITY_TYPE,
  parents: [RESOURCE_GROUP_TYPE],
  async handle(ctx) {
    const body = ctx.body === undefined || ctx.body === null ? {} : fields(objectBody(ctx.body), ['id', 'name', 'type', 'location', 'tags', 'properties'], 'The request body');
    const { sub, rg } = group(ctx);
    const { record, created } = await ctx.services.compute.identities.put(ctx.caller.tenantId, sub, rg, ctx.name!, { location: body.location, tags: body.tags }, ctx.caller.objectId);
    return { status: created ? 201 : 200, body: identityView(record) };
  },
};

const deleteIdentity: ArmOperation = {
  method: 'DELETE',
  shape: 'instance',
  resourceType: IDENTITY_TYPE,
  parents: [RESOURCE_GROUP_TYPE],
  async handle(ctx) {
    const { sub, rg } = group(ctx);
    const deleted = await ctx.services.compute.identities.delete(ctx.caller.tenantId, sub, rg, ctx.name!);
    return { status: deleted ? 200 : 204 };
  },
};

/** The addressed workspace with its tenant and names (404 when missing); jobs.ts uses it too. */
export async function context(ctx: ArmContext): Promise<WorkspaceContext> {
  const ws = await workspaceOf(ctx);
  const found = await workspaceContext(ctx.services.store, ws.rowId);
  if (!found) throw new TesseraError('ResourceNotFound', 'The workspace could not be found.');
  return found;
}

async function view(ctx: ArmContext, ws: WorkspaceContext, row: ComputeRow) {
  const { compute } = ctx.services;
  const record = await compute.computes.record(row, ws.id, ws.tenantId);
  const nodes = await compute.nodes.counts(row.id);
  const runs = await ctx.services.store.db.selectFrom('runs').select(['status']).where('compute_id', '=', row.id).where('status', 'in', ['Queued', 'Preparing', 'Running']).execute();
  return computeView(record, { ...nodes, queued: runs.filter((r) => r.status === 'Queued').length, running: runs.filter((r) => r.status !== 'Queued').length });
}

async function computeOf(ctx: ArmContext): Promise<{ ws: WorkspaceContext; row: ComputeRow }> {
  const ws = await context(ctx);
  return { ws, row: await ctx.services.compute.computes.get(ws.rowId, nameOf(ctx.levels, COMPUTE_TYPE)) };
}

const listComputes: ArmOperation = {
  method: 'GET',
  shape: 'collection',
  resourceType: COMPUTE_TYPE,
  parents: [WORKSPACE_TYPE],
  check: 'filtered',
  async handle(ctx) {
    await mayListUnder(ctx, ctx.parentId, `${WORKSPACE_TYPE}/read`);
    const ws = await context(ctx);
    const rows = await ctx.services.compute.computes.list(ws.rowId);
    const visible = await readable(ctx, rows, `${COMPUTE_TYPE}/read`, (r) => `${ws.id}/computes/${r.name}`);
    const value = [];
    for (const row of visible) value.push(await view(ctx, ws, row));
    return { body: { value } };
  },
};

const getCompute: ArmOperation = {
  method: 'GET',
  shape: 'instance',
  resourceType: COMPUTE_TYPE,
  parents: [WORKSPACE_TYPE],
  async handle(ctx) {
    const { ws, row } = await computeOf(ctx);
    return { body: await view(ctx, ws, row) };
  },
};

const putCompute: ArmOperation = {
  method: 'PUT',
  shape: 'instance',
  resourceType: COMPUTE_TYPE,
  parents: [WORKSPACE_TYPE],
  async handle(ctx) {
    const input = parseComputeBody(ctx.body);
    const ws = await context(ctx);
    const { compute } = ctx.services;
    const identities = [];
    for (const id of input.userAssigned) {
      const ref = parseIdentityId(id);
      const scope = `/subscriptions/${ref.subscriptionId.toLowerCase()}/resourceGroups/${ref.groupName}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${ref.name}`;
      // Attaching an identity lets the compute's jobs act as it: the caller must be allowed to assign it.
      await authorize(ctx.services, ctx.request, `${IDENTITY_TYPE}/assign/action`, scope);
      const record = await compute.identities.find(ctx.caller.tenantId, ref.subscriptionId, ref.groupName, ref.name);
      if (!record) throw new TesseraError('InvalidParameter', `The user-assigned identity '${ref.name}' does not exist in resource group '${ref.groupName}'.`);
      identities.push(record);
    }
    ctx.request.audit.operation = ctx.permission.action;
    ctx.request.audit.target = ctx.permission.scope;
    const { row, created } = await compute.computes.put({ rowId: ws.rowId, id: ws.id, tenantId: ws.tenantId, location: ws.location }, ctx.name!, input, identities, ctx.caller.objectId);
    return { status: created ? 201 : 200, body: await view(ctx, ws, row) };
  },
};

const deleteCompute: ArmOperation = {
  method: 'DELETE',
  shape: 'instance',
  resourceType: COMPUTE_TYPE,
  parents: [WORKSPACE_TYPE],
  async handle(ctx) {
    const ws = await context(ctx);
    const row = await ctx.services.compute.computes.find(ws.rowId, ctx.name!);
    if (!row) return { status: 204 };
    await ctx.services.compute.runs.endOnCompute(row.id);
    await ctx.services.compute.computes.delete(row);
    return { status: 200 };
  },
};

function nodeAnswer(ctx: ArmContext, row: NodeRow, credential?: string) {
  const view = ctx.services.compute.nodes.view(row);
  return credential === undefined ? view : { ...view, credential };
}

const registerNode: ArmOperation = {
  method: 'POST',
  shape: 'action',
  resourceType: `${COMPUTE_TYPE}/registerNode`,
  parents: [COMPUTE_TYPE],
  async handle(ctx) {
    const body = ctx.body === undefined || ctx.body === null ? {} : fields(objectBody(ctx.body), ['name'], 'The request body');
    const { row: compute } = await computeOf(ctx);
    const { row, credential } = await ctx.services.compute.nodes.register(compute.id, optionalString(body.name, 'name', 64), ctx.caller.objectId);
    return { status: 201, body: nodeAnswer(ctx, row, credential) };
  },
};

const listNodes: ArmOperation = {
  method: 'GET',
  shape: 'collection',
  resourceType: NODE_TYPE,
  parents: [COMPUTE_TYPE],
  async handle(ctx) {
    const { row: compute } = await computeOf(ctx);
    const rows = await ctx.services.compute.nodes.list(compute.id);
    return { body: { value: rows.map((r) => nodeAnswer(ctx, r)) } };
  },
};

const getNode: ArmOperation = {
  method: 'GET',
  shape: 'instance',
  resourceType: NODE_TYPE,
  parents: [COMPUTE_TYPE],
  async handle(ctx) {
    const { row: compute } = await computeOf(ctx);
    return { body: nodeAnswer(ctx, await ctx.services.compute.nodes.get(compute.id, ctx.name!)) };
  },
};

const revokeNode: ArmOperation = {
  method: 'DELETE',
  shape: 'instance',
  resourceType: NODE_TYPE,
  parents: [COMPUTE_TYPE],
  async handle(ctx) {
    const { row: compute } = await computeOf(ctx);
    await ctx.services.compute.nodes.revoke(compute.id, ctx.name!);
    // Its runs fail now, not at the next sweep.
    await ctx.services.compute.runs.sweep();
    return { status: 200 };
  },
};

const rotateNode: ArmOperation = {
  method: 'POST',
  shape: 'action',
  resourceType: `${NODE_TYPE}/rotateCredential`,
  parents: [NODE_TYPE],
  async handle(ctx) {
    if (ctx.body !== undefined && ctx.body !== null) fields(objectBody(ctx.body), [], 'The request body');
    const { row: compute } = await computeOf(ctx);
    const { row, credential } = await ctx.services.compute.nodes.rotate(compute.id, nameOf(ctx.levels, NODE_TYPE));
    return { body: nodeAnswer(ctx, row, credential) };
  },
};

export const computeOperations: ArmOperation[] = [
  listIdentities,
  getIdentity,
  putIdentity,
  deleteIdentity,
  listComputes,
  getCompute,
  putCompute,
  deleteCompute,
  registerNode,
  listNodes,
  getNode,
  revokeNode,
  rotateNode,
];
