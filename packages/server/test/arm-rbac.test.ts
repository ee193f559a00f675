/**
 * Least privilege, over the management API: a Reader reads but cannot write; a
 * Contributor writes but cannot assign roles; an Owner of one workspace cannot touch its
 * sibling; NotActions subtract (within their own role only); a custom role cannot be
 * assigned outside its AssignableScopes; the AzureML roles do what Azure's do; a group's
 * assignment reaches its members and stops when they leave; a removed assignment or a
 * disabled account stops on the next request.
 */
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STORE_KINDS, call, type JsonResponse } from './helpers.js';
import { adminToken, armPaths, assignRole, errorOf, newUser, startArmServer, type ArmTestServer } from './arm-helpers.js';

function assertDenied(res: JsonResponse, action: string, scope: string): void {
  assert.equal(res.status, 403, JSON.stringify(res.body));
  const error = errorOf(res.body);
  assert.equal(error.code, 'AuthorizationFailed');
  assert.ok(
    error.message.includes(`does not have authorization to perform action '${action}' over scope '${scope}'`),
    `expected action ${action} over ${scope} in: ${error.message}`,
  );
  assert.match(error.message, /^The client '[^']+' with object id '[0-9a-f-]{36}'/);
}

for (const kind of STORE_KINDS) {
  describe(`ARM role-based access [${kind}]`, () => {
    let server: ArmTestServer;
    let admin: string;
    let p: ReturnType<typeof armPaths>;
    const put = (path: string, token: string, body: unknown = {}) => call(p.url(path), { method: 'PUT', token, body });
    const get = (path: string, token: string) => call(p.url(path), { token });
    const del = (path: string, token: string) => call(p.url(path), { method: 'DELETE', token });
    const assignmentUrl = (scope: string, id: string = crypto.randomUUID()) => `${scope}/providers/Microsoft.Authorization/roleAssignments/${id}`;

    before(async () => {
      server = await startArmServer(kind);
      admin = await adminToken(server);
      p = armPaths(server);
      assert.equal((await put(p.rg('rbac'), admin, { location: 'westeurope' })).status, 201);
      assert.equal((await put(p.rg('other'), admin, { location: 'westeurope' })).status, 201);
      assert.equal((await put(p.ws('rbac', 'ws1'), admin)).status, 201);
      assert.equal((await put(p.ws('rbac', 'ws2'), admin)).status, 201);
    });
    after(() => server.close());

    it('a user with no role is refused everywhere, with the action and scope named', async () => {
      const nobody = await newUser(server, admin, 'nobody');
      assertDenied(await get(p.rg('rbac'), nobody.token), 'Microsoft.Resources/subscriptions/resourceGroups/read', p.rg('rbac'));
      assertDenied(await get(p.ws('rbac', 'ws1'), nobody.token), 'Microsoft.MachineLearningServices/workspaces/read', p.ws('rbac', 'ws1'));
      assertDenied(await put(p.rg('mine'), nobody.token, { location: 'westeurope' }), 'Microsoft.Resources/subscriptions/resourceGroups/write', p.rg('mine'));
      assertDenied(await get(p.ws('rbac', 'does-not-exist'), nobody.token), 'Microsoft.MachineLearningServices/workspaces/read', p.ws('rbac', 'does-not-exist'));
      const subs = await call<{ value: unknown[] }>(`${server.url}/subscriptions?api-version=2022-12-01`, { token: nobody.token });
      assert.equal(subs.status, 200);
      assert.deepEqual(subs.body.value, [], 'lists hold only what the caller may read');
      assertDenied(await get(p.sub, nobody.token), 'Microsoft.Resources/subscriptions/read', p.sub);
    });

    it('a user with no role cannot tell an existing parent from a missing one by listing under it: 403 for both', async () => {
      const prober = await newUser(server, admin, 'prober');
      const workspacesIn = (group: string) => get(`${p.rg(group)}/providers/Microsoft.MachineLearningServices/workspaces`, prober.token);
      const present = await workspacesIn('rbac');
      const absent = await workspacesIn('no-such-group');
      assert.equal(present.status, absent.status);
      assertDenied(present, 'Microsoft.MachineLearningServices/workspaces/read', p.rg('rbac'));
      assertDenied(absent, 'Microsoft.MachineLearningServices/workspaces/read', p.rg('no-such-group'));
      const missingSub = '/subscriptions/00000000-0000-0000-0000-00000000abcd';
      const groupsIn = (sub: string) => get(`${sub}/resourcegroups`, prober.token);
      const realGroups = await groupsIn(p.sub);
      const ghostGroups = await groupsIn(missingSub);
      assert.equal(realGroups.status, ghostGroups.status);
      assertDenied(realGroups, 'Microsoft.Resources/subscriptions/resourceGroups/read', p.sub);
      assertDenied(ghostGroups, 'Microsoft.Resources/subscriptions/resourceGroups/read', missingSub);
      const workspacesInSub = (sub: string) => get(`${sub}/providers/Microsoft.MachineLearningServices/workspaces`, prober.token);
      assert.equal((await workspacesInSub(p.sub)).status, 403);
      assert.equal((await workspacesInSub(missingSub)).status, 403);
      // A role inside the parent is enough to list it (and so to learn it exists).
      await assignRole(server, admin, p.ws('rbac', 'ws2'), prober.id, 'Reader');
      const listed = await call<{ value: { name: string }[] }>(p.url(`${p.rg('rbac')}/providers/Microsoft.MachineLearningServices/workspaces`), { token: prober.token });
      assert.equal(listed.status, 200);
      assert.deepEqual(listed.body.value.map((w) => w.name), ['ws2']);
      assertDenied(await workspacesIn('no-such-group'), 'Microsoft.MachineLearningServices/workspaces/read', p.rg('no-such-group'));
    });

    it('concurrent PUTs of the same assignment under different ids: one is created, the rest are 409', async () => {
      const user = await newUser(server, admin, 'racer');
      const body = { properties: { roleDefinitionId: 'acdd72a7-3385-48ef-bd42-f606fba81ae7', principalId: user.id } };
      const results = await Promise.all(Array.from({ length: 4 }, () => put(assignmentUrl(p.rg('rbac')), admin, body)));
      assert.deepEqual(results.map((r) => r.status).sort(), [201, 409, 409, 409]);
    });

    it('a Reader reads but cannot write, delete or assign roles', async () => {
      const reader = await newUser(server, admin, 'reader');
      await assignRole(server, admin, p.rg('rbac'), reader.id, 'Reader');
      assert.equal((await get(p.rg('rbac'), reader.token)).status, 200);
      assert.equal((await get(p.ws('rbac', 'ws1'), reader.token)).status, 200);
      const list = await call<{ value: { name: string }[] }>(p.url(`${p.rg('rbac')}/providers/Microsoft.MachineLearningServices/workspaces`), { token: reader.token });
      assert.deepEqual(list.body.value.map((w) => w.name), ['ws1', 'ws2']);
      const groups = await call<{ value: { name: string }[] }>(p.url(`${p.sub}/resourcegroups`), { token: reader.token });
      assert.deepEqual(groups.body.value.map((g) => g.name), ['rbac'], "the other group is not the Reader's to see");
      assertDenied(await put(p.ws('rbac', 'ws1'), reader.token), 'Microsoft.MachineLearningServices/workspaces/write', p.ws('rbac', 'ws1'));
      assertDenied(await del(p.ws('rbac', 'ws2'), reader.token), 'Microsoft.MachineLearningServices/workspaces/delete', p.ws('rbac', 'ws2'));
      assertDenied(await del(p.rg('rbac'), reader.token), 'Microsoft.Resources/subscriptions/resourceGroups/delete', p.rg('rbac'));
      const assign = await put(assignmentUrl(p.rg('rbac')), reader.token, { properties: { roleDefinitionId: 'Owner', principalId: reader.id } });
      assertDenied(assign, 'Microsoft.Authorization/roleAssignments/write', p.rg('rbac'));
      assertDenied(await get(p.rg('other'), reader.token), 'Microsoft.Resources/subscriptions/resourceGroups/read', p.rg('other'));
    });

    it('a Contributor writes but cannot assign or remove roles', async () => {
      const contributor = await newUser(server, admin, 'contributor');
      const theirs = await assignRole(server, admin, p.rg('rbac'), contributor.id, 'Contributor');
      assert.equal((await put(p.ws('rbac', 'ws3'), contributor.token)).status, 201);
      assert.equal((await call(p.url(p.ws('rbac', 'ws3')), { method: 'PATCH', token: contributor.token, body: { tags: { by: 'contributor' } } })).status, 200);
      assert.equal((await del(p.ws('rbac', 'ws3'), contributor.token)).status, 200);
      const someone = await newUser(server, admin, 'someone');
      assertDenied(
        await put(assignmentUrl(p.ws('rbac', 'ws1')), contributor.token, { properties: { roleDefinitionId: 'Reader', principalId: someone.id } }),
        'Microsoft.Authorization/roleAssignments/write',
        p.ws('rbac', 'ws1'),
      );
      assertDenied(await del(assignmentUrl(p.rg('rbac'), theirs), contributor.token), 'Microsoft.Authorization/roleAssignments/delete', p.rg('rbac'));
      assert.equal((await get(assignmentUrl(p.rg('rbac'), theirs), contributor.token)).status, 200, 'but may read assignments');
      assertDenied(await put(p.rg('other'), contributor.token, { location: 'westeurope' }), 'Microsoft.Resources/subscriptions/resourceGroups/write', p.rg('other'));
    });

    it('an Owner of one workspace cannot touch its sibling or its group', async () => {
      const owner = await newUser(server, admin, 'ws1owner');
      await assignRole(server, admin, p.ws('rbac', 'ws1'), owner.id, 'Owner');
      assert.equal((await put(p.ws('rbac', 'ws1'), owner.token, { tags: { mine: 'yes' } })).status, 200);
      const helper = await newUser(server, admin, 'ws1helper');
      await assignRole(server, owner.token, p.ws('rbac', 'ws1'), helper.id, 'Reader');
      assert.equal((await get(p.ws('rbac', 'ws1'), helper.token)).status, 200, "an Owner assigns roles within its scope");
      assertDenied(await get(p.ws('rbac', 'ws2'), owner.token), 'Microsoft.MachineLearningServices/workspaces/read', p.ws('rbac', 'ws2'));
      assertDenied(await put(p.ws('rbac', 'ws2'), owner.token), 'Microsoft.MachineLearningServices/workspaces/write', p.ws('rbac', 'ws2'));
      assertDenied(await del(p.ws('rbac', 'ws2'), owner.token), 'Microsoft.MachineLearningServices/workspaces/delete', p.ws('rbac', 'ws2'));
      assertDenied(
        await put(assignmentUrl(p.ws('rbac', 'ws2')), owner.token, { properties: { roleDefinitionId: 'Owner', principalId: owner.id } }),
        'Microsoft.Authorization/roleAssignments/write',
        p.ws('rbac', 'ws2'),
      );
      assertDenied(await get(p.rg('rbac'), owner.token), 'Microsoft.Resources/subscriptions/resourceGroups/read', p.rg('rbac'));
      const subs = await call<{ value: { subscriptionId: string }[] }>(`${server.url}/subscriptions?api-version=2022-12-01`, { token: owner.token });
      assert.deepEqual(subs.body.value.map((s) => s.subscriptionId), [server.subscriptionId], 'a role inside a subscription shows it, as in ARM (az account list)');
      assert.equal((await get(p.sub, owner.token)).status, 200);
      assertDenied(await put(p.ws('rbac', 'ws9'), owner.token), 'Microsoft.MachineLearningServices/workspaces/write', p.ws('rbac', 'ws9'));
      const list = await call<{ value: { name: string }[] }>(p.url(`${p.rg('rbac')}/providers/Microsoft.MachineLearningServices/workspaces`), { token: owner.token });
      assert.deepEqual(list.body.value.map((w) => w.name), ['ws1'], 'the list shows only the workspace it owns');
    });

    it('NotActions subtract within their own role; another role can still grant the action', async () => {
      const roleId = crypto.randomUUID();
      const role = await put(`${p.sub}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`, admin, {
        Name: 'Workspace Editor (no delete)',
        IsCustom: true,
        Description: 'Edits workspaces but never deletes them.',
        Actions: ['Microsoft.MachineLearningServices/workspaces/*', 'Microsoft.Resources/subscriptions/resourceGroups/read'],
        NotActions: ['Microsoft.MachineLearningServices/workspaces/delete'],
        DataActions: [],
        NotDataActions: [],
        AssignableScopes: [p.sub],
      });
      assert.equal(role.status, 201, JSON.stringify(role.body));
      const editor = await newUser(server, admin, 'editor');
      await assignRole(server, admin, p.rg('rbac'), editor.id, roleId);
      assert.equal((await put(p.ws('rbac', 'edited'), editor.token)).status, 201);
      assertDenied(await del(p.ws('rbac', 'edited'), editor.token), 'Microsoft.MachineLearningServices/workspaces/delete', p.ws('rbac', 'edited'));
      const contributorHere = await assignRole(server, admin, p.ws('rbac', 'edited'), editor.id, 'Contributor');
      assert.equal((await del(p.ws('rbac', 'edited'), editor.token)).status, 200, 'NotActions are not a deny: another role grants delete');
      assert.equal(contributorHere.length, 36);
    });

    it('a custom role cannot be assigned outside its AssignableScopes', async () => {
      const roleId = crypto.randomUUID();
      const created = await put(`${p.rg('rbac')}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`, admin, {
        properties: {
          roleName: 'Team rbac workspace reader',
          description: 'Reads the workspaces of resource group rbac.',
          permissions: [{ actions: ['Microsoft.MachineLearningServices/workspaces/read'], notActions: [] }],
          assignableScopes: [p.rg('rbac')],
        },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const user = await newUser(server, admin, 'scoped');
      const outside = await put(assignmentUrl(p.sub), admin, { properties: { roleDefinitionId: roleId, principalId: user.id } });
      assert.equal(outside.status, 400);
      assert.match(errorOf(outside.body).message, /cannot be assigned at scope .* AssignableScopes/);
      const sibling = await put(assignmentUrl(p.rg('other')), admin, { properties: { roleDefinitionId: roleId, principalId: user.id } });
      assert.equal(sibling.status, 400);
      await assignRole(server, admin, p.ws('rbac', 'ws1'), user.id, roleId);
      assert.equal((await get(p.ws('rbac', 'ws1'), user.token)).status, 200);
      assertDenied(await get(p.ws('rbac', 'ws2'), user.token), 'Microsoft.MachineLearningServices/workspaces/read', p.ws('rbac', 'ws2'));
    });

    it('AzureML Data Scientist works inside a workspace but cannot change it or its compute', async () => {
      const scientist = await newUser(server, admin, 'scientist');
      await assignRole(server, admin, p.ws('rbac', 'ws1'), scientist.id, 'AzureML Data Scientist');
      assert.equal((await get(p.ws('rbac', 'ws1'), scientist.token)).status, 200);
      assertDenied(await put(p.ws('rbac', 'ws1'), scientist.token), 'Microsoft.MachineLearningServices/workspaces/write', p.ws('rbac', 'ws1'));
      assertDenied(await del(p.ws('rbac', 'ws1'), scientist.token), 'Microsoft.MachineLearningServices/workspaces/delete', p.ws('rbac', 'ws1'));
      const decide = (action: string) => server.services.access.decide(scientist.id, action, p.ws('rbac', 'ws1')).then((d) => d.allowed);
      assert.equal(await decide('Microsoft.MachineLearningServices/workspaces/models/write'), true);
      assert.equal(await decide('Microsoft.MachineLearningServices/workspaces/jobs/write'), true);
      assert.equal(await decide('Microsoft.MachineLearningServices/workspaces/onlineEndpoints/score/action'), true);
      assert.equal(await decide('Microsoft.MachineLearningServices/workspaces/computes/read'), true);
      assert.equal(await decide('Microsoft.MachineLearningServices/workspaces/computes/write'), false);
      assert.equal(await decide('Microsoft.MachineLearningServices/workspaces/computes/delete'), false);
      assert.equal(await decide('Microsoft.MachineLearningServices/workspaces/listKeys/action'), false);
      assert.equal(await decide('Microsoft.Authorization/roleAssignments/write'), false);
    });

    it('AzureML Compute Operator manages compute and nothing else', async () => {
      const operator = await newUser(server, admin, 'operator');
      await assignRole(server, admin, p.ws('rbac', 'ws1'), operator.id, 'e503ece1-11d0-4e8e-8e2c-7a6c3bf38815');
      const decide = (action: string) => server.services.access.decide(operator.id, action, p.ws('rbac', 'ws1')).then((d) => d.allowed);
      assert.equal(await decide('Microsoft.MachineLearningServices/workspaces/computes/write'), true);
      assert.equal(await decide('Microsoft.MachineLearningServices/workspaces/computes/delete'), true);
      assert.equal(await decide('Microsoft.MachineLearningServices/workspaces/notebooks/vm/read'), true);
      assert.equal(await decide('Microsoft.Authorization/roleAssignments/read'), true);
      assert.equal(await decide('Microsoft.MachineLearningServices/workspaces/models/write'), false);
      assertDenied(await put(p.ws('rbac', 'ws1'), operator.token), 'Microsoft.MachineLearningServices/workspaces/write', p.ws('rbac', 'ws1'));
    });

    it("a group's assignment reaches its members and stops when they leave", async () => {
      const member = await newUser(server, admin, 'member');
      const group = await call<{ id: string }>(`${server.url}/v1.0/groups`, { token: admin, body: { displayName: 'Workspace readers' } });
      assert.equal(group.status, 201);
      const res = await put(assignmentUrl(p.ws('rbac', 'ws2')), admin, { properties: { roleDefinitionId: 'Reader', principalId: group.body.id, principalType: 'Group' } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assertDenied(await get(p.ws('rbac', 'ws2'), member.token), 'Microsoft.MachineLearningServices/workspaces/read', p.ws('rbac', 'ws2'));
      await call(`${server.url}/v1.0/groups/${group.body.id}/members/$ref`, { token: admin, body: { id: member.id } });
      assert.equal((await get(p.ws('rbac', 'ws2'), member.token)).status, 200, 'through the group');
      await call(`${server.url}/v1.0/groups/${group.body.id}/members/${member.id}/$ref`, { method: 'DELETE', token: admin });
      assertDenied(await get(p.ws('rbac', 'ws2'), member.token), 'Microsoft.MachineLearningServices/workspaces/read', p.ws('rbac', 'ws2'));
    });

    it('a removed assignment takes effect on the next request; so does a disabled account', async () => {
      const user = await newUser(server, admin, 'transient');
      const id = await assignRole(server, admin, p.rg('other'), user.id, 'Reader');
      assert.equal((await get(p.rg('other'), user.token)).status, 200);
      const removed = await del(assignmentUrl(p.rg('other'), id), admin);
      assert.equal(removed.status, 200);
      assertDenied(await get(p.rg('other'), user.token), 'Microsoft.Resources/subscriptions/resourceGroups/read', p.rg('other'));
      await assignRole(server, admin, p.rg('other'), user.id, 'Reader');
      assert.equal((await get(p.rg('other'), user.token)).status, 200);
      await call(`${server.url}/v1.0/users/${user.id}`, { method: 'PATCH', token: admin, body: { accountEnabled: false } });
      assert.equal((await get(p.rg('other'), user.token)).status, 401);
    });
  });
}
