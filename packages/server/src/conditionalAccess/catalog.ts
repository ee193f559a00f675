/**
 * Stored policies and named locations: create, read, update, delete, each change
 * validated as a whole (an update is merged over the stored object, then checked as a
 * create would be) and followed by `changed()`, which drops this replica's cached view.
 */
import crypto from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Store } from '../store/db.js';
import { isUniqueViolation } from '../store/db.js';
import type { CaNamedLocationsTable, CaPoliciesTable } from '../store/schema.js';
import type { Clock } from '../clock.js';
import { TesseraError } from '../errors.js';
import { isGuid } from '../identity/validate.js';
import { checkPolicy, type ConditionalAccessPolicy, type PolicyBody, type PolicyReferences } from './policies.js';
import { checkNamedLocation, type IpNamedLocation, type IpRange, type NamedLocationBody } from './namedLocations.js';

export type PolicyRow = Selectable<CaPoliciesTable>;
export type NamedLocationRow = Selectable<CaNamedLocationsTable>;

/** At most this many policies and this many named locations per tenant. */
export const MAX_POLICIES = 500;
export const MAX_LOCATIONS = 500;

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** The Graph view of a stored policy. */
export function policyView(row: PolicyRow): ConditionalAccessPolicy {
  const body = JSON.parse(row.body) as Omit<PolicyBody, 'displayName' | 'state'>;
  return {
    id: row.id,
    displayName: row.display_name,
    state: row.state as PolicyBody['state'],
    createdDateTime: new Date(row.created_at).toISOString(),
    modifiedDateTime: iso(row.modified_at),
    conditions: body.conditions,
    grantControls: body.grantControls,
    sessionControls: null,
  };
}

/** The Graph view of a stored named location. */
export function locationView(row: NamedLocationRow): IpNamedLocation {
  return {
    '@odata.type': '#microsoft.graph.ipNamedLocation',
    id: row.id,
    displayName: row.display_name,
    createdDateTime: new Date(row.created_at).toISOString(),
    modifiedDateTime: iso(row.modified_at),
    isTrusted: row.is_trusted === 1,
    ipRanges: JSON.parse(row.ip_ranges) as IpRange[],
  };
}

function notFound(what: 'policy' | 'location'): TesseraError {
  return new TesseraError('ResourceNotFound', what === 'policy' ? 'No conditional-access policy has that id.' : 'No named location has that id.');
}

export class PolicyCatalog {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly refsFor: (tenantId: string) => PolicyReferences,
    private readonly changed: () => void,
  ) {}

  listPolicies(tenantId: string, top: number): Promise<PolicyRow[]> {
    return this.store.db.selectFrom('ca_policies').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at').orderBy('id').limit(top).execute();
  }

  /** Every policy of every state, for the cached view. */
  allPolicies(tenantId: string): Promise<PolicyRow[]> {
    return this.store.db.selectFrom('ca_policies').selectAll().where('tenant_id', '=', tenantId).orderBy('created_at').orderBy('id').execute();
  }

  async getPolicy(tenantId: string, id: string): Promise<PolicyRow> {
    if (!isGuid(id)) throw notFound('policy');
    const row = await this.store.db.selectFrom('ca_policies').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id.toLowerCase()).executeTakeFirst();
    if (!row) throw notFound('policy');
    return row;
  }

  /** Validates a new policy's body (nothing is written). */
  checkNew(tenantId: string, input: unknown): Promise<PolicyBody> {
    return checkPolicy(input, this.refsFor(tenantId));
  }

  /** Validates an update: the given top-level fields replace the stored ones (Graph's PATCH), then the whole is checked. */
  async checkUpdate(tenantId: string, id: string, input: unknown): Promise<{ row: PolicyRow; body: PolicyBody }> {
    const row = await this.getPolicy(tenantId, id);
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new TesseraError('InvalidParameter', "'the body' must be an object.");
    const current = policyView(row);
    const merged = { displayName: current.displayName, state: current.state, conditions: current.conditions, grantControls: current.grantControls, ...(input as Record<string, unknown>) };
    return { row, body: await checkPolicy(merged, this.refsFor(tenantId)) };
  }

  async createPolicy(tenantId: string, body: PolicyBody, createdBy: string | null): Promise<PolicyRow> {
    const count = await this.store.db.selectFrom('ca_policies').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
    if (Number(count.n) >= MAX_POLICIES) throw new TesseraError('Conflict', `A tenant may have at most ${MAX_POLICIES} conditional-access policies.`);
    const row: PolicyRow = {
      id: crypto.randomUUID(),
      tenant_id: tenantId,
      display_name: body.displayName,
      state: body.state,
      body: JSON.stringify({ conditions: body.conditions, grantControls: body.grantControls }),
      created_at: this.clock.now(),
      modified_at: null,
      created_by: createdBy,
    };
    await this.store.db.insertInto('ca_policies').values(row).execute();
    this.changed();
    return row;
  }

  async updatePolicy(row: PolicyRow, body: PolicyBody): Promise<void> {
    await this.store.db
      .updateTable('ca_policies')
      .set({ display_name: body.displayName, state: body.state, body: JSON.stringify({ conditions: body.conditions, grantControls: body.grantControls }), modified_at: this.clock.now() })
      .where('id', '=', row.id)
      .execute();
    this.changed();
  }

  async deletePolicy(tenantId: string, id: string): Promise<void> {
    const row = await this.getPolicy(tenantId, id);
    await this.store.db.deleteFrom('ca_policies').where('id', '=', row.id).execute();
    this.changed();
  }

  listLocations(tenantId: string, top = MAX_LOCATIONS): Promise<NamedLocationRow[]> {
    return this.store.db.selectFrom('ca_named_locations').selectAll().where('tenant_id', '=', tenantId).orderBy('name_key').limit(top).execute();
  }

  async getLocation(tenantId: string, id: string): Promise<NamedLocationRow> {
    if (!isGuid(id)) throw notFound('location');
    const row = await this.store.db.selectFrom('ca_named_locations').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id.toLowerCase()).executeTakeFirst();
    if (!row) throw notFound('location');
    return row;
  }

  async createLocation(tenantId: string, input: unknown): Promise<NamedLocationRow> {
    const body = checkNamedLocation(input);
    const count = await this.store.db.selectFrom('ca_named_locations').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
    if (Number(count.n) >= MAX_LOCATIONS) throw new TesseraError('Conflict', `A tenant may have at most ${MAX_LOCATIONS} named locations.`);
    const row: NamedLocationRow = {
      id: crypto.randomUUID(),
      tenant_id: tenantId,
      display_name: body.displayName,
      name_key: body.displayName.toLowerCase(),
      is_trusted: body.isTrusted ? 1 : 0,
      ip_ranges: JSON.stringify(body.ipRanges),
      created_at: this.clock.now(),
      modified_at: null,
    };
    await this.writeLocation(() => this.store.db.insertInto('ca_named_locations').values(row).execute(), body);
    this.changed();
    return row;
  }

  async updateLocation(tenantId: string, id: string, input: unknown): Promise<void> {
    const row = await this.getLocation(tenantId, id);
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new TesseraError('InvalidParameter', "'the body' must be an object.");
    const current = locationView(row);
    const body = checkNamedLocation({ displayName: current.displayName, isTrusted: current.isTrusted, ipRanges: current.ipRanges, ...(input as Record<string, unknown>) });
    await this.writeLocation(
      () =>
        this.store.db
          .updateTable('ca_named_locations')
          .set({ display_name: body.displayName, name_key: body.displayName.toLowerCase(), is_trusted: body.isTrusted ? 1 : 0, ip_ranges: JSON.stringify(body.ipRanges), modified_at: this.clock.now() })
          .where('id', '=', row.id)
          .execute(),
      body,
    );
    this.changed();
  }

  /** Refuses to delete a location a policy names (Entra refuses too): the policy would silently change meaning. */
  async deleteLocation(tenantId: string, id: string): Promise<void> {
    const row = await this.getLocation(tenantId, id);
    const users = (await this.allPolicies(tenantId)).filter((p) => {
      const locations = policyView(p).conditions.locations;
      return locations !== null && (locations.includeLocations.includes(row.id) || locations.excludeLocations.includes(row.id));
    });
    if (users.length > 0) {
      throw new TesseraError('Conflict', `The named location is used by the policy '${users[0]!.display_name}' (${users[0]!.id})${users.length > 1 ? ` and ${users.length - 1} other(s)` : ''}: remove it from them first.`);
    }
    await this.store.db.deleteFrom('ca_named_locations').where('id', '=', row.id).execute();
    this.changed();
  }

  private async writeLocation(write: () => Promise<unknown>, body: NamedLocationBody): Promise<void> {
    try {
      await write();
    } catch (err) {
      if (isUniqueViolation(err)) throw new TesseraError('Conflict', `A named location called '${body.displayName}' already exists.`);
      throw err;
    }
  }
}
