/** What every grant handler receives and returns. One grant = one file beside this one. */
import type { Services } from '../../services.js';
import type { Tenant } from '../tenants.js';
import type { TokenResponse } from '../userTokens.js';
import type { AuditInfo } from '../../audit/requestAudit.js';

export interface GrantContext {
  services: Services;
  tenant: Tenant;
  tenantAsWritten: string;
  /** The form body; each parameter appears once (duplicates were refused). */
  params: Map<string, string>;
  /** The caller's address, for throttling. */
  address: string;
  /** `v1` for `/oauth2/token` (with `resource=`), `v2` for `/oauth2/v2.0/token`. */
  version: 'v1' | 'v2';
  /** The Authorization header, for HTTP Basic client authentication. */
  authorization: string | undefined;
  /** The request's audit record, which the grant tells who signed in. */
  audit: AuditInfo;
}

export interface Grant {
  /** The `grant_type` values it answers to. */
  grantTypes: string[];
  handler(ctx: GrantContext): Promise<TokenResponse>;
}
