/**
 * Quotas: limits on web services (both kinds), workers (replicas), memory (replicas ×
 * memoryGb) and model storage (the sizes of model versions), each enforced per workspace
 * and per principal (a row's `created_by`; a principal's usage counts across workspaces).
 *
 * A limit comes from the server's configuration, then an administrator's stored default
 * for that scope kind, then an override for the one workspace or principal; null is
 * unlimited. A change is refused (409 QuotaExceeded) when it would take a usage past its
 * limit and grow it: an update that grows nothing always passes, even over a limit an
 * administrator has since lowered.
 *
 * Checks run inside the write's transaction. On PostgreSQL they first take transaction
 * advisory locks on the workspace and the principal (always in that order), so two
 * replicas racing for the last unit queue up and the second sees the first's row; SQLite
 * runs one transaction at a time, which gives the same.
 */
import crypto from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Store } from '../store/db.js';
import type { Database } from '../store/schema.js';
import type { Clock } from '../clock.js';
import { TesseraError } from '../errors.js';
import { isGuid } from './names.js';
import { parseScope, scopeParts, RESOURCE_GROUP_TYPE, SUBSCRIPTION_TYPE, WORKSPACE_TYPE } from './resourceIds.js';
import { workspaceId, type Workspaces } from './workspaces.js';
import {
  GIB,
  QUOTA_KEYS,
  QUOTA_UNITS,
  applyOverride,
  checkOverride,
  type QuotaKey,
  type QuotaLimits,
  type QuotaOverride,
  type QuotaPolicy,
  type QuotaScopeKind,
} from './quotaLimits.js';

/** What a service costs: its workers and each worker's memory. */
export interface ServiceFootprint {
  replicas: number;
  memoryGb: number;
}

/** How much of each limit is in use. */
export type QuotaUsage = Record<QuotaKey, number>;

/** An override as the admin API shows it. */
export interface QuotaOverrideView {
  scope: 'default' | QuotaScopeKind;
  /** default: the scope kind it applies to; workspace: the resource ID; principal: the object id. */
  id: string;
  /** The workspace's name, or the principal's user name or application id (empty when unknown). */
  displayName: string;
  limits: QuotaOverride;
  updatedAt: string;
  updatedBy: string | null;
}

/** `GET /admin/quotas`. */
export interface QuotaOverview {
  /** What applies where no override does: the configuration with the stored defaults over it. */
  defaults: QuotaPolicy;
  /** The configuration's own (TESSERA_QUOTA_*). */
  configured: QuotaPolicy;
  overrides: QuotaOverrideView[];
}

/** One line of a usage report, in the shape of Azure's usage lists. */
export interface QuotaUsageLine {
  name: QuotaKey;
  currentValue: number;
  /** null: unlimited. */
  limit: number | null;
  unit: 'Count' | 'GB' | 'Bytes';
}

/** `GET /admin/quotas/usage`. */
export interface QuotaUsageReport {
  scope: QuotaScopeKind;
  id: string;
  displayName: string;
  value: QuotaUsageLine[];
}

/** Who or what a principal's object id names (undefined: no such principal). */
export type PrincipalNames = (objectId: string) => Promise<string | undefined>;

type Db = Kysely<Database>;

/** One scope a change is checked in. */
interface Scope {
  kind: QuotaScopeKind;
  /** The workspace's row id, or the principal's object id. */
  id: string;
  /** How messages name it: "The workspace 'ws1'". */
  label: string;
}

/** Rounds away float noise (0.1 + 0.2) before comparing memory with a whole-number limit. */
function tidy(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

function amount(key: QuotaKey, n: number): string {
  if (key === 'modelStorageBytes') return n >= 2 ** 20 ? `${n} bytes (${(n / GIB).toFixed(2)} GiB)` : `${n} bytes`;
  if (key === 'memoryGb') return `${n} GB`;
  return String(n);
}

/** The 409 for one limit: "The workspace 'ws1' would use 9 workers; its quota is 8 (in use: 6)." */
function exceeded(scope: Scope, key: QuotaKey, after: string, limit: number, inUse: number): TesseraError {
  const what = key === 'modelStorageBytes' ? `${after} of model storage` : key === 'memoryGb' ? `${after} of memory` : `${after} ${QUOTA_UNITS[key].label}`;
  return new TesseraError(
    'QuotaExceeded',
    `${scope.label} would use ${what}; its quota is ${amount(key, limit)} (in use: ${amount(key, inUse)}). Free some, or ask an administrator to raise the '${key}' quota.`,
  );
}

/** A 64-bit advisory lock key for a scope (PostgreSQL's lock space is shared: prefixed). */
function lockKey(scope: Scope): string {
  return crypto.createHash('sha256').update(`tessera-quota:${scope.kind}:${scope.id}`).digest().readBigInt64BE(0).toString();
}

function parseOverride(json: string): QuotaOverride {
  try {
    return checkOverride(JSON.parse(json));
  } catch {
    return {};
  }
}

/**
 * The scopes one change is checked in (from {@link Quotas.scopesFor}), labelled before the
 * write's transaction opens: inside it, only its own connection may be used.
 */
export class QuotaScopes {
  constructor(
    private readonly quotas: Quotas,
    private readonly store: Store,
    private readonly scopes: readonly Scope[],
  ) {}

  /**
   * Inside the write's transaction: refuses a service created (`replacing` absent) or
   * given new settings when that takes a scope past its services, workers or memory limit.
   * @example await scopes.checkService(trx, { replacing: row.id, next: { replicas: 4, memoryGb: 2 } })
   */
  async checkService(db: Db, change: { replacing?: string | undefined; next: ServiceFootprint }): Promise<void> {
    await this.lock(db);
    const old = change.replacing === undefined ? undefined : await db.selectFrom('web_services').select(['replicas', 'memory_gb']).where('id', '=', change.replacing).executeTakeFirst();
    const mine = { services: old ? 1 : 0, workers: old?.replicas ?? 0, memoryGb: old ? old.replicas * old.memory_gb : 0 };
    const next = { services: 1, workers: change.next.replicas, memoryGb: change.next.replicas * change.next.memoryGb };
    for (const scope of this.scopes) {
      const inUse = await this.quotas.serviceUsage(db, scope.kind, scope.id);
      const limits = await this.quotas.limitsFor(db, scope.kind, scope.id);
      for (const key of ['services', 'workers', 'memoryGb'] as const) {
        const limit = limits[key];
        const before = tidy(inUse[key]);
        const after = tidy(inUse[key] - mine[key] + next[key]);
        if (limit !== null && after > limit && after > before) throw exceeded(scope, key, amount(key, after), limit, before);
      }
    }
  }

  /** Inside the version's transaction: refuses `bytes` more model storage past a scope's limit. */
  async checkStorage(db: Db, bytes: number): Promise<void> {
    await this.lock(db);
    for (const scope of this.scopes) {
      const limit = (await this.quotas.limitsFor(db, scope.kind, scope.id)).modelStorageBytes;
      const inUse = await this.quotas.storageUsage(db, scope.kind, scope.id);
      if (limit !== null && bytes > 0 && inUse + bytes > limit) throw exceeded(scope, 'modelStorageBytes', amount('modelStorageBytes', inUse + bytes), limit, inUse);
    }
  }

  /**
   * The bytes an upload may bring before it is sure to be refused (Infinity when no limit
   * binds), and the refusal to raise once more arrived: the upload stops there and then
   * rather than storing the rest. Advisory: {@link checkStorage} decides at commit.
   */
  async storageHeadroom(): Promise<{ bytes: number; refuse(received: number): TesseraError }> {
    let bytes = Number.POSITIVE_INFINITY;
    let refuse = (_received: number): TesseraError => new TesseraError('QuotaExceeded', 'The upload would exceed a model storage quota.');
    for (const scope of this.scopes) {
      const limit = (await this.quotas.limitsFor(this.store.db, scope.kind, scope.id)).modelStorageBytes;
      if (limit === null) continue;
      const inUse = await this.quotas.storageUsage(this.store.db, scope.kind, scope.id);
      if (limit - inUse < bytes) {
        bytes = Math.max(0, limit - inUse);
        refuse = (received) => exceeded(scope, 'modelStorageBytes', `at least ${amount('modelStorageBytes', inUse + received)}`, limit, inUse);
      }
    }
    return { bytes, refuse };
  }

  private async lock(db: Db): Promise<void> {
    if (this.store.kind !== 'postgres') return;
    // Workspace before principal, in every transaction: no two wait on each other in a cycle.
    for (const scope of this.scopes) await sql`select pg_advisory_xact_lock(${lockKey(scope)}::bigint)`.execute(db);
  }
}

/** Quota limits, usage and administrators' overrides. */
export class Quotas {
  private principalNames: PrincipalNames = async () => undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly configured: QuotaPolicy,
    private readonly workspaces: Workspaces,
  ) {}

  /** How principals are named in messages and views, and whether an object id names one (the identity part answers). */
  setPrincipalNames(names: PrincipalNames): void {
    this.principalNames = names;
  }

  /**
   * The scopes a change in a workspace by a principal is checked in (the principal's
   * scope only when it is known), named for messages. Call before the transaction.
   * @example const scopes = await quotas.scopesFor(ws.rowId, caller.objectId)
   */
  async scopesFor(workspaceRowId: string, principalId: string | null): Promise<QuotaScopes> {
    const ws = await this.store.db.selectFrom('workspaces').select('name').where('id', '=', workspaceRowId).executeTakeFirst();
    const scopes: Scope[] = [{ kind: 'workspace', id: workspaceRowId, label: `The workspace '${ws?.name ?? workspaceRowId}'` }];
    if (principalId !== null && principalId !== '') {
      const id = principalId.toLowerCase();
      scopes.push({ kind: 'principal', id, label: `The principal '${(await this.principalNames(id)) ?? id}'` });
    }
    return new QuotaScopes(this, this.store, scopes);
  }

  /** The limits that apply to one workspace (row id) or principal (object id). */
  async limitsFor(db: Db, kind: QuotaScopeKind, id: string): Promise<QuotaLimits> {
    const rows = await db
      .selectFrom('quota_overrides')
      .select(['scope', 'limits'])
      .where((eb) => eb.or([eb.and([eb('scope', '=', 'default'), eb('target', '=', kind)]), eb.and([eb('scope', '=', kind), eb('target', '=', id)])]))
      .execute();
    const stored = (scope: string) => {
      const row = rows.find((r) => r.scope === scope);
      return row ? parseOverride(row.limits) : undefined;
    };
    return applyOverride(applyOverride(this.configured[kind], stored('default')), stored(kind));
  }

  /** Services, workers and memory in use in a workspace, or by a principal across workspaces. */
  async serviceUsage(db: Db, kind: QuotaScopeKind, id: string): Promise<Omit<QuotaUsage, 'modelStorageBytes'>> {
    const row = await db
      .selectFrom('web_services')
      .select([
        sql<number>`count(*)`.as('services'),
        sql<number>`coalesce(sum(replicas), 0)`.as('workers'),
        sql<number>`coalesce(sum(replicas * memory_gb), 0)`.as('memory'),
      ])
      .where(kind === 'workspace' ? 'workspace_id' : 'created_by', '=', id)
      .executeTakeFirstOrThrow();
    // PostgreSQL answers sums of integers as numeric (a string).
    return { services: Number(row.services), workers: Number(row.workers), memoryGb: tidy(Number(row.memory)) };
  }

  /** Bytes of model versions in a workspace, or registered by a principal across workspaces. */
  async storageUsage(db: Db, kind: QuotaScopeKind, id: string): Promise<number> {
    const row = await db
      .selectFrom('models')
      .select(sql<number>`coalesce(sum(size), 0)`.as('bytes'))
      .where(kind === 'workspace' ? 'workspace_id' : 'created_by', '=', id)
      .executeTakeFirstOrThrow();
    return Number(row.bytes);
  }

  // ---- administration ---------------------------------------------------------------

  /** The defaults, the configuration's, and every override (workspaces of `tenantId` only). */
  async overview(tenantId: string): Promise<QuotaOverview> {
    const rows = await this.store.db.selectFrom('quota_overrides').selectAll().orderBy('scope').orderBy('target').execute();
    const names = await this.workspaceNames(tenantId, rows.filter((r) => r.scope === 'workspace').map((r) => r.target));
    const overrides: QuotaOverrideView[] = [];
    for (const r of rows) {
      const base = { limits: parseOverride(r.limits), updatedAt: new Date(r.updated_at).toISOString(), updatedBy: r.updated_by };
      if (r.scope === 'default') overrides.push({ scope: 'default', id: r.target, displayName: '', ...base });
      else if (r.scope === 'principal') overrides.push({ scope: 'principal', id: r.target, displayName: (await this.principalNames(r.target)) ?? '', ...base });
      else {
        const ws = names.get(r.target);
        if (ws) overrides.push({ scope: 'workspace', id: ws.id, displayName: ws.name, ...base });
      }
    }
    return { defaults: await this.defaults(), configured: this.configured, overrides };
  }

  /** Replaces the stored defaults: each kind given becomes the override of the configuration; a kind left out is removed. */
  async setDefaults(body: Partial<Record<QuotaScopeKind, unknown>>, by: string): Promise<QuotaPolicy> {
    const given = { workspace: body.workspace === undefined ? undefined : checkOverride(body.workspace, "The field 'workspace'"), principal: body.principal === undefined ? undefined : checkOverride(body.principal, "The field 'principal'") };
    await this.store.db.transaction().execute(async (trx) => {
      for (const kind of ['workspace', 'principal'] as const) {
        const limits = given[kind];
        if (limits === undefined) await trx.deleteFrom('quota_overrides').where('scope', '=', 'default').where('target', '=', kind).execute();
        else await this.write(trx, 'default', kind, limits, by);
      }
    });
    return this.defaults();
  }

  /** Removes the stored defaults (the configuration's apply again); 404 when there are none. */
  async deleteDefaults(): Promise<void> {
    const result = await this.store.db.deleteFrom('quota_overrides').where('scope', '=', 'default').executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw new TesseraError('ResourceNotFound', 'No default quotas are stored: the configuration\'s apply.');
  }

  /**
   * Sets (replaces) a workspace's override; limits it leaves out inherit the defaults.
   * @example await quotas.setWorkspace(tenantId, '/subscriptions/…/workspaces/ws1', { workers: 8 }, caller.objectId)
   */
  async setWorkspace(tenantId: string, resourceId: string, body: unknown, by: string): Promise<QuotaOverrideView & { effective: QuotaLimits }> {
    const limits = checkOverride(body);
    const ws = await this.resolveWorkspace(tenantId, resourceId);
    await this.write(this.store.db, 'workspace', ws.rowId, limits, by);
    return { ...(await this.view('workspace', ws.rowId, ws.id, ws.name)), effective: await this.limitsFor(this.store.db, 'workspace', ws.rowId) };
  }

  /** Sets (replaces) a principal's override; 404 when no user or service principal has that object id. */
  async setPrincipal(objectId: string, body: unknown, by: string): Promise<QuotaOverrideView & { effective: QuotaLimits }> {
    const limits = checkOverride(body);
    const id = checkObjectId(objectId);
    const name = await this.principalNames(id);
    if (name === undefined) throw new TesseraError('ResourceNotFound', `No user or service principal has the object id '${id}'.`);
    await this.write(this.store.db, 'principal', id, limits, by);
    return { ...(await this.view('principal', id, id, name)), effective: await this.limitsFor(this.store.db, 'principal', id) };
  }

  /** Removes a workspace's override; 404 when it has none. */
  async deleteWorkspace(tenantId: string, resourceId: string): Promise<void> {
    const ws = await this.resolveWorkspace(tenantId, resourceId);
    await this.remove('workspace', ws.rowId, `The workspace '${ws.name}' has no quota override.`);
  }

  /** Removes a principal's override; 404 when it has none. */
  async deletePrincipal(objectId: string): Promise<void> {
    const id = checkObjectId(objectId);
    await this.remove('principal', id, `The principal '${id}' has no quota override.`);
  }

  /** Usage against limits for a workspace (resource ID) or a principal (object id). */
  async usage(tenantId: string, of: { workspace?: string | undefined; principal?: string | undefined }): Promise<QuotaUsageReport> {
    if ((of.workspace === undefined) === (of.principal === undefined)) {
      throw new TesseraError('InvalidParameter', "Give exactly one of the query parameters 'workspace' (a workspace resource ID) and 'principal' (an object id).");
    }
    let scope: { kind: QuotaScopeKind; key: string; id: string; displayName: string };
    if (of.workspace !== undefined) {
      const ws = await this.resolveWorkspace(tenantId, of.workspace);
      scope = { kind: 'workspace', key: ws.rowId, id: ws.id, displayName: ws.name };
    } else {
      const id = checkObjectId(of.principal ?? '');
      const name = await this.principalNames(id);
      if (name === undefined) throw new TesseraError('ResourceNotFound', `No user or service principal has the object id '${id}'.`);
      scope = { kind: 'principal', key: id, id, displayName: name };
    }
    const db = this.store.db;
    const limits = await this.limitsFor(db, scope.kind, scope.key);
    const used: QuotaUsage = { ...(await this.serviceUsage(db, scope.kind, scope.key)), modelStorageBytes: await this.storageUsage(db, scope.kind, scope.key) };
    return {
      scope: scope.kind,
      id: scope.id,
      displayName: scope.displayName,
      value: QUOTA_KEYS.map((name) => ({ name, currentValue: used[name], limit: limits[name], unit: QUOTA_UNITS[name].unit })),
    };
  }

  /** Forgets the overrides of deleted workspaces (called once their rows are gone). */
  async forgetWorkspaces(workspaceRowIds: readonly string[]): Promise<void> {
    if (workspaceRowIds.length === 0) return;
    await this.store.db.deleteFrom('quota_overrides').where('scope', '=', 'workspace').where('target', 'in', [...workspaceRowIds]).execute();
  }

  private async defaults(): Promise<QuotaPolicy> {
    const rows = await this.store.db.selectFrom('quota_overrides').select(['target', 'limits']).where('scope', '=', 'default').execute();
    const stored = (kind: QuotaScopeKind) => {
      const row = rows.find((r) => r.target === kind);
      return row ? parseOverride(row.limits) : undefined;
    };
    return { workspace: applyOverride(this.configured.workspace, stored('workspace')), principal: applyOverride(this.configured.principal, stored('principal')) };
  }

  private async write(db: Db, scope: string, target: string, limits: QuotaOverride, by: string): Promise<void> {
    const values = { scope, target, limits: JSON.stringify(limits), updated_at: this.clock.now(), updated_by: by };
    await db
      .insertInto('quota_overrides')
      .values(values)
      .onConflict((oc) => oc.columns(['scope', 'target']).doUpdateSet({ limits: values.limits, updated_at: values.updated_at, updated_by: values.updated_by }))
      .execute();
  }

  private async remove(scope: QuotaScopeKind, target: string, missing: string): Promise<void> {
    const result = await this.store.db.deleteFrom('quota_overrides').where('scope', '=', scope).where('target', '=', target).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw new TesseraError('ResourceNotFound', missing);
  }

  private async view(scope: QuotaScopeKind, target: string, id: string, displayName: string): Promise<QuotaOverrideView> {
    const row = await this.store.db.selectFrom('quota_overrides').selectAll().where('scope', '=', scope).where('target', '=', target).executeTakeFirstOrThrow();
    return { scope, id, displayName, limits: parseOverride(row.limits), updatedAt: new Date(row.updated_at).toISOString(), updatedBy: row.updated_by };
  }

  /** A workspace resource ID (exactly one) in the caller's tenant: 400 when malformed, 404 when absent. */
  private async resolveWorkspace(tenantId: string, resourceId: string): Promise<{ rowId: string; id: string; name: string }> {
    const rule = new TesseraError('InvalidParameter', 'The workspace must be a workspace resource ID: /subscriptions/{id}/resourceGroups/{group}/providers/Microsoft.MachineLearningServices/workspaces/{name}.');
    let levels;
    try {
      levels = parseScope(resourceId, 'workspace');
    } catch (err) {
      throw err instanceof TesseraError ? rule : err;
    }
    const types = levels.map((l) => l.type.toLowerCase());
    if (types.join(' ') !== [SUBSCRIPTION_TYPE, RESOURCE_GROUP_TYPE, WORKSPACE_TYPE].join(' ').toLowerCase()) throw rule;
    const parts = scopeParts(levels);
    const found = await this.workspaces.get(tenantId, parts.subscriptionId!, parts.resourceGroup!, parts.workspace!);
    return { rowId: found.row.id, id: workspaceId(found.group.subscription_id, found.group.name, found.row.name), name: found.row.name };
  }

  /** Resource IDs and names of the tenant's workspaces among `rowIds`. */
  private async workspaceNames(tenantId: string, rowIds: string[]): Promise<Map<string, { id: string; name: string }>> {
    if (rowIds.length === 0) return new Map();
    const rows = await this.store.db
      .selectFrom('workspaces as w')
      .innerJoin('resource_groups as g', 'g.id', 'w.resource_group_id')
      .innerJoin('subscriptions as s', 's.id', 'g.subscription_id')
      .select(['w.id', 'w.name', 'g.name as group_name', 'g.subscription_id'])
      .where('s.tenant_id', '=', tenantId)
      .where('w.id', 'in', rowIds)
      .execute();
    return new Map(rows.map((r) => [r.id, { id: workspaceId(r.subscription_id, r.group_name, r.name), name: r.name }]));
  }
}

/** An object id (GUID), lower-cased; 400 otherwise. */
function checkObjectId(value: string): string {
  if (!isGuid(value)) throw new TesseraError('InvalidParameter', 'The principal must be an object id (a GUID).');
  return value.toLowerCase();
}
