/**
 * Machine Learning Server's publishing on top of the web-service engine: where its
 * services live (one workspace), how a (name, version) becomes an engine record, the
 * model file each may carry, and the synchronous publish and update ML Server had (the
 * answer waits until the service is Healthy or Failed).
 *
 * - Workspace: `config.mlServerWorkspace`, or group `mlserver`, workspace `mlserver` in the
 *   bootstrap (oldest) subscription; created on first publish.
 * - Record: engine name {@link engineNameOf}(name), version as given; the name as
 *   published, the operationId and the model file's name are kept in the record's tags
 *   (`mlserver.name`, `mlserver.operationId`, `mlserver.modelFile`).
 * - Model file: registered in the workspace's model registry as `mlserver.{engine name}.{version}`
 *   (a new model version per replacement), used by the service, removed with it. The code
 *   finds it at `$AZUREML_MODEL_DIR/{fileName}`.
 * - A publish whose code fails to start is refused (400 with the error) and leaves
 *   nothing behind; an update that fails is rolled back to the previous definition.
 */
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { TesseraError, isTesseraError } from '../errors.js';
import type { Services } from '../services.js';
import { ML_SERVER_WORKSPACE } from '../config.js';
import { workspaceId } from '../workspace/workspaces.js';
import type { MlServerUpdateInput, ServiceWorkspace, WebServiceRow } from '../workspace/webServices.js';
import type { ScriptContract } from '../scoring/runtimes/types.js';
import type { ServiceEntry } from '../scoring/serviceDirectory.js';
import type { ModelFileInput, PublishDefinition, UpdateDefinition } from './definitions.js';
import { engineNameOf } from './names.js';

export const NAME_TAG = 'mlserver.name';
export const OPERATION_TAG = 'mlserver.operationId';
export const MODEL_FILE_TAG = 'mlserver.modelFile';

/** Where the ML Server workspace is (it may not exist yet). */
export interface MlServerLocation {
  tenantId: string;
  subscriptionId: string;
  resourceGroup: string;
  workspace: string;
  /** The workspace's resource ID. */
  id: string;
}

type MlServerContract = Extract<ScriptContract, { kind: 'mlserver' }>;

/** The longest a publish waits for the service to start (init may take 120 s). */
const SETTLE_TIMEOUT_MS = 150_000;
const SETTLE_POLL_MS = 20;

export function tagsOf(row: WebServiceRow): Record<string, string> {
  try {
    return JSON.parse(row.tags) as Record<string, string>;
  } catch {
    return {};
  }
}

/** The name the service was published under. */
export function publishedName(row: WebServiceRow): string {
  return tagsOf(row)[NAME_TAG] ?? row.name;
}

/** The model registry name of a service version's model file. */
export function modelNameOf(engineName: string, version: string): string {
  return `mlserver.${engineName}.${version}`;
}

export class MlServerPublishing {
  private location: Promise<MlServerLocation> | undefined;

  constructor(private readonly services: Services) {}

  /** The workspace's coordinates, found once. 503 before the server has a subscription. */
  where(): Promise<MlServerLocation> {
    this.location ??= this.locate().catch((err: unknown) => {
      this.location = undefined;
      throw err;
    });
    return this.location;
  }

  /** The RBAC scope of every version of a service: `W/onlineEndpoints/{engine name}`. */
  async scopeOf(name: string): Promise<string> {
    return `${(await this.where()).id}/onlineEndpoints/${engineNameOf(name)}`;
  }

  /** The RBAC scope of a record (records from an earlier workspace setting keep theirs). */
  async scopeOfRow(row: WebServiceRow): Promise<string> {
    const entry = this.services.scoring.directory.getById(row.id);
    return entry?.resourceId ?? this.services.workspace.webServices.resourceIdOf(row);
  }

  /** Every version of `name` (as published, matched without regard to case), by version. */
  async versionsOf(name: string): Promise<WebServiceRow[]> {
    const rows = await this.services.workspace.webServices.listMlServer(engineNameOf(name));
    return rows.filter((r) => publishedName(r).toLowerCase() === name.toLowerCase());
  }

  /** One version; undefined when absent. */
  async find(name: string, version: string): Promise<WebServiceRow | undefined> {
    const row = await this.services.workspace.webServices.findMlServer(engineNameOf(name), version);
    return row && publishedName(row).toLowerCase() === name.toLowerCase() ? row : undefined;
  }

  /** As {@link find}; 404 when absent. */
  async get(name: string, version: string): Promise<WebServiceRow> {
    const row = await this.find(name, version);
    if (!row) throw new TesseraError('ResourceNotFound', `The service '${name}' has no version '${version}'.`);
    return row;
  }

  /**
   * Publishes `name` at `version` and waits until it runs. 409 when that version exists,
   * 400 with the error when its code fails to start (nothing is kept).
   */
  async publish(createdBy: string, name: string, version: string, def: PublishDefinition): Promise<WebServiceRow> {
    const engineName = engineNameOf(name);
    const { webServices } = this.services.workspace;
    const at = await this.where();
    await this.assertWritable(at.id, at.tenantId);
    const ws = await this.ensureWorkspace();
    if (await webServices.findMlServer(engineName, version)) throw new TesseraError('Conflict', `The service '${name}' version '${version}' already exists: publish another version, or update this one.`);
    const other = (await webServices.listMlServer(engineName)).find((r) => publishedName(r).toLowerCase() !== name.toLowerCase());
    if (other) throw new TesseraError('Conflict', `The service name '${name}' maps to the same internal name as the service '${publishedName(other)}': choose another name.`);
    if (await webServices.find(ws.rowId, engineName)) throw new TesseraError('Conflict', `An Azure ML web service named '${engineName}' exists in the Machine Learning Server workspace: choose another name.`);
    const tags: Record<string, string> = { [NAME_TAG]: name, [OPERATION_TAG]: def.operationId };
    const modelRef = def.modelFile ? await this.registerModel(ws, engineName, version, def.modelFile, createdBy) : undefined;
    if (def.modelFile) tags[MODEL_FILE_TAG] = def.modelFile.fileName;
    let row: WebServiceRow;
    try {
      row = await webServices.publishMlServer({
        workspace: ws,
        name: engineName,
        version,
        runtime: def.runtimeType === 'Python' ? 'python' : 'javascript',
        code: def.code,
        initCode: def.initCode,
        description: def.description,
        inputs: def.inputs,
        outputs: def.outputs,
        models: modelRef ? [modelRef] : [],
        tags,
        scoringTimeoutMs: this.services.config.scoring.timeoutMs,
        createdBy,
      });
    } catch (err) {
      if (modelRef) await this.removeModel(ws.rowId, engineName, version);
      throw err;
    }
    const settled = await this.settle(row);
    if (settled?.state === 'Failed') {
      await webServices.delete(row);
      if (modelRef) await this.removeModel(ws.rowId, engineName, version);
      throw new TesseraError('InvalidRequestContent', `The service '${name}' version '${version}' was not published: its code failed to start: ${settled.error ?? 'unknown error'}`);
    }
    return (await webServices.byId(row.id)) ?? row;
  }

  /**
   * Changes a version (check the creator rule first) and waits until it runs again. When
   * the new definition fails to start, the previous one is restored and the answer is 400.
   */
  async update(row: WebServiceRow, def: UpdateDefinition, by: string): Promise<WebServiceRow> {
    const { webServices } = this.services.workspace;
    await this.assertWritable(await this.scopeOfRow(row), row.tenant_id);
    const engineName = row.name;
    const version = row.mlserver_version ?? '';
    const ws: ServiceWorkspace = { rowId: row.workspace_id, tenantId: row.tenant_id };
    const contract = webServices.contractOf(row) as MlServerContract;
    const oldTags = tagsOf(row);
    const oldModels = webServices.modelsOf(row);
    const previous: MlServerUpdateInput = {
      runtime: row.runtime === 'python' ? 'python' : 'javascript',
      code: row.entry_script ?? '',
      initCode: contract.initCode ?? '',
      description: row.description,
      inputs: contract.inputs,
      outputs: contract.outputs,
      models: oldModels.map((m) => `${m.name}:${m.version}`),
      tags: oldTags,
    };
    const tags = { ...oldTags };
    if (def.operationId !== undefined) tags[OPERATION_TAG] = def.operationId;
    let models: string[] | undefined;
    if (def.modelFile === null) {
      models = [];
      delete tags[MODEL_FILE_TAG];
    } else if (def.modelFile !== undefined) {
      models = [await this.registerModel(ws, engineName, version, def.modelFile, by)];
      tags[MODEL_FILE_TAG] = def.modelFile.fileName;
    }
    const change: MlServerUpdateInput = { tags };
    if (def.runtimeType !== undefined) change.runtime = def.runtimeType === 'Python' ? 'python' : 'javascript';
    if (def.code !== undefined) change.code = def.code;
    if (def.initCode !== undefined) change.initCode = def.initCode;
    if (def.description !== undefined) change.description = def.description;
    if (def.inputs !== undefined) change.inputs = def.inputs;
    if (def.outputs !== undefined) change.outputs = def.outputs;
    if (models !== undefined) change.models = models;
    const dropNewModel = async () => {
      if (models && models.length > 0) await this.removeModelVersion(ws.rowId, models[0]!);
    };
    let updated: WebServiceRow;
    try {
      updated = await webServices.updateMlServer(row, change);
    } catch (err) {
      await dropNewModel();
      throw err;
    }
    const settled = await this.settle(updated);
    if (settled?.state === 'Failed') {
      const restored = await webServices.updateMlServer(updated, previous);
      await this.settle(restored);
      await dropNewModel();
      throw new TesseraError('InvalidRequestContent', `The update of '${publishedName(row)}' version '${version}' was refused: its code failed to start: ${settled.error ?? 'unknown error'}. The service keeps its previous definition.`);
    }
    if (models !== undefined) for (const m of oldModels) await this.removeModelVersion(ws.rowId, `${m.name}:${m.version}`);
    return (await webServices.byId(row.id)) ?? updated;
  }

  /** Deletes a version and its model file (check the creator rule first). */
  async remove(row: WebServiceRow): Promise<void> {
    await this.assertWritable(await this.scopeOfRow(row), row.tenant_id);
    await this.services.workspace.webServices.delete(row);
    await this.removeModel(row.workspace_id, row.name, row.mlserver_version ?? '');
  }

  /** Waits until the record's current configuration is Healthy or Failed (or overtaken); the directory's entry then. */
  private async settle(row: WebServiceRow): Promise<ServiceEntry | undefined> {
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    for (;;) {
      const entry = this.services.scoring.directory.getById(row.id);
      if (!entry || entry.configVersion > row.config_version) return entry;
      if (entry.configVersion === row.config_version && entry.state !== 'Transitioning') return entry;
      if (Date.now() > deadline) return entry;
      await sleep(SETTLE_POLL_MS);
    }
  }

  private async registerModel(ws: ServiceWorkspace, engineName: string, version: string, file: ModelFileInput, createdBy: string): Promise<string> {
    const { models } = this.services.workspace;
    const modelName = modelNameOf(engineName, version);
    const latest = await models.listVersions(ws.rowId, modelName).then(
      (versions) => Math.max(0, ...versions.map((v) => v.version)),
      (err: unknown) => {
        if (isTesseraError(err) && err.code === 'ResourceNotFound') return 0;
        throw err;
      },
    );
    const upload = await models.beginUpload(ws.rowId, modelName, String(latest + 1), createdBy);
    try {
      await upload.addFile(file.fileName, Readable.from([file.content]));
      upload.setDescription(`The model file of the Machine Learning Server service '${engineName}' version '${version}'.`);
      const committed = await upload.commit();
      return `${committed.name}:${committed.version}`;
    } catch (err) {
      await upload.abandon();
      if (isTesseraError(err) && err.code === 'Conflict') throw new TesseraError('Conflict', `The service version '${version}' is being published or updated by another request: retry.`);
      throw err;
    }
  }

  private async removeModel(workspaceRowId: string, engineName: string, version: string): Promise<void> {
    await this.services.workspace.models.deleteModel(workspaceRowId, modelNameOf(engineName, version)).catch((err: unknown) => {
      if (!(isTesseraError(err) && err.code === 'ResourceNotFound')) throw err;
    });
  }

  private async removeModelVersion(workspaceRowId: string, ref: string): Promise<void> {
    const colon = ref.lastIndexOf(':');
    await this.services.workspace.models.deleteVersion(workspaceRowId, ref.slice(0, colon), ref.slice(colon + 1)).catch((err: unknown) => {
      if (!(isTesseraError(err) && err.code === 'ResourceNotFound')) throw err;
    });
  }

  /** 409 ReadOnlyDisabledSubscription when the subscription holding `scope` is Disabled: ML Server's API is read-only there, as ARM is. */
  private async assertWritable(scope: string, tenantId: string): Promise<void> {
    const subscription = /^\/subscriptions\/([^/]+)/i.exec(scope)?.[1];
    if (subscription) await this.services.workspace.subscriptions.assertWritable(tenantId, subscription);
  }

  /** The workspace, created (with its group) when missing. */
  private async ensureWorkspace(): Promise<ServiceWorkspace> {
    const at = await this.where();
    const { resourceGroups, workspaces } = this.services.workspace;
    if (!(await resourceGroups.find(at.tenantId, at.subscriptionId, at.resourceGroup))) {
      await resourceGroups.put(at.tenantId, at.subscriptionId, at.resourceGroup, { location: 'local' }, null);
    }
    const found = (await workspaces.find(at.tenantId, at.subscriptionId, at.resourceGroup, at.workspace)) ?? (await workspaces.put(at.tenantId, at.subscriptionId, at.resourceGroup, at.workspace, {}, null));
    return { rowId: found.row.id, tenantId: at.tenantId };
  }

  private async locate(): Promise<MlServerLocation> {
    const configured = this.services.config.mlServerWorkspace;
    const db = this.services.store.db;
    let subscriptionId: string;
    let resourceGroup = 'mlserver';
    let workspace = 'mlserver';
    if (configured !== undefined && ML_SERVER_WORKSPACE.test(configured)) {
      const parts = configured.split('/');
      subscriptionId = parts[2]!.toLowerCase();
      resourceGroup = parts[4]!;
      workspace = parts[8]!;
    } else {
      const first = await db.selectFrom('subscriptions').select('id').orderBy('created_at').limit(1).executeTakeFirst();
      if (!first) throw new TesseraError('ServiceUnavailable', 'The server has no subscription yet: retry in a moment.');
      subscriptionId = first.id;
    }
    const sub = await db.selectFrom('subscriptions').select(['id', 'tenant_id']).where('id', '=', subscriptionId).executeTakeFirst();
    if (!sub) throw new TesseraError('ResourceNotFound', `The subscription of TESSERA_MLSERVER_WORKSPACE ('${subscriptionId}') does not exist on this server.`);
    return { tenantId: sub.tenant_id, subscriptionId: sub.id, resourceGroup, workspace, id: workspaceId(sub.id, resourceGroup, workspace) };
  }
}
