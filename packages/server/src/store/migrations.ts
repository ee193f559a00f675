/**
 * Schema migrations, applied in order at start (Kysely's Migrator records what ran).
 * One file per migration under migrations/; never edit a released one: add the next.
 */
import type { Migration } from 'kysely';
import { initial } from './migrations/0001_initial.js';
import { principalsAndResources } from './migrations/0002_principals_and_resources.js';
import { accessIndexes } from './migrations/0003_access_indexes.js';
import { audit } from './migrations/0004_audit.js';
import { models } from './migrations/0005_models.js';
import { webServices } from './migrations/0006_web_services.js';
import { serviceKeyScope } from './migrations/0007_service_key_scope.js';
import { interactiveSignIn } from './migrations/0008_interactive_sign_in.js';
import { confidentialChains } from './migrations/0009_confidential_chains.js';
import { quotas } from './migrations/0010_quotas.js';
import { compute } from './migrations/0011_compute.js';
import { signInMethods } from './migrations/0012_sign_in_methods.js';
import { mfa } from './migrations/0013_mfa.js';
import { conditionalAccess } from './migrations/0014_conditional_access.js';
import { directoryAccounts } from './migrations/0015_directory_accounts.js';
import { subscriptionLifecycle } from './migrations/0016_subscription_lifecycle.js';

/** All migrations by name; names sort in the order they apply. */
export const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_principals_and_resources': principalsAndResources,
  '0003_access_indexes': accessIndexes,
  '0004_audit': audit,
  '0005_models': models,
  '0006_web_services': webServices,
  '0007_service_key_scope': serviceKeyScope,
  '0008_interactive_sign_in': interactiveSignIn,
  '0009_confidential_chains': confidentialChains,
  '0010_quotas': quotas,
  '0011_compute': compute,
  '0012_sign_in_methods': signInMethods,
  '0013_mfa': mfa,
  '0014_conditional_access': conditionalAccess,
  '0015_directory_accounts': directoryAccounts,
  '0016_subscription_lifecycle': subscriptionLifecycle,
};
