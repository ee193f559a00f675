/**
 * ARM's Tenants - List (`GET /tenants`): the tenants a caller belongs to. `az login`
 * without `--tenant` lists them, then lists the subscriptions of each. A Tessera
 * principal belongs to exactly one tenant, its token's.
 */
import type { Tenant } from '../oauth/tenants.js';

/** A tenant in ARM's `TenantIdDescription` shape. */
export function tenantView(tenant: Tenant): Record<string, unknown> {
  return {
    id: `/tenants/${tenant.id}`,
    tenantId: tenant.id,
    tenantCategory: 'Home',
    displayName: tenant.display_name,
    defaultDomain: tenant.domain,
    domains: [tenant.domain],
    tenantType: 'AAD',
  };
}
