/**
 * Registered models, as Azure ML's `Model` class had them: register a file or a folder
 * (uploaded as multipart, streamed from disk), list, get, download, delete.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { TesseraApiError } from './errors.js';
import type { Workspace } from './workspace.js';
import { deployModel, type DeployOptions, type Webservice } from './webservice.js';

/** A model version's properties, as the server returns them. */
export interface ModelVersionProperties {
  modelName: string;
  version: number;
  description: string;
  tags: Record<string, string>;
  sha256: string;
  size: number;
  kind: 'file' | 'folder';
  files: { path: string; size: number; sha256: string }[];
  createdBy: string | null;
  createdAt: string;
}

interface VersionResource {
  id: string;
  name: string;
  type: string;
  properties: ModelVersionProperties;
}

interface ContainerResource {
  id: string;
  name: string;
  properties: { latestVersion: number; description: string; createdAt: string };
}

/** Options of {@link Model.register}. */
export interface ModelRegisterOptions {
  workspace: Workspace;
  /** A file, or a folder whose files are all uploaded (paths relative to it). */
  modelPath: string;
  modelName: string;
  description?: string;
  tags?: Record<string, string>;
  /** Default: the latest version + 1 (retried if another registration takes it first). */
  version?: number;
}

/** Uploads and downloads may take long: ten minutes. */
const TRANSFER_TIMEOUT_MS = 10 * 60_000;
/** How often a default version number is retried when others register at the same moment. */
const VERSION_RETRIES = 5;

const seg = encodeURIComponent;

/** The files under `root` as [relative path with '/', absolute path], sorted. */
async function filesOf(root: string): Promise<[string, string][]> {
  const stat = await fsp.stat(root).catch(() => undefined);
  if (!stat) throw new Error(`The model path ${root} does not exist.`);
  if (stat.isFile()) return [[path.basename(root), root]];
  if (!stat.isDirectory()) throw new Error(`The model path ${root} is neither a file nor a folder.`);
  const out: [string, string][] = [];
  const walk = async (dir: string, prefix: string) => {
    for (const entry of await fsp.readdir(dir, { withFileTypes: true })) {
      const abs = path.join(dir, entry.name);
      const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      if (entry.isDirectory()) await walk(abs, rel);
      else if (entry.isFile()) out.push([rel, abs]);
      else if (entry.isSymbolicLink() && (await fsp.stat(abs)).isFile()) out.push([rel, abs]);
    }
  };
  await walk(root, '');
  if (out.length === 0) throw new Error(`The folder ${root} holds no file to register.`);
  return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/**
 * One version of a registered model.
 * @example
 * const model = await Model.register({ workspace: ws, modelPath: './iris', modelName: 'iris' });
 * await new Model(ws, 'iris', 1).download({ targetDir: './out' });
 */
export class Model {
  private props: ModelVersionProperties | undefined;

  /** A handle on `name` (version `version`, or the latest when absent); call {@link Model.get} to load and check it. */
  constructor(
    readonly workspace: Workspace,
    readonly name: string,
    private versionNumber?: number,
  ) {}

  /** The version number (after loading when none was given). */
  get version(): number {
    if (this.versionNumber === undefined) throw new Error(`The version of model '${this.name}' is not known yet: await Model.get() first.`);
    return this.versionNumber;
  }

  /** The version's resource ID. */
  get id(): string {
    return `${this.workspace.id}/models/${this.name}/versions/${this.version}`;
  }

  /** The version's digest (see the server's contract); loaded by get/register/list. */
  get sha256(): string {
    return this.properties.sha256;
  }

  /** Everything the server says of this version. */
  get properties(): ModelVersionProperties {
    if (!this.props) throw new Error(`Model '${this.name}' is not loaded: await Model.get() first.`);
    return this.props;
  }

  private static fromResource(workspace: Workspace, r: VersionResource): Model {
    const model = new Model(workspace, r.properties.modelName, r.properties.version);
    model.props = r.properties;
    return model;
  }

  /** The model `name` at `version` (default its latest), loaded; 404 {@link TesseraApiError} when absent. */
  static async get(workspace: Workspace, name: string, version?: number): Promise<Model> {
    if (version === undefined) {
      const versions = await workspace.request<{ value: VersionResource[] }>('GET', `/models/${seg(name)}/versions`);
      return Model.fromResource(workspace, versions.value[0]!);
    }
    return Model.fromResource(workspace, await workspace.request<VersionResource>('GET', `/models/${seg(name)}/versions/${version}`));
  }

  /** Every version of every model in the workspace, each model's newest first. */
  static async list(workspace: Workspace, options: { name?: string } = {}): Promise<Model[]> {
    const names = options.name !== undefined ? [options.name] : (await workspace.request<{ value: ContainerResource[] }>('GET', '/models')).value.map((c) => c.name);
    const out: Model[] = [];
    for (const name of names) {
      const versions = await workspace.request<{ value: VersionResource[] }>('GET', `/models/${seg(name)}/versions`);
      out.push(...versions.value.map((v) => Model.fromResource(workspace, v)));
    }
    return out;
  }

  /** Deploys models as a web service (Azure's `Model.deploy`); see {@link deployModel}. */
  static deploy(options: DeployOptions): Promise<Webservice> {
    return deployModel(options);
  }

  /**
   * Uploads a file or a folder as a new version. Files stream from disk; with no
   * `version`, the next free number is taken (and retried if someone else takes it).
   */
  static async register(options: ModelRegisterOptions): Promise<Model> {
    const root = path.resolve(options.modelPath);
    const files = await filesOf(root);
    const explicit = options.version;
    for (let attempt = 0; ; attempt++) {
      const version = explicit ?? (await Model.nextVersion(options.workspace, options.modelName));
      const form = new FormData();
      if (options.description !== undefined) form.append('description', options.description);
      if (options.tags !== undefined) form.append('tags', JSON.stringify(options.tags));
      for (const [rel, abs] of files) form.append('file', await fs.openAsBlob(abs), rel);
      try {
        const created = await options.workspace.requestMultipart<VersionResource>('PUT', `/models/${seg(options.modelName)}/versions/${version}`, form, TRANSFER_TIMEOUT_MS);
        return Model.fromResource(options.workspace, created);
      } catch (err) {
        if (explicit === undefined && attempt < VERSION_RETRIES && err instanceof TesseraApiError && err.status === 409) continue;
        throw err;
      }
    }
  }

  /**
   * Registers a new version that points at files the server holds already (a run's
   * artifact: `azureml://jobs/{runId}/outputs/artifacts/paths/{path}`), numbered as
   * {@link Model.register} numbers them.
   * @example await Model.registerFromUri({ workspace: ws, modelName: 'mnist', modelUri: `azureml://jobs/${run.id}/outputs/artifacts/paths/outputs/model.onnx` })
   */
  static async registerFromUri(options: Omit<ModelRegisterOptions, 'modelPath'> & { modelUri: string }): Promise<Model> {
    const explicit = options.version;
    const properties: Record<string, unknown> = { modelUri: options.modelUri };
    if (options.description !== undefined) properties.description = options.description;
    if (options.tags !== undefined) properties.tags = options.tags;
    for (let attempt = 0; ; attempt++) {
      const version = explicit ?? (await Model.nextVersion(options.workspace, options.modelName));
      try {
        const created = await options.workspace.request<VersionResource>('PUT', `/models/${seg(options.modelName)}/versions/${version}`, { properties });
        return Model.fromResource(options.workspace, created);
      } catch (err) {
        if (explicit === undefined && attempt < VERSION_RETRIES && err instanceof TesseraApiError && err.status === 409) continue;
        throw err;
      }
    }
  }

  private static async nextVersion(workspace: Workspace, name: string): Promise<number> {
    try {
      const model = await workspace.request<ContainerResource>('GET', `/models/${seg(name)}`);
      return model.properties.latestVersion + 1;
    } catch (err) {
      if (err instanceof TesseraApiError && err.status === 404) return 1;
      throw err;
    }
  }

  /** Loads this version's properties (the latest version when none was given). */
  async load(): Promise<this> {
    const loaded = await Model.get(this.workspace, this.name, this.versionNumber);
    this.versionNumber = loaded.version;
    this.props = loaded.properties;
    return this;
  }

  /**
   * Downloads the version's files into `targetDir` (created), keeping their relative
   * paths; returns the path of the file (one-file model) or of `targetDir` (folder).
   * Refuses to overwrite an existing file unless `overwrite` is set.
   */
  async download(options: { targetDir?: string; overwrite?: boolean } = {}): Promise<string> {
    if (!this.props) await this.load();
    const target = path.resolve(options.targetDir ?? '.');
    for (const file of this.properties.files) {
      const dest = path.resolve(target, ...file.path.split('/'));
      // The server's path rules already exclude '..'; this keeps a hostile server out too.
      if (!dest.startsWith(target + path.sep)) throw new Error(`The server sent the unsafe file path '${file.path.slice(0, 100)}'.`);
      if (!options.overwrite && (await fsp.stat(dest).catch(() => undefined))) throw new Error(`${dest} exists: pass overwrite to replace it.`);
      await fsp.mkdir(path.dirname(dest), { recursive: true });
      const res = await this.workspace.requestStream(`/models/${seg(this.name)}/versions/${this.version}?path=${seg(file.path)}`, TRANSFER_TIMEOUT_MS);
      if (!res.body) throw new Error(`The server sent no content for '${file.path}'.`);
      const temp = `${dest}.download-${process.pid}`;
      try {
        await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), fs.createWriteStream(temp));
        await fsp.rename(temp, dest);
      } finally {
        await fsp.rm(temp, { force: true });
      }
    }
    return this.properties.kind === 'file' ? path.join(target, this.properties.files[0]!.path) : target;
  }

  /** Deletes this version (409 {@link TesseraApiError} while a web service uses it). */
  async delete(): Promise<void> {
    await this.workspace.request('DELETE', `/models/${seg(this.name)}/versions/${this.version}`);
  }

  /** Deletes a model with all its versions. */
  static async deleteAll(workspace: Workspace, name: string): Promise<void> {
    await workspace.request('DELETE', `/models/${seg(name)}`);
  }

  /** A plain object for printing. */
  toJSON(): Record<string, unknown> {
    return { id: this.id, name: this.name, version: this.version, ...(this.props ?? {}) };
  }
}
