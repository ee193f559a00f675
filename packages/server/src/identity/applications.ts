/**
 * Registered applications, in Microsoft Graph's `application` shape: a client id, a
 * display name, redirect URIs for public clients (native apps and CLIs: PKCE, no secret)
 * and for web apps (confidential: they authenticate at the token endpoint), and
 * `isFallbackPublicClient` ("allow public client flows": device code and password
 * without a secret). Each application has a service principal with the same app id,
 * created and deleted with it, which holds its secrets and certificates and is what role
 * assignments name, as in Entra ID.
 */
import crypto from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Store } from '../store/db.js';
import { isUniqueViolation } from '../store/db.js';
import type { ApplicationsTable } from '../store/schema.js';
import type { Clock } from '../clock.js';
import { TesseraError } from '../errors.js';
import { checkRedirectUris } from '../oauth/redirectUris.js';
import { checkDisplayName, hasControlChars, isGuid } from './validate.js';
import type { ServicePrincipals, ServicePrincipalRow } from './servicePrincipals.js';

export type ApplicationRow = Selectable<ApplicationsTable>;

/** An application as Graph shows it. */
export interface ApplicationView {
  id: string;
  appId: string;
  displayName: string;
  createdDateTime: string;
  isFallbackPublicClient: boolean;
  publicClient: { redirectUris: string[] };
  web: { redirectUris: string[] };
  signInAudience: 'AzureADMyOrg';
  /** The object id of its service principal (Tessera's addition: what role assignments name). */
  servicePrincipalId: string | null;
}

export interface ApplicationInput {
  displayName?: string | undefined;
  publicRedirectUris?: readonly string[] | undefined;
  webRedirectUris?: readonly string[] | undefined;
  isFallbackPublicClient?: boolean | undefined;
}

function parseUris(json: string): string[] {
  const value = JSON.parse(json) as unknown;
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

export class Applications {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly servicePrincipals: ServicePrincipals,
  ) {}

  view(row: ApplicationRow, sp: ServicePrincipalRow | undefined): ApplicationView {
    return {
      id: row.id,
      appId: row.app_id,
      displayName: row.display_name,
      createdDateTime: new Date(row.created_at).toISOString(),
      isFallbackPublicClient: row.is_fallback_public_client === 1,
      publicClient: { redirectUris: parseUris(row.public_redirect_uris) },
      web: { redirectUris: parseUris(row.web_redirect_uris) },
      signInAudience: 'AzureADMyOrg',
      servicePrincipalId: sp?.id ?? null,
    };
  }

  /** The view with its service principal looked up. */
  async describe(row: ApplicationRow): Promise<ApplicationView> {
    return this.view(row, await this.servicePrincipals.byAppId(row.app_id));
  }

  /** Registers an application and its service principal. */
  async create(tenantId: string, input: ApplicationInput & { displayName: string }, createdBy: string | null): Promise<ApplicationRow> {
    const publicUris = checkRedirectUris(input.publicRedirectUris ?? [], 'public');
    const webUris = checkRedirectUris(input.webRedirectUris ?? [], 'web');
    const appId = crypto.randomUUID();
    // The principal first: it owns the unique display name, so a clash is refused before anything is written.
    const sp = await this.servicePrincipals.create(tenantId, input.displayName, createdBy, appId);
    const row: ApplicationRow = {
      id: crypto.randomUUID(),
      tenant_id: tenantId,
      app_id: appId,
      display_name: sp.display_name,
      name_key: sp.display_name.toLowerCase(),
      public_redirect_uris: JSON.stringify(publicUris),
      web_redirect_uris: JSON.stringify(webUris),
      is_fallback_public_client: input.isFallbackPublicClient ? 1 : 0,
      created_at: this.clock.now(),
      created_by: createdBy,
    };
    try {
      await this.store.db.insertInto('applications').values(row).execute();
    } catch (err) {
      await this.servicePrincipals.delete(tenantId, sp.id).catch(() => undefined);
      // The name of an application whose principal was deleted on its own.
      if (isUniqueViolation(err)) throw new TesseraError('Conflict', 'Another application has that name.');
      throw err;
    }
    return row;
  }

  /**
   * Refuses a name another application of the tenant has. The service principal's unique
   * name key guards this as a rule; this covers an application whose principal was
   * deleted on its own (Graph allows that), which would otherwise leave its name free
   * for a second application, and make lookups by name ambiguous.
   */
  /** Finds one by object id, application id or display name. */
  async get(tenantId: string, idOrName: string): Promise<ApplicationRow> {
    const key = idOrName.trim().toLowerCase();
    const query = this.store.db.selectFrom('applications').selectAll().where('tenant_id', '=', tenantId);
    let row: ApplicationRow | undefined;
    if (!hasControlChars(idOrName) && key.length > 0 && key.length <= 256) {
      row = isGuid(key)
        ? await query.where((eb) => eb.or([eb('id', '=', key), eb('app_id', '=', key)])).executeTakeFirst()
        : await query.where('name_key', '=', key).executeTakeFirst();
    }
    if (!row) throw new TesseraError('ResourceNotFound', 'No application has that id, application id or name.');
    return row;
  }

  /** The application with this client id, in any tenant (the caller checks the tenant). */
  async byAppId(appId: string): Promise<ApplicationRow | undefined> {
    if (!isGuid(appId)) return undefined;
    return this.store.db.selectFrom('applications').selectAll().where('app_id', '=', appId.toLowerCase()).executeTakeFirst();
  }

  list(tenantId: string, top: number): Promise<ApplicationRow[]> {
    return this.store.db.selectFrom('applications').selectAll().where('tenant_id', '=', tenantId).orderBy('display_name').limit(top).execute();
  }

  async update(tenantId: string, idOrName: string, patch: ApplicationInput): Promise<ApplicationRow> {
    const row = await this.get(tenantId, idOrName);
    const changes: Partial<ApplicationRow> = {};
    if (patch.publicRedirectUris !== undefined) changes.public_redirect_uris = JSON.stringify(checkRedirectUris(patch.publicRedirectUris, 'public'));
    if (patch.webRedirectUris !== undefined) changes.web_redirect_uris = JSON.stringify(checkRedirectUris(patch.webRedirectUris, 'web'));
    if (patch.isFallbackPublicClient !== undefined) changes.is_fallback_public_client = patch.isFallbackPublicClient ? 1 : 0;
    if (patch.displayName !== undefined) {
      const sp = await this.servicePrincipals.byAppId(row.app_id);
      const renamed = sp ? await this.servicePrincipals.update(tenantId, sp.id, { displayName: patch.displayName }) : undefined;
      changes.display_name = renamed?.display_name ?? checkDisplayName(patch.displayName);
      changes.name_key = changes.display_name.toLowerCase();
    }
    if (Object.keys(changes).length > 0) {
      try {
        await this.store.db.updateTable('applications').set(changes).where('id', '=', row.id).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw new TesseraError('Conflict', 'Another application has that name.');
        throw err;
      }
    }
    return { ...row, ...changes };
  }

  /** Deletes the application and its service principal (and so its credentials and role assignments). */
  async delete(tenantId: string, idOrName: string): Promise<void> {
    const row = await this.get(tenantId, idOrName);
    const sp = await this.servicePrincipals.byAppId(row.app_id);
    // The principal's delete refuses to remove the last Owner at '/': check that before the application goes.
    if (sp) await this.servicePrincipals.delete(tenantId, sp.id);
    await this.store.db.deleteFrom('applications').where('id', '=', row.id).execute();
  }
}
