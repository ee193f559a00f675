/**
 * The management API, on Azure Resource Manager's paths: subscriptions (with
 * Microsoft.Subscription's aliases, rename, cancel and enable), resource groups,
 * workspaces, role definitions and assignments, and Tessera's access check. Later parts
 * (models, compute, endpoints) add their operations through `extra`.
 */
import type { FastifyInstance } from 'fastify';
import { ArmRouter, type ArmOperation, type ArmServices } from './router.js';
import { resourceOperations } from './resources.js';
import { authorizationOperations } from './authorization.js';
import { subscriptionOperations } from './subscriptions.js';

export type { ArmContext, ArmOperation, ArmResult, ArmServices } from './router.js';
export { permissionFor } from './router.js';

/** Registers the management API on `app` (mounted under the public URL's path). */
export function armRoutes(app: FastifyInstance, services: ArmServices, extra: readonly ArmOperation[] = []): void {
  new ArmRouter(services)
    .add(...resourceOperations, ...authorizationOperations, ...subscriptionOperations, ...extra)
    .register(app);
}
