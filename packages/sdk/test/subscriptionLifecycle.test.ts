/**
 * ResourceManagement's subscription lifecycle against a real server: an alias creates a
 * subscription (listed, Enabled), the same alias again answers it, rename, cancel (the
 * subscription is Disabled and a write under it is a TesseraApiError 409
 * ReadOnlyDisabledSubscription), enable, aliases listed and deleted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ActiveDirectoryAuthentication } from '../src/activeDirectoryAuthentication.js';
import { Audience, TESSERA_CLI_CLIENT_ID } from '../src/audience.js';
import { TesseraApiError } from '../src/errors.js';
import { ResourceManagement } from '../src/resourceManagement.js';
import { TesseraClient } from '../src/tesseraClient.js';
import { ADMIN_PASSWORD, startLiveServer, type LiveServer } from './helpers/liveServer.js';

let server: LiveServer;
let arm: ResourceManagement;

before(async () => {
  server = await startLiveServer();
  const auth = new ActiveDirectoryAuthentication({ authuri: server.url, tenant: 'organizations', clientid: TESSERA_CLI_CLIENT_ID, resource: Audience.ControlPlane, username: 'admin', password: ADMIN_PASSWORD });
  arm = new ResourceManagement(new TesseraClient(server.url, auth));
});

after(() => server.stop());

describe('ResourceManagement: the subscription lifecycle', () => {
  test('createSubscriptionAlias makes a subscription; again, it answers the same one', async () => {
    const alias = await arm.createSubscriptionAlias('sdk-team', { displayName: 'SDK team', workload: 'DevTest' });
    assert.equal(alias.type, 'Microsoft.Subscription/aliases');
    assert.equal(alias.properties.provisioningState, 'Succeeded');
    const sub = await arm.getSubscription(alias.properties.subscriptionId);
    assert.deepEqual([sub.displayName, sub.state], ['SDK team', 'Enabled']);
    const again = await arm.createSubscriptionAlias('sdk-team', { displayName: 'SDK team' });
    assert.equal(again.properties.subscriptionId, alias.properties.subscriptionId);
    assert.equal((await arm.getSubscriptionAlias('SDK-TEAM')).properties.subscriptionId, alias.properties.subscriptionId);
    assert.equal((await arm.listSubscriptions()).length, 2);
  });

  test('renameSubscription, cancelSubscription (writes refused with 409) and enableSubscription', async () => {
    const id = (await arm.getSubscriptionAlias('sdk-team')).properties.subscriptionId;
    assert.deepEqual(await arm.renameSubscription(id, 'SDK team (renamed)'), { subscriptionId: id });
    assert.equal((await arm.getSubscription(id)).displayName, 'SDK team (renamed)');
    assert.deepEqual(await arm.cancelSubscription(id), { subscriptionId: id });
    assert.equal((await arm.getSubscription(id)).state, 'Disabled');
    await assert.rejects(arm.createOrUpdateResourceGroup(id, 'rg', { location: 'local' }), (err: unknown) => {
      assert.ok(err instanceof TesseraApiError, String(err));
      assert.equal(err.status, 409);
      assert.equal(err.code, 'ReadOnlyDisabledSubscription');
      return true;
    });
    assert.deepEqual(await arm.enableSubscription(id), { subscriptionId: id });
    assert.equal((await arm.createOrUpdateResourceGroup(id, 'rg', { location: 'local' })).name, 'rg');
  });

  test('listSubscriptionAliases and deleteSubscriptionAlias (the subscription stays)', async () => {
    const [alias] = await arm.listSubscriptionAliases();
    assert.equal(alias?.name, 'sdk-team');
    await arm.deleteSubscriptionAlias('sdk-team');
    assert.deepEqual(await arm.listSubscriptionAliases(), []);
    assert.equal((await arm.getSubscription(alias.properties.subscriptionId)).state, 'Enabled');
  });

  test('alias names that cannot be a path segment are refused before anything is sent', () => {
    for (const bad of ['', '.', '..', 'a/b', 'a?b']) assert.throws(() => arm.getSubscriptionAlias(bad), TypeError);
  });
});
