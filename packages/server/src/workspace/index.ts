/**
 * The workspace part: subscriptions, resource groups, workspaces and their models (web
 * services, compute and runs will join them). Built once by {@link createWorkspaceServices}.
 */
import type { Store } from '../store/db.js';
import type { Clock } from '../clock.js';
import type { AccessControl } from '../access/assignments.js';
import { Subscriptions } from './subscriptions.js';
import { ResourceGroups, type ScopeRemoved } from './resourceGroups.js';
import { Workspaces } from './workspaces.js';
import { ScopeResolver } from './scopes.js';
import { ModelStorage } from './modelStorage.js';
import { Models } from './models.js';
import { WebServices } from './webServices.js';
import type { MasterKey } from '../crypto/masterKey.js';

export interface WorkspaceServices {
  subscriptions: Subscriptions;
  resourceGroups: ResourceGroups;
  workspaces: Workspaces;
  /** Whether a scope's resources exist. */
  scopes: ScopeResolver;
  /** The model registry. */
  models: Models;
  /** Web services (online endpoints) and their keys. */
  webServices: WebServices;
}

/** Where model files live and how large an upload may be (from the server's config). */
export interface ModelOptions {
  modelDir: string;
  modelUploadLimit: number;
}

/** Builds the workspace part; deleting a resource removes the role assignments at its scope through `access`. */
export function createWorkspaceServices(store: Store, clock: Clock, access: AccessControl, modelOptions: ModelOptions, master: MasterKey): WorkspaceServices {
  const scopeRemoved: ScopeRemoved = async (tenantId, scope) => {
    await access.assignments.removeUnder(tenantId, scope);
  };
  const models = new Models(store, clock, new ModelStorage(store, clock, modelOptions.modelDir), modelOptions.modelUploadLimit);
  // Deleting workspaces deletes their model rows; their files go after, where nothing else holds them.
  const workspacesRemoving = (ids: string[]) => models.contentsOf(ids);
  const subscriptions = new Subscriptions(store);
  const resourceGroups = new ResourceGroups(store, clock, subscriptions, scopeRemoved, workspacesRemoving);
  const workspaces = new Workspaces(store, clock, resourceGroups, scopeRemoved, workspacesRemoving);
  const webServices = new WebServices(store, clock, master, access);
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
  return { subscriptions, resourceGroups, workspaces, scopes: new ScopeResolver(subscriptions, resourceGroups, workspaces), models, webServices };
}
