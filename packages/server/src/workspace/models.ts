/**
 * The model registry of a workspace: named models, each a series of immutable, numbered
 * versions of one file or a folder of files. Bytes live in {@link ModelStorage}; this
 * module owns the `models` and `model_files` rows, the naming and path rules, and the
 * lifecycle (upload, list, resolve, lay out for a runtime, delete).
 */
import crypto from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Kysely, Selectable } from 'kysely';
import type { Store } from '../store/db.js';
import type { Database } from '../store/schema.js';
import { isUniqueViolation } from '../store/db.js';
import type { ModelsTable } from '../store/schema.js';
import type { Clock } from '../clock.js';
import { TesseraError } from '../errors.js';
import { checkTags, shown } from './names.js';
import type { ModelStorage } from './modelStorage.js';
import type { QuotaScopes, Quotas } from './quotas.js';

/** One file of a version. */
export interface ModelFile {
  /** `/`-separated, relative to the model's root. */
  path: string;
  size: number;
  sha256: string;
}

/** An immutable model version, as the registry and the web services see it. */
export interface ModelVersionRecord {
  /** The version's row id (what {@link Models.setUsageCheck} is asked about). */
  id: string;
  /** The workspace's row id. */
  workspaceId: string;
  /** The model's name, as first registered. */
  name: string;
  version: number;
  description: string;
  tags: Record<string, string>;
  /** A one-file model: the file's SHA-256; a folder: SHA-256 of the lines `{sha256}  {path}\n` sorted by path (UTF-8 byte order). */
  sha256: string;
  /** Total bytes. */
  size: number;
  /** `file`: exactly one file, at the top; `folder`: anything else. */
  kind: 'file' | 'folder';
  /** Sorted by path. */
  files: ModelFile[];
  createdBy: string | null;
  /** Epoch milliseconds. */
  createdAt: number;
}

/** A model: the versions sharing a name. */
export interface ModelContainerRecord {
  name: string;
  latestVersion: number;
  /** The latest version's. */
  description: string;
  /** When the first version still held was registered (epoch ms). */
  createdAt: number;
}

/** Which services (by name) use any of these version ids, asked through `db` (the delete's transaction); none when unused. */
export type ModelUsageCheck = (modelVersionIds: string[], db: Kysely<Database>) => Promise<string[]>;

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
const VERSION = /^[1-9][0-9]{0,8}$/;
/** The most files of one version. */
export const MAX_MODEL_FILES = 10_000;
/** The longest file path in a version. */
export const MAX_MODEL_PATH = 512;
/** The longest name of one file or folder in a path, in UTF-8 bytes (most file systems' limit). */
export const MAX_MODEL_SEGMENT_BYTES = 255;
const MAX_DESCRIPTION = 4096;
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Throws 400 unless `name` is a valid model name; returns it. */
export function checkModelName(name: string): string {
  if (!MODEL_NAME.test(name)) {
    throw new TesseraError('InvalidParameter', `The model name ${shown(name)} is invalid: use 1 to 255 letters, digits, '.', '_' or '-', starting with a letter or digit.`);
  }
  return name;
}

/** Parses a version as written in a path or reference: a whole number from 1 (400 otherwise). */
export function parseModelVersion(text: string): number {
  if (!VERSION.test(text)) throw new TesseraError('InvalidParameter', `The model version ${shown(text)} is invalid: use a whole number from 1 to 999999999.`);
  return Number(text);
}

/** Throws 400 unless `p` is a safe relative file path; returns it. */
export function checkModelPath(p: string): string {
  const problem =
    p.length === 0 ? 'is empty'
    : p.length > MAX_MODEL_PATH ? `is longer than ${MAX_MODEL_PATH} characters`
    : CONTROL.test(p) ? 'holds a control character'
    : p.includes('\\') ? "holds a backslash (use '/')"
    : p.startsWith('/') ? "starts with '/' (give it relative to the model's root)"
    : p.split('/').some((s) => s === '' || s === '.' || s === '..') ? "holds an empty, '.' or '..' segment"
    : p.split('/').some((s) => Buffer.byteLength(s) > MAX_MODEL_SEGMENT_BYTES) ? `holds a segment longer than ${MAX_MODEL_SEGMENT_BYTES} bytes (a file system's limit)`
    : undefined;
  if (problem) throw new TesseraError('InvalidParameter', `The file path ${shown(p)} ${problem}.`);
  return p;
}

/** Compares UTF-8 byte order, as `sort` does under LC_ALL=C. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** The digest of a version's files (see {@link ModelVersionRecord.sha256}). */
export function versionDigest(files: readonly ModelFile[], kind: 'file' | 'folder'): string {
  if (kind === 'file') return files[0]!.sha256;
  const hash = crypto.createHash('sha256');
  for (const f of [...files].sort((a, b) => byteOrder(a.path, b.path))) hash.update(`${f.sha256}  ${f.path}\n`);
  return hash.digest('hex');
}

function parseTags(json: string): Record<string, string> {
  try {
    return JSON.parse(json) as Record<string, string>;
  } catch {
    return {};
  }
}

type ModelRow = Selectable<ModelsTable>;

/**
 * One upload in progress, from {@link Models.beginUpload}: add files, set the optional
 * fields, then {@link commit}; on any failure call {@link abandon}, which removes what
 * nothing else holds.
 */
export class ModelUpload {
  readonly id = crypto.randomUUID();
  private readonly files: ModelFile[] = [];
  private readonly paths = new Set<string>();
  /** Every folder the paths so far lay out: a file may not have a folder's path, nor sit below a file. */
  private readonly folders = new Set<string>();
  private bytes = 0;
  private description = '';
  private tags: Record<string, string> = {};

  constructor(
    private readonly models: Models,
    private readonly storage: ModelStorage,
    readonly workspaceId: string,
    readonly name: string,
    readonly version: number,
    private readonly limit: number,
    /** Who registers it: the version's `createdBy`, charged with its bytes. */
    readonly createdBy: string | null,
    /** The quota scopes the version's bytes count in, checked again at commit. */
    readonly quotaScopes: QuotaScopes,
    /** The bytes the quotas leave room for when the upload began, and the refusal past them. */
    private readonly headroom: { bytes: number; refuse(received: number): TesseraError },
  ) {}

  /** Streams one file in; 400 for a bad or repeated path or too many files, 413 past the limit, 409 past a storage quota. */
  async addFile(filePath: string, source: Readable): Promise<void> {
    checkModelPath(filePath);
    const key = filePath.normalize('NFC');
    if (this.paths.has(key)) throw new TesseraError('InvalidParameter', `The file path ${shown(filePath)} appears more than once.`);
    if (this.files.length >= MAX_MODEL_FILES) throw new TesseraError('InvalidParameter', `A model version holds at most ${MAX_MODEL_FILES} files.`);
    const segments = key.split('/');
    const parents = segments.slice(0, -1).map((_, i) => segments.slice(0, i + 1).join('/'));
    const clash = this.folders.has(key) ? key : parents.find((p) => this.paths.has(p));
    if (clash !== undefined) {
      throw new TesseraError('InvalidParameter', `The file path ${shown(filePath)} cannot be laid out: ${shown(clash)} would be both a file and a folder.`);
    }
    this.paths.add(key);
    for (const p of parents) this.folders.add(p);
    // Whichever binds first stops the stream there and then: nothing past it is stored.
    const quotaFirst = this.headroom.bytes < this.limit;
    const before = this.bytes;
    const blob = await this.storage.write(this.id, source, Math.min(this.limit, this.headroom.bytes) - before, (size) =>
      quotaFirst ? this.headroom.refuse(before + size) : new TesseraError('RequestEntityTooLarge', `The model upload is larger than the limit of ${this.limit} bytes (TESSERA_MODEL_UPLOAD_LIMIT).`),
    );
    this.bytes += blob.size;
    this.files.push({ path: key, size: blob.size, sha256: blob.sha256 });
  }

  /** The optional `description` field. */
  setDescription(text: string): void {
    if ([...text].length > MAX_DESCRIPTION || /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) {
      throw new TesseraError('InvalidParameter', `The field 'description' must be at most ${MAX_DESCRIPTION} printable characters.`);
    }
    this.description = text;
  }

  /** The optional `tags` field: a JSON object of strings. */
  setTags(json: string): void {
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch {
      throw new TesseraError('InvalidParameter', "The field 'tags' must be a JSON object of strings.");
    }
    this.tags = checkTags(value);
  }

  /** Records the version (by {@link createdBy}); 400 without files, 409 when the version now exists or a storage quota would be passed. */
  async commit(): Promise<ModelVersionRecord> {
    if (this.files.length === 0) throw new TesseraError('InvalidParameter', "The upload holds no file: send each file as a part named 'file' whose filename is its path.");
    const files = [...this.files].sort((a, b) => byteOrder(a.path, b.path));
    const kind = files.length === 1 && !files[0]!.path.includes('/') ? 'file' : 'folder';
    return this.models.insert(this, { files, kind, description: this.description, tags: this.tags, size: this.bytes, createdBy: this.createdBy });
  }

  /** Releases what this upload stored and nothing references. */
  abandon(): Promise<void> {
    return this.storage.abandon(this.id);
  }
}

/** The model registry. */
export class Models {
  private usageCheck: ModelUsageCheck = async () => [];

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly storage: ModelStorage,
    private readonly uploadLimit: number,
    private readonly quotas: Quotas,
  ) {}

  /**
   * Lets web services refuse deletes: `check` gets version ids and answers the names of the
   * services using any of them. Deleting a version (or a model) in use is a 409 naming them.
   */
  setUsageCheck(check: ModelUsageCheck): void {
    this.usageCheck = check;
  }

  /**
   * Starts an upload of `name:version` by `createdBy`; 400 for a bad name, 409 when the
   * version exists. Its bytes count towards the workspace's and `createdBy`'s storage quotas.
   */
  async beginUpload(workspaceId: string, name: string, versionText: string, createdBy: string | null): Promise<ModelUpload> {
    const checked = checkModelName(name);
    const version = parseModelVersion(versionText);
    const existing = await this.findRow(workspaceId, checked, version);
    if (existing) throw conflict(existing.name, version);
    const scopes = await this.quotas.scopesFor(workspaceId, createdBy);
    return new ModelUpload(this, this.storage, workspaceId, checked, version, this.uploadLimit, createdBy, scopes, await scopes.storageHeadroom());
  }

  /** Inserts a committed upload (called by {@link ModelUpload.commit}). */
  async insert(
    upload: ModelUpload,
    v: { files: ModelFile[]; kind: 'file' | 'folder'; description: string; tags: Record<string, string>; size: number; createdBy: string | null },
  ): Promise<ModelVersionRecord> {
    const first = await this.store.db
      .selectFrom('models')
      .select('name')
      .where('workspace_id', '=', upload.workspaceId)
      .where('name_key', '=', upload.name.toLowerCase())
      .orderBy('version')
      .limit(1)
      .executeTakeFirst();
    const row: ModelRow = {
      id: crypto.randomUUID(),
      workspace_id: upload.workspaceId,
      // A model keeps the casing of its earliest version's name.
      name: first?.name ?? upload.name,
      name_key: upload.name.toLowerCase(),
      version: upload.version,
      description: v.description,
      tags: JSON.stringify(v.tags),
      sha256: versionDigest(v.files, v.kind),
      size: v.size,
      kind: v.kind,
      created_at: this.clock.now(),
      created_by: v.createdBy,
    };
    try {
      await this.store.db.transaction().execute(async (trx) => {
        // The size is known now: checked in the insert's transaction, so racing uploads are counted one after the other.
        await upload.quotaScopes.checkStorage(trx, v.size);
        await trx.insertInto('models').values(row).execute();
        for (let i = 0; i < v.files.length; i += 500) {
          await trx
            .insertInto('model_files')
            .values(v.files.slice(i, i + 500).map((f) => ({ version_id: row.id, path: f.path, sha256: f.sha256, size: f.size })))
            .execute();
        }
        // In the same transaction as the file rows: the blobs pass from claimed to referenced at once.
        await trx.deleteFrom('model_blob_claims').where('upload_id', '=', upload.id).execute();
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(row.name, row.version);
      throw err;
    }
    return toRecord(row, v.files);
  }

  /** The models of a workspace, by name. */
  async listModels(workspaceId: string): Promise<ModelContainerRecord[]> {
    const rows = await this.store.db
      .selectFrom('models')
      .select(['name', 'name_key', 'version', 'description', 'created_at'])
      .where('workspace_id', '=', workspaceId)
      .orderBy('name_key')
      .orderBy('version')
      .execute();
    const byName = new Map<string, ModelContainerRecord>();
    for (const r of rows) {
      const seen = byName.get(r.name_key);
      if (!seen) byName.set(r.name_key, { name: r.name, latestVersion: r.version, description: r.description, createdAt: r.created_at });
      else Object.assign(seen, { latestVersion: r.version, description: r.description });
    }
    return [...byName.values()];
  }

  /** One model; 404 when it has no version. */
  async getModel(workspaceId: string, name: string): Promise<ModelContainerRecord> {
    const checked = checkModelName(name);
    const found = (await this.listModels(workspaceId)).find((m) => m.name.toLowerCase() === checked.toLowerCase());
    if (!found) throw notFound(checked);
    return found;
  }

  /** A model's versions, newest first; 404 when there is none. */
  async listVersions(workspaceId: string, name: string): Promise<ModelVersionRecord[]> {
    const checked = checkModelName(name);
    const rows = await this.store.db
      .selectFrom('models')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('name_key', '=', checked.toLowerCase())
      .orderBy('version', 'desc')
      .execute();
    if (rows.length === 0) throw notFound(checked);
    return this.withFiles(rows);
  }

  /** One version, with the version given as written (400 when malformed, 404 when absent). */
  async getVersion(workspaceId: string, name: string, versionText: string): Promise<ModelVersionRecord> {
    const checked = checkModelName(name);
    const version = parseModelVersion(versionText);
    const row = await this.findRow(workspaceId, checked, version);
    if (!row) throw notFound(checked, version);
    return (await this.withFiles([row]))[0]!;
  }

  /**
   * The version `ref` names in a workspace: `name:version`, or `name` for the latest.
   * 400 InvalidParameter for a malformed reference, 404 ResourceNotFound for a missing one.
   * @example await models.resolve(workspace.row.id, 'iris:2')
   */
  async resolve(workspaceRowId: string, ref: string): Promise<ModelVersionRecord> {
    if (typeof ref !== 'string' || ref.length === 0 || ref.length > 300) {
      throw new TesseraError('InvalidParameter', "A model reference must be 'name:version' or 'name' (its latest version).");
    }
    const colon = ref.lastIndexOf(':');
    if (colon < 0) return (await this.listVersions(workspaceRowId, ref))[0]!;
    return this.getVersion(workspaceRowId, ref.slice(0, colon), ref.slice(colon + 1));
  }

  /**
   * An absolute path a runtime can read the version at: for a one-file model the file
   * (`<modelDir>/trees/<sha256>/<fileName>`), for a folder the directory
   * (`<modelDir>/trees/<sha256>`). Idempotent and safe to call concurrently, from any replica.
   */
  materialize(version: ModelVersionRecord): Promise<string> {
    return this.storage.layOut(version.sha256, version.files, version.kind === 'file');
  }

  /** Where a file's bytes are stored (to stream a download). */
  blobPath(sha256: string): string {
    return this.storage.blobPath(sha256);
  }

  /** Deletes one version; 404 when absent, 409 while a service uses it. */
  async deleteVersion(workspaceId: string, name: string, versionText: string): Promise<void> {
    const version = await this.getVersion(workspaceId, name, versionText);
    await this.remove([version], `Model version '${version.name}:${version.version}'`);
  }

  /** Deletes a model and all its versions; 404 when absent, 409 while a service uses any. */
  async deleteModel(workspaceId: string, name: string): Promise<void> {
    const versions = await this.listVersions(workspaceId, name);
    await this.remove(versions, `Model '${versions[0]!.name}'`);
  }

  /**
   * Before workspaces are deleted (their model rows go with them): notes the blobs and trees
   * their versions hold, and returns what to call after the delete to remove those nothing
   * else holds any more, by the storage's own rules.
   * @example const cleanUp = await models.contentsOf([ws.id]); await deleteWorkspace(); await cleanUp();
   */
  async contentsOf(workspaceIds: readonly string[]): Promise<() => Promise<void>> {
    if (workspaceIds.length === 0) return async () => undefined;
    const versions = await this.store.db.selectFrom('models').select(['id', 'sha256']).where('workspace_id', 'in', [...workspaceIds]).execute();
    const blobs = new Set<string>();
    for (let i = 0; i < versions.length; i += 500) {
      const ids = versions.slice(i, i + 500).map((v) => v.id);
      for (const f of await this.store.db.selectFrom('model_files').select('sha256').distinct().where('version_id', 'in', ids).execute()) blobs.add(f.sha256);
    }
    const digests = new Set(versions.map((v) => v.sha256));
    return async () => {
      await this.storage.collect(blobs);
      await this.removeUnusedTrees(digests);
    };
  }

  private async removeUnusedTrees(digests: Iterable<string>): Promise<void> {
    for (const digest of new Set(digests)) {
      const still = await this.store.db.selectFrom('models').select('id').where('sha256', '=', digest).limit(1).executeTakeFirst();
      if (!still) await this.storage.removeTree(digest);
    }
  }

  private async remove(versions: ModelVersionRecord[], what: string): Promise<void> {
    const ids = versions.map((v) => v.id);
    // Checked and deleted in one transaction holding the versions' rows, which a service
    // recording its use of them locks too (see WebServices): one of the two waits for the other.
    await this.store.db.transaction().execute(async (trx) => {
      if (this.store.kind === 'postgres') await trx.selectFrom('models').select('id').where('id', 'in', ids).forUpdate().execute();
      const users = await this.usageCheck(ids, trx);
      if (users.length > 0) {
        throw new TesseraError('Conflict', `${what} is used by the web service${users.length === 1 ? '' : 's'} ${users.map((u) => `'${u}'`).join(', ')}: delete or update ${users.length === 1 ? 'it' : 'them'} first.`);
      }
      await trx.deleteFrom('models').where('id', 'in', ids).execute();
    });
    await this.storage.collect(versions.flatMap((v) => v.files.map((f) => f.sha256)));
    await this.removeUnusedTrees(versions.map((v) => v.sha256));
  }

  private findRow(workspaceId: string, name: string, version: number): Promise<ModelRow | undefined> {
    return this.store.db
      .selectFrom('models')
      .selectAll()
      .where('workspace_id', '=', workspaceId)
      .where('name_key', '=', name.toLowerCase())
      .where('version', '=', version)
      .executeTakeFirst();
  }

  private async withFiles(rows: ModelRow[]): Promise<ModelVersionRecord[]> {
    const files = await this.store.db
      .selectFrom('model_files')
      .selectAll()
      .where('version_id', 'in', rows.map((r) => r.id))
      .execute();
    const byVersion = new Map<string, ModelFile[]>();
    for (const f of files) {
      const list = byVersion.get(f.version_id) ?? [];
      list.push({ path: f.path, size: f.size, sha256: f.sha256 });
      byVersion.set(f.version_id, list);
    }
    return rows.map((r) => toRecord(r, (byVersion.get(r.id) ?? []).sort((a, b) => byteOrder(a.path, b.path))));
  }
}

function toRecord(row: ModelRow, files: ModelFile[]): ModelVersionRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    version: row.version,
    description: row.description,
    tags: parseTags(row.tags),
    sha256: row.sha256,
    size: row.size,
    kind: row.kind === 'file' ? 'file' : 'folder',
    files,
    createdBy: row.created_by,
    createdAt: row.created_at,
  };
}

function conflict(name: string, version: number): TesseraError {
  return new TesseraError('Conflict', `Version ${version} of model '${name}' already exists: versions are immutable, register a new one.`);
}

function notFound(name: string, version?: number): TesseraError {
  return new TesseraError('ResourceNotFound', version === undefined ? `The model '${name}' was not found in this workspace.` : `Version ${version} of model '${name}' was not found.`);
}
