/**
 * First start: one tenant (a GUID plus a domain-name alias), one subscription, the
 * tenant's signing key, and the local `admin` account holding Owner over everything,
 * as Machine Learning Server's default administrator did. The admin password is
 * TESSERA_ADMIN_PASSWORD, or generated and returned once, for the caller to print.
 */
import crypto from 'node:crypto';
import type { Services } from './services.js';
import { isUniqueViolation } from './store/db.js';
import { OWNER_ROLE_ID } from './access/roles.js';
import { checkPasswordPolicy } from './identity/passwords.js';
import { ConfigError } from './config.js';

export interface BootstrapResult {
  created: boolean;
  tenantId: string;
  tenantDomain: string;
  subscriptionId: string;
  adminUsername: string;
  /** Only when generated here; shown once, never stored in the clear. */
  generatedAdminPassword: string | undefined;
}

/** A generated password: 24 characters from a 57-symbol alphabet (about 140 bits). */
function generatePassword(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const bytes = crypto.randomBytes(48);
  let out = '';
  for (const b of bytes) {
    if (b < alphabet.length * 4) out += alphabet[b % alphabet.length];
    if (out.length === 24) break;
  }
  return out.length === 24 ? out : generatePassword();
}

export async function bootstrap(services: Services): Promise<BootstrapResult> {
  const { store, config, clock } = services;
  const existing = await store.db.selectFrom('tenants').selectAll().orderBy('created_at').executeTakeFirst();
  if (existing) {
    await services.tenants.load();
    await services.keys.ensureKey(existing.id, config.signingAlg);
    const sub = await store.db.selectFrom('subscriptions').select('id').where('tenant_id', '=', existing.id).orderBy('created_at').executeTakeFirst();
    return { created: false, tenantId: existing.id, tenantDomain: existing.domain, subscriptionId: sub?.id ?? '', adminUsername: 'admin', generatedAdminPassword: undefined };
  }
  const tenantId = crypto.randomUUID();
  const subscriptionId = crypto.randomUUID();
  const now = clock.now();
  const password = config.adminPassword ?? generatePassword();
  // Check before anything is written, so a weak TESSERA_ADMIN_PASSWORD leaves no half-made tenant.
  try {
    checkPasswordPolicy(password, 'admin');
  } catch (err) {
    throw new ConfigError(`TESSERA_ADMIN_PASSWORD is not acceptable: ${(err as Error).message}`);
  }
  try {
    await store.db.transaction().execute(async (trx) => {
      await trx.insertInto('tenants').values({ id: tenantId, domain: config.tenantDomain, display_name: 'Default Directory', created_at: now }).execute();
      await trx.insertInto('subscriptions').values({ id: subscriptionId, tenant_id: tenantId, display_name: 'Tessera', created_at: now }).execute();
    });
  } catch (err) {
    // Another replica bootstrapped first: use its tenant.
    if (isUniqueViolation(err)) return bootstrap(services);
    throw err;
  }
  await services.tenants.load();
  await services.keys.ensureKey(tenantId, config.signingAlg);
  const admin = await services.users.create(tenantId, { username: 'admin', displayName: 'Administrator', password });
  await services.access.assign({ tenantId, principalId: admin.id, principalType: 'User', roleDefinitionId: OWNER_ROLE_ID, scope: '/', createdBy: null });
  return {
    created: true,
    tenantId,
    tenantDomain: config.tenantDomain,
    subscriptionId,
    adminUsername: 'admin',
    generatedAdminPassword: config.adminPassword === undefined ? password : undefined,
  };
}
