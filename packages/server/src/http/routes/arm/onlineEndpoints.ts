/**
 * Web services under ARM's paths: `W/onlineEndpoints/{name}` (PUT, GET, DELETE, list)
 * and its actions (listKeys, regenerateKeys, token, getLogs). Permissions follow the
 * router's one rule; the list is filtered to what the caller may read. Keys appear only
 * in listKeys' and regenerateKeys' answers, never in a log line or audit record.
 */
import { TesseraError, isTesseraError } from '../../../errors.js';
import { WORKSPACE_TYPE } from '../../../workspace/resourceIds.js';
import { ONLINE_ENDPOINT_TYPE, type WebServiceRow } from '../../../workspace/webServices.js';
import { checkServiceName, parseRegenerateBody, parseServiceBody } from '../../../workspace/webServiceInput.js';
import { keysView, newKeyView, webServiceView } from '../../../workspace/webServiceViews.js';
import { ServiceTokens } from '../../../scoring/serviceTokens.js';
import type { ArmContext, ArmOperation } from './router.js';
import { fields, objectBody } from '../../../validation/jsonFields.js';
import { mayListUnder, nameOf, readable } from './resources.js';
import { MODEL_VERSION_TYPE, workspaceOf, type WorkspaceRef } from './models.js';
import { checkModelName, parseModelVersion } from '../../../workspace/models.js';

/** A PUT carries the entry script (up to 1 MiB of text, escaped as JSON). */
const PUT_BODY_LIMIT = 4 * 1024 * 1024;

/** The addressed service (the instance, or the one an action is posted to). */
async function serviceOf(ctx: ArmContext): Promise<{ ws: WorkspaceRef; row: WebServiceRow }> {
  const ws = await workspaceOf(ctx);
  const name = checkServiceName(nameOf(ctx.levels, ONLINE_ENDPOINT_TYPE));
  return { ws, row: await ctx.services.workspace.webServices.get(ws.rowId, name) };
}

const MODEL_READ = `${MODEL_VERSION_TYPE}/read`;

/**
 * A service runs with its models' files, so deploying one is reading them: the caller needs
 * read on each model version it names. A refusal is the same 403 whether or not the model
 * exists; only a caller who may read the model learns that it is missing (404, later).
 */
async function authorizeModels(ctx: ArmContext, ws: WorkspaceRef, refs: readonly string[]): Promise<string[]> {
  const { access, workspace } = ctx.services;
  const pinned: string[] = [];
  for (const ref of refs) {
    const colon = ref.lastIndexOf(':');
    const name = checkModelName(colon < 0 ? ref : ref.slice(0, colon));
    const modelScope = `${ws.id}/models/${name}`;
    let scope: string;
    let pinnedRef = ref;
    if (colon >= 0) {
      scope = `${modelScope}/versions/${parseModelVersion(ref.slice(colon + 1))}`;
    } else {
      // The latest version: checked where it is; a missing model, at the model (which covers every version).
      const latest = await workspace.models.listVersions(ws.rowId, name).then(
        (versions) => versions[0]!.version,
        (err: unknown) => {
          if (isTesseraError(err) && err.code === 'ResourceNotFound') return undefined;
          throw err;
        },
      );
      scope = latest === undefined ? modelScope : `${modelScope}/versions/${latest}`;
      // Deploy the version checked, not one registered meanwhile.
      if (latest !== undefined) pinnedRef = `${name}:${latest}`;
    }
    if (!(await access.decide(ctx.caller.objectId, MODEL_READ, scope)).allowed) {
      throw new TesseraError(
        'AuthorizationFailed',
        `The client '${ctx.caller.clientName}' with object id '${ctx.caller.objectId}' does not have authorization to perform action '${MODEL_READ}' over scope '${scope}' (the model '${ref}' the service names) or the scope is invalid.`,
      );
    }
    pinned.push(pinnedRef);
  }
  return pinned;
}

/** An action's body: absent or `{}` only. */
function emptyBody(body: unknown): void {
  if (body === undefined || body === null) return;
  fields(objectBody(body), [], 'The request body');
}

const listServices: ArmOperation = {
  method: 'GET',
  shape: 'collection',
  resourceType: ONLINE_ENDPOINT_TYPE,
  parents: [WORKSPACE_TYPE],
  check: 'filtered',
  async handle(ctx) {
    await mayListUnder(ctx, ctx.parentId, `${WORKSPACE_TYPE}/read`);
    const ws = await workspaceOf(ctx);
    const rows = await ctx.services.workspace.webServices.list(ws.rowId);
    const visible = await readable(ctx, rows, `${ONLINE_ENDPOINT_TYPE}/read`, (r) => `${ws.id}/onlineEndpoints/${r.name}`);
    return { body: { value: visible.map((r) => webServiceView(r, ws.id, ctx.services.publicUrl.base, ctx.services.scoring.sandbox.kindFor(r.runtime))) } };
  },
};

const getService: ArmOperation = {
  method: 'GET',
  shape: 'instance',
  resourceType: ONLINE_ENDPOINT_TYPE,
  parents: [WORKSPACE_TYPE],
  async handle(ctx) {
    const { ws, row } = await serviceOf(ctx);
    return { body: webServiceView(row, ws.id, ctx.services.publicUrl.base, ctx.services.scoring.sandbox.kindFor(row.runtime)) };
  },
};

const putService: ArmOperation = {
  method: 'PUT',
  shape: 'instance',
  resourceType: ONLINE_ENDPOINT_TYPE,
  parents: [WORKSPACE_TYPE],
  bodyLimit: PUT_BODY_LIMIT,
  async handle(ctx) {
    const name = checkServiceName(ctx.name!);
    const { scoring } = ctx.services.config;
    const settings = parseServiceBody(ctx.body, { scoringTimeoutMs: scoring.timeoutMs, maxQueueSize: scoring.queueSize }, name);
    const ws = await workspaceOf(ctx);
    settings.models = await authorizeModels(ctx, ws, settings.models);
    const { row, created } = await ctx.services.workspace.webServices.put({ rowId: ws.rowId, tenantId: ctx.caller.tenantId }, name, settings, ctx.caller.objectId);
    return { status: created ? 201 : 200, body: webServiceView(row, ws.id, ctx.services.publicUrl.base, ctx.services.scoring.sandbox.kindFor(row.runtime)) };
  },
};

const deleteService: ArmOperation = {
  method: 'DELETE',
  shape: 'instance',
  resourceType: ONLINE_ENDPOINT_TYPE,
  parents: [WORKSPACE_TYPE],
  async handle(ctx) {
    const { row } = await serviceOf(ctx);
    const { webServices } = ctx.services.workspace;
    if (!(await webServices.mayChange(ctx.caller.objectId, row))) {
      throw new TesseraError('AuthorizationFailed', `The web service '${row.name}' was published through Machine Learning Server: only its creator or an Owner of its scope may delete it.`);
    }
    await webServices.delete(row);
    return { status: 200 };
  },
};

const listKeys: ArmOperation = {
  method: 'POST',
  shape: 'action',
  resourceType: `${ONLINE_ENDPOINT_TYPE}/listKeys`,
  parents: [ONLINE_ENDPOINT_TYPE],
  // Reads, POSTed: a Disabled subscription's services still score (a known limit), so their keys, tokens and logs stay readable.
  allowedWhenDisabled: true,
  async handle(ctx) {
    emptyBody(ctx.body);
    const { row } = await serviceOf(ctx);
    return { body: keysView(await ctx.services.workspace.webServices.listKeys(row)) };
  },
};

const regenerateKeys: ArmOperation = {
  method: 'POST',
  shape: 'action',
  resourceType: `${ONLINE_ENDPOINT_TYPE}/regenerateKeys`,
  parents: [ONLINE_ENDPOINT_TYPE],
  async handle(ctx) {
    const input = parseRegenerateBody(ctx.body, ctx.services.clock.now());
    const { row } = await serviceOf(ctx);
    return { body: newKeyView(await ctx.services.workspace.webServices.regenerateKey(row, input)) };
  },
};

const serviceToken: ArmOperation = {
  method: 'POST',
  shape: 'action',
  resourceType: `${ONLINE_ENDPOINT_TYPE}/token`,
  parents: [ONLINE_ENDPOINT_TYPE],
  allowedWhenDisabled: true,
  async handle(ctx) {
    emptyBody(ctx.body);
    const { row } = await serviceOf(ctx);
    if (row.auth_mode !== 'token') {
      throw new TesseraError('InvalidParameter', `Token auth is not enabled on the web service '${row.name}' (its auth mode is '${row.auth_mode}').`);
    }
    const audience = ServiceTokens.audience(ctx.services.publicUrl.base, row.name);
    return { body: ctx.services.scoring.tokens.mint({ serviceId: row.id, audience, tenantId: row.tenant_id }, ctx.caller.objectId) };
  },
};

const getLogs: ArmOperation = {
  method: 'POST',
  shape: 'action',
  resourceType: `${ONLINE_ENDPOINT_TYPE}/getLogs`,
  parents: [ONLINE_ENDPOINT_TYPE],
  allowedWhenDisabled: true,
  async handle(ctx) {
    let tail: number | undefined;
    if (ctx.body !== undefined && ctx.body !== null) {
      const body = fields(objectBody(ctx.body), ['tail'], 'The request body');
      if (body.tail !== undefined && body.tail !== null) {
        if (typeof body.tail !== 'number' || !Number.isInteger(body.tail) || body.tail < 1 || body.tail > 10_000) throw new TesseraError('InvalidParameter', "The field 'tail' must be a whole number from 1 to 10000.");
        tail = body.tail;
      }
    }
    const { row } = await serviceOf(ctx);
    return { body: { content: ctx.services.scoring.logs.read(row.id, tail) } };
  },
};

/** The web service operations, for armRoutes' `extra`. */
export const onlineEndpointOperations: ArmOperation[] = [listServices, getService, putService, deleteService, listKeys, regenerateKeys, serviceToken, getLogs];
