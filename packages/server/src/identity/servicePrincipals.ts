/**
 * Service principals: identities for automation. Each has an application (client) id
 * and credentials: secrets (256 random bits, prefixed `tscs_`, shown once, stored as
 * SHA-256, which is also the lookup key) and certificates (for client assertions,
 * private_key_jwt). Shapes follow Microsoft Graph's servicePrincipal resource.
 */
import crypto from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Store } from '../store/db.js';
import { isUniqueViolation } from '../store/db.js';
import type { ServicePrincipalsTable, SpCredentialsTable } from '../store/schema.js';
import type { Clock } from '../clock.js';
import { TesseraError } from '../errors.js';
import { SecretPrefix, generateSecret, hashSecret, looksLikeSecret } from '../crypto/secrets.js';
import { checkDisplayName, hasControlChars, isGuid } from './validate.js';
import { parseCertificate } from './certificates.js';
import type { PrincipalCache } from './principalCache.js';
import { OWNER_ROLE_ID } from '../access/roles.js';

export type ServicePrincipalRow = Selectable<ServicePrincipalsTable>;
export type CredentialRow = Selectable<SpCredentialsTable>;

const YEAR_MS = 365.25 * 24 * 3600_000;
/** The longest a credential may live, as Entra's default policy allows. */
export const MAX_CREDENTIAL_MS = 2 * YEAR_MS;
export const MAX_CREDENTIALS = 16;

export interface PasswordCredentialView {
  keyId: string;
  displayName: string;
  hint: string;
  startDateTime: string;
  endDateTime: string;
}

export interface KeyCredentialView {
  keyId: string;
  displayName: string;
  type: 'AsymmetricX509Cert';
  usage: 'Verify';
  /** SHA-1 thumbprint, hex upper case, as Graph's customKeyIdentifier. */
  customKeyIdentifier: string;
  startDateTime: string;
  endDateTime: string;
}

export interface ServicePrincipalView {
  id: string;
  appId: string;
  displayName: string;
  accountEnabled: boolean;
  /** `ManagedIdentity` for a managed identity (an identity resource's or a compute's). */
  servicePrincipalType: 'Application' | 'ManagedIdentity';
  createdDateTime: string;
  passwordCredentials: PasswordCredentialView[];
  keyCredentials: KeyCredentialView[];
}

/** A new secret, as Graph's addPassword returns it: the only time it is shown. */
export interface NewPasswordCredential extends PasswordCredentialView {
  secretText: string;
}

const iso = (t: number) => new Date(t).toISOString();

export const MANAGED_IDENTITY = 'ManagedIdentity';

/** Managed identities are changed through the resource that owns them, never directly. */
function refuseManaged(row: ServicePrincipalRow): void {
  if (row.sp_type === MANAGED_IDENTITY) {
    throw new TesseraError('InvalidParameter', `The service principal '${row.app_id}' is a managed identity: it has no credentials and changes with its resource (${row.managed_by ?? 'its compute'}), not here.`);
  }
}

/** How long a looked-up secret is trusted without asking the store again (as the principal cache). */
const SECRET_CACHE_MS = 1000;

/** Called when a principal or its credentials change, so cached state about it is dropped. */
export type PrincipalChanged = (principalId: string) => void;

export class ServicePrincipals {
  /** The client-credentials hot path: secret hash → principal, for one second. */
  private readonly secrets = new Map<string, { at: number; found: { sp: ServicePrincipalRow; keyId: string; endAt: number } | undefined }>();
  /** Bumped whenever credentials change here: a lookup that raced a change is not cached. */
  private generation = 0;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly principals: PrincipalCache,
    private readonly changed: PrincipalChanged = () => undefined,
  ) {}

  /** Forgets what was cached about a principal here. */
  private touched(principalId: string): void {
    this.generation++;
    this.secrets.clear();
    this.principals.invalidate(principalId);
    this.changed(principalId);
  }

  async view(row: ServicePrincipalRow): Promise<ServicePrincipalView> {
    const creds = await this.store.db.selectFrom('sp_credentials').selectAll().where('sp_id', '=', row.id).orderBy('created_at').execute();
    return {
      id: row.id,
      appId: row.app_id,
      displayName: row.display_name,
      accountEnabled: row.enabled === 1,
      servicePrincipalType: row.sp_type === MANAGED_IDENTITY ? MANAGED_IDENTITY : 'Application',
      createdDateTime: iso(row.created_at),
      passwordCredentials: creds.filter((c) => c.type === 'secret').map(passwordView),
      keyCredentials: creds.filter((c) => c.type === 'certificate').map(keyView),
    };
  }

  /** Creates a principal; `appId` is given when it belongs to a registered application. */
  async create(tenantId: string, displayName: string, createdBy: string | null, appId: string = crypto.randomUUID()): Promise<ServicePrincipalRow> {
    const name = checkDisplayName(displayName);
    const row: ServicePrincipalRow = {
      id: crypto.randomUUID(),
      tenant_id: tenantId,
      app_id: appId,
      display_name: name,
      name_key: name.toLowerCase(),
      enabled: 1,
      created_at: this.clock.now(),
      created_by: createdBy,
      sp_type: 'Application',
      managed_by: null,
    };
    try {
      await this.store.db.insertInto('service_principals').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new TesseraError('Conflict', `A service principal named '${name}' already exists.`);
      throw err;
    }
    return row;
  }

  /**
   * The principal of a managed identity owned by `managedBy` (an identity resource or a
   * compute). Its name is not a lookup key (many may share one), its ids are.
   */
  async createManaged(tenantId: string, displayName: string, managedBy: string, createdBy: string | null, db: Store['db'] = this.store.db): Promise<ServicePrincipalRow> {
    const id = crypto.randomUUID();
    const row: ServicePrincipalRow = {
      id,
      tenant_id: tenantId,
      app_id: crypto.randomUUID(),
      display_name: checkDisplayName(displayName),
      name_key: `managed:${id}`,
      enabled: 1,
      created_at: this.clock.now(),
      created_by: createdBy,
      sp_type: MANAGED_IDENTITY,
      managed_by: managedBy,
    };
    await db.insertInto('service_principals').values(row).execute();
    return row;
  }

  /** Removes managed identities' principals with their assignments (their resource is going). */
  async deleteManaged(ids: readonly string[], db: Store['db'] = this.store.db): Promise<void> {
    if (ids.length === 0) return;
    await db.deleteFrom('group_members').where('member_id', 'in', ids).execute();
    await db.deleteFrom('role_assignments').where('principal_id', 'in', ids).execute();
    await db.deleteFrom('service_principals').where('id', 'in', ids).where('sp_type', '=', MANAGED_IDENTITY).execute();
    for (const id of ids) this.touched(id);
  }

  /** Finds one by object id, application id or display name. */
  async get(tenantId: string, idOrName: string): Promise<ServicePrincipalRow> {
    const query = this.store.db.selectFrom('service_principals').selectAll().where('tenant_id', '=', tenantId);
    const key = idOrName.trim().toLowerCase();
    const row = hasControlChars(idOrName) || key.length > 256
      ? undefined
      : isGuid(key)
        ? await query.where((eb) => eb.or([eb('id', '=', key), eb('app_id', '=', key)])).executeTakeFirst()
        : await query.where('name_key', '=', key).executeTakeFirst();
    if (!row) throw new TesseraError('ResourceNotFound', 'No service principal has that id, application id or name.');
    return row;
  }

  /** The principal with this application id, in any tenant. */
  byAppId(appId: string): Promise<ServicePrincipalRow | undefined> {
    if (!isGuid(appId)) return Promise.resolve(undefined);
    return this.store.db.selectFrom('service_principals').selectAll().where('app_id', '=', appId.toLowerCase()).executeTakeFirst();
  }

  list(tenantId: string, top: number): Promise<ServicePrincipalRow[]> {
    return this.store.db.selectFrom('service_principals').selectAll().where('tenant_id', '=', tenantId).orderBy('name_key').limit(top).execute();
  }

  async update(tenantId: string, idOrName: string, patch: { displayName?: string | undefined; enabled?: boolean | undefined }): Promise<ServicePrincipalRow> {
    const row = await this.get(tenantId, idOrName);
    refuseManaged(row);
    const changes: Partial<ServicePrincipalRow> = {};
    if (patch.displayName !== undefined) {
      changes.display_name = checkDisplayName(patch.displayName);
      changes.name_key = changes.display_name.toLowerCase();
    }
    if (patch.enabled !== undefined) changes.enabled = patch.enabled ? 1 : 0;
    try {
      await this.store.db.updateTable('service_principals').set(changes).where('id', '=', row.id).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new TesseraError('Conflict', 'Another service principal has that name.');
      throw err;
    }
    this.touched(row.id);
    return { ...row, ...changes };
  }

  async delete(tenantId: string, idOrName: string): Promise<void> {
    const row = await this.get(tenantId, idOrName);
    refuseManaged(row);
    // As for removing an assignment: nobody may be left unable to manage roles.
    const rootOwners = await this.store.db
      .selectFrom('role_assignments')
      .select(['principal_id'])
      .where('tenant_id', '=', tenantId)
      .where('role_definition_id', '=', OWNER_ROLE_ID)
      .where('scope', '=', '/')
      .execute();
    if (rootOwners.some((o) => o.principal_id === row.id) && rootOwners.every((o) => o.principal_id === row.id)) {
      throw new TesseraError('Conflict', "This service principal holds the last Owner assignment at '/': assign Owner at '/' to someone else first.");
    }
    await this.store.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('sp_credentials').where('sp_id', '=', row.id).execute();
      await trx.deleteFrom('group_members').where('member_id', '=', row.id).execute();
      await trx.deleteFrom('role_assignments').where('principal_id', '=', row.id).execute();
      await trx.deleteFrom('service_principals').where('id', '=', row.id).execute();
    });
    this.touched(row.id);
  }

  private async checkRoom(spId: string): Promise<void> {
    const count = await this.store.db.selectFrom('sp_credentials').select((eb) => eb.fn.countAll<number>().as('n')).where('sp_id', '=', spId).executeTakeFirstOrThrow();
    if (Number(count.n) >= MAX_CREDENTIALS) throw new TesseraError('Conflict', `A service principal may have at most ${MAX_CREDENTIALS} credentials: delete one first.`);
  }

  private validity(endDateTime: string | undefined, defaultMs: number): { start: number; end: number } {
    const start = this.clock.now();
    const end = endDateTime === undefined ? start + defaultMs : Date.parse(endDateTime);
    if (!Number.isFinite(end)) throw new TesseraError('InvalidParameter', 'endDateTime must be an ISO 8601 date-time.');
    if (end <= start) throw new TesseraError('InvalidParameter', 'endDateTime must be in the future.');
    if (end - start > MAX_CREDENTIAL_MS + 24 * 3600_000) throw new TesseraError('InvalidParameter', 'A credential may live at most 2 years.');
    return { start, end };
  }

  /**
   * Adds a secret; returns it, the only time it is ever shown. With `replaceOthers`, the
   * principal's other secrets go in the same transaction (az's credential reset without
   * --append); nothing changes when the request is refused.
   */
  async addPassword(
    tenantId: string,
    idOrName: string,
    input: { displayName?: string | undefined; endDateTime?: string | undefined },
    replaceOthers = false,
  ): Promise<NewPasswordCredential> {
    const sp = await this.get(tenantId, idOrName);
    refuseManaged(sp);
    const { start, end } = this.validity(input.endDateTime, YEAR_MS);
    const displayName = input.displayName === undefined ? 'secret' : checkDisplayName(input.displayName);
    if (!replaceOthers) await this.checkRoom(sp.id);
    const secret = generateSecret(SecretPrefix.clientSecret);
    const row: CredentialRow = {
      key_id: crypto.randomUUID(),
      sp_id: sp.id,
      type: 'secret',
      display_name: displayName,
      secret_hash: hashSecret(secret),
      hint: secret.slice(SecretPrefix.clientSecret.length, SecretPrefix.clientSecret.length + 3),
      certificate_pem: null,
      thumbprint_sha1: null,
      thumbprint_sha256: null,
      start_at: start,
      end_at: end,
      created_at: start,
    };
    await this.store.db.transaction().execute(async (trx) => {
      if (replaceOthers) await trx.deleteFrom('sp_credentials').where('sp_id', '=', sp.id).where('type', '=', 'secret').execute();
      await trx.insertInto('sp_credentials').values(row).execute();
    });
    if (replaceOthers) this.touched(sp.id);
    return { ...passwordView(row), secretText: secret };
  }

  /** Registers a certificate for client assertions. */
  async addKey(tenantId: string, idOrName: string, input: { key: string; displayName?: string | undefined }): Promise<KeyCredentialView> {
    const sp = await this.get(tenantId, idOrName);
    refuseManaged(sp);
    await this.checkRoom(sp.id);
    const cert = parseCertificate(input.key);
    const now = this.clock.now();
    if (cert.notAfter <= now) throw new TesseraError('InvalidParameter', 'The certificate has expired.');
    const duplicate = await this.store.db.selectFrom('sp_credentials').select('key_id').where('sp_id', '=', sp.id).where('thumbprint_sha256', '=', cert.thumbprintSha256).executeTakeFirst();
    if (duplicate) throw new TesseraError('Conflict', 'That certificate is already registered for this service principal.');
    const row: CredentialRow = {
      key_id: crypto.randomUUID(),
      sp_id: sp.id,
      type: 'certificate',
      display_name: input.displayName === undefined ? 'certificate' : checkDisplayName(input.displayName),
      secret_hash: null,
      hint: null,
      certificate_pem: cert.pem,
      thumbprint_sha1: cert.thumbprintSha1,
      thumbprint_sha256: cert.thumbprintSha256,
      start_at: Math.max(now, cert.notBefore),
      end_at: Math.min(cert.notAfter, now + MAX_CREDENTIAL_MS),
      created_at: now,
    };
    await this.store.db.insertInto('sp_credentials').values(row).execute();
    return keyView(row);
  }

  /** Removes a secret or certificate; the next sign-in with it fails. */
  async removeCredential(tenantId: string, idOrName: string, keyId: string, type: 'secret' | 'certificate'): Promise<void> {
    const sp = await this.get(tenantId, idOrName);
    if (!isGuid(keyId)) throw new TesseraError('ResourceNotFound', 'The service principal has no credential with that keyId.');
    const result = await this.store.db.deleteFrom('sp_credentials').where('sp_id', '=', sp.id).where('key_id', '=', keyId.toLowerCase()).where('type', '=', type).executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw new TesseraError('ResourceNotFound', 'The service principal has no credential with that keyId.');
    this.touched(sp.id);
  }

  /**
   * The principal a client secret belongs to, if the secret is current. One indexed
   * lookup by the secret's hash, remembered for a second (dropped at once when this
   * replica changes the principal's credentials).
   */
  async bySecret(secret: string): Promise<{ sp: ServicePrincipalRow; keyId: string } | undefined> {
    if (!looksLikeSecret(secret, SecretPrefix.clientSecret)) return undefined;
    const hash = hashSecret(secret);
    const now = this.clock.now();
    const hit = this.secrets.get(hash);
    let found = hit && now - hit.at < SECRET_CACHE_MS ? hit.found : undefined;
    if (!hit || now - hit.at >= SECRET_CACHE_MS) {
      const generation = this.generation;
      const row = await this.store.db
        .selectFrom('sp_credentials')
        .innerJoin('service_principals', 'service_principals.id', 'sp_credentials.sp_id')
        .selectAll('service_principals')
        .select(['sp_credentials.key_id', 'sp_credentials.end_at'])
        .where('sp_credentials.secret_hash', '=', hash)
        .where('sp_credentials.start_at', '<=', now)
        .executeTakeFirst();
      if (row) {
        const { key_id: keyId, end_at: endAt, ...sp } = row;
        found = { sp, keyId, endAt };
      } else found = undefined;
      if (generation === this.generation) {
        if (this.secrets.size > 10_000) this.secrets.clear();
        this.secrets.set(hash, { at: now, found });
      }
    }
    if (!found || found.endAt <= now) return undefined;
    return { sp: found.sp, keyId: found.keyId };
  }

  /** The current certificates of a principal, for checking a client assertion. */
  certificates(spId: string): Promise<CredentialRow[]> {
    const now = this.clock.now();
    return this.store.db.selectFrom('sp_credentials').selectAll().where('sp_id', '=', spId).where('type', '=', 'certificate').where('start_at', '<=', now).where('end_at', '>', now).execute();
  }
}

function passwordView(c: CredentialRow): PasswordCredentialView {
  return { keyId: c.key_id, displayName: c.display_name, hint: c.hint ?? '', startDateTime: iso(c.start_at), endDateTime: iso(c.end_at) };
}

function keyView(c: CredentialRow): KeyCredentialView {
  return {
    keyId: c.key_id,
    displayName: c.display_name,
    type: 'AsymmetricX509Cert',
    usage: 'Verify',
    customKeyIdentifier: Buffer.from(c.thumbprint_sha1 ?? '', 'base64url').toString('hex').toUpperCase(),
    startDateTime: iso(c.start_at),
    endDateTime: iso(c.end_at),
  };
}
