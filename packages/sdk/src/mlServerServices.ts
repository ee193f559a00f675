/**
 * Machine Learning Server's web services, as azureml-model-management-sdk's DeployClient
 * offered them: a builder that publishes code (`client.service(name).version(v)….deploy()`),
 * a {@link Service} to consume, and list, get, redeploy and delete.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { TesseraClient } from './tesseraClient.js';

/** Machine Learning Server's parameter types. */
export type ParameterType = 'numeric' | 'integer' | 'logical' | 'character' | 'vector' | 'matrix' | 'data.frame';

/** The languages a service's code may be written in here. */
export type RuntimeType = 'Python' | 'JavaScript';

export interface ParameterDefinition {
  name: string;
  type: ParameterType;
}

/** A published version, as `GET /services…` describes it. */
export interface ServiceDescription {
  name: string;
  version: string;
  versionPublishedBy: string;
  creationTime: string;
  snapshotId: string | null;
  runtimeType: RuntimeType;
  initCode: string;
  code: string;
  description: string;
  operationId: string;
  inputParameterDefinitions: ParameterDefinition[];
  outputParameterDefinitions: ParameterDefinition[];
  outputFileNames: string[];
  /** The model file's name: the code reads it at `$AZUREML_MODEL_DIR/{modelFileName}`. */
  modelFileName: string | null;
  /** `write` when you may update and delete it (RBAC and the creator rule). */
  myPermissionOnService: 'read' | 'write';
  state: 'Transitioning' | 'Healthy' | 'Failed';
  url: string;
  swagger: string;
}

/** A consume's answer. `success` false carries the code's error in `errorMessage`. */
export interface ConsumeResult {
  success: boolean;
  errorMessage: string;
  consoleOutput: string;
  changedFiles: string[];
  outputParameters: Record<string, unknown>;
  outputFiles: Record<string, unknown>;
}

/** What a redeploy may change; absent fields stay. `modelFile: null` removes the model file. */
export interface ServiceUpdate {
  code?: string;
  initCode?: string;
  runtime?: RuntimeType;
  description?: string;
  operationId?: string;
  inputs?: Record<string, ParameterType>;
  outputs?: Record<string, ParameterType>;
  /** A path to read the model file from, or null to remove it. */
  modelFile?: string | null;
}

function servicePath(name: string, version?: string): string {
  return `/services/${encodeURIComponent(name)}${version === undefined ? '' : `/${encodeURIComponent(version)}`}`;
}

function definitions(record: Record<string, ParameterType>): ParameterDefinition[] {
  return Object.entries(record).map(([name, type]) => ({ name, type }));
}

async function modelFileBody(filePath: string): Promise<{ fileName: string; content: string }> {
  return { fileName: path.basename(filePath), content: (await readFile(filePath)).toString('base64') };
}

/** The request body of a publish or update. */
async function requestBody(u: ServiceUpdate): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = {};
  if (u.code !== undefined) body.code = u.code;
  if (u.initCode !== undefined) body.initCode = u.initCode;
  if (u.runtime !== undefined) body.runtimeType = u.runtime;
  if (u.description !== undefined) body.description = u.description;
  if (u.operationId !== undefined) body.operationId = u.operationId;
  if (u.inputs !== undefined) body.inputParameterDefinitions = definitions(u.inputs);
  if (u.outputs !== undefined) body.outputParameterDefinitions = definitions(u.outputs);
  if (u.modelFile === null) body.modelFile = null;
  else if (u.modelFile !== undefined) body.modelFile = await modelFileBody(u.modelFile);
  return body;
}

/**
 * A published version to consume. Besides {@link consume}, a method named by the service's
 * operationId does the same, as the generated clients of ML Server's swagger did.
 * @example
 * const svc = await client.getService('add', { version: '1.0' });
 * const { outputParameters } = await svc.consume({ x: 1, y: 2 });
 */
export class Service {
  readonly name: string;
  readonly version: string;
  [operation: string]: unknown;

  constructor(
    private readonly client: TesseraClient,
    readonly details: ServiceDescription,
  ) {
    this.name = details.name;
    this.version = details.version;
    const op = details.operationId;
    if (op && !(op in this)) Object.defineProperty(this, op, { value: (inputs: Record<string, unknown>) => this.consume(inputs), enumerable: false });
  }

  /** Runs the code with `inputs` (exactly the declared names, of their declared types). */
  consume(inputs: Record<string, unknown>): Promise<ConsumeResult> {
    return this.client.request<ConsumeResult>('POST', `/api/${encodeURIComponent(this.name)}/${encodeURIComponent(this.version)}`, inputs);
  }

  /** The service's OpenAPI document. */
  swagger(): Promise<Record<string, unknown>> {
    return this.client.request<Record<string, unknown>>('GET', `/api/${encodeURIComponent(this.name)}/${encodeURIComponent(this.version)}/swagger.json`);
  }

  /** The description as the server has it now. */
  async getDetails(): Promise<ServiceDescription> {
    const [details] = await this.client.request<ServiceDescription[]>('GET', servicePath(this.name, this.version));
    return details!;
  }
}

/**
 * Builds a service definition, then publishes it ({@link deploy}) or updates an existing
 * version with what was set ({@link redeploy}).
 * @example
 * const svc = await client.service('add').version('1.0').runtime('Python').codeStr('z = x + y')
 *   .inputs({ x: 'numeric', y: 'numeric' }).outputs({ z: 'numeric' }).deploy();
 */
export class ServiceDefinition {
  private versionText: string | undefined;
  private readonly spec: ServiceUpdate = {};

  constructor(
    private readonly client: TesseraClient,
    readonly name: string,
  ) {}

  version(version: string): this {
    this.versionText = version;
    return this;
  }

  /** The code run on each request, the inputs bound as variables and the outputs read back. */
  codeStr(code: string): this {
    this.spec.code = code;
    return this;
  }

  /** The code run once at start (load the model here). */
  initStr(initCode: string): this {
    this.spec.initCode = initCode;
    return this;
  }

  inputs(inputs: Record<string, ParameterType>): this {
    this.spec.inputs = inputs;
    return this;
  }

  outputs(outputs: Record<string, ParameterType>): this {
    this.spec.outputs = outputs;
    return this;
  }

  /** A model file to send with the code (read at deploy), or null (on redeploy) to remove it. */
  models(filePath: string | null): this {
    this.spec.modelFile = filePath;
    return this;
  }

  description(text: string): this {
    this.spec.description = text;
    return this;
  }

  /** The name of the consume operation in the swagger document (and a method of {@link Service}). */
  operationId(id: string): this {
    this.spec.operationId = id;
    return this;
  }

  runtime(runtime: RuntimeType): this {
    this.spec.runtime = runtime;
    return this;
  }

  /** Publishes this version (waits until it runs) and returns it. */
  async deploy(): Promise<Service> {
    const version = this.requireVersion();
    if (this.spec.modelFile === null) throw new TypeError('models(null) only applies to redeploy().');
    await this.client.request('POST', servicePath(this.name, version), await requestBody(this.spec));
    return getService(this.client, this.name, { version });
  }

  /** Updates this existing version with what was set; the rest stays. */
  redeploy(): Promise<Service> {
    return redeployService(this.client, this.name, this.requireVersion(), this.spec);
  }

  private requireVersion(): string {
    if (this.versionText === undefined) throw new TypeError(`Give the service '${this.name}' a version: .version('1.0').`);
    return this.versionText;
  }
}

/** Every version you may read, or those of `name`, or the one `name`/`version`. */
export async function listServices(client: TesseraClient, name?: string, version?: string): Promise<ServiceDescription[]> {
  if (version !== undefined && name === undefined) throw new TypeError('listServices: a version needs a name.');
  return client.request<ServiceDescription[]>('GET', name === undefined ? '/services' : servicePath(name, version));
}

/** A version of `name`; without one, the most recently published. */
export async function getService(client: TesseraClient, name: string, options: { version?: string } = {}): Promise<Service> {
  const found = await listServices(client, name, options.version);
  const latest = found.reduce<ServiceDescription | undefined>((a, b) => (a === undefined || b.creationTime > a.creationTime ? b : a), undefined);
  if (!latest) throw new Error(`The service '${name}' has no version.`);
  return new Service(client, latest);
}

/** Updates a version (only its creator or an Owner may) and returns it. */
export async function redeployService(client: TesseraClient, name: string, version: string, update: ServiceUpdate): Promise<Service> {
  const details = await client.request<ServiceDescription>('PATCH', servicePath(name, version), await requestBody(update));
  return new Service(client, details);
}

/** Deletes a version (only its creator or an Owner may). */
export async function deleteService(client: TesseraClient, name: string, options: { version: string }): Promise<void> {
  if (typeof options?.version !== 'string') throw new TypeError(`deleteService: give the version of '${name}' to delete.`);
  await client.request('DELETE', servicePath(name, options.version));
}
