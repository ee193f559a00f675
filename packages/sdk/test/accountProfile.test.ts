/**
 * AccountProfile, the SDK's `az account`: the subscriptions remembered in the session,
 * which one a command uses (argument > TESSERA_SUBSCRIPTION > account set > the first
 * enabled one), names matched without regard to case, ambiguous and unknown names
 * refused, a subscription made since sign-in found by asking again, and the tenant shown
 * for an account that sees none.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AccountProfile, SUBSCRIPTION_ENV, SubscriptionNotFoundError, SubscriptionUnavailableError, resourceOf } from '../src/accountProfile.js';
import { ActiveDirectoryAuthentication } from '../src/activeDirectoryAuthentication.js';
import { Audience, TESSERA_CLI_CLIENT_ID } from '../src/audience.js';
import { loginWithPassword } from '../src/cliLogin.js';
import { Directory } from '../src/directory.js';
import { ResourceManagement } from '../src/resourceManagement.js';
import { readStoredSession } from '../src/session.js';
import { TesseraClient } from '../src/tesseraClient.js';
import { ADMIN_PASSWORD, startLiveServer, type LiveServer } from './helpers/liveServer.js';

let server: LiveServer;
let arm: ResourceManagement;
let home: string;
let lab: string;
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-sdk-profile-'));
let n = 0;

async function signedIn(username = 'admin', password = ADMIN_PASSWORD): Promise<AccountProfile> {
  const configDir = path.join(root, `config-${++n}`);
  await loginWithPassword({ server: server.url, username, password, configDir });
  const profile = new AccountProfile({ configDir });
  await profile.refresh();
  return profile;
}

before(async () => {
  server = await startLiveServer();
  const auth = new ActiveDirectoryAuthentication({ authuri: server.url, tenant: 'organizations', clientid: TESSERA_CLI_CLIENT_ID, resource: Audience.ControlPlane, username: 'admin', password: ADMIN_PASSWORD });
  arm = new ResourceManagement(new TesseraClient(server.url, auth));
  home = (await arm.listSubscriptions())[0]!.subscriptionId;
  lab = (await arm.createSubscriptionAlias('lab', { displayName: 'Lab' })).properties.subscriptionId;
  await arm.createSubscriptionAlias('twin-1', { displayName: 'Twin' });
  await arm.createSubscriptionAlias('twin-2', { displayName: 'TWIN' });
  await new Directory(new TesseraClient(server.url, auth)).createUser({ userName: 'newcomer', password: 'Fresh-arrival-Pass-4711' });
});

after(async () => {
  await server.stop();
  fs.rmSync(root, { recursive: true, force: true });
  delete process.env[SUBSCRIPTION_ENV];
});

describe('AccountProfile', () => {
  test('remembers the subscriptions in the session, and shows the first enabled one as the default', async () => {
    const profile = await signedIn();
    const session = await readStoredSession(profile.auth.configDir);
    assert.deepEqual(session?.subscriptions?.map((s) => s.name), ['Tessera', 'Lab', 'Twin', 'TWIN']);
    const shown = await profile.show();
    assert.deepEqual([shown.id, shown.name, shown.isDefault, shown.user], [home, 'Tessera', true, { name: 'admin@tessera.local', type: 'user' }]);
  });

  test('resolve: an argument wins over TESSERA_SUBSCRIPTION, which wins over account set', async () => {
    const profile = await signedIn();
    await profile.set('lab');
    assert.deepEqual(await profile.resolve(), { subscriptionId: lab, source: 'session' });
    process.env[SUBSCRIPTION_ENV] = 'Tessera';
    try {
      assert.deepEqual(await profile.resolve(), { subscriptionId: home, source: 'environment' });
      assert.deepEqual(await profile.resolve('LAB'), { subscriptionId: lab, source: 'argument' });
    } finally {
      delete process.env[SUBSCRIPTION_ENV];
    }
  });

  test('an ambiguous or unknown name is a SubscriptionNotFoundError that says which', async () => {
    const profile = await signedIn();
    await assert.rejects(profile.set('twin'), (err: unknown) => err instanceof SubscriptionNotFoundError && /is ambiguous: 2 subscriptions have it/.test(err.message));
    await assert.rejects(profile.resolve('nowhere'), (err: unknown) => err instanceof SubscriptionNotFoundError && /Subscription "nowhere" not found/.test(err.message));
  });

  test('a subscription made after sign-in is found by name: the server is asked again', async () => {
    const profile = await signedIn();
    const made = (await arm.createSubscriptionAlias('later', { displayName: 'Later' })).properties.subscriptionId;
    assert.equal((await profile.show('later')).id, made);
    assert.ok((await profile.list()).some((s) => s.id === made), 'and it is remembered from then on');
  });

  test('an account that sees no subscription shows its tenant, as az login --allow-no-subscriptions does', async () => {
    const profile = await signedIn('newcomer', 'Fresh-arrival-Pass-4711');
    const shown = await profile.show();
    const { tenantId } = await profile.auth.account();
    assert.deepEqual([shown.id, shown.name, shown.tenantId], [tenantId, 'N/A(tenant level account)', tenantId]);
    assert.equal((await profile.getAccessToken()).subscription, tenantId);
    await assert.rejects(profile.resolve(), (err: unknown) => err instanceof SubscriptionUnavailableError && /No subscription is visible to this account/.test(err.message));
  });

  test('resourceOf: a scope is its resource with /.default taken off; both at once, or another scope, is refused', () => {
    assert.equal(resourceOf({ scope: 'https://management.azure.com//.default' }), 'https://management.azure.com/');
    assert.equal(resourceOf({ scope: 'api://tessera/workspace/.default' }), 'api://tessera/workspace');
    assert.equal(resourceOf({}), Audience.ControlPlane);
    assert.throws(() => resourceOf({ scope: 'openid' }), TypeError);
    assert.throws(() => resourceOf({ scope: '/.default' }), TypeError);
    assert.throws(() => resourceOf({ resource: 'a', scope: 'b/.default' }), TypeError);
  });
});
