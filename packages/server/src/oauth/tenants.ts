/**
 * Tenants and their aliases. `{tenant}` in a URL is a tenant id, the tenant's domain,
 * or `organizations`/`common` (the default tenant), matched without regard to case.
 * `adfs` names the default tenant too: the Azure CLI and MSAL treat an authority ending
 * in `/adfs` as an on-premises ADFS one (Azure Stack Hub's way) and then skip instance
 * discovery at login.microsoftonline.com, which is how `az` signs in to Tessera.
 */
import type { Selectable } from 'kysely';
import type { Store } from '../store/db.js';
import type { TenantsTable } from '../store/schema.js';
import { TesseraError } from '../errors.js';

export type Tenant = Selectable<TenantsTable>;

const DEFAULT_ALIASES = new Set(['organizations', 'common', 'adfs']);

export class Tenants {
  private byKey = new Map<string, Tenant>();
  private first: Tenant | undefined;

  constructor(private readonly store: Store) {}

  async load(): Promise<void> {
    const rows = await this.store.db.selectFrom('tenants').selectAll().orderBy('created_at').execute();
    const byKey = new Map<string, Tenant>();
    for (const row of rows) {
      byKey.set(row.id.toLowerCase(), row);
      byKey.set(row.domain.toLowerCase(), row);
    }
    this.byKey = byKey;
    this.first = rows[0];
  }

  /** The tenant a URL segment names, or undefined. */
  find(alias: string): Tenant | undefined {
    const key = alias.toLowerCase();
    return DEFAULT_ALIASES.has(key) ? this.first : this.byKey.get(key);
  }

  /** The tenant a URL segment names; throws an AAD-style error for an unknown one. */
  resolve(alias: string): Tenant {
    const tenant = this.find(alias);
    if (!tenant) throw new TesseraError('InvalidParameter', 'Tenant not found: no tenant has that id or domain name.', { aadCodes: [90002] });
    return tenant;
  }

  byId(id: string): Tenant | undefined {
    return this.byKey.get(id.toLowerCase());
  }

  /** The tenant `organizations` names. */
  defaultTenant(): Tenant {
    if (!this.first) throw new Error('no tenant: bootstrap has not run');
    return this.first;
  }

  domainOf(id: string): string {
    return this.byId(id)?.domain ?? 'unknown';
  }
}
