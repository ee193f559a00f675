/**
 * The model registry under ARM's paths: `W/models` (containers) and
 * `W/models/{name}/versions/{version}` (immutable versions), uploaded as multipart and
 * downloaded file by file with `?path=`. Permissions follow the router's one rule; the
 * model list is filtered to what the caller may read.
 */
import fs from 'node:fs';
import type { FastifyRequest } from 'fastify';
import { TesseraError } from '../../../errors.js';
import { RESOURCE_GROUP_TYPE, SUBSCRIPTION_TYPE, WORKSPACE_TYPE } from '../../../workspace/resourceIds.js';
import { checkWorkspaceName } from '../../../workspace/names.js';
import { workspaceId } from '../../../workspace/workspaces.js';
import type { ModelContainerRecord, ModelVersionRecord } from '../../../workspace/models.js';
import { MultipartBody } from '../../multipart.js';
import { authorize } from '../../auth.js';
import { fields, objectBody } from '../../../validation/jsonFields.js';
import type { ArmContext, ArmOperation } from './router.js';
import { mayListUnder, nameOf, readable } from './resources.js';
import { discardRest, receiveModelUpload } from './modelUpload.js';

export const MODEL_TYPE = `${WORKSPACE_TYPE}/models`;
export const MODEL_VERSION_TYPE = `${MODEL_TYPE}/versions`;

/** The resource ID of a model. */
function modelId(workspace: string, name: string): string {
  return `${workspace}/models/${name}`;
}

/** A version in ARM's envelope. */
export function modelVersionView(workspace: string, v: ModelVersionRecord): Record<string, unknown> {
  return {
    id: `${modelId(workspace, v.name)}/versions/${v.version}`,
    name: String(v.version),
    type: MODEL_VERSION_TYPE,
    properties: {
      modelName: v.name,
      version: v.version,
      description: v.description,
      tags: v.tags,
      sha256: v.sha256,
      size: v.size,
      kind: v.kind,
      files: v.files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })),
      createdBy: v.createdBy,
      createdAt: new Date(v.createdAt).toISOString(),
    },
  };
}

/** A model (container) in ARM's envelope. */
export function modelView(workspace: string, m: ModelContainerRecord): Record<string, unknown> {
  return {
    id: modelId(workspace, m.name),
    name: m.name,
    type: MODEL_TYPE,
    properties: { latestVersion: m.latestVersion, description: m.description, createdAt: new Date(m.createdAt).toISOString() },
  };
}

/** A workspace as the model and web-service operations need it. */
export interface WorkspaceRef {
  rowId: string;
  /** The workspace's resource ID, in stored casing. */
  id: string;
}

/** The workspace the request addresses (404 when it does not exist). */
export async function workspaceOf(ctx: ArmContext): Promise<WorkspaceRef> {
  const record = await ctx.services.workspace.workspaces.get(
    ctx.caller.tenantId,
    nameOf(ctx.levels, SUBSCRIPTION_TYPE),
    nameOf(ctx.levels, RESOURCE_GROUP_TYPE),
    checkWorkspaceName(nameOf(ctx.levels, WORKSPACE_TYPE)),
  );
  return { rowId: record.row.id, id: workspaceId(record.group.subscription_id, record.group.name, record.row.name) };
}

/** ASCII-only, quote-free: safe inside a quoted header parameter. */
function asciiName(fileName: string): string {
  return fileName.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200) || 'download';
}

/** `attachment` with the file's base name, plainly and RFC 5987-encoded. */
function contentDisposition(filePath: string): string {
  const base = filePath.slice(filePath.lastIndexOf('/') + 1);
  return `attachment; filename="${asciiName(base)}"; filename*=UTF-8''${encodeURIComponent(base)}`;
}

const listModels: ArmOperation = {
  method: 'GET',
  shape: 'collection',
  resourceType: MODEL_TYPE,
  parents: [WORKSPACE_TYPE],
  check: 'filtered',
  async handle(ctx) {
    await mayListUnder(ctx, ctx.parentId, `${WORKSPACE_TYPE}/read`);
    const ws = await workspaceOf(ctx);
    const models = await ctx.services.workspace.models.listModels(ws.rowId);
    const visible = await readable(ctx, models, `${MODEL_TYPE}/read`, (m) => modelId(ws.id, m.name));
    return { body: { value: visible.map((m) => modelView(ws.id, m)) } };
  },
};

const getModel: ArmOperation = {
  method: 'GET',
  shape: 'instance',
  resourceType: MODEL_TYPE,
  parents: [WORKSPACE_TYPE],
  async handle(ctx) {
    const ws = await workspaceOf(ctx);
    return { body: modelView(ws.id, await ctx.services.workspace.models.getModel(ws.rowId, ctx.name!)) };
  },
};

const deleteModel: ArmOperation = {
  method: 'DELETE',
  shape: 'instance',
  resourceType: MODEL_TYPE,
  parents: [WORKSPACE_TYPE],
  async handle(ctx) {
    const ws = await workspaceOf(ctx);
    await ctx.services.workspace.models.deleteModel(ws.rowId, ctx.name!);
    return { status: 200 };
  },
};

const listVersions: ArmOperation = {
  method: 'GET',
  shape: 'collection',
  resourceType: MODEL_VERSION_TYPE,
  parents: [MODEL_TYPE],
  async handle(ctx) {
    const ws = await workspaceOf(ctx);
    const versions = await ctx.services.workspace.models.listVersions(ws.rowId, nameOf(ctx.levels, MODEL_TYPE));
    return { body: { value: versions.map((v) => modelVersionView(ws.id, v)) } };
  },
};

/** A version, or with `?path=` one of its files' bytes. */
const getVersion: ArmOperation = {
  method: 'GET',
  shape: 'instance',
  resourceType: MODEL_VERSION_TYPE,
  parents: [MODEL_TYPE],
  async handle(ctx) {
    const ws = await workspaceOf(ctx);
    const version = await ctx.services.workspace.models.getVersion(ws.rowId, nameOf(ctx.levels, MODEL_TYPE), ctx.name!);
    if (ctx.query.path === undefined) return { body: modelVersionView(ws.id, version) };
    const file = version.files.find((f) => f.path === ctx.query.path!.normalize('NFC'));
    if (!file) throw new TesseraError('ResourceNotFound', `Version ${version.version} of model '${version.name}' holds no file at that path.`);
    const headers = {
      'content-type': 'application/octet-stream',
      'content-length': String(file.size),
      'content-disposition': contentDisposition(file.path),
    };
    if (ctx.request.method === 'HEAD') return { headers };
    return { headers, body: fs.createReadStream(ctx.services.workspace.models.blobPath(file.sha256)) };
  },
};

const deleteVersion: ArmOperation = {
  method: 'DELETE',
  shape: 'instance',
  resourceType: MODEL_VERSION_TYPE,
  parents: [MODEL_TYPE],
  async handle(ctx) {
    const ws = await workspaceOf(ctx);
    await ctx.services.workspace.models.deleteVersion(ws.rowId, nameOf(ctx.levels, MODEL_TYPE), ctx.name!);
    return { status: 200 };
  },
};

/**
 * Throws `err` once the rest of the refused body is read, so a client still sending sees
 * the answer; past a bound the answer closes the connection instead (see app.ts).
 */
async function refuse(request: FastifyRequest, err: unknown): Promise<never> {
  await discardRest(request.raw);
  throw err;
}

/** PUT a version: multipart, one `file` part per file; 201 with the version. */
const putVersion: ArmOperation = {
  method: 'PUT',
  shape: 'instance',
  resourceType: MODEL_VERSION_TYPE,
  parents: [MODEL_TYPE],
  multipart: true,
  alsoJson: true,
  async handle(ctx) {
    if (!(ctx.body instanceof MultipartBody)) return registerFromRun(ctx);
    const body = ctx.body;
    let upload;
    try {
      const ws = await workspaceOf(ctx);
      upload = await ctx.services.workspace.models.beginUpload(ws.rowId, nameOf(ctx.levels, MODEL_TYPE), ctx.name!, ctx.caller.objectId);
      await receiveModelUpload(body, upload, ctx.services.config.modelUploadLimit);
      const version = await upload.commit();
      return { status: 201, body: modelVersionView(ws.id, version) };
    } catch (err) {
      await upload?.abandon();
      return refuse(ctx.request, err);
    }
  },
};

const MODEL_URI = /^azureml:\/\/jobs\/([^/]{1,255})\/outputs\/artifacts\/paths\/(.{1,512})$/;

/**
 * PUT a version from a run's outputs (`az ml model create --path azureml://jobs/{id}/…`):
 * `{properties: {modelUri, description?, tags?}}`. The caller must be allowed to read the
 * run's artifacts; the files under the path (or the one file) become the version's.
 */
async function registerFromRun(ctx: ArmContext): Promise<{ status: number; body: unknown }> {
  const asked = ctx.body as { properties?: { modelUri?: unknown } } | null | undefined;
  if (typeof asked !== 'object' || asked === null || typeof asked.properties !== 'object' || asked.properties === null || !('modelUri' in asked.properties)) {
    // Not a registration from a run: the upload is what this path takes.
    throw new TesseraError('UnsupportedMediaType', "A model version is uploaded as multipart/form-data (or registered from a run's outputs with JSON {properties: {modelUri: 'azureml://jobs/{run id}/outputs/artifacts/paths/{path}'}}).");
  }
  const body = fields(objectBody(ctx.body), ['properties'], 'The request body');
  const props = fields(objectBody(body.properties, "The field 'properties'"), ['modelUri', 'description', 'tags'], "The field 'properties'");
  const match = typeof props.modelUri === 'string' ? MODEL_URI.exec(props.modelUri) : null;
  if (!match) throw new TesseraError('InvalidParameter', "A model version is uploaded as multipart/form-data, or registered from a run with {properties: {modelUri: 'azureml://jobs/{run id}/outputs/artifacts/paths/{path}'}}.");
  const [, runName, rawPath] = match;
  const prefix = rawPath!.replace(/\/+$/, '');
  const ws = await workspaceOf(ctx);
  await authorize(ctx.services, ctx.request, 'Microsoft.MachineLearningServices/workspaces/jobs/artifacts/read', `${ws.id}/jobs/${runName}`);
  const { runs } = ctx.services.compute;
  const run = await runs.get(ws.rowId, runName!);
  const artifacts = (await runs.listArtifacts(run.id)).filter((a) => a.path === prefix || a.path.startsWith(`${prefix}/`));
  if (artifacts.length === 0) throw new TesseraError('InvalidParameter', `The run '${run.name}' has no artifact at or under that path.`);
  const upload = await ctx.services.workspace.models.beginUpload(ws.rowId, nameOf(ctx.levels, MODEL_TYPE), ctx.name!, ctx.caller.objectId);
  try {
    if (props.description !== undefined) upload.setDescription(String(props.description));
    if (props.tags !== undefined) upload.setTags(JSON.stringify(props.tags));
    const base = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/') + 1) : '';
    for (const a of artifacts) {
      const relative = a.path === prefix ? a.path.slice(base.length) : a.path.slice(prefix.length + 1);
      await upload.addFile(relative, fs.createReadStream(runs.files.artifactFile(run.id, a.path)));
    }
    const version = await upload.commit();
    return { status: 201, body: modelVersionView(ws.id, version) };
  } catch (err) {
    await upload.abandon();
    throw err;
  }
}

/** The model operations, for `armRoutes`' `extra`. */
export const modelOperations: ArmOperation[] = [listModels, getModel, deleteModel, listVersions, getVersion, deleteVersion, putVersion];
