/**
 * Web services (online endpoints): their records, keys and the model versions they use.
 * Two doors lead here: the management API (kind `azureml`, one service per name) and
 * Machine Learning Server's publishing API (kind `mlserver`, one service per name and
 * version, with a creator rule). Every change is announced to one listener (the scoring
 * part), which refreshes its in-memory view and deploys; nothing here runs a service.
 */
import crypto from 'node:crypto';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Store } from '../store/db.js';
import { isUniqueViolation } from '../store/db.js';
import type { Database, WebServicesTable } from '../store/schema.js';
import type { Clock } from '../clock.js';
import type { MasterKey } from '../crypto/masterKey.js';
import type { AccessControl } from '../access/assignments.js';
import { OWNER_ROLE_ID } from '../access/roles.js';
import { generateSecret, hashSecret } from '../crypto/secrets.js';
import { TesseraError } from '../errors.js';
import type { ParameterDefinition, RuntimeKind, ScriptContract } from '../scoring/runtimes/types.js';
import { workspaceId } from './workspaces.js';
import type { Quotas } from './quotas.js';
import { checkServiceName, type AuthMode, type KeyType, type RegenerateKeyInput, type ServiceSettings, type ServiceState } from './webServiceInput.js';

export type WebServiceRow = Selectable<WebServicesTable>;

export const ONLINE_ENDPOINT_TYPE = 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints';
/** The permission an access token's principal needs to score a service in `aad` mode. */
export const SCORE_ACTION = `${ONLINE_ENDPOINT_TYPE}/score/action`;
/** Web service keys: `tssk_` + 256 random bits (base64url), so secret scanners find leaked ones. */
export const SERVICE_KEY_PREFIX = 'tssk_';

/** A model version a service uses, as resolved when it was deployed. */
export interface ResolvedModel {
  /** The model version's id (what the join table records). */
  id: string;
  /** The workspace's row id. */
  workspaceId: string;
  name: string;
  version: number;
  /** Whether it holds a `.onnx` file (a service without a script needs exactly one such model). */
  hasOnnx: boolean;
}

/** What the models part offers the services (an adapter over `Models`). */
export interface ModelCatalog {
  /** `name:version`, or `name` for the latest; 404 when there is none. */
  resolve(workspaceRowId: string, ref: string): Promise<ResolvedModel>;
  /** The model's files on disk: a file (one-file model) or a directory (folder). */
  materialize(model: ResolvedModel): Promise<string>;
}

/** The workspace a service is put in. */
export interface ServiceWorkspace {
  rowId: string;
  tenantId: string;
}

/** A change a listener hears of: `redeploy` when what runs changed. */
export interface ServiceChange {
  id: string;
  redeploy: boolean;
  deleted: boolean;
}

/** A key as `listKeys` shows it. */
export interface ServiceKeyInfo {
  keyType: KeyType;
  key: string;
  createdAt: number;
  lastUsedAt: number | null;
  expiresAt: number | null;
}

/** What the scoring part's in-memory view is built from: no script, no key material. */
export interface DirectoryRow {
  id: string;
  name: string;
  routeKey: string;
  kind: string;
  mlserverVersion: string | null;
  tenantId: string;
  /** The service's resource ID (its RBAC scope). */
  resourceId: string;
  authMode: AuthMode;
  state: ServiceState;
  error: string | null;
  generation: number;
  configVersion: number;
  runtime: RuntimeKind;
  replicas: number;
  scoringTimeoutMs: number;
  maxQueueSize: number;
  description: string;
  contract: ScriptContract;
  keys: { hash: string; type: KeyType; expiresAt: number | null }[];
}

/** Everything a deployment lays out. */
export interface DeploymentSource {
  row: WebServiceRow;
  models: ResolvedModel[];
  contract: ScriptContract;
}

/** ML Server's publishing input (see docs/models-and-services.md, "Machine Learning Server publishing"). */
export interface MlServerPublishInput {
  workspace: ServiceWorkspace;
  name: string;
  /** ML Server's version string: 1 to 64 of letters, digits, `.`, `_`, `-`. */
  version: string;
  runtime: 'python' | 'javascript';
  /** Runs per request with the inputs bound as variables. */
  code: string;
  /** Runs once at start. */
  initCode?: string | undefined;
  description?: string | undefined;
  inputs: ParameterDefinition[];
  outputs: ParameterDefinition[];
  /** Registered models the code uses (`name:version` or `name`). */
  models?: string[] | undefined;
  /** What the publishing API keeps beside the service (its name as published, its operationId…); `{}` when absent. */
  tags?: Record<string, string> | undefined;
  /** How long one request may run (default 60 s). */
  scoringTimeoutMs?: number | undefined;
  createdBy: string;
}

/** What an ML Server PATCH may change; absent fields stay. */
export type MlServerUpdateInput = Partial<Pick<MlServerPublishInput, 'runtime' | 'code' | 'initCode' | 'description' | 'inputs' | 'outputs' | 'models' | 'tags'>>;

const MLSERVER_VERSION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function parseJson<T>(text: string, fallback: T): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** An absolute file system path (not one inside a URL): `/a/b…`, up to a quote, space or delimiter. */
const ABSOLUTE_PATH = /(?<![\w.:/~-])\/(?:[^\s'"`:,;()<>[\]{}]+\/)*[^\s'"`:,;()<>[\]{}/]*/g;

/**
 * A deployment error as readers of the service may see it: every absolute path on the
 * server is cut to `…/{last segment}` (the file a traceback names stays recognisable);
 * the full text goes to the server's log only.
 * @example publicDeploymentError("EEXIST: file already exists, mkdir '/tmp/x/models/trees/a'") // "EEXIST: file already exists, mkdir '…/a'"
 */
export function publicDeploymentError(message: string): string {
  return message.replace(ABSOLUTE_PATH, (p) => {
    const last = p.split('/').filter((s) => s !== '').pop();
    return last === undefined ? p : `…/${last}`;
  });
}

function keyContext(serviceId: string, type: KeyType): string {
  return `web-service-key:${serviceId}:${type}`;
}

/** The entry script file name an ML Server service's code is laid out under. */
function mlserverScriptName(runtime: 'python' | 'javascript'): string {
  return runtime === 'python' ? 'score.py' : 'score.mjs';
}

/** Web service records, keys and model usage. */
export class WebServices {
  private listener: (change: ServiceChange) => Promise<void> = async () => undefined;
  private models: ModelCatalog | undefined;
  private errorLog: (serviceId: string, detail: string) => void = () => undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly master: MasterKey,
    private readonly access: AccessControl,
    private readonly quotas: Quotas,
  ) {}

  /** The scoring part listens here; each change is awaited before the management call answers. */
  setChangeListener(listener: (change: ServiceChange) => Promise<void>): void {
    this.listener = listener;
  }

  /** Where a deployment error's full text goes (the server's log) when readers see it shortened. */
  setErrorLog(log: (serviceId: string, detail: string) => void): void {
    this.errorLog = log;
  }

  /** Connects the models part (resolve at deployment, materialize for runtimes). */
  setModelCatalog(catalog: ModelCatalog): void {
    this.models = catalog;
  }

  /** The model catalog, for deployments. */
  modelCatalog(): ModelCatalog | undefined {
    return this.models;
  }

  /** The management API's service `name` in a workspace, or undefined. */
  async find(workspaceRowId: string, name: string): Promise<WebServiceRow | undefined> {
    return this.store.db
      .selectFrom('web_services')
      .selectAll()
      .where('route_key', '=', name.toLowerCase())
      .where('workspace_id', '=', workspaceRowId)
      .executeTakeFirst();
  }

  /** As {@link find}; 404 when there is none. */
  async get(workspaceRowId: string, name: string): Promise<WebServiceRow> {
    const row = await this.find(workspaceRowId, name);
    if (!row) throw new TesseraError('ResourceNotFound', `The web service '${checkServiceName(name)}' was not found in this workspace.`);
    return row;
  }

  /** A service by id, or undefined. */
  async byId(id: string): Promise<WebServiceRow | undefined> {
    return this.store.db.selectFrom('web_services').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Every service of a workspace (both kinds), by name. */
  async list(workspaceRowId: string): Promise<WebServiceRow[]> {
    return this.store.db.selectFrom('web_services').selectAll().where('workspace_id', '=', workspaceRowId).orderBy('route_key').execute();
  }

  /** How many services published through ML Server's API the workspaces hold. */
  async countMlServer(workspaceRowIds: readonly string[]): Promise<number> {
    if (workspaceRowIds.length === 0) return 0;
    const row = await this.store.db
      .selectFrom('web_services')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('kind', '=', 'mlserver')
      .where('workspace_id', 'in', [...workspaceRowIds])
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** The resolved models a service uses. */
  modelsOf(row: WebServiceRow): ResolvedModel[] {
    return parseJson<ResolvedModel[]>(row.model_refs, []);
  }

  /** The service's contract. */
  contractOf(row: WebServiceRow): ScriptContract {
    return parseJson<ScriptContract>(row.contract, { kind: 'azureml' });
  }

  /**
   * PUT of the management API: creates the service (with two keys) or replaces its
   * settings; either way it is Transitioning until its deployment ends.
   */
  async put(workspace: ServiceWorkspace, name: string, settings: ServiceSettings, createdBy: string | null): Promise<{ row: WebServiceRow; created: boolean }> {
    const routeKey = checkServiceName(name);
    const models = await this.resolveModels(workspace.rowId, settings.models);
    if (settings.runtime === 'onnx' && models.filter((m) => m.hasOnnx).length !== 1) {
      throw new TesseraError('InvalidParameter', "Without an entry script the service runs an ONNX model: exactly one of its models must hold a .onnx file.");
    }
    // ML Server's names are taken whatever the workspace: its publisher's next version must not meet a squatter.
    const published = await this.store.db.selectFrom('web_services').select('id').where('kind', '=', 'mlserver').where('name_key', '=', routeKey).limit(1).executeTakeFirst();
    if (published) {
      throw new TesseraError('Conflict', `The name '${routeKey}' belongs to a service published through Machine Learning Server's API: choose another name.`);
    }
    const existing = await this.store.db.selectFrom('web_services').selectAll().where('route_key', '=', routeKey).executeTakeFirst();
    if (existing && existing.workspace_id !== workspace.rowId) {
      throw new TesseraError('Conflict', `A web service named '${routeKey}' already exists on this server (names are unique across workspaces).`);
    }
    const fields = {
      description: settings.description,
      tags: JSON.stringify(settings.tags),
      target: settings.target,
      auth_mode: settings.authMode,
      runtime: settings.runtime,
      entry_script_name: settings.entryScript?.fileName ?? null,
      entry_script: settings.entryScript?.content ?? null,
      contract: JSON.stringify(settings.contract),
      model_refs: JSON.stringify(models),
      cpu_cores: settings.cpuCores,
      memory_gb: settings.memoryGb,
      replicas: settings.replicas,
      scoring_timeout_ms: settings.scoringTimeoutMs,
      max_queue_size: settings.maxQueueSize,
    };
    if (existing) {
      const row = await this.replace(existing, fields, models);
      return { row, created: false };
    }
    const row = await this.insert({ workspace, name: routeKey, routeKey, kind: 'azureml', mlserverVersion: null, createdBy, fields, models });
    return { row, created: true };
  }

  /** Deletes a service (its keys and model usage go with it). */
  async delete(row: WebServiceRow): Promise<void> {
    await this.store.db.deleteFrom('web_services').where('id', '=', row.id).execute();
    await this.listener({ id: row.id, redeploy: false, deleted: true });
  }

  /** Both keys, opened, for `listKeys`. */
  async listKeys(row: WebServiceRow): Promise<ServiceKeyInfo[]> {
    const keys = await this.store.db.selectFrom('web_service_keys').selectAll().where('service_id', '=', row.id).orderBy('key_type').execute();
    return keys.map((k) => ({
      keyType: k.key_type as KeyType,
      key: this.master.open(k.key_sealed, keyContext(row.id, k.key_type as KeyType)),
      createdAt: k.created_at,
      lastUsedAt: k.last_used_at,
      expiresAt: k.expires_at,
    }));
  }

  /** Replaces one key (generated, or the caller's); the old one stops working at once, the other stays. */
  async regenerateKey(row: WebServiceRow, input: RegenerateKeyInput): Promise<ServiceKeyInfo> {
    const key = input.keyValue ?? generateSecret(SERVICE_KEY_PREFIX);
    const now = this.clock.now();
    try {
      await this.store.db.transaction().execute(async (trx) => {
        await trx
          .updateTable('web_service_keys')
          .set({ key_hash: hashSecret(key), key_sealed: this.master.seal(key, keyContext(row.id, input.keyType)), created_at: now, last_used_at: null, expires_at: input.expiresAt ?? null })
          .where('service_id', '=', row.id)
          .where('key_type', '=', input.keyType)
          .execute();
        await trx.updateTable('web_services').set((eb) => ({ generation: eb('generation', '+', 1), updated_at: now })).where('id', '=', row.id).execute();
      });
    } catch (err) {
      // Unique within the service only: the service's other key (which the caller may read anyway).
      if (isUniqueViolation(err)) throw new TesseraError('Conflict', "That key value is this service's other key: choose another 'keyValue', or leave it out to have one generated.");
      throw err;
    }
    await this.listener({ id: row.id, redeploy: false, deleted: false });
    return { keyType: input.keyType, key, createdAt: now, lastUsedAt: null, expiresAt: input.expiresAt ?? null };
  }

  /**
   * Records a deployment's end, unless a newer configuration has replaced the one it
   * deployed (its result no longer matters). Returns whether it was recorded.
   */
  async setState(id: string, configVersion: number, state: ServiceState, error: string | null): Promise<boolean> {
    const shown = error === null ? null : publicDeploymentError(error);
    if (error !== null && shown !== error) this.errorLog(id, error);
    const result = await this.store.db
      .updateTable('web_services')
      .set((eb) => ({ state, error: shown === null ? null : shown.slice(0, 8192), generation: eb('generation', '+', 1) }))
      .where('id', '=', id)
      .where('config_version', '=', configVersion)
      .executeTakeFirst();
    const changed = Number(result.numUpdatedRows) > 0;
    if (changed) await this.listener({ id, redeploy: false, deleted: false });
    return changed;
  }

  /** Writes when keys were last used (batched by the scoring part, off the request path). */
  async recordKeyUse(lastUsed: ReadonlyMap<string, number>): Promise<void> {
    // Keyed `{serviceId} {keyHash}`: a key value two services' owners both chose is two keys.
    for (const [key, at] of lastUsed) {
      const [serviceId, hash] = key.split(' ');
      if (!serviceId || !hash) continue;
      await this.store.db.updateTable('web_service_keys').set({ last_used_at: at }).where('service_id', '=', serviceId).where('key_hash', '=', hash).execute();
    }
  }

  /** Every service's generation: the cheap query replicas poll. */
  async generations(): Promise<{ id: string; generation: number }[]> {
    return this.store.db.selectFrom('web_services').select(['id', 'generation']).execute();
  }

  /** The in-memory view's rows: all services, or those with the given ids. */
  async directoryRows(ids?: readonly string[]): Promise<DirectoryRow[]> {
    if (ids && ids.length === 0) return [];
    let query = this.store.db
      .selectFrom('web_services as s')
      .innerJoin('workspaces as w', 'w.id', 's.workspace_id')
      .innerJoin('resource_groups as g', 'g.id', 'w.resource_group_id')
      .select([
        's.id',
        's.name',
        's.route_key',
        's.kind',
        's.mlserver_version',
        's.tenant_id',
        's.auth_mode',
        's.state',
        's.error',
        's.generation',
        's.config_version',
        's.runtime',
        's.replicas',
        's.scoring_timeout_ms',
        's.max_queue_size',
        's.description',
        's.contract',
        'w.name as workspace_name',
        'g.name as group_name',
        'g.subscription_id',
      ]);
    if (ids) query = query.where('s.id', 'in', ids);
    const rows = await query.execute();
    if (rows.length === 0) return [];
    const keys = await this.store.db
      .selectFrom('web_service_keys')
      .select(['service_id', 'key_hash', 'key_type', 'expires_at'])
      .where('service_id', 'in', rows.map((r) => r.id))
      .execute();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      routeKey: r.route_key,
      kind: r.kind,
      mlserverVersion: r.mlserver_version,
      tenantId: r.tenant_id,
      resourceId: `${workspaceId(r.subscription_id, r.group_name, r.workspace_name)}/onlineEndpoints/${r.name}`,
      authMode: r.auth_mode as AuthMode,
      state: r.state as ServiceState,
      error: r.error,
      generation: r.generation,
      configVersion: r.config_version,
      runtime: r.runtime as RuntimeKind,
      replicas: r.replicas,
      scoringTimeoutMs: r.scoring_timeout_ms,
      maxQueueSize: r.max_queue_size,
      description: r.description,
      contract: parseJson<ScriptContract>(r.contract, { kind: 'azureml' }),
      keys: keys.filter((k) => k.service_id === r.id).map((k) => ({ hash: k.key_hash, type: k.key_type as KeyType, expiresAt: k.expires_at })),
    }));
  }

  /** What a deployment of the service's current configuration lays out; undefined once deleted. */
  async deploymentSource(id: string): Promise<DeploymentSource | undefined> {
    const row = await this.byId(id);
    if (!row) return undefined;
    return { row, models: this.modelsOf(row), contract: this.contractOf(row) };
  }

  /** The names of the services using any of the model versions (models refuse to delete those: 409). */
  async servicesUsing(modelVersionIds: readonly string[], db: Kysely<Database> = this.store.db): Promise<string[]> {
    if (modelVersionIds.length === 0) return [];
    const rows = await db
      .selectFrom('web_service_models as m')
      .innerJoin('web_services as s', 's.id', 'm.service_id')
      .select(['s.name', 's.mlserver_version'])
      .distinct()
      .where('m.model_version_id', 'in', [...modelVersionIds])
      .execute();
    return rows.map((r) => (r.mlserver_version === null ? r.name : `${r.name}/${r.mlserver_version}`)).sort();
  }

  /** The resource ID (RBAC scope) of a service. */
  async resourceIdOf(row: WebServiceRow): Promise<string> {
    const ws = await this.store.db
      .selectFrom('workspaces as w')
      .innerJoin('resource_groups as g', 'g.id', 'w.resource_group_id')
      .select(['w.name as workspace_name', 'g.name as group_name', 'g.subscription_id'])
      .where('w.id', '=', row.workspace_id)
      .executeTakeFirstOrThrow();
    return `${workspaceId(ws.subscription_id, ws.group_name, ws.workspace_name)}/onlineEndpoints/${row.name}`;
  }

  /**
   * The creator rule: a service published through ML Server's API is updated or deleted
   * only by its creator or a principal holding Owner at the service's scope or above,
   * even where RBAC grants the verb. Services of kind `azureml` follow RBAC alone.
   * @example if (!(await webServices.mayChange(caller.objectId, row))) throw new TesseraError('AuthorizationFailed', …)
   */
  async mayChange(callerObjectId: string, row: WebServiceRow): Promise<boolean> {
    if (row.kind !== 'mlserver') return true;
    if (row.created_by !== null && row.created_by.toLowerCase() === callerObjectId.toLowerCase()) return true;
    const decision = await this.access.decide(callerObjectId, `${ONLINE_ENDPOINT_TYPE}/delete`, await this.resourceIdOf(row));
    return decision.grantedBy.some((a) => a.role_definition_id === OWNER_ROLE_ID);
  }

  // ---- Machine Learning Server publishing ---------------------------------------------

  /** An ML Server service by name and version, or undefined. */
  async findMlServer(name: string, version: string): Promise<WebServiceRow | undefined> {
    return this.store.db.selectFrom('web_services').selectAll().where('route_key', '=', `${name.toLowerCase()}/${version}`).executeTakeFirst();
  }

  /** ML Server services, all or those named `name`, by name then version. */
  async listMlServer(name?: string): Promise<WebServiceRow[]> {
    let query = this.store.db.selectFrom('web_services').selectAll().where('kind', '=', 'mlserver');
    if (name !== undefined) query = query.where('name_key', '=', name.toLowerCase());
    return query.orderBy('route_key').execute();
  }

  /**
   * Publishes an ML Server service (kind `mlserver`, auth `aad`: consumed with an ML
   * Server bearer token by the caller's route). 409 when that name and version exist.
   * It deploys in the background, as a management PUT does.
   * @example await webServices.publishMlServer({ workspace, name: 'add', version: '1.0', runtime: 'python', code: 'z = x + y', inputs: [{name:'x',type:'numeric'}], outputs: [{name:'z',type:'numeric'}], createdBy })
   */
  async publishMlServer(input: MlServerPublishInput): Promise<WebServiceRow> {
    const name = checkServiceName(input.name);
    if (!MLSERVER_VERSION.test(input.version)) throw new TesseraError('InvalidParameter', "The version must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.");
    const models = await this.resolveModels(input.workspace.rowId, input.models ?? []);
    const fields = this.mlserverFields(input, models);
    return this.insert({ workspace: input.workspace, name, routeKey: `${name}/${input.version}`, kind: 'mlserver', mlserverVersion: input.version, createdBy: input.createdBy, fields, models });
  }

  /** Changes an ML Server service; check {@link mayChange} first. It redeploys with no downtime. */
  async updateMlServer(row: WebServiceRow, update: MlServerUpdateInput): Promise<WebServiceRow> {
    if (row.kind !== 'mlserver') throw new TesseraError('Conflict', `The web service '${row.name}' was not published through Machine Learning Server's API.`);
    const contract = this.contractOf(row) as Extract<ScriptContract, { kind: 'mlserver' }>;
    const merged: MlServerPublishInput = {
      workspace: { rowId: row.workspace_id, tenantId: row.tenant_id },
      name: row.name,
      version: row.mlserver_version ?? '',
      runtime: update.runtime ?? (row.runtime === 'python' ? 'python' : 'javascript'),
      code: update.code ?? row.entry_script ?? '',
      initCode: update.initCode ?? contract.initCode,
      description: update.description ?? row.description,
      inputs: update.inputs ?? contract.inputs,
      outputs: update.outputs ?? contract.outputs,
      tags: update.tags ?? parseJson<Record<string, string>>(row.tags, {}),
      scoringTimeoutMs: row.scoring_timeout_ms,
      createdBy: row.created_by ?? '',
    };
    const models = update.models === undefined ? this.modelsOf(row) : await this.resolveModels(row.workspace_id, update.models);
    return this.replace(row, this.mlserverFields(merged, models), models);
  }

  private mlserverFields(input: MlServerPublishInput, models: ResolvedModel[]) {
    const contract: ScriptContract = { kind: 'mlserver', inputs: input.inputs, outputs: input.outputs };
    if (input.initCode !== undefined) contract.initCode = input.initCode;
    return {
      description: input.description ?? '',
      tags: JSON.stringify(input.tags ?? {}),
      target: 'cluster',
      auth_mode: 'aad',
      runtime: input.runtime,
      entry_script_name: mlserverScriptName(input.runtime),
      entry_script: input.code,
      contract: JSON.stringify(contract),
      model_refs: JSON.stringify(models),
      cpu_cores: 1,
      memory_gb: 1,
      replicas: 1,
      scoring_timeout_ms: input.scoringTimeoutMs ?? 60_000,
      max_queue_size: 64,
    };
  }

  // ---- shared ---------------------------------------------------------------------------

  private async resolveModels(workspaceRowId: string, refs: readonly string[]): Promise<ResolvedModel[]> {
    if (refs.length === 0) return [];
    const catalog = this.models;
    if (!catalog) throw new TesseraError('ResourceNotFound', 'No model registry is available on this server, so no model can be named.');
    const out: ResolvedModel[] = [];
    for (const ref of refs) out.push(await catalog.resolve(workspaceRowId, ref));
    return out;
  }

  /**
   * Records that a service uses the model versions, in its write's transaction, holding
   * their rows (shared) so a delete of one (which takes them exclusively and checks the use
   * in its own transaction) either sees this use or has removed the row: then 404.
   * On SQLite one transaction runs at a time, which gives the same.
   */
  private async recordModelUse(trx: Transaction<Database>, serviceId: string, models: readonly ResolvedModel[]): Promise<void> {
    if (models.length === 0) return;
    const ids = [...new Set(models.map((m) => m.id))];
    const select = trx.selectFrom('models').select('id').where('id', 'in', ids);
    const present = await (this.store.kind === 'postgres' ? select.forShare() : select).execute();
    const missing = models.find((m) => !present.some((p) => p.id === m.id));
    if (missing) throw new TesseraError('ResourceNotFound', `Version ${missing.version} of model '${missing.name}' was deleted meanwhile.`);
    await trx.insertInto('web_service_models').values(ids.map((id) => ({ service_id: serviceId, model_version_id: id }))).execute();
  }

  private async insert(args: {
    workspace: ServiceWorkspace;
    name: string;
    routeKey: string;
    kind: 'azureml' | 'mlserver';
    mlserverVersion: string | null;
    createdBy: string | null;
    fields: Omit<WebServiceRow, 'id' | 'workspace_id' | 'tenant_id' | 'name' | 'name_key' | 'route_key' | 'kind' | 'mlserver_version' | 'state' | 'error' | 'generation' | 'config_version' | 'created_by' | 'created_at' | 'updated_at'>;
    models: ResolvedModel[];
  }): Promise<WebServiceRow> {
    const now = this.clock.now();
    const row: WebServiceRow = {
      id: crypto.randomUUID(),
      workspace_id: args.workspace.rowId,
      tenant_id: args.workspace.tenantId,
      name: args.name,
      name_key: args.name.toLowerCase(),
      route_key: args.routeKey,
      kind: args.kind,
      mlserver_version: args.mlserverVersion,
      ...args.fields,
      state: 'Transitioning',
      error: null,
      generation: 1,
      config_version: 1,
      created_by: args.createdBy,
      created_at: now,
      updated_at: now,
    };
    const scopes = await this.quotas.scopesFor(row.workspace_id, row.created_by);
    try {
      await this.store.db.transaction().execute(async (trx) => {
        // In the insert's transaction: a racing create in the same workspace or by the same principal waits, then counts this one.
        await scopes.checkService(trx, { next: { replicas: row.replicas, memoryGb: row.memory_gb } });
        await trx.insertInto('web_services').values(row).execute();
        for (const type of ['Primary', 'Secondary'] as const) {
          const key = generateSecret(SERVICE_KEY_PREFIX);
          await trx
            .insertInto('web_service_keys')
            .values({ service_id: row.id, key_type: type, key_hash: hashSecret(key), key_sealed: this.master.seal(key, keyContext(row.id, type)), created_at: now, last_used_at: null, expires_at: null })
            .execute();
        }
        await this.recordModelUse(trx, row.id, args.models);
      });
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new TesseraError('Conflict', args.mlserverVersion === null ? `A web service named '${args.name}' already exists on this server.` : `The service '${args.name}' version '${args.mlserverVersion}' already exists.`);
      }
      throw err;
    }
    await this.listener({ id: row.id, redeploy: true, deleted: false });
    return row;
  }

  private async replace(existing: WebServiceRow, fields: Partial<WebServiceRow>, models: ResolvedModel[]): Promise<WebServiceRow> {
    const now = this.clock.now();
    // Charged to the service's workspace and creator, whoever updates it.
    const scopes = await this.quotas.scopesFor(existing.workspace_id, existing.created_by);
    await this.store.db.transaction().execute(async (trx) => {
      await scopes.checkService(trx, { replacing: existing.id, next: { replicas: fields.replicas ?? existing.replicas, memoryGb: fields.memory_gb ?? existing.memory_gb } });
      await trx
        .updateTable('web_services')
        .set((eb) => ({ ...fields, state: 'Transitioning', error: null, updated_at: now, generation: eb('generation', '+', 1), config_version: eb('config_version', '+', 1) }))
        .where('id', '=', existing.id)
        .execute();
      await trx.deleteFrom('web_service_models').where('service_id', '=', existing.id).execute();
      await this.recordModelUse(trx, existing.id, models);
    });
    const row = await this.byId(existing.id);
    if (!row) throw new TesseraError('ResourceNotFound', `The web service '${existing.name}' was deleted meanwhile.`);
    await this.listener({ id: row.id, redeploy: true, deleted: false });
    return row;
  }
}
