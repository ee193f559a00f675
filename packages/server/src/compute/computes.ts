/**
 * Computes in a workspace: a ComputeInstance or AmlCompute whose jobs run on its nodes,
 * with a system-assigned identity (a principal made for it, deleted with it) and/or
 * user-assigned identities (resources of their own, attached by ID).
 */
import crypto from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Store } from '../store/db.js';
import { isUniqueViolation } from '../store/db.js';
import type { ComputesTable } from '../store/schema.js';
import type { Clock } from '../clock.js';
import { TesseraError } from '../errors.js';
import type { ServicePrincipals } from '../identity/servicePrincipals.js';
import { MANAGED_IDENTITY } from '../identity/servicePrincipals.js';
import { checkLocation, hasControl, shown } from '../workspace/names.js';
import { parseSegments } from '../workspace/resourceIds.js';
import type { IdentityRecord, UserAssignedIdentities } from './identities.js';
import { checkComputeName, IDENTITY_TYPE } from './names.js';

export type ComputeRow = Selectable<ComputesTable>;

export const COMPUTE_TYPES = ['ComputeInstance', 'AmlCompute'] as const;
export const IDENTITY_TYPES = ['None', 'SystemAssigned', 'UserAssigned', 'SystemAssigned,UserAssigned'] as const;
export type IdentityType = (typeof IDENTITY_TYPES)[number];
const MAX_USER_IDENTITIES = 16;
const MAX_CONCURRENT_RUNS = 64;

/** A compute with its identities resolved. */
export interface ComputeRecord {
  row: ComputeRow;
  /** The resource ID. */
  id: string;
  tenantId: string;
  system: { principalId: string; clientId: string } | undefined;
  userAssigned: IdentityRecord[];
}

/** One identity a compute's jobs may get tokens as. */
export interface ComputeIdentity {
  principalId: string;
  clientId: string;
  /** The identity's resource ID (user-assigned), or the compute's (system-assigned). */
  resourceId: string;
  kind: 'SystemAssigned' | 'UserAssigned';
}

/** A compute PUT body, checked. */
export interface ComputeInput {
  computeType: (typeof COMPUTE_TYPES)[number];
  location: string | undefined;
  description: string;
  identityType: IdentityType;
  /** Identity resource IDs, as given. */
  userAssigned: string[];
  maxConcurrentRuns: number;
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new TesseraError('InvalidParameter', `The field '${field}' must be a JSON object.`);
  return value as Record<string, unknown>;
}

function only(value: Record<string, unknown>, allowed: readonly string[], field: string): void {
  const unknown = Object.keys(value).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw new TesseraError('InvalidParameter', `The field '${field}' has unknown members: ${unknown.slice(0, 5).map((k) => shown(k)).join(', ')}.`);
}

function choice<T extends string>(value: unknown, allowed: readonly T[], field: string, fallback?: T): T {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value === 'string') {
    const found = allowed.find((a) => a.toLowerCase() === value.replace(/\s+/g, '').toLowerCase());
    if (found) return found;
  }
  throw new TesseraError('InvalidParameter', `The field '${field}' must be one of ${allowed.join(', ')}.`);
}

/** Checks a compute body as ARM sends it (`location`, `identity`, `properties`). */
export function parseComputeBody(body: unknown): ComputeInput {
  const top = object(body, 'body');
  only(top, ['id', 'name', 'type', 'location', 'tags', 'identity', 'properties', 'sku', 'systemData'], 'body');
  const properties = object(top.properties, 'properties');
  only(properties, ['computeType', 'description', 'properties', 'computeLocation', 'provisioningState', 'createdOn', 'modifiedOn', 'resourceId', 'disableLocalAuth'], 'properties');
  const inner = object(properties.properties, 'properties.properties');
  only(inner, ['maxConcurrentRuns', 'vmSize', 'scaleSettings', 'nodes', 'runs'], 'properties.properties');
  const identity = object(top.identity, 'identity');
  only(identity, ['type', 'userAssignedIdentities', 'principalId', 'tenantId'], 'identity');
  const identityType = choice(identity.type, IDENTITY_TYPES, 'identity.type', 'None');
  const uai = object(identity.userAssignedIdentities, 'identity.userAssignedIdentities');
  const userAssigned = Object.keys(uai);
  if (identityType.includes('UserAssigned') !== userAssigned.length > 0) {
    throw new TesseraError('InvalidParameter', identityType.includes('UserAssigned') ? "The identity type UserAssigned needs 'identity.userAssignedIdentities' to name at least one identity." : "'identity.userAssignedIdentities' is only allowed with the identity type UserAssigned.");
  }
  if (userAssigned.length > MAX_USER_IDENTITIES) throw new TesseraError('InvalidParameter', `A compute may have at most ${MAX_USER_IDENTITIES} user-assigned identities.`);
  const description = properties.description ?? '';
  if (typeof description !== 'string' || description.length > 1024 || /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(description)) {
    throw new TesseraError('InvalidParameter', "The field 'properties.description' must be text of at most 1024 characters without control characters.");
  }
  const max = inner.maxConcurrentRuns ?? 1;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > MAX_CONCURRENT_RUNS) {
    throw new TesseraError('InvalidParameter', `The field 'properties.properties.maxConcurrentRuns' must be a whole number from 1 to ${MAX_CONCURRENT_RUNS}.`);
  }
  return {
    computeType: choice(properties.computeType, COMPUTE_TYPES, 'properties.computeType'),
    location: top.location === undefined ? undefined : checkLocation(top.location),
    description,
    identityType,
    userAssigned,
    maxConcurrentRuns: max,
  };
}

/** Splits an identity resource ID into its subscription, group and name; 400 when it is not one. */
export function parseIdentityId(id: string): { subscriptionId: string; groupName: string; name: string } {
  const refuse = () => new TesseraError('InvalidParameter', `The user-assigned identity ${shown(id)} is not an identity resource ID (/subscriptions/{id}/resourceGroups/{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}).`);
  if (id.length > 600 || hasControl(id) || !id.startsWith('/')) throw refuse();
  let levels;
  try {
    levels = parseSegments(id.slice(1).split('/').map((s) => decodeURIComponent(s))).levels;
  } catch {
    throw refuse();
  }
  if (levels.length !== 3 || levels[2]!.type.toLowerCase() !== IDENTITY_TYPE.toLowerCase()) throw refuse();
  return { subscriptionId: levels[0]!.name, groupName: levels[1]!.name, name: levels[2]!.name };
}

export class Computes {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly servicePrincipals: ServicePrincipals,
    private readonly identities: UserAssignedIdentities,
  ) {}

  async record(row: ComputeRow, workspaceResourceId: string, tenantId: string): Promise<ComputeRecord> {
    const id = `${workspaceResourceId}/computes/${row.name}`;
    let system: ComputeRecord['system'];
    if (row.system_sp_id) {
      const sp = await this.store.db.selectFrom('service_principals').select(['id', 'app_id']).where('id', '=', row.system_sp_id).executeTakeFirst();
      if (sp) system = { principalId: sp.id, clientId: sp.app_id };
    }
    const links = await this.store.db.selectFrom('compute_identities').select('identity_id').where('compute_id', '=', row.id).execute();
    const userAssigned = await this.identities.byRowIds(links.map((l) => l.identity_id));
    return { row, id, tenantId, system, userAssigned };
  }

  /** The identities a compute's jobs may use: the system-assigned first. */
  static identitiesOf(record: ComputeRecord): ComputeIdentity[] {
    const out: ComputeIdentity[] = [];
    if (record.system) out.push({ ...record.system, resourceId: record.id, kind: 'SystemAssigned' });
    for (const u of record.userAssigned) out.push({ principalId: u.principalId, clientId: u.clientId, resourceId: u.id, kind: 'UserAssigned' });
    return out;
  }

  async find(workspaceRowId: string, name: string): Promise<ComputeRow | undefined> {
    return this.store.db.selectFrom('computes').selectAll().where('workspace_id', '=', workspaceRowId).where('name_key', '=', checkComputeName(name).toLowerCase()).executeTakeFirst();
  }

  async get(workspaceRowId: string, name: string): Promise<ComputeRow> {
    const row = await this.find(workspaceRowId, name);
    if (!row) throw new TesseraError('ResourceNotFound', `The compute '${name}' could not be found in this workspace.`);
    return row;
  }

  byId(id: string): Promise<ComputeRow | undefined> {
    return this.store.db.selectFrom('computes').selectAll().where('id', '=', id).executeTakeFirst();
  }

  list(workspaceRowId: string): Promise<ComputeRow[]> {
    return this.store.db.selectFrom('computes').selectAll().where('workspace_id', '=', workspaceRowId).orderBy('name_key').execute();
  }

  /**
   * PUT: creates the compute or updates it. The compute type and location cannot change;
   * turning the system-assigned identity off deletes its principal, on again makes a new one.
   */
  async put(
    ws: { rowId: string; id: string; tenantId: string; location: string },
    name: string,
    input: ComputeInput,
    identities: IdentityRecord[],
    createdBy: string | null,
  ): Promise<{ row: ComputeRow; created: boolean }> {
    const checked = checkComputeName(name);
    const existing = await this.find(ws.rowId, checked);
    const now = this.clock.now();
    const computeId = `${ws.id}/computes/${checked}`;
    const wantsSystem = input.identityType.startsWith('SystemAssigned');
    if (existing) {
      if (existing.compute_type !== input.computeType) throw new TesseraError('Conflict', `The compute '${existing.name}' is a ${existing.compute_type}; its type cannot change.`);
      if (input.location !== undefined && input.location !== existing.location) throw new TesseraError('Conflict', `The location of compute '${existing.name}' cannot change.`);
    }
    const row: ComputeRow = existing
      ? { ...existing, description: input.description, identity_type: input.identityType, max_concurrent_runs: input.maxConcurrentRuns, modified_at: now }
      : {
          id: crypto.randomUUID(),
          workspace_id: ws.rowId,
          name: checked,
          name_key: checked.toLowerCase(),
          compute_type: input.computeType,
          location: input.location ?? ws.location,
          description: input.description,
          identity_type: input.identityType,
          system_sp_id: null,
          max_concurrent_runs: input.maxConcurrentRuns,
          created_at: now,
          modified_at: now,
          created_by: createdBy,
        };
    try {
      await this.store.db.transaction().execute(async (trx) => {
        if (wantsSystem && !row.system_sp_id) row.system_sp_id = (await this.servicePrincipals.createManaged(ws.tenantId, checked, computeId, createdBy, trx)).id;
        const dropSystem = !wantsSystem && row.system_sp_id ? row.system_sp_id : undefined;
        if (dropSystem) row.system_sp_id = null;
        if (existing) {
          await trx.updateTable('computes').set({ description: row.description, identity_type: row.identity_type, max_concurrent_runs: row.max_concurrent_runs, modified_at: now, system_sp_id: row.system_sp_id }).where('id', '=', row.id).execute();
          await trx.deleteFrom('compute_identities').where('compute_id', '=', row.id).execute();
        } else {
          await trx.insertInto('computes').values(row).execute();
        }
        if (identities.length > 0) await trx.insertInto('compute_identities').values(identities.map((i) => ({ compute_id: row.id, identity_id: i.row.id }))).execute();
        if (dropSystem) await this.servicePrincipals.deleteManaged([dropSystem], trx);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new TesseraError('Conflict', `The compute '${checked}' was created at the same moment by another request.`);
      throw err;
    }
    return { row, created: !existing };
  }

  /** Deletes the compute (its runs are ended by the caller first) and its system identity; false when absent. */
  async delete(row: ComputeRow): Promise<void> {
    await this.store.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('computes').where('id', '=', row.id).execute();
      if (row.system_sp_id) await this.servicePrincipals.deleteManaged([row.system_sp_id], trx);
    });
  }

  /**
   * Removes the principals of managed identities whose resource is gone (a deleted
   * workspace takes its computes, a deleted group its identities, in the store's cascade).
   */
  async forgetOrphanedIdentities(): Promise<void> {
    const db = this.store.db;
    const orphans = await db
      .selectFrom('service_principals')
      .select('id')
      .where('sp_type', '=', MANAGED_IDENTITY)
      .where((eb) =>
        eb.and([
          eb.not(eb.exists(eb.selectFrom('computes').select('computes.id').whereRef('computes.system_sp_id', '=', 'service_principals.id'))),
          eb.not(eb.exists(eb.selectFrom('user_assigned_identities').select('user_assigned_identities.id').whereRef('user_assigned_identities.sp_id', '=', 'service_principals.id'))),
        ]),
      )
      .execute();
    await this.servicePrincipals.deleteManaged(orphans.map((o) => o.id));
  }
}

export interface ComputeView {
  id: string;
  name: string;
  type: 'Microsoft.MachineLearningServices/workspaces/computes';
  location: string;
  identity: { type: string; principalId?: string; tenantId?: string; userAssignedIdentities?: Record<string, { principalId: string; clientId: string }> };
  properties: {
    computeType: string;
    provisioningState: 'Succeeded';
    description: string;
    createdOn: string;
    modifiedOn: string;
    properties: { maxConcurrentRuns: number; nodes: { registered: number; online: number }; runs: { queued: number; running: number } };
  };
}

export function computeView(record: ComputeRecord, counts: { registered: number; online: number; queued: number; running: number }): ComputeView {
  const { row } = record;
  const identity: ComputeView['identity'] = { type: row.identity_type };
  if (record.system) {
    identity.principalId = record.system.principalId;
    identity.tenantId = record.tenantId;
  }
  if (record.userAssigned.length > 0) {
    identity.userAssignedIdentities = Object.fromEntries(record.userAssigned.map((u) => [u.id, { principalId: u.principalId, clientId: u.clientId }]));
  }
  return {
    id: record.id,
    name: row.name,
    type: 'Microsoft.MachineLearningServices/workspaces/computes',
    location: row.location,
    identity,
    properties: {
      computeType: row.compute_type,
      provisioningState: 'Succeeded',
      description: row.description,
      createdOn: new Date(row.created_at).toISOString(),
      modifiedOn: new Date(row.modified_at).toISOString(),
      properties: { maxConcurrentRuns: row.max_concurrent_runs, nodes: { registered: counts.registered, online: counts.online }, runs: { queued: counts.queued, running: counts.running } },
    },
  };
}
