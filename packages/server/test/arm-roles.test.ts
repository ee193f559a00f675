/**
 * Role definitions and role assignments under Microsoft.Authorization, and Tessera's
 * access check: built-ins with Azure's ids, custom roles in both JSON shapes, lookups by
 * name or id, the rules Azure applies (built-ins read-only, an assigned role cannot be
 * deleted, the same assignment twice is a conflict), and the reasons `checkAccess` gives.
 */
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STORE_KINDS, call } from './helpers.js';
import { adminToken, armPaths, assignRole, errorOf, newUser, startArmServer, type ArmTestServer } from './arm-helpers.js';

interface RoleDefinitionBody {
  id: string;
  name: string;
  type: string;
  properties: { roleName: string; type: string; assignableScopes: string[]; permissions: { actions: string[]; notActions: string[] }[] };
}

interface AssignmentBody {
  id: string;
  name: string;
  properties: { roleDefinitionId: string; principalId: string; principalType: string; scope: string };
}

interface CheckAccessBody {
  allowed: boolean;
  principal: { id: string; type: string; enabled: boolean };
  decidedBy: { assignmentId: string; roleName: string; scope: string }[];
  notApplied: { assignmentId: string; roleName: string; scope: string; reason: string }[];
}

const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const OWNER = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635';

for (const kind of STORE_KINDS) {
  describe(`ARM roles and assignments [${kind}]`, () => {
    let server: ArmTestServer;
    let admin: string;
    let p: ReturnType<typeof armPaths>;
    const defUrl = (scope: string, id: string) => `${scope === '/' ? '' : scope}/providers/Microsoft.Authorization/roleDefinitions/${id}`;
    const asgUrl = (scope: string, id: string) => `${scope === '/' ? '' : scope}/providers/Microsoft.Authorization/roleAssignments/${id}`;
    const checkAccess = (token: string, body: unknown) => call<CheckAccessBody>(`${server.url}/providers/Tessera.Authorization/checkAccess?api-version=2024-01-01`, { token, body });

    before(async () => {
      server = await startArmServer(kind);
      admin = await adminToken(server);
      p = armPaths(server);
      await call(p.url(p.rg('roles')), { method: 'PUT', token: admin, body: { location: 'westeurope' } });
      await call(p.url(p.ws('roles', 'alpha')), { method: 'PUT', token: admin, body: {} });
      await call(p.url(p.ws('roles', 'beta')), { method: 'PUT', token: admin, body: {} });
    });
    after(() => server.close());

    describe('role definitions', () => {
      it('lists the built-ins with Azure ids, and finds one by name with $filter', async () => {
        const list = await call<{ value: RoleDefinitionBody[] }>(p.url(`${p.sub}/providers/Microsoft.Authorization/roleDefinitions`), { token: admin });
        assert.equal(list.status, 200);
        const byName = new Map(list.body.value.map((r) => [r.properties.roleName, r.name]));
        assert.equal(byName.get('Owner'), OWNER);
        assert.equal(byName.get('Contributor'), 'b24988ac-6180-42a0-ab88-20f7382dd24c');
        assert.equal(byName.get('Reader'), READER);
        assert.equal(byName.get('AzureML Data Scientist'), 'f6c7c914-8db3-469d-8ca1-694a8f32e121');
        assert.equal(byName.get('AzureML Compute Operator'), 'e503ece1-11d0-4e8e-8e2c-7a6c3bf38815');
        const filtered = await call<{ value: RoleDefinitionBody[] }>(p.url(`${p.sub}/providers/Microsoft.Authorization/roleDefinitions`, "api-version=2022-04-01&$filter=roleName eq 'azureml data scientist'"), { token: admin });
        assert.deepEqual(filtered.body.value.map((r) => r.name), ['f6c7c914-8db3-469d-8ca1-694a8f32e121']);
        const one = await call<RoleDefinitionBody>(p.url(defUrl(p.sub, READER)), { token: admin });
        assert.equal(one.body.id, `${p.sub}/providers/Microsoft.Authorization/roleDefinitions/${READER}`);
        assert.deepEqual(one.body.properties.permissions[0]!.actions, ['*/read', 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/token/action']);
        assert.equal(one.body.properties.type, 'BuiltInRole');
        const contributor = await call<RoleDefinitionBody>(p.url(defUrl('/', 'b24988ac-6180-42a0-ab88-20f7382dd24c')), { token: admin });
        assert.ok(contributor.body.properties.permissions[0]!.notActions.includes('Tessera.Tokens/*'));
      });

      it('built-in roles cannot be changed or deleted', async () => {
        const change = await call(p.url(defUrl(p.sub, OWNER)), { method: 'PUT', token: admin, body: { Name: 'Owner', Actions: ['*'], AssignableScopes: ['/'] } });
        assert.equal(change.status, 400);
        assert.match(errorOf(change.body).message, /[Bb]uilt-in/);
        assert.equal((await call(p.url(defUrl(p.sub, READER)), { method: 'DELETE', token: admin })).status, 400);
      });

      it('creates a custom role from Azure role JSON (as az role definition create takes it) and reads it back', async () => {
        const id = crypto.randomUUID();
        const res = await call<RoleDefinitionBody>(p.url(defUrl(p.sub, id)), {
          method: 'PUT',
          token: admin,
          body: {
            Name: 'Model Registrar',
            IsCustom: true,
            Description: 'Registers models; nothing else.',
            Actions: ['Microsoft.MachineLearningServices/workspaces/models/*', 'Microsoft.MachineLearningServices/workspaces/read'],
            NotActions: ['Microsoft.MachineLearningServices/workspaces/models/delete'],
            DataActions: [],
            NotDataActions: [],
            AssignableScopes: [`/SUBSCRIPTIONS/${server.subscriptionId}`],
          },
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.equal(res.body.name, id);
        assert.equal(res.body.properties.type, 'CustomRole');
        assert.deepEqual(res.body.properties.assignableScopes, [p.sub], 'scopes are written back in Azure casing');
        const byName = await call<{ value: RoleDefinitionBody[] }>(p.url(`/providers/Microsoft.Authorization/roleDefinitions`, "$filter=roleName eq 'MODEL REGISTRAR'"), { token: admin });
        assert.deepEqual(byName.body.value.map((r) => r.name), [id]);
        const custom = await call<{ value: RoleDefinitionBody[] }>(p.url(`${p.sub}/providers/Microsoft.Authorization/roleDefinitions`, "$filter=type eq 'CustomRole'"), { token: admin });
        assert.ok(custom.body.value.every((r) => r.properties.type === 'CustomRole') && custom.body.value.some((r) => r.name === id));
        // Update in ARM's envelope: 200.
        const updated = await call<RoleDefinitionBody>(p.url(defUrl(p.sub, id)), {
          method: 'PUT',
          token: admin,
          body: { name: id, properties: { roleName: 'Model Registrar', description: 'v2', permissions: [{ actions: ['Microsoft.MachineLearningServices/workspaces/models/read'] }], assignableScopes: [p.sub] } },
        });
        assert.equal(updated.status, 200, JSON.stringify(updated.body));
        assert.deepEqual(updated.body.properties.permissions[0]!.actions, ['Microsoft.MachineLearningServices/workspaces/models/read']);
      });

      it('a custom role takes effect at once and changes to it too', async () => {
        const id = crypto.randomUUID();
        const body = (actions: string[]) => ({ Name: 'Changing Role', Actions: actions, AssignableScopes: [p.sub] });
        assert.equal((await call(p.url(defUrl(p.sub, id)), { method: 'PUT', token: admin, body: body(['Microsoft.MachineLearningServices/workspaces/read']) })).status, 201);
        const user = await newUser(server, admin, 'changing');
        await assignRole(server, admin, p.ws('roles', 'alpha'), user.id, 'Changing Role');
        assert.equal((await call(p.url(p.ws('roles', 'alpha')), { token: user.token })).status, 200);
        assert.equal((await call(p.url(defUrl(p.sub, id)), { method: 'PUT', token: admin, body: body(['Microsoft.MachineLearningServices/workspaces/models/read']) })).status, 200);
        assert.equal((await call(p.url(p.ws('roles', 'alpha')), { token: user.token })).status, 403);
      });

      it('a custom role still assigned cannot be deleted (409); unassigned, it can (200, then 204)', async () => {
        const id = crypto.randomUUID();
        await call(p.url(defUrl(p.sub, id)), { method: 'PUT', token: admin, body: { Name: 'Short Lived', Actions: ['*/read'], AssignableScopes: [p.sub] } });
        const user = await newUser(server, admin, 'shortlived');
        const assignment = await assignRole(server, admin, p.rg('roles'), user.id, id);
        const refused = await call(p.url(defUrl(p.sub, id)), { method: 'DELETE', token: admin });
        assert.equal(refused.status, 409);
        assert.match(errorOf(refused.body).message, /still assigned/);
        assert.equal((await call(p.url(asgUrl(p.rg('roles'), assignment)), { method: 'DELETE', token: admin })).status, 200);
        assert.equal((await call(p.url(defUrl(p.sub, id)), { method: 'DELETE', token: admin })).status, 200);
        assert.equal((await call(p.url(defUrl(p.sub, id)), { method: 'DELETE', token: admin })).status, 204);
        assert.equal((await call(p.url(defUrl(p.sub, id)), { token: admin })).status, 404);
      });

      it('AssignableScopes cannot shrink away from existing assignments (409)', async () => {
        const id = crypto.randomUUID();
        await call(p.url(defUrl(p.sub, id)), { method: 'PUT', token: admin, body: { Name: 'Shrinking', Actions: ['*/read'], AssignableScopes: [p.sub] } });
        const user = await newUser(server, admin, 'shrinking');
        await assignRole(server, admin, p.ws('roles', 'beta'), user.id, id);
        const res = await call(p.url(defUrl(p.sub, id)), { method: 'PUT', token: admin, body: { Name: 'Shrinking', Actions: ['*/read'], AssignableScopes: [p.ws('roles', 'alpha')] } });
        assert.equal(res.status, 409);
      });

      it('a role name is unique without regard to case, and may not be a built-in name', async () => {
        const a = await call(p.url(defUrl(p.sub, crypto.randomUUID())), { method: 'PUT', token: admin, body: { Name: 'model registrar', Actions: ['*/read'], AssignableScopes: [p.sub] } });
        assert.equal(a.status, 409);
        const b = await call(p.url(defUrl(p.sub, crypto.randomUUID())), { method: 'PUT', token: admin, body: { Name: 'READER', Actions: ['*/read'], AssignableScopes: [p.sub] } });
        assert.equal(b.status, 409);
      });

      it('invalid actions and scopes are refused, naming the field', async () => {
        const cases: [unknown, RegExp][] = [
          [{ Name: 'Bad1', Actions: ['not an action'], AssignableScopes: [p.sub] }, /Actions/],
          [{ Name: 'Bad2', Actions: ['read'], AssignableScopes: [p.sub] }, /Actions/],
          [{ Name: 'Bad3', Actions: ['*/read'], NotActions: ['Microsoft.X/../../etc'], AssignableScopes: [p.sub] }, /NotActions/],
          [{ Name: 'Bad4', Actions: ['*/read'], AssignableScopes: ['subscriptions/x'] }, /AssignableScopes/],
          [{ Name: 'Bad5', Actions: ['*/read'], AssignableScopes: [] }, /AssignableScopes/],
          [{ Name: 'Bad6', Actions: [], AssignableScopes: [p.sub] }, /Actions/],
          [{ Name: 'Bad7', Actions: '*/read', AssignableScopes: [p.sub] }, /Actions/],
          [{ Name: 'Bad8', Actions: ['*/read'], AssignableScopes: [p.sub], Colour: 'blue' }, /Colour/],
          [{ Actions: ['*/read'], AssignableScopes: [p.sub] }, /Name/],
          [{ Name: 'Bad9', IsCustom: false, Actions: ['*/read'], AssignableScopes: [p.sub] }, /IsCustom/],
          [{ properties: { roleName: 'Bad10', permissions: 'all' , assignableScopes: [p.sub] } }, /permissions/],
          [{ properties: { roleName: 'Bad11', permissions: [{ actions: ['*/read'], condition: 'x' }], assignableScopes: [p.sub] } }, /condition/],
        ];
        for (const [body, field] of cases) {
          const res = await call(p.url(defUrl(p.sub, crypto.randomUUID())), { method: 'PUT', token: admin, body });
          assert.equal(res.status, 400, `${JSON.stringify(body)} → ${res.status} ${JSON.stringify(res.body)}`);
          assert.match(errorOf(res.body).message, field, JSON.stringify(body));
        }
        const missingSub = await call(p.url(defUrl(p.sub, crypto.randomUUID())), { method: 'PUT', token: admin, body: { Name: 'Elsewhere', Actions: ['*/read'], AssignableScopes: ['/subscriptions/00000000-0000-0000-0000-000000000009'] } });
        assert.equal(missingSub.status, 404);
        const badId = await call(p.url(defUrl(p.sub, 'not-a-guid')), { method: 'PUT', token: admin, body: { Name: 'x', Actions: ['*/read'], AssignableScopes: [p.sub] } });
        assert.equal(badId.status, 400);
      });

      it('writing a role needs roleDefinitions/write at the URL scope and at every assignable scope', async () => {
        const owner = await newUser(server, admin, 'alphaowner');
        await assignRole(server, admin, p.ws('roles', 'alpha'), owner.id, 'Owner');
        const ok = await call(p.url(defUrl(p.ws('roles', 'alpha'), crypto.randomUUID())), { method: 'PUT', token: owner.token, body: { Name: 'Alpha only', Actions: ['*/read'], AssignableScopes: [p.ws('roles', 'alpha')] } });
        assert.equal(ok.status, 201, JSON.stringify(ok.body));
        const wider = await call(p.url(defUrl(p.ws('roles', 'alpha'), crypto.randomUUID())), { method: 'PUT', token: owner.token, body: { Name: 'Everywhere', Actions: ['*'], AssignableScopes: [p.sub] } });
        assert.equal(wider.status, 403);
        assert.match(errorOf(wider.body).message, /roleDefinitions\/write' over scope '\/subscriptions\/[0-9a-f-]+'/);
      });

      it('changing an existing role needs roleDefinitions/write at each of its current AssignableScopes, not only the new ones', async () => {
        const id = crypto.randomUUID();
        const original = { Name: 'Subscription Model Reader', Actions: ['Microsoft.MachineLearningServices/workspaces/models/read'], AssignableScopes: [p.sub] };
        assert.equal((await call(p.url(defUrl(p.sub, id)), { method: 'PUT', token: admin, body: original })).status, 201);
        const holder = await newUser(server, admin, 'modelholder');
        await assignRole(server, admin, p.rg('roles'), holder.id, id);
        const groupOwner = await newUser(server, admin, 'groupowner');
        await assignRole(server, admin, p.rg('roles'), groupOwner.id, 'Owner');
        // The group's Owner may write roles at the group, and the role's assignments all lie there:
        // still, the role is the subscription's, and rewriting it would change it for everyone holding it.
        const rewrite = await call(p.url(defUrl(p.rg('roles'), id)), {
          method: 'PUT',
          token: groupOwner.token,
          body: { Name: 'Subscription Model Reader', Actions: ['*'], AssignableScopes: [p.rg('roles')] },
        });
        assert.equal(rewrite.status, 403, JSON.stringify(rewrite.body));
        assert.match(errorOf(rewrite.body).message, /roleDefinitions\/write' over scope '\/subscriptions\/[0-9a-f-]+'/);
        const after = await call<RoleDefinitionBody>(p.url(defUrl(p.sub, id)), { token: admin });
        assert.deepEqual(after.body.properties.permissions[0]!.actions, original.Actions, 'the role is unchanged');
        assert.deepEqual(after.body.properties.assignableScopes, [p.sub]);
        assert.equal((await call(p.url(p.ws('roles', 'alpha')), { method: 'PUT', token: holder.token, body: {} })).status, 403, 'and grants no more than before');
        // A role that lives within the group is the group Owner's to change.
        const ownId = crypto.randomUUID();
        const own = (actions: string[]) => ({ Name: 'Roles group helper', Actions: actions, AssignableScopes: [p.rg('roles')] });
        assert.equal((await call(p.url(defUrl(p.rg('roles'), ownId)), { method: 'PUT', token: groupOwner.token, body: own(['*/read']) })).status, 201);
        assert.equal((await call(p.url(defUrl(p.rg('roles'), ownId)), { method: 'PUT', token: groupOwner.token, body: own(['Microsoft.MachineLearningServices/workspaces/read']) })).status, 200);
      });

      it('deleting a role needs roleDefinitions/delete at each of its AssignableScopes, not only the URL scope', async () => {
        const id = crypto.randomUUID();
        assert.equal((await call(p.url(defUrl(p.sub, id)), { method: 'PUT', token: admin, body: { Name: 'Unassigned Subscription Role', Actions: ['*/read'], AssignableScopes: [p.sub] } })).status, 201);
        const groupOwner = await newUser(server, admin, 'groupdeleter');
        await assignRole(server, admin, p.rg('roles'), groupOwner.id, 'Owner');
        const refused = await call(p.url(defUrl(p.rg('roles'), id)), { method: 'DELETE', token: groupOwner.token });
        assert.equal(refused.status, 403, JSON.stringify(refused.body));
        assert.match(errorOf(refused.body).message, /roleDefinitions\/delete' over scope '\/subscriptions\/[0-9a-f-]+'/);
        assert.equal((await call(p.url(defUrl(p.sub, id)), { token: admin })).status, 200, 'the role is still there');
        const ownId = crypto.randomUUID();
        const scratch = { Name: 'Roles group scratch', Actions: ['*/read'], AssignableScopes: [p.ws('roles', 'beta')] };
        assert.equal((await call(p.url(defUrl(p.rg('roles'), ownId)), { method: 'PUT', token: groupOwner.token, body: scratch })).status, 201);
        assert.equal((await call(p.url(defUrl(p.rg('roles'), ownId)), { method: 'DELETE', token: groupOwner.token })).status, 200, 'a role within the group is the group Owner\'s to delete');
        assert.equal((await call(p.url(defUrl(p.sub, id)), { method: 'DELETE', token: admin })).status, 200);
      });
    });

    describe('role assignments', () => {
      let user: { id: string; token: string };
      before(async () => {
        user = await newUser(server, admin, 'assignee');
      });

      it('PUT creates (201) in ARM shape, with the role given by full id, GUID or name', async () => {
        const id = crypto.randomUUID();
        const roleDefinitionId = `/subscriptions/${server.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${READER}`;
        const res = await call<AssignmentBody>(p.url(asgUrl(p.rg('roles'), id)), { method: 'PUT', token: admin, body: { properties: { roleDefinitionId, principalId: user.id, principalType: 'User' } } });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        assert.equal(res.body.id, `${p.sub}/resourceGroups/roles/providers/Microsoft.Authorization/roleAssignments/${id}`);
        assert.equal(res.body.name, id);
        assert.equal(res.body.properties.roleDefinitionId, roleDefinitionId);
        assert.equal(res.body.properties.principalType, 'User');
        assert.equal(res.body.properties.scope, `${p.sub}/resourceGroups/roles`);
        const again = await call(p.url(asgUrl(p.rg('roles'), id)), { method: 'PUT', token: admin, body: { properties: { roleDefinitionId: READER, principalId: user.id } } });
        assert.equal(again.status, 200, 'the same assignment again is not an error');
        const other = await call(p.url(asgUrl(p.rg('roles'), id)), { method: 'PUT', token: admin, body: { properties: { roleDefinitionId: 'Contributor', principalId: user.id } } });
        assert.equal(other.status, 409, 'an assignment cannot be changed');
        const duplicate = await call(p.url(asgUrl(p.rg('roles'), crypto.randomUUID())), { method: 'PUT', token: admin, body: { properties: { roleDefinitionId: 'reader', principalId: user.id } } });
        assert.equal(duplicate.status, 409, 'the same principal, role and scope twice');
        const get = await call<AssignmentBody>(p.url(asgUrl(p.rg('ROLES'), id)), { token: admin });
        assert.equal(get.status, 200);
        assert.equal((await call(p.url(asgUrl(p.ws('roles', 'alpha'), id)), { token: admin })).status, 404, 'it lives at its own scope only');
      });

      it('lists at a scope: above and below by default, atScope(), principalId and assignedTo filters', async () => {
        const group = await call<{ id: string }>(`${server.url}/v1.0/groups`, { token: admin, body: { displayName: 'Assignee group' } });
        await call(`${server.url}/v1.0/groups/${group.body.id}/members/$ref`, { token: admin, body: { id: user.id } });
        const wsAssignment = await assignRole(server, admin, p.ws('roles', 'alpha'), user.id, 'AzureML Data Scientist');
        const groupAssignment = await assignRole(server, admin, p.sub, group.body.id, 'Reader');
        const list = async (scope: string, filter?: string) => {
          const res = await call<{ value: AssignmentBody[] }>(p.url(`${scope === '/' ? '' : scope}/providers/Microsoft.Authorization/roleAssignments`, filter ? `api-version=2022-04-01&$filter=${encodeURIComponent(filter)}` : undefined), { token: admin });
          assert.equal(res.status, 200, JSON.stringify(res.body));
          return res.body.value.map((a) => a.name);
        };
        const atGroup = await list(p.rg('roles'));
        assert.ok(atGroup.includes(wsAssignment), 'below');
        assert.ok(atGroup.includes(groupAssignment), 'above');
        const atScopeOnly = await list(p.rg('roles'), 'atScope()');
        assert.ok(!atScopeOnly.includes(wsAssignment), 'atScope() leaves out what is below');
        assert.ok(atScopeOnly.includes(groupAssignment));
        const direct = await list('/', `principalId eq '${user.id}'`);
        assert.ok(direct.includes(wsAssignment) && !direct.includes(groupAssignment));
        const reaching = await list('/', `assignedTo('${user.id}')`);
        assert.ok(reaching.includes(wsAssignment) && reaching.includes(groupAssignment));
        const combined = await list(p.ws('roles', 'alpha'), `atScope() and assignedTo('${user.id}')`);
        assert.ok(combined.includes(wsAssignment) && combined.includes(groupAssignment));
        const roleBeta = await list(p.ws('roles', 'beta'), `principalId eq '${user.id}'`);
        assert.ok(!roleBeta.includes(wsAssignment), 'a sibling is neither above nor below');
      });

      it('the principal must exist in the tenant and be what principalType says', async () => {
        const body = (principalId: string, principalType?: string) => ({ properties: { roleDefinitionId: READER, principalId, ...(principalType ? { principalType } : {}) } });
        const missing = await call(p.url(asgUrl(p.rg('roles'), crypto.randomUUID())), { method: 'PUT', token: admin, body: body(crypto.randomUUID()) });
        assert.equal(missing.status, 400);
        assert.match(errorOf(missing.body).message, /principalId/);
        const wrongType = await call(p.url(asgUrl(p.rg('roles'), crypto.randomUUID())), { method: 'PUT', token: admin, body: body(user.id, 'Group') });
        assert.equal(wrongType.status, 400);
        assert.match(errorOf(wrongType.body).message, /principalType/);
        const unknownRole = await call(p.url(asgUrl(p.rg('roles'), crypto.randomUUID())), { method: 'PUT', token: admin, body: { properties: { roleDefinitionId: 'Janitor', principalId: user.id } } });
        assert.equal(unknownRole.status, 400);
        assert.match(errorOf(unknownRole.body).message, /roleDefinitionId/);
        const missingScope = await call(p.url(asgUrl(p.ws('roles', 'gamma'), crypto.randomUUID())), { method: 'PUT', token: admin, body: body(user.id) });
        assert.equal(missingScope.status, 404, 'the scope must exist');
      });

      it("the tenant's last Owner at '/' cannot be removed", async () => {
        const owners = await call<{ value: AssignmentBody[] }>(p.url('/providers/Microsoft.Authorization/roleAssignments', 'api-version=2022-04-01&$filter=atScope()'), { token: admin });
        const root = owners.body.value.find((a) => a.properties.roleDefinitionId.endsWith(OWNER) && a.properties.scope === '/');
        assert.ok(root, JSON.stringify(owners.body));
        const res = await call(p.url(asgUrl('/', root.name)), { method: 'DELETE', token: admin });
        assert.equal(res.status, 409);
      });

      it("concurrent deletes of the last two Owners at '/' cannot both succeed: one Owner stays", async () => {
        const { access } = server.services;
        const rootOwners = async () => (await access.assignments.list(server.tenantId, { scope: '/', atScope: true })).filter((a) => a.role_definition_id === OWNER && a.scope === '/');
        const makeOwner = (principalId: string) => access.assign({ tenantId: server.tenantId, principalId, principalType: 'User', roleDefinitionId: OWNER, scope: '/', createdBy: null });
        const [adminOwner] = await rootOwners();
        assert.ok(adminOwner);
        const adminId = adminOwner.principal_id;
        const second = await newUser(server, admin, 'secondowner');
        const secondOwner = await assignRole(server, admin, '/', second.id, 'Owner');
        assert.equal((await rootOwners()).length, 2);
        // Over the API: each Owner removes its own assignment, at the same time.
        const results = await Promise.all([
          call(p.url(asgUrl('/', adminOwner.id)), { method: 'DELETE', token: admin }),
          call(p.url(asgUrl('/', secondOwner)), { method: 'DELETE', token: second.token }),
        ]);
        assert.deepEqual(results.map((r) => r.status).sort(), [200, 409], JSON.stringify(results.map((r) => r.body)));
        assert.equal((await rootOwners()).length, 1, 'one Owner at / is left');
        // In-process, where the two deletes overlap at every step: the same, round after round.
        for (let round = 0; round < 5; round++) {
          const survivor = (await rootOwners())[0]!.principal_id;
          await makeOwner(survivor === adminId ? second.id : adminId);
          const pair = await rootOwners();
          assert.equal(pair.length, 2);
          const settled = await Promise.allSettled(pair.map((a) => access.assignments.delete(server.tenantId, a.id)));
          assert.deepEqual(settled.map((r) => r.status).sort(), ['fulfilled', 'rejected'], `round ${round}`);
          const refused = settled.find((r) => r.status === 'rejected') as PromiseRejectedResult;
          assert.match(String(refused.reason), /last Owner assignment at '\/'/);
          assert.equal((await rootOwners()).length, 1, 'one Owner at / is left');
        }
        // Give the admin its Owner back, for the tests that follow.
        if ((await rootOwners())[0]!.principal_id !== adminId) await makeOwner(adminId);
      });
    });

    describe('checkAccess', () => {
      it('allowed, with the assignment that decided it', async () => {
        const user = await newUser(server, admin, 'checked');
        const assignment = await assignRole(server, admin, p.rg('roles'), user.id, 'Reader');
        const res = await checkAccess(admin, { principalId: user.id, action: 'Microsoft.MachineLearningServices/workspaces/read', scope: p.ws('roles', 'alpha') });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.allowed, true);
        assert.deepEqual(res.body.decidedBy.map((d) => [d.assignmentId, d.roleName, d.scope]), [[assignment, 'Reader', `${p.sub}/resourceGroups/roles`]]);
        const byName = await checkAccess(admin, { principalId: 'checked', action: 'Microsoft.MachineLearningServices/workspaces/read', scope: p.ws('roles', 'alpha') });
        assert.equal(byName.body.principal.id, user.id, 'the principal may be named');
      });

      it('denied, with the nearest assignments that did not apply and why', async () => {
        const user = await newUser(server, admin, 'denied');
        await assignRole(server, admin, p.rg('roles'), user.id, 'Reader');
        await assignRole(server, admin, p.ws('roles', 'beta'), user.id, 'Contributor');
        await assignRole(server, admin, p.ws('roles', 'alpha'), user.id, 'AzureML Data Scientist');
        const res = await checkAccess(admin, { principalId: user.id, action: 'Microsoft.MachineLearningServices/workspaces/computes/write', scope: p.ws('roles', 'alpha') });
        assert.equal(res.body.allowed, false);
        assert.deepEqual(res.body.decidedBy, []);
        const reasons = new Map(res.body.notApplied.map((n) => [n.roleName, n.reason]));
        assert.match(reasons.get('AzureML Data Scientist')!, /NotActions 'Microsoft.MachineLearningServices\/workspaces\/computes\/\*\/write' excludes it/);
        assert.match(reasons.get('Reader')!, /role does not grant the action/);
        assert.ok(!reasons.has('Contributor'), 'the assignment at the sibling workspace is not on the way to the target: left out');
        assert.equal(res.body.notApplied[0]!.roleName, 'AzureML Data Scientist', 'the closest miss comes first');
        const up = await checkAccess(admin, { principalId: user.id, action: 'Microsoft.Resources/subscriptions/resourceGroups/write', scope: p.rg('roles') });
        assert.match(new Map(up.body.notApplied.map((n) => [n.roleName, n.reason])).get('Contributor')!, /below the target scope/);
      });

      it('needs roleAssignments/read at the scope: a Reader may ask, a user without a role may not', async () => {
        const reader = await newUser(server, admin, 'asker');
        await assignRole(server, admin, p.rg('roles'), reader.id, 'Reader');
        const ok = await checkAccess(reader.token, { principalId: reader.id, action: 'Microsoft.MachineLearningServices/workspaces/write', scope: p.ws('roles', 'alpha') });
        assert.equal(ok.status, 200);
        assert.equal(ok.body.allowed, false);
        const outside = await checkAccess(reader.token, { principalId: reader.id, action: 'Microsoft.MachineLearningServices/workspaces/read', scope: p.sub });
        assert.equal(outside.status, 403);
        const nobody = await newUser(server, admin, 'nosy');
        assert.equal((await checkAccess(nobody.token, { principalId: nobody.id, action: 'Microsoft.MachineLearningServices/workspaces/read', scope: p.rg('roles') })).status, 403);
      });

      it('shows only assignments at, above or below the asked scope: none at a sibling resource group', async () => {
        assert.equal((await call(p.url(p.rg('roles-elsewhere')), { method: 'PUT', token: admin, body: { location: 'westeurope' } })).status, 201);
        const target = await newUser(server, admin, 'looked-at');
        const here = await assignRole(server, admin, p.ws('roles', 'alpha'), target.id, 'Reader');
        const elsewhere = await assignRole(server, admin, p.rg('roles-elsewhere'), target.id, 'Contributor');
        const asker = await newUser(server, admin, 'alpha-reader');
        await assignRole(server, admin, p.ws('roles', 'alpha'), asker.id, 'Reader');
        const res = await checkAccess(asker.token, { principalId: target.id, action: 'Microsoft.MachineLearningServices/workspaces/write', scope: p.ws('roles', 'alpha') });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.allowed, false);
        assert.deepEqual(res.body.notApplied.map((n) => n.assignmentId), [here], 'the Reader at the workspace is shown');
        assert.ok(!JSON.stringify(res.body).includes(elsewhere), 'the assignment at the other group is not');
        assert.ok(!JSON.stringify(res.body).toLowerCase().includes('roles-elsewhere'), 'nor is the other group named');
        const aside = await checkAccess(asker.token, { principalId: target.id, action: 'Microsoft.Resources/subscriptions/resourceGroups/write', scope: p.rg('roles-elsewhere') });
        assert.equal(aside.status, 403, 'asking at the other group needs roleAssignments/read there');
      });

      it("naming the principal searches the directory: it needs Tessera.Directory/users/read at '/'; an object id does not", async () => {
        const target = await newUser(server, admin, 'named-one');
        const asker = await newUser(server, admin, 'name-guesser');
        await assignRole(server, admin, p.ws('roles', 'alpha'), asker.id, 'Reader');
        const action = 'Microsoft.MachineLearningServices/workspaces/read';
        for (const principalId of ['named-one', 'no-such-user', `named-one@${server.services.tenants.domainOf(server.tenantId)}`]) {
          const res = await checkAccess(asker.token, { principalId, action, scope: p.ws('roles', 'alpha') });
          assert.equal(res.status, 403, `${principalId}: ${JSON.stringify(res.body)}`);
          assert.match(errorOf(res.body as unknown as Record<string, unknown>).message, /perform action 'Tessera.Directory\/users\/read' over scope '\/'/);
        }
        const byId = await checkAccess(asker.token, { principalId: target.id, action, scope: p.ws('roles', 'alpha') });
        assert.equal(byId.status, 200, JSON.stringify(byId.body));
        assert.equal(byId.body.principal.id, target.id);
        const byName = await checkAccess(admin, { principalId: 'named-one', action, scope: p.ws('roles', 'alpha') });
        assert.equal(byName.body.principal.id, target.id, 'whoever may read the directory may name the principal');
      });

      it('bad bodies are 400 naming the field; an unknown principal 404', async () => {
        const cases: [unknown, RegExp][] = [
          [{ action: 'Microsoft.X/y/read', scope: '/' }, /principalId/],
          [{ principalId: 'admin', scope: '/' }, /action/],
          [{ principalId: 'admin', action: 'Microsoft.X/*/read', scope: '/' }, /action/],
          [{ principalId: 'admin', action: 'Microsoft.X/y/read', scope: 'nowhere' }, /scope/],
          [{ principalId: 'admin', action: 'Microsoft.X/y/read', scope: '/', extra: 1 }, /extra/],
          [['admin'], /JSON object/],
        ];
        for (const [body, field] of cases) {
          const res = await checkAccess(admin, body);
          assert.equal(res.status, 400, JSON.stringify(body));
          assert.match(errorOf(res.body as unknown as Record<string, unknown>).message, field);
        }
        const unknown = await checkAccess(admin, { principalId: crypto.randomUUID(), action: 'Microsoft.X/y/read', scope: '/' });
        assert.equal(unknown.status, 404);
      });
    });
  });
}
