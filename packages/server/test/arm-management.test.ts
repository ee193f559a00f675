/**
 * The management API on ARM's paths: subscriptions, resource groups and workspaces —
 * create (201) and update (200), read, list, delete with ARM's cascade, case-insensitive
 * paths and names, ARM's envelope, api-version accepted whatever its value.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STORE_KINDS, call } from './helpers.js';
import { adminToken, armPaths, assignRole, errorOf, newUser, startArmServer, type ArmTestServer } from './arm-helpers.js';

interface Resource {
  id: string;
  name: string;
  type: string;
  location: string;
  tags: Record<string, string>;
  properties: Record<string, unknown>;
}

for (const kind of STORE_KINDS) {
  describe(`ARM management API [${kind}]`, () => {
    let server: ArmTestServer;
    let admin: string;
    let p: ReturnType<typeof armPaths>;
    before(async () => {
      server = await startArmServer(kind);
      admin = await adminToken(server);
      p = armPaths(server);
    });
    after(() => server.close());

    it('lists the bootstrap subscription and shows it', async () => {
      const list = await call<{ value: { id: string; subscriptionId: string; tenantId: string; state: string }[] }>(`${server.url}/subscriptions?api-version=2022-12-01`, { token: admin });
      assert.equal(list.status, 200);
      assert.deepEqual(list.body.value.map((s) => s.subscriptionId), [server.subscriptionId]);
      assert.equal(list.body.value[0]!.tenantId, server.tenantId);
      const one = await call<{ id: string; state: string }>(p.url(p.sub), { token: admin });
      assert.equal(one.status, 200);
      assert.equal(one.body.id, p.sub);
      assert.equal(one.body.state, 'Enabled');
    });

    it('an unknown subscription is 404; a malformed one 400', async () => {
      const missing = await call(p.url('/subscriptions/00000000-0000-0000-0000-000000000001'), { token: admin });
      assert.equal(missing.status, 404);
      assert.equal(errorOf(missing.body).code, 'ResourceNotFound');
      assert.equal((await call(p.url('/subscriptions/not-a-guid'), { token: admin })).status, 400);
    });

    it('PUT creates a resource group (201) in ARM shape, PUT again updates it (200)', async () => {
      const created = await call<Resource>(p.url(p.rg('Team-A')), { method: 'PUT', token: admin, body: { location: 'West Europe', tags: { owner: 'ml' } } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.id, p.rg('Team-A'));
      assert.equal(created.body.name, 'Team-A');
      assert.equal(created.body.type, 'Microsoft.Resources/resourceGroups');
      assert.equal(created.body.location, 'westeurope');
      assert.deepEqual(created.body.tags, { owner: 'ml' });
      assert.equal(created.body.properties.provisioningState, 'Succeeded');
      const updated = await call<Resource>(p.url(p.rg('team-a')), { method: 'PUT', token: admin, body: { location: 'westeurope', tags: { owner: 'data' } } });
      assert.equal(updated.status, 200);
      assert.equal(updated.body.name, 'Team-A', 'the name is kept as first given');
      assert.deepEqual(updated.body.tags, { owner: 'data' });
    });

    it('a resource group cannot move to another location (409) and needs one to be created (400)', async () => {
      const moved = await call(p.url(p.rg('Team-A')), { method: 'PUT', token: admin, body: { location: 'eastus' } });
      assert.equal(moved.status, 409);
      const noLocation = await call(p.url(p.rg('no-location')), { method: 'PUT', token: admin, body: {} });
      assert.equal(noLocation.status, 400);
      assert.match(errorOf(noLocation.body).message, /location/);
    });

    it('path segments and names match without regard to case', async () => {
      const shout = `/SUBSCRIPTIONS/${server.subscriptionId.toUpperCase()}/RESOURCEGROUPS/TEAM-A`;
      const res = await call<Resource>(`${server.url}${shout}?API-VERSION=2021-04-01`, { token: admin });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.name, 'Team-A');
    });

    it('HEAD on a resource group answers 204 when it exists and 404 when not (az group exists)', async () => {
      assert.equal((await fetch(p.url(p.rg('team-a')), { method: 'HEAD', headers: { authorization: `Bearer ${admin}` } })).status, 204);
      assert.equal((await fetch(p.url(p.rg('nope')), { method: 'HEAD', headers: { authorization: `Bearer ${admin}` } })).status, 404);
    });

    it('PATCH changes a resource group\'s tags', async () => {
      const res = await call<Resource>(p.url(p.rg('Team-A')), { method: 'PATCH', token: admin, body: { tags: { env: 'dev' } } });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.tags, { env: 'dev' });
    });

    it('creates, reads, updates and lists workspaces', async () => {
      const created = await call<Resource>(p.url(p.ws('Team-A', 'vision')), {
        method: 'PUT',
        token: admin,
        body: { location: 'westeurope', properties: { friendlyName: 'Vision models', description: 'Image classifiers' }, identity: { type: 'SystemAssigned' }, sku: { name: 'Basic', tier: 'Basic' } },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.id, p.ws('Team-A', 'vision'));
      assert.equal(created.body.type, 'Microsoft.MachineLearningServices/workspaces');
      assert.equal(created.body.properties.friendlyName, 'Vision models');
      assert.equal(created.body.properties.provisioningState, 'Succeeded');
      assert.match(String(created.body.properties.workspaceId), /^[0-9a-f-]{36}$/);
      const again = await call<Resource>(p.url(p.ws('team-a', 'VISION')), { method: 'PUT', token: admin, body: { properties: { description: 'Replaced' } } });
      assert.equal(again.status, 200);
      assert.equal(again.body.properties.description, 'Replaced');
      assert.equal(again.body.properties.friendlyName, 'vision', 'PUT replaces the properties');
      const patched = await call<Resource>(p.url(p.ws('Team-A', 'vision')), { method: 'PATCH', token: admin, body: { properties: { friendlyName: 'Vision' } } });
      assert.equal(patched.body.properties.friendlyName, 'Vision');
      assert.equal(patched.body.properties.description, 'Replaced', 'PATCH merges');
      await call(p.url(p.ws('Team-A', 'speech')), { method: 'PUT', token: admin, body: {} });
      const inGroup = await call<{ value: Resource[] }>(p.url(`${p.rg('team-a')}/providers/Microsoft.MachineLearningServices/workspaces`), { token: admin });
      assert.deepEqual(inGroup.body.value.map((w) => w.name), ['speech', 'vision']);
      assert.equal(inGroup.body.value[0]!.location, 'westeurope', "a workspace's location defaults to its group's");
      const inSub = await call<{ value: Resource[] }>(p.url(`${p.sub}/providers/Microsoft.MachineLearningServices/workspaces`), { token: admin });
      assert.deepEqual(inSub.body.value.map((w) => w.name), ['speech', 'vision']);
    });

    it('a workspace in a missing group is 404; an invalid workspace name 400', async () => {
      const res = await call(p.url(p.ws('no-such-group', 'abc')), { method: 'PUT', token: admin, body: {} });
      assert.equal(res.status, 404);
      assert.match(errorOf(res.body).message, /Resource group 'no-such-group' could not be found/);
      for (const bad of ['ab', 'x'.repeat(34), '-lead', 'has.dot', 'sp ace']) {
        const r = await call(p.url(p.ws('Team-A', encodeURIComponent(bad))), { method: 'PUT', token: admin, body: {} });
        assert.equal(r.status, 400, bad);
        assert.match(errorOf(r.body).message, /workspace name/);
      }
    });

    it('GET of a missing workspace is 404; DELETE of one is 204', async () => {
      assert.equal((await call(p.url(p.ws('Team-A', 'ghost')), { token: admin })).status, 404);
      assert.equal((await call(p.url(p.ws('Team-A', 'ghost')), { method: 'DELETE', token: admin })).status, 204);
    });

    it('deleting a resource group deletes its workspaces and the role assignments at and below it', async () => {
      await call(p.url(p.rg('doomed')), { method: 'PUT', token: admin, body: { location: 'westeurope' } });
      await call(p.url(p.ws('doomed', 'inside')), { method: 'PUT', token: admin, body: {} });
      const user = await newUser(server, admin, 'doomed-reader');
      await assignRole(server, admin, p.rg('doomed'), user.id, 'Reader');
      await assignRole(server, admin, p.ws('doomed', 'inside'), user.id, 'Contributor');
      assert.equal((await call(p.url(p.ws('doomed', 'inside')), { token: user.token })).status, 200);
      const del = await call(p.url(p.rg('Doomed')), { method: 'DELETE', token: admin });
      assert.equal(del.status, 200);
      assert.equal((await call(p.url(p.rg('doomed')), { token: admin })).status, 404);
      assert.equal((await call(p.url(p.ws('doomed', 'inside')), { token: admin })).status, 404);
      const left = await call<{ value: unknown[] }>(p.url(`/providers/Microsoft.Authorization/roleAssignments`, `api-version=2022-04-01&$filter=principalId eq '${user.id}'`), { token: admin });
      assert.equal(left.status, 200);
      assert.deepEqual(left.body.value, [], 'the assignments went with the group');
      // A group recreated under the same name does not inherit the old grants.
      await call(p.url(p.rg('doomed')), { method: 'PUT', token: admin, body: { location: 'westeurope' } });
      assert.equal((await call(p.url(p.rg('doomed')), { token: user.token })).status, 403);
      assert.equal((await call(p.url(p.rg('doomed')), { method: 'DELETE', token: admin })).status, 200);
      assert.equal((await call(p.url(p.rg('doomed')), { method: 'DELETE', token: admin })).status, 404);
    });

    it('a group named with a letter outside the BMP: its assignments below it are listed, and go with it when it is deleted', async () => {
      // '𝒜' is one code point but two UTF-16 units: scopes below the group must still match it.
      const name = '𝒜-doomed';
      const group = p.rg(encodeURIComponent(name));
      const inside = p.ws(encodeURIComponent(name), 'inside');
      assert.equal((await call(p.url(group), { method: 'PUT', token: admin, body: { location: 'westeurope' } })).status, 201);
      assert.equal((await call(p.url(inside), { method: 'PUT', token: admin, body: {} })).status, 201);
      const user = await newUser(server, admin, 'script-a-reader');
      await assignRole(server, admin, group, user.id, 'Reader');
      const below = await assignRole(server, admin, inside, user.id, 'Contributor');
      const atGroup = await call<{ value: { name: string }[] }>(p.url(`${group}/providers/Microsoft.Authorization/roleAssignments`, 'api-version=2022-04-01'), { token: admin });
      assert.ok(atGroup.body.value.some((a) => a.name === below), 'the list at the group shows the assignment below it');
      assert.equal((await call(p.url(group), { method: 'DELETE', token: admin })).status, 200);
      const left = await call<{ value: unknown[] }>(p.url(`/providers/Microsoft.Authorization/roleAssignments`, `api-version=2022-04-01&$filter=principalId eq '${user.id}'`), { token: admin });
      assert.deepEqual(left.body.value, [], 'the assignments at and below the group went with it');
      // Recreated under the same name, the group and its workspace do not bring the old grants back.
      assert.equal((await call(p.url(group), { method: 'PUT', token: admin, body: { location: 'westeurope' } })).status, 201);
      assert.equal((await call(p.url(inside), { method: 'PUT', token: admin, body: {} })).status, 201);
      assert.equal((await call(p.url(inside), { token: user.token })).status, 403);
      assert.equal((await call(p.url(inside), { method: 'PATCH', token: user.token, body: { tags: { x: 'y' } } })).status, 403);
    });

    it('any api-version value is accepted, and none at all', async () => {
      for (const v of ['2023-10-01', '1999-01-01-preview', 'banana']) {
        assert.equal((await call(`${server.url}${p.rg('Team-A')}?api-version=${v}`, { token: admin })).status, 200, v);
      }
      assert.equal((await call(`${server.url}${p.rg('Team-A')}`, { token: admin })).status, 200);
    });

    it('without a token: 401 with a Bearer challenge', async () => {
      const res = await call(p.url(p.rg('Team-A')));
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
    });

    it('paths that are not ARM are still 404 RouteNotFound, without needing a token', async () => {
      const res = await call(`${server.url}/nothing/here`, { method: 'PUT', body: {} });
      assert.equal(res.status, 404);
      assert.equal(errorOf(res.body).code, 'RouteNotFound');
      const unknown = await call(p.url(`${p.sub}/frobnicators/x`), { token: admin });
      assert.equal(unknown.status, 404);
      assert.equal((await call(p.url(p.sub), { method: 'PUT', token: admin, body: {} })).status, 404, 'subscriptions are not created through the API');
    });
  });
}
