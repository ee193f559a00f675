/**
 * Web services, as Azure ML's `Webservice` class had them: deploy models with an
 * {@link InferenceConfig} and a deployment configuration, wait until the service is
 * Healthy, read and rotate its keys, fetch service tokens, score it with the credential
 * its auth mode calls for, read its logs, update and delete it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Audience } from './audience.js';
import { deploymentProperties, type DeploymentConfiguration, type ServiceAuthMode } from './deploymentConfiguration.js';
import { TesseraApiError } from './errors.js';
import { HttpClient } from './http.js';
import type { InferenceConfig, ScoringRuntime } from './inferenceConfig.js';
import type { Workspace } from './workspace.js';

/** A web service's properties, as the server returns them. */
export interface WebserviceProperties {
  description: string;
  target: 'instance' | 'cluster';
  authMode: ServiceAuthMode;
  authEnabled: boolean;
  tokenAuthEnabled: boolean;
  runtime: ScoringRuntime;
  /** The entry script's file name; null for ONNX. */
  entryScript: string | null;
  /** `name:version`, as resolved at deployment. */
  models: string[];
  cpuCores: number;
  memoryGb: number;
  replicas: number;
  scoringTimeoutMs: number;
  maxQueueSize: number;
  state: WebserviceState;
  /** Why the deployment failed (when Failed). */
  error: string | null;
  scoringUri: string;
  swaggerUri: string;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
  kind: 'azureml' | 'mlserver';
}

export type WebserviceState = 'Transitioning' | 'Healthy' | 'Failed';

interface ServiceResource {
  id: string;
  name: string;
  tags: Record<string, string>;
  properties: WebserviceProperties;
}

/** A registered model for {@link deployModel}: a `Model`, or `"name:version"` (`"name"` for its latest). */
export type ModelReference = string | { readonly name: string; readonly version: number };

/** Options of {@link deployModel} (Azure's `Model.deploy`). */
export interface DeployOptions {
  workspace: Workspace;
  /** 3 to 32 lower-case letters, digits and '-', starting with a letter; unique on the server. */
  name: string;
  models: readonly ModelReference[];
  inferenceConfig: InferenceConfig;
  deploymentConfig?: DeploymentConfiguration;
  /** Replace a service of that name; without it an existing service is an error. */
  overwrite?: boolean;
}

/** Options of {@link Webservice.update}: what to change; everything else stays. */
export interface WebserviceUpdateOptions extends Partial<Omit<DeploymentConfiguration, 'target'>> {
  models?: readonly ModelReference[];
  /** Required to change (or keep) a script service's code: the server never returns a script. */
  inferenceConfig?: InferenceConfig;
}

/** Options of {@link Webservice.waitForDeployment}. */
export interface WaitOptions {
  /** Print progress: `true` to stdout, or a function that takes each line. */
  showOutput?: boolean | ((line: string) => void);
  /** Give up after this long (default 10 minutes). */
  timeoutMs?: number;
}

/** The service's keys (`listKeys`). */
export interface WebserviceKeys {
  primaryKey: string;
  secondaryKey: string;
}

/** A key just regenerated, shown once. */
export interface RegeneratedKey {
  keyType: 'Primary' | 'Secondary';
  key: string;
  createdAt: string;
  expiresAt: string | null;
}

/** A deployment that failed or did not finish: carries the service's error and its logs. */
export class WebserviceDeploymentError extends Error {
  /** `DeploymentFailed` (the service is Failed) or `DeploymentTimeout` (still Transitioning). */
  readonly code: 'DeploymentFailed' | 'DeploymentTimeout';
  readonly serviceName: string;
  readonly state: WebserviceState;
  /** The server's account of the failure (e.g. `init() raised ValueError: …`). */
  readonly serviceError: string | null;
  /** The service's logs at the time (what the entry script printed). */
  readonly logs: string;

  constructor(init: { code: WebserviceDeploymentError['code']; serviceName: string; state: WebserviceState; serviceError: string | null; logs: string; message: string }) {
    super(init.message);
    this.name = 'WebserviceDeploymentError';
    this.code = init.code;
    this.serviceName = init.serviceName;
    this.state = init.state;
    this.serviceError = init.serviceError;
    this.logs = init.logs;
  }
}

const SERVICE_NAME = /^[a-z][a-z0-9-]{1,30}[a-z0-9]$/;
const DEFAULT_WAIT_MS = 10 * 60_000;
/** Polls start quick (a JavaScript echo is Healthy within a second) and slow down to this. */
const MAX_POLL_MS = 2_000;
/** A failure message quotes at most this much of the logs' end. */
const LOG_TAIL_CHARS = 4_000;
/** Scoring may take the service's timeout; the request gets this much more for the round trip. */
const SCORING_MARGIN_MS = 10_000;

function checkName(name: string): string {
  if (typeof name !== 'string' || !SERVICE_NAME.test(name)) {
    throw new TypeError(`The web service name '${String(name).slice(0, 40)}' is invalid: use 3 to 32 lower-case letters, digits and '-', starting with a letter and not ending with '-'.`);
  }
  return name;
}

/** `name:version` (or `name`) for each model. */
function modelRefs(models: readonly ModelReference[]): string[] {
  if (!Array.isArray(models)) throw new TypeError("models must be an array of Model objects or 'name:version' strings.");
  return models.map((m) => {
    if (typeof m === 'string') {
      if (m === '') throw new TypeError('A model reference must not be empty.');
      return m;
    }
    if (m === null || typeof m !== 'object' || typeof m.name !== 'string') throw new TypeError("Each model must be a Model or a 'name:version' string.");
    return `${m.name}:${m.version}`;
  });
}

/** The script half of a PUT body. */
function inferenceProperties(config: InferenceConfig): Record<string, unknown> {
  return config.entryScript ? { entryScript: config.entryScript, runtime: config.runtime } : { runtime: 'onnx' };
}

function isNotFound(err: unknown): boolean {
  return err instanceof TesseraApiError && err.status === 404;
}

/**
 * Deploys `models` as the web service `name` (Azure's `Model.deploy`); the service starts
 * Transitioning: call {@link Webservice.waitForDeployment}.
 * @example
 * const service = await deployModel({ workspace: ws, name: 'echo', models: ['iris:1'],
 *   inferenceConfig: new InferenceConfig({ entryScript: 'score.py' }),
 *   deploymentConfig: ClusterWebservice.deployConfiguration({ authEnabled: true }) });
 * await service.waitForDeployment({ showOutput: true });
 */
export async function deployModel(options: DeployOptions): Promise<Webservice> {
  const service = new Webservice(options.workspace, options.name);
  const refs = modelRefs(options.models);
  if (!options.overwrite) {
    const existing = await service.load().then(
      () => true,
      (err: unknown) => {
        if (isNotFound(err)) return false;
        throw err;
      },
    );
    if (existing) throw new Error(`A web service named '${options.name}' exists in this workspace: pass overwrite: true to replace it, or call update().`);
  }
  const config = options.deploymentConfig ?? { target: 'instance' as const };
  const properties = { ...deploymentProperties(config), models: refs, ...inferenceProperties(options.inferenceConfig) };
  await service.put({ tags: config.tags ?? {}, properties }, options.inferenceConfig);
  return service;
}

/**
 * A web service in a workspace. `new Webservice(ws, name)` is a handle; {@link Webservice.get}
 * loads it (and fails when it does not exist).
 * @example
 * const service = await Webservice.get(ws, 'echo');
 * const answer = await service.run({ data: [[1, 2, 3]] });
 */
export class Webservice {
  readonly name: string;
  private resource: ServiceResource | undefined;
  /** The script deployed through this object, so that update() can resend it. */
  private inferenceConfig: InferenceConfig | undefined;
  // ES private fields: never printed by console.log or util.inspect.
  #cachedKey: string | undefined;
  #cachedToken: { token: string; refreshBy: Date } | undefined;
  private readonly http = new HttpClient();

  constructor(
    readonly workspace: Workspace,
    name: string,
  ) {
    this.name = checkName(name);
  }

  /** As {@link deployModel}. */
  static deploy(options: DeployOptions): Promise<Webservice> {
    return deployModel(options);
  }

  /** The service `name`, loaded; 404 {@link TesseraApiError} when there is none. */
  static async get(workspace: Workspace, name: string): Promise<Webservice> {
    return new Webservice(workspace, name).load();
  }

  /** The workspace's services (those you may read), optionally only a target's or a model's. */
  static async list(workspace: Workspace, options: { target?: 'instance' | 'cluster'; modelName?: string } = {}): Promise<Webservice[]> {
    const { value } = await workspace.request<{ value: ServiceResource[] }>('GET', '/onlineEndpoints');
    return value
      .filter((r) => options.target === undefined || r.properties.target === options.target)
      .filter((r) => options.modelName === undefined || r.properties.models.some((m) => m.split(':')[0] === options.modelName))
      .map((r) => {
        const service = new Webservice(workspace, r.name);
        service.resource = r;
        return service;
      });
  }

  /** The service's resource ID. */
  get id(): string {
    return `${this.workspace.id}/onlineEndpoints/${this.name}`;
  }

  /** Everything the server said of the service when last loaded. */
  get properties(): WebserviceProperties {
    if (!this.resource) throw new Error(`Web service '${this.name}' is not loaded: await Webservice.get() or service.load() first.`);
    return this.resource.properties;
  }

  get tags(): Record<string, string> {
    return this.resource?.tags ?? {};
  }

  /** `Transitioning`, `Healthy` or `Failed`, as last loaded. */
  get state(): WebserviceState {
    return this.properties.state;
  }

  /** Why the deployment failed, as last loaded. */
  get error(): string | null {
    return this.properties.error;
  }

  get scoringUri(): string {
    return this.properties.scoringUri;
  }

  get swaggerUri(): string {
    return this.properties.swaggerUri;
  }

  get authMode(): ServiceAuthMode {
    return this.properties.authMode;
  }

  /** Reads the service from the server again. */
  async load(): Promise<this> {
    this.resource = await this.workspace.request<ServiceResource>('GET', this.path(''));
    return this;
  }

  /** @internal PUTs a whole service body and keeps the answer (used by deployModel and update). */
  async put(body: { tags: Record<string, string>; properties: Record<string, unknown> }, inferenceConfig: InferenceConfig | undefined): Promise<void> {
    this.resource = await this.workspace.request<ServiceResource>('PUT', this.path(''), body);
    this.inferenceConfig = inferenceConfig;
    this.forgetCredentials();
  }

  /**
   * Polls until the service is Healthy (resolves) or Failed (rejects with a
   * {@link WebserviceDeploymentError} carrying the service's error and logs).
   */
  async waitForDeployment(options: WaitOptions = {}): Promise<this> {
    const print = options.showOutput === true ? (line: string) => process.stdout.write(`${line}\n`) : options.showOutput || undefined;
    const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_WAIT_MS);
    let interval = 100;
    let last: WebserviceState | undefined;
    for (;;) {
      await this.load();
      const { state } = this.properties;
      if (state !== last) print?.(`${this.name}: ${state}`);
      last = state;
      if (state === 'Healthy') return this;
      if (state === 'Failed') {
        const logs = await this.getLogs().catch(() => '');
        const tail = logs.length > LOG_TAIL_CHARS ? `…${logs.slice(-LOG_TAIL_CHARS)}` : logs;
        throw new WebserviceDeploymentError({
          code: 'DeploymentFailed',
          serviceName: this.name,
          state,
          serviceError: this.error,
          logs,
          message: `The web service '${this.name}' failed to deploy: ${this.error ?? 'no reason given'}${tail === '' ? '' : `\nLogs:\n${tail}`}`,
        });
      }
      if (Date.now() >= deadline) {
        throw new WebserviceDeploymentError({
          code: 'DeploymentTimeout',
          serviceName: this.name,
          state,
          serviceError: this.error,
          logs: '',
          message: `The web service '${this.name}' is still ${state} after ${Math.round((options.timeoutMs ?? DEFAULT_WAIT_MS) / 1000)} s.`,
        });
      }
      await sleep(Math.min(interval, Math.max(0, deadline - Date.now())));
      interval = Math.min(interval * 2, MAX_POLL_MS);
    }
  }

  /** Both keys (`listKeys`). */
  async getKeys(): Promise<WebserviceKeys> {
    const keys = await this.workspace.request<WebserviceKeys>('POST', this.path('/listKeys'));
    return { primaryKey: keys.primaryKey, secondaryKey: keys.secondaryKey };
  }

  /**
   * Replaces the Primary or Secondary key with a generated one, or with `keyValue` (at
   * least 32 characters of `[A-Za-z0-9._~-]`); the old key stops working, the other stays.
   */
  async regenKey(keyType: 'Primary' | 'Secondary', keyValue?: string): Promise<RegeneratedKey> {
    if (keyType !== 'Primary' && keyType !== 'Secondary') throw new TypeError("keyType must be 'Primary' or 'Secondary'.");
    const body: Record<string, string> = { keyType };
    if (keyValue !== undefined) body.keyValue = keyValue;
    const key = await this.workspace.request<RegeneratedKey>('POST', this.path('/regenerateKeys'), body);
    this.#cachedKey = undefined;
    return key;
  }

  /** A service token (token auth) and the time to fetch a new one by (Azure's `get_token`). */
  async getToken(): Promise<[token: string, refreshBy: Date]> {
    const answer = await this.workspace.request<{ accessToken: string; refreshAfterTimeUtc: string }>('POST', this.path('/token'));
    return [answer.accessToken, new Date(answer.refreshAfterTimeUtc)];
  }

  /**
   * Scores `input` and resolves with the service's JSON answer. `input` is any JSON value;
   * a string is taken as a JSON document already serialized (Azure's `run(input_data)`).
   * The credential follows the service's auth mode: its primary key, a service token
   * (kept until its refresh time), or the workspace credential's access token (aad).
   * Refusals reject with {@link TesseraApiError} (status and the server's message).
   */
  async run(input: unknown): Promise<unknown> {
    let json: unknown = input;
    if (typeof input === 'string') {
      try {
        json = JSON.parse(input);
      } catch {
        throw new TypeError('The input string is not a JSON document.');
      }
    }
    if (json === undefined) throw new TypeError('The input must be a JSON value.');
    if (!this.resource) await this.load();
    try {
      return await this.score(json);
    } catch (err) {
      // A key rotated or an auth mode changed elsewhere: refresh once and retry (a 401 ran nothing).
      if (!(err instanceof TesseraApiError) || err.status !== 401) throw err;
      this.forgetCredentials();
      await this.load();
      return this.score(json);
    }
  }

  private async score(json: unknown): Promise<unknown> {
    const { scoringUri, scoringTimeoutMs } = this.properties;
    return this.http.send<unknown>({ method: 'POST', url: scoringUri, json, token: await this.credential(), timeoutMs: scoringTimeoutMs + SCORING_MARGIN_MS });
  }

  /** The bearer credential the auth mode calls for; undefined for none. */
  private async credential(): Promise<string | undefined> {
    switch (this.authMode) {
      case 'none':
        return undefined;
      case 'key':
        this.#cachedKey ??= (await this.getKeys()).primaryKey;
        return this.#cachedKey;
      case 'token': {
        if (!this.#cachedToken || Date.now() >= this.#cachedToken.refreshBy.getTime()) {
          const [token, refreshBy] = await this.getToken();
          this.#cachedToken = { token, refreshBy };
        }
        return this.#cachedToken.token;
      }
      case 'aad':
        return (await this.workspace.client.auth.getToken(Audience.Workspace)).token;
    }
  }

  private forgetCredentials(): void {
    this.#cachedKey = undefined;
    this.#cachedToken = undefined;
  }

  /** The service's logs (what the entry script printed, deployment messages); `tail` lines at most. */
  async getLogs(options: { tail?: number } = {}): Promise<string> {
    const body = options.tail === undefined ? undefined : { tail: options.tail };
    return (await this.workspace.request<{ content: string }>('POST', this.path('/getLogs'), body)).content;
  }

  /**
   * Changes what `changes` names and redeploys (the service is Transitioning again; the old
   * deployment answers until the new one is Healthy). A script service's script is never
   * returned by the server: pass `inferenceConfig`, unless this object deployed it.
   */
  async update(changes: WebserviceUpdateOptions): Promise<this> {
    await this.load();
    const current = this.properties;
    const inferenceConfig = changes.inferenceConfig ?? this.inferenceConfig;
    if (current.runtime !== 'onnx' && !inferenceConfig) {
      throw new Error(`The web service '${this.name}' runs an entry script, which the server does not return: pass inferenceConfig to update it.`);
    }
    const authChanged = changes.authEnabled !== undefined || changes.tokenAuthEnabled !== undefined || changes.aad !== undefined;
    const properties: Record<string, unknown> = {
      ...deploymentProperties({
        target: current.target,
        cpuCores: changes.cpuCores ?? current.cpuCores,
        memoryGb: changes.memoryGb ?? current.memoryGb,
        replicas: changes.replicas ?? current.replicas,
        scoringTimeoutMs: changes.scoringTimeoutMs ?? current.scoringTimeoutMs,
        maxQueueSize: changes.maxQueueSize ?? current.maxQueueSize,
        description: changes.description ?? current.description,
        ...(authChanged ? { authEnabled: changes.authEnabled, tokenAuthEnabled: changes.tokenAuthEnabled, aad: changes.aad } : {}),
      }),
      models: changes.models ? modelRefs(changes.models) : current.models,
      ...(inferenceConfig ? inferenceProperties(inferenceConfig) : { runtime: 'onnx' }),
    };
    if (!authChanged) properties.authMode = current.authMode;
    await this.put({ tags: changes.tags ?? this.tags, properties }, inferenceConfig);
    return this;
  }

  /** Deletes the service (its keys go with it). */
  async delete(): Promise<void> {
    await this.workspace.request('DELETE', this.path(''));
    this.forgetCredentials();
  }

  /** The service as a plain object (no key or token), as Azure's `serialize()`. */
  serialize(): Record<string, unknown> {
    return { id: this.id, name: this.name, workspace: this.workspace.id, tags: this.tags, ...(this.resource?.properties ?? {}) };
  }

  toJSON(): Record<string, unknown> {
    return this.serialize();
  }

  private path(suffix: string): string {
    return `/onlineEndpoints/${this.name}${suffix}`;
  }
}
