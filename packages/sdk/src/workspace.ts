/**
 * A machine-learning workspace, as Azure ML's `Workspace` class had it: found by name or
 * from a `config.json`, and the door through which {@link Model} (and web services) call
 * the management API for that workspace.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { AbstractAuthentication } from './abstractAuthentication.js';
import { CliAuthentication } from './cliAuthentication.js';
import { armQuery, scopePath, workspaceId } from './armPaths.js';
import { API_VERSIONS, type ArmResource } from './resourceManagement.js';
import { TesseraClient, type HttpMethod } from './tesseraClient.js';
import { normalizeServerUrl } from './serverUrl.js';

/** `config.json` as Azure ML writes it, plus the Tessera server's URL. */
export interface WorkspaceConfigFile {
  subscription_id: string;
  resource_group: string;
  workspace_name: string;
  tenant_id?: string;
  server_url?: string;
}

/** Where {@link Workspace.fromConfig} looks, in each directory from the start upwards. */
export const CONFIG_FILE_NAMES = ['config.json', path.join('.azureml', 'config.json')] as const;

/** Options of {@link Workspace.get}. */
export interface WorkspaceGetOptions {
  name: string;
  subscriptionId: string;
  resourceGroup: string;
  /** Default: the CLI session (`tessera login`). */
  auth?: AbstractAuthentication;
  /** Default: the server of `auth` (a CLI session's or a service principal's). */
  serverUrl?: string;
}

/** The server a credential talks to, when it knows one. */
async function serverOf(auth: AbstractAuthentication): Promise<string | undefined> {
  if (auth instanceof CliAuthentication) return (await auth.account()).server;
  const server = (auth as { server?: unknown }).server;
  return typeof server === 'string' ? server : undefined;
}

function requiredString(value: unknown, field: string, file: string): string {
  if (typeof value !== 'string' || value === '') throw new Error(`${file} has no '${field}' (a non-empty string).`);
  return value;
}

/**
 * A workspace on a Tessera server.
 * @example
 * const ws = await Workspace.fromConfig();              // ./config.json or a parent's
 * const model = await Model.register({ workspace: ws, modelPath: 'model.onnx', modelName: 'iris' });
 */
export class Workspace {
  /** The client every call for this workspace goes through. */
  readonly client: TesseraClient;

  private constructor(
    client: TesseraClient,
    readonly subscriptionId: string,
    readonly resourceGroup: string,
    readonly name: string,
    /** The tenant, when known (from a config file or the workspace's details). */
    readonly tenantId: string | undefined,
  ) {
    this.client = client;
  }

  /** The server's base URL. */
  get serverUrl(): string {
    return this.client.server;
  }

  /** The workspace's resource ID. */
  get id(): string {
    return workspaceId(this.subscriptionId, this.resourceGroup, this.name);
  }

  /**
   * The workspace `name`, checked to exist (404 {@link TesseraApiError} otherwise).
   * @example const ws = await Workspace.get({ name: 'ws1', subscriptionId, resourceGroup: 'ml', auth });
   */
  static async get(options: WorkspaceGetOptions): Promise<Workspace> {
    const auth = options.auth ?? new CliAuthentication();
    const server = options.serverUrl ?? (await serverOf(auth));
    if (server === undefined) throw new TypeError('The server URL is unknown: give serverUrl (this credential does not name a server).');
    const ws = new Workspace(new TesseraClient(server, auth), options.subscriptionId, options.resourceGroup, options.name, undefined);
    const details = await ws.getDetails();
    return new Workspace(ws.client, options.subscriptionId, options.resourceGroup, details.name, ws.tenantId);
  }

  /**
   * A handle on a workspace by its names, without asking the server: for credentials that
   * may not read the workspace itself (a run token may act only on its run).
   * @example const ws = Workspace.fromIds({ subscriptionId, resourceGroup: 'ml', name: 'ws1', auth, serverUrl });
   */
  static fromIds(options: Omit<WorkspaceGetOptions, 'auth' | 'serverUrl'> & { auth: AbstractAuthentication; serverUrl: string }): Workspace {
    const ws = new Workspace(new TesseraClient(options.serverUrl, options.auth), options.subscriptionId, options.resourceGroup, options.name, undefined);
    void ws.id; // checks the names now, not at the first request
    return ws;
  }

  /**
   * The workspace a `config.json` names: `path` (a file, or a directory to search from;
   * default the current directory), trying `config.json` then `.azureml/config.json` in
   * the directory and each parent. Without `auth`, the CLI session is used with the
   * file's `server_url` (or the session's server).
   */
  static async fromConfig(options: { path?: string; auth?: AbstractAuthentication } = {}): Promise<Workspace> {
    const file = await findWorkspaceConfig(options.path ?? process.cwd());
    const config = await readWorkspaceConfig(file);
    const auth = options.auth ?? new CliAuthentication();
    const serverUrl = config.server_url ?? (await serverOf(auth));
    if (serverUrl === undefined) throw new Error(`${file} has no 'server_url', and the credential names no server.`);
    const client = new TesseraClient(normalizeServerUrl(serverUrl), auth);
    return new Workspace(
      client,
      requiredString(config.subscription_id, 'subscription_id', file),
      requiredString(config.resource_group, 'resource_group', file),
      requiredString(config.workspace_name, 'workspace_name', file),
      config.tenant_id,
    );
  }

  /** The workspace's ARM envelope (`properties.discoveryUrl` is the server's public URL). */
  getDetails(): Promise<ArmResource> {
    return this.request<ArmResource>('GET', '');
  }

  /** The contents of this workspace's `config.json`. */
  async config(): Promise<WorkspaceConfigFile> {
    const tenantId = this.tenantId ?? (await this.client.me()).tenantId;
    return { subscription_id: this.subscriptionId, resource_group: this.resourceGroup, workspace_name: this.name, tenant_id: tenantId, server_url: this.serverUrl };
  }

  /**
   * Writes `config.json` (or `fileName`) into `path` (default `.azureml` under the current
   * directory, as Azure ML does), creating the directory; returns the file written.
   */
  async writeConfig(options: { path?: string; fileName?: string } = {}): Promise<string> {
    const dir = path.resolve(options.path ?? path.join(process.cwd(), '.azureml'));
    const fileName = options.fileName ?? 'config.json';
    if (fileName.includes('/') || fileName.includes(path.sep) || fileName === '' || fileName === '.' || fileName === '..') throw new TypeError('fileName must be a plain file name.');
    await fs.mkdir(dir, { recursive: true });
    const file = path.join(dir, fileName);
    await fs.writeFile(file, `${JSON.stringify(await this.config(), null, 2)}\n`, { mode: 0o600 });
    return file;
  }

  /**
   * Calls the management API for this workspace: `relativePath` is appended to the
   * workspace's resource ID (`''` for the workspace itself, `/models`, `/onlineEndpoints/echo`,
   * with an optional `?query`); `api-version` is added. Resolves with the parsed JSON
   * (undefined for an empty answer); rejects with {@link TesseraApiError} when the server
   * refuses and {@link TesseraConnectionError} when it cannot be reached.
   * @example const keys = await ws.request<{ primaryKey: string }>('POST', '/onlineEndpoints/echo/listKeys');
   */
  request<T = unknown>(method: HttpMethod, relativePath: string, body?: unknown): Promise<T> {
    return this.client.request<T>(method, this.path(relativePath), body);
  }

  /** As {@link request}, sending `form` as multipart/form-data. */
  requestMultipart<T = unknown>(method: HttpMethod, relativePath: string, form: FormData, timeoutMs?: number): Promise<T> {
    return this.client.requestMultipart<T>(method, this.path(relativePath), form, { timeoutMs });
  }

  /** A GET whose successful answer is returned unread, to stream it. */
  requestStream(relativePath: string, timeoutMs?: number): Promise<Response> {
    return this.client.requestStream(this.path(relativePath), { timeoutMs });
  }

  /** The URL path (with api-version) of `relativePath` under this workspace. */
  private path(relativePath: string): string {
    if (relativePath !== '' && !relativePath.startsWith('/')) throw new TypeError(`A workspace-relative path starts with '/': '${relativePath.slice(0, 100)}'.`);
    const [pathPart, query] = relativePath.split('?', 2) as [string, string | undefined];
    return `${scopePath(this.id)}${pathPart}${armQuery(API_VERSIONS.workspaces)}${query ? `&${query}` : ''}`;
  }
}

/**
 * The first config file found from `start` (a file, or a directory) upwards: `config.json`,
 * then `.azureml/config.json`, in each directory; a clear error naming where it looked otherwise.
 */
export async function findWorkspaceConfig(start: string): Promise<string> {
  const resolved = path.resolve(start);
  const stat = await fs.stat(resolved).catch(() => undefined);
  if (stat?.isFile()) return resolved;
  if (!stat) throw new Error(`${resolved} does not exist.`);
  for (let dir = resolved; ; dir = path.dirname(dir)) {
    for (const name of CONFIG_FILE_NAMES) {
      const candidate = path.join(dir, name);
      if ((await fs.stat(candidate).catch(() => undefined))?.isFile()) return candidate;
    }
    if (path.dirname(dir) === dir) break;
  }
  throw new Error(`No workspace configuration found: looked for config.json and .azureml/config.json in ${resolved} and each parent. Write one with ws.writeConfig() or 'tessera ml workspace download-config'.`);
}

/**
 * The fields of a config file, each a non-empty string or absent (checked when used); a
 * file that cannot be read, or is not a JSON object, is an error naming the file and why.
 */
export async function readWorkspaceConfig(file: string): Promise<Partial<WorkspaceConfigFile>> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'unreadable'}).`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not valid JSON.`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${file} must hold a JSON object.`);
  const raw = parsed as Record<string, unknown>;
  const config: Partial<WorkspaceConfigFile> = {};
  for (const field of ['subscription_id', 'resource_group', 'workspace_name', 'tenant_id', 'server_url'] as const) {
    const value = raw[field];
    if (value === undefined || value === null || value === '') continue;
    if (typeof value !== 'string') throw new Error(`${file}: '${field}' must be a string.`);
    config[field] = value;
  }
  return config;
}
