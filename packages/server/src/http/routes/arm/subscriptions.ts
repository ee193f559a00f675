/**
 * Azure's Microsoft.Subscription provider: aliases at the tenant's root (`PUT
 * /providers/Microsoft.Subscription/aliases/{name}` creates a subscription) and the
 * rename, cancel and enable actions on a subscription. The router's one rule checks
 * them all: `Microsoft.Subscription/aliases/read|write|delete` at `/`, and
 * `Microsoft.Subscription/{rename,cancel,enable}/action` on the subscription.
 */
import { SUBSCRIPTION_TYPE } from '../../../workspace/resourceIds.js';
import { readAliasRequest } from '../../../workspace/subscriptionAliases.js';
import { subscriptionAliasView } from '../../../workspace/views.js';
import type { SubscriptionState } from '../../../workspace/subscriptions.js';
import { fields, objectBody } from '../../../validation/jsonFields.js';
import type { ArmContext, ArmOperation } from './router.js';

export const ALIAS_TYPE = 'Microsoft.Subscription/aliases';

const putAlias: ArmOperation = {
  method: 'PUT',
  shape: 'instance',
  resourceType: ALIAS_TYPE,
  parents: ['root'],
  async handle(ctx) {
    const request = readAliasRequest(ctx.body);
    const creator = { principalId: ctx.caller.objectId, principalType: ctx.caller.kind === 'user' ? 'User' : 'ServicePrincipal' } as const;
    const record = await ctx.services.workspace.subscriptionAliases.put(ctx.caller.tenantId, ctx.name!, request, creator);
    return { status: record.created ? 201 : 200, body: subscriptionAliasView(record) };
  },
};

const getAlias: ArmOperation = {
  method: 'GET',
  shape: 'instance',
  resourceType: ALIAS_TYPE,
  parents: ['root'],
  async handle(ctx) {
    return { body: subscriptionAliasView(await ctx.services.workspace.subscriptionAliases.get(ctx.caller.tenantId, ctx.name!)) };
  },
};

const listAliases: ArmOperation = {
  method: 'GET',
  shape: 'collection',
  resourceType: ALIAS_TYPE,
  parents: ['root'],
  async handle(ctx) {
    return { body: { value: (await ctx.services.workspace.subscriptionAliases.list(ctx.caller.tenantId)).map(subscriptionAliasView) } };
  },
};

const deleteAlias: ArmOperation = {
  method: 'DELETE',
  shape: 'instance',
  resourceType: ALIAS_TYPE,
  parents: ['root'],
  async handle(ctx) {
    return { status: (await ctx.services.workspace.subscriptionAliases.delete(ctx.caller.tenantId, ctx.name!)) ? 200 : 204 };
  },
};

const renameSubscription: ArmOperation = {
  method: 'POST',
  shape: 'action',
  resourceType: 'Microsoft.Subscription/rename',
  parents: [SUBSCRIPTION_TYPE],
  async handle(ctx) {
    const body = fields(objectBody(ctx.body), ['subscriptionName'], 'The rename request');
    const row = await ctx.services.workspace.subscriptions.rename(ctx.caller.tenantId, ctx.levels[0]!.name, body.subscriptionName);
    return { body: { subscriptionId: row.id } };
  },
};

/** cancel and enable take no body (an empty object is accepted); cancel's `ignoreResourceCheck` changes nothing, as resources are kept. */
function stateAction(action: 'cancel' | 'enable', state: SubscriptionState): ArmOperation {
  return {
    method: 'POST',
    shape: 'action',
    resourceType: `Microsoft.Subscription/${action}`,
    parents: [SUBSCRIPTION_TYPE],
    // Enabling is the one write a Disabled subscription takes.
    allowedWhenDisabled: action === 'enable',
    async handle(ctx: ArmContext) {
      if (ctx.body !== undefined && ctx.body !== null) fields(objectBody(ctx.body), [], `The ${action} request`);
      const row = await ctx.services.workspace.subscriptions.setState(ctx.caller.tenantId, ctx.levels[0]!.name, state);
      return { body: { subscriptionId: row.id } };
    },
  };
}

/** The operations of the Microsoft.Subscription provider. */
export const subscriptionOperations: ArmOperation[] = [putAlias, getAlias, listAliases, deleteAlias, renameSubscription, stateAction('cancel', 'Disabled'), stateAction('enable', 'Enabled')];
