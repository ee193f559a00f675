/**
 * The workspace part: subscriptions (and their aliases), resource groups, workspaces, their models and web
 * services, and the quotas on both (compute and runs will join them). Built once by
 * {@link createWorkspaceServices}.
 */
import type { Store } from '../store/db.js';
import type { Clock } from '../clock.js';
import type { AccessControl } from '../access/assignments.js';
import { Subscriptions } from './subscriptions.js';
import { SubscriptionAliases } from './subscriptionAliases.js';
import { ResourceGroups, type ScopeRemoved } from './resourceGroups.js';
import { Workspaces } from './workspaces.js';
import { ScopeResolver } from './scopes.js';
import { ModelStorage } from './modelStorage.js';
import { Models } from './models.js';
import { WebServices } from './webServices.js';
import { Quotas } from './quotas.js';
import type { QuotaPolicy } from './quotaLimits.js';
import type { MasterKey } from '../crypto/masterKey.js';

export interface WorkspaceServices {
  subscriptions: Subscriptions;
  /** Subscription aliases: how subscriptions are created. */
  subscriptionAliases: SubscriptionAliases;
  resourceGroups: ResourceGroups;
  workspaces: Workspaces;
  /** Whether a scope's resources exist. */
  scopes: ScopeResolver;
  /** The model registry. */
  models: Models;
  /** Web services (online endpoints) and their keys. */
  webServices: WebServices;
  /** Limits on services, workers, memory and model storage, and their overrides. */
  quotas: Quotas;
  /** Called after a resource group or workspace is deleted (compute forgets the identities that went with it). */
  afterScopeRemoved: Array<() => Promise<void>>;
}

/** Where model files live, how large an upload may be, and the default quotas (from the server's config). */
export interface WorkspaceOptions {
  modelDir: string;
  modelUploadLimit: number;
  quotas: QuotaPolicy;
}

/** Builds the workspace part; deleting a resource removes the role assignments at its scope through `access`. */
export function createWorkspaceServices(store: Store, clock: Clock, access: AccessControl, options: WorkspaceOptions, master: MasterKey): WorkspaceServices {
  const afterScopeRemoved: Array<() => Promise<void>> = [];
  const scopeRemoved: ScopeRemoved = async (tenantId, scope) => {
    await access.assignments.removeUnder(tenantId, scope);
    for (const hook of afterScopeRemoved) await hook();
  };
  // Deleting workspaces deletes their model rows; their files go after, where nothing else
  // holds them, and so do their quota overrides. (Called only after every part below is built.)
  const workspacesRemoving = async (ids: string[]) => {
    const removeFiles = await models.contentsOf(ids);
    return async () => {
      await removeFiles();
      await quotas.forgetWorkspaces(ids);
    };
  };
  const subscriptions = new Subscriptions(store);
  const resourceGroups = new ResourceGroups(store, clock, subscriptions, scopeRemoved, workspacesRemoving);
  const workspaces = new Workspaces(store, clock, resourceGroups, scopeRemoved, workspacesRemoving);
  const quotas = new Quotas(store, clock, options.quotas, workspaces);
  const models = new Models(store, clock, new ModelStorage(store, clock, options.modelDir), options.modelUploadLimit, quotas);
  const webServices = new WebServices(store, clock, master, access, quotas);
  // Services record the model versions they use; a model in use cannot be deleted (409).
  models.setUsageCheck((ids, db) => webServices.servicesUsing(ids, db));
  webServices.setModelCatalog({
    async resolve(workspaceRowId, ref) {
      const v = await models.resolve(workspaceRowId, ref);
      return { id: v.id, workspaceId: v.workspaceId, name: v.name, version: v.version, hasOnnx: v.files.some((f) => f.path.toLowerCase().endsWith('.onnx')) };
    },
    async materialize(model) {
      return models.materialize(await models.getVersion(model.workspaceId, model.name, String(model.version)));
    },
  });
  const subscriptionAliases = new SubscriptionAliases(store, clock, subscriptions, access);
  return { subscriptions, subscriptionAliases, resourceGroups, workspaces, scopes: new ScopeResolver(subscriptions, resourceGroups, workspaces), models, webServices, quotas, afterScopeRemoved };
}
