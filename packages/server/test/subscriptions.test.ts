/**
 * The subscription lifecycle, as Azure's Microsoft.Subscription provider has it: a
 * subscription is created through an alias (its creator becomes its Owner), renamed,
 * cancelled (state Disabled: everything under it is read-only, 409
 * ReadOnlyDisabledSubscription) and enabled again. Aliases are tenant-level resources
 * decided at `/`; rename, cancel and enable are actions on the subscription.
 */
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STORE_KINDS, call } from './helpers.js';
import { adminToken, armPaths, assignRole, errorOf, newUser, startArmServer, type ArmTestServer } from './arm-helpers.js';

interface Alias {
  id: string;
  name: string;
  type: string;
  properties: { subscriptionId: string; provisioningState: string; displayName: string; workload: string; billingScope: string | null };
  [field: string]: unknown;
}

interface Subscription {
  id: string;
  subscriptionId: string;
  displayName: string;
  state: string;
  [field: string]: unknown;
}

const V = 'api-version=2021-10-01';

for (const kind of STORE_KINDS) {
  describe(`subscription lifecycle [${kind}]`, () => {
    let server: ArmTestServer;
    let admin: string;
    let p: ReturnType<typeof armPaths>;
    /** Holds only a custom role at `/` that may create and read aliases. */
    let creator: { id: string; token: string };
    /** Reader at `/`. */
    let reader: { id: string; token: string };
    /** Contributor of the bootstrap subscription only. */
    let insider: { id: string; token: string };
    /** No role anywhere. */
    let nobody: { id: string; token: string };

    const aliasUrl = (name: string, query = V) => `${server.url}/providers/Microsoft.Subscription/aliases/${encodeURIComponent(name)}?${query}`;
    const actionUrl = (sub: string, action: string) => `${server.url}/subscriptions/${sub}/providers/Microsoft.Subscription/${action}?${V}`;
    const putAlias = (name: string, token: string, properties: unknown) => call<Alias>(aliasUrl(name), { method: 'PUT', token, body: { properties } });
    const listSubscriptions = async (token: string) => (await call<{ value: Subscription[] }>(`${server.url}/subscriptions?api-version=2022-12-01`, { token })).body.value;
    const getSubscription = (token: string, sub: string) => call<Subscription>(`${server.url}/subscriptions/${sub}?api-version=2022-12-01`, { token });
    const putGroup = (token: string, sub: string, name: string) => call(`${server.url}/subscriptions/${sub}/resourceGroups/${name}?api-version=2021-04-01`, { method: 'PUT', token, body: { location: 'westeurope' } });

    before(async () => {
      server = await startArmServer(kind);
      admin = await adminToken(server);
      p = armPaths(server);
      const roleId = crypto.randomUUID();
      const role = await call(`${server.url}/providers/Microsoft.Authorization/roleDefinitions/${roleId}?api-version=2022-04-01`, {
        method: 'PUT',
        token: admin,
        body: { Name: 'Subscription Creator', IsCustom: true, Actions: ['Microsoft.Subscription/aliases/write', 'Microsoft.Subscription/aliases/read'], NotActions: [], AssignableScopes: ['/'] },
      });
      assert.equal(role.status, 201, JSON.stringify(role.body));
      creator = await newUser(server, admin, 'sub-creator');
      reader = await newUser(server, admin, 'sub-reader');
      insider = await newUser(server, admin, 'sub-insider');
      nobody = await newUser(server, admin, 'sub-nobody');
      await assignRole(server, admin, '/', creator.id, roleId);
      await assignRole(server, admin, '/', reader.id, 'Reader');
      await assignRole(server, admin, p.sub, insider.id, 'Contributor');
    });
    after(() => server.close());

    it('PUT …/aliases/{name} creates a subscription (201) and answers the alias in Azure\'s shape', async () => {
      const res = await putAlias('team-b', creator.token, { displayName: 'Team B', workload: 'DevTest', billingScope: '/billingAccounts/none' });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.id, '/providers/Microsoft.Subscription/aliases/team-b');
      assert.equal(res.body.name, 'team-b');
      assert.equal(res.body.type, 'Microsoft.Subscription/aliases');
      assert.equal(res.body.properties.provisioningState, 'Succeeded');
      assert.equal(res.body.properties.displayName, 'Team B');
      assert.equal(res.body.properties.workload, 'DevTest');
      assert.equal(res.body.properties.billingScope, '/billingAccounts/none');
      assert.match(res.body.properties.subscriptionId, /^[0-9a-f-]{36}$/);
      assert.notEqual(res.body.properties.subscriptionId, server.subscriptionId);
    });

    it('the creator is Owner of the new subscription, sees it listed (Enabled) and may work in it; nobody else sees it', async () => {
      const sub = (await call<Alias>(aliasUrl('team-b'), { token: creator.token })).body.properties.subscriptionId;
      const mine = await listSubscriptions(creator.token);
      assert.deepEqual(mine.map((s) => [s.subscriptionId, s.displayName, s.state]), [[sub, 'Team B', 'Enabled']], 'only the new one: the creator has no role in the bootstrap subscription');
      const assignments = await call<{ value: { properties: { principalId: string; roleDefinitionId: string; scope: string } }[] }>(
        `${server.url}/subscriptions/${sub}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=atScope()`,
        { token: creator.token },
      );
      assert.equal(assignments.status, 200, JSON.stringify(assignments.body));
      const owner = assignments.body.value.find((a) => a.properties.principalId === creator.id && a.properties.scope === `/subscriptions/${sub}`);
      assert.ok(owner, 'an ordinary role assignment, listed at the subscription');
      assert.match(owner.properties.roleDefinitionId, /8e3af657-a8ff-443c-a75c-2fe8c4bcb635$/i, 'Owner');
      assert.equal((await putGroup(creator.token, sub, 'b-rg')).status, 201);
      assert.ok((await listSubscriptions(admin)).some((s) => s.subscriptionId === sub), 'an Owner at / sees every subscription');
      assert.ok(!(await listSubscriptions(insider.token)).some((s) => s.subscriptionId === sub));
      assert.deepEqual(await listSubscriptions(nobody.token), []);
      assert.equal((await getSubscription(insider.token, sub)).status, 403);
    });

    it('PUT of the same alias again answers it unchanged (200), in any case of its name, and makes no second subscription', async () => {
      const before = (await listSubscriptions(admin)).length;
      const first = await call<Alias>(aliasUrl('team-b'), { token: admin });
      const again = await putAlias('TEAM-B', admin, { displayName: 'Something else', workload: 'Production' });
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.deepEqual(again.body, first.body, 'an alias creates; it never updates (rename does)');
      assert.equal((await listSubscriptions(admin)).length, before);
    });

    it('an alias may name an existing subscription of the tenant, which grants its creator nothing; it cannot be moved to another (409)', async () => {
      const res = await putAlias('bootstrap', creator.token, { subscriptionId: server.subscriptionId });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.properties.subscriptionId, server.subscriptionId);
      assert.equal(res.body.properties.displayName, 'Tessera', "the subscription's own name");
      assert.ok(!(await listSubscriptions(creator.token)).some((s) => s.subscriptionId === server.subscriptionId), 'no role was given');
      const teamB = (await call<Alias>(aliasUrl('team-b'), { token: admin })).body.properties.subscriptionId;
      const moved = await putAlias('bootstrap', admin, { subscriptionId: teamB });
      assert.equal(moved.status, 409);
      assert.equal(errorOf(moved.body).code, 'Conflict');
      const unknown = await putAlias('ghost', admin, { subscriptionId: '00000000-0000-0000-0000-0000000000aa' });
      assert.equal(unknown.status, 404);
      assert.equal(errorOf(unknown.body).code, 'ResourceNotFound');
    });

    it('GET one alias, GET the list; DELETE removes the alias (200, then 204) and keeps its subscription', async () => {
      const created = await putAlias('short-lived', admin, { displayName: 'Short lived' });
      assert.equal(created.status, 201);
      const sub = created.body.properties.subscriptionId;
      const list = await call<{ value: Alias[] }>(`${server.url}/providers/Microsoft.Subscription/aliases?${V}`, { token: admin });
      assert.equal(list.status, 200);
      assert.deepEqual(list.body.value.map((a) => a.name), ['bootstrap', 'short-lived', 'team-b']);
      assert.equal((await call(aliasUrl('short-lived'), { method: 'DELETE', token: admin })).status, 200);
      assert.equal((await call(aliasUrl('short-lived'), { method: 'DELETE', token: admin })).status, 204);
      const gone = await call(aliasUrl('short-lived'), { token: admin });
      assert.equal(gone.status, 404);
      assert.equal(errorOf(gone.body).code, 'ResourceNotFound');
      const kept = await getSubscription(admin, sub);
      assert.equal(kept.status, 200);
      assert.equal(kept.body.displayName, 'Short lived');
    });

    it('two subscriptions may share a display name; markup is stored and answered as text', async () => {
      const markup = '<b>Lab</b> & <script>alert(1)</script>';
      const one = await putAlias('twin-1', admin, { displayName: markup });
      const two = await putAlias('twin-2', admin, { displayName: markup });
      assert.equal(one.status, 201);
      assert.equal(two.status, 201);
      assert.notEqual(one.body.properties.subscriptionId, two.body.properties.subscriptionId);
      const shown = await getSubscription(admin, two.body.properties.subscriptionId);
      assert.equal(shown.body.displayName, markup);
      assert.match(shown.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal((await listSubscriptions(admin)).filter((s) => s.displayName === markup).length, 2);
    });

    it('rename changes the display name and answers {subscriptionId}; an unknown subscription is 404', async () => {
      const sub = (await putAlias('to-rename', admin, { displayName: 'Old name' })).body.properties.subscriptionId;
      const res = await call(actionUrl(sub, 'rename'), { method: 'POST', token: admin, body: { subscriptionName: 'New name' } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body, { subscriptionId: sub });
      assert.equal((await getSubscription(admin, sub)).body.displayName, 'New name');
      assert.equal((await call<Alias>(aliasUrl('to-rename'), { token: admin })).body.properties.displayName, 'New name', 'the alias shows the current name');
      const unknown = await call(actionUrl('00000000-0000-0000-0000-0000000000bb', 'rename'), { method: 'POST', token: admin, body: { subscriptionName: 'x' } });
      assert.equal(unknown.status, 404);
      assert.equal(errorOf(unknown.body).code, 'ResourceNotFound');
    });

    it('cancel makes a subscription Disabled: reads work, every write under it is 409 ReadOnlyDisabledSubscription; enable makes it writable again', async () => {
      const sub = (await putAlias('to-cancel', admin, { displayName: 'To cancel' })).body.properties.subscriptionId;
      assert.equal((await putGroup(admin, sub, 'kept')).status, 201);
      const cancelled = await call(actionUrl(sub, 'cancel'), { method: 'POST', token: admin });
      assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
      assert.deepEqual(cancelled.body, { subscriptionId: sub });

      assert.equal((await getSubscription(admin, sub)).body.state, 'Disabled');
      assert.equal((await listSubscriptions(admin)).find((s) => s.subscriptionId === sub)?.state, 'Disabled', 'listed with its state (az account list --all shows it)');
      assert.equal((await call(`${server.url}/subscriptions/${sub}/resourceGroups/kept?api-version=2021-04-01`, { token: admin })).status, 200);
      assert.equal((await call(`${server.url}/subscriptions/${sub}/resourceGroups?api-version=2021-04-01`, { token: admin })).status, 200);

      const rg = `${server.url}/subscriptions/${sub}/resourceGroups`;
      const writes: [string, string, unknown][] = [
        ['PUT', `${rg}/new-one?api-version=2021-04-01`, { location: 'westeurope' }],
        ['PATCH', `${rg}/kept?api-version=2021-04-01`, { tags: { a: 'b' } }],
        ['DELETE', `${rg}/kept?api-version=2021-04-01`, undefined],
        ['PUT', `${rg}/kept/providers/Microsoft.MachineLearningServices/workspaces/ws1?api-version=2024-04-01`, {}],
        ['PUT', `${server.url}/subscriptions/${sub}/providers/Microsoft.Authorization/roleAssignments/${crypto.randomUUID()}?api-version=2022-04-01`, { properties: { roleDefinitionId: 'Reader', principalId: nobody.id } }],
        ['POST', actionUrl(sub, 'rename'), { subscriptionName: 'Renamed while disabled' }],
        ['POST', actionUrl(sub, 'cancel'), undefined],
      ];
      for (const [method, url, body] of writes) {
        const res = await call(url, { method, token: admin, body });
        assert.equal(res.status, 409, `${method} ${url}: ${JSON.stringify(res.body)}`);
        assert.equal(errorOf(res.body).code, 'ReadOnlyDisabledSubscription');
        assert.match(errorOf(res.body).message, new RegExp(`subscription '${sub}' is disabled and therefore marked as read only`));
      }
      assert.equal((await putGroup(admin, server.subscriptionId, 'elsewhere')).status, 201, 'other subscriptions are not affected');

      const enabled = await call(actionUrl(sub, 'enable'), { method: 'POST', token: admin });
      assert.equal(enabled.status, 200, JSON.stringify(enabled.body));
      assert.deepEqual(enabled.body, { subscriptionId: sub });
      assert.equal((await getSubscription(admin, sub)).body.state, 'Enabled');
      assert.equal((await putGroup(admin, sub, 'new-one')).status, 201);
    });

    it('aliases are decided at /: a Reader there reads them but cannot create or delete one; a role inside a subscription is not enough (403)', async () => {
      const asReader = await putAlias('by-reader', reader.token, { displayName: 'Reader sub' });
      assert.equal(asReader.status, 403);
      assert.equal(errorOf(asReader.body).code, 'AuthorizationFailed');
      assert.match(errorOf(asReader.body).message, /Microsoft\.Subscription\/aliases\/write' over scope '\/'/);
      assert.equal((await call(aliasUrl('team-b'), { method: 'DELETE', token: reader.token })).status, 403);
      assert.equal((await call(`${server.url}/providers/Microsoft.Subscription/aliases?${V}`, { token: reader.token })).status, 200);
      for (const user of [insider, nobody]) {
        assert.equal((await putAlias('by-insider', user.token, { displayName: 'Insider sub' })).status, 403);
        assert.equal((await call(`${server.url}/providers/Microsoft.Subscription/aliases?${V}`, { token: user.token })).status, 403);
        assert.equal((await call(aliasUrl('team-b'), { token: user.token })).status, 403);
      }
      assert.equal((await call(aliasUrl('by-reader'), { token: admin })).status, 404, 'nothing was made');
    });

    it('rename, cancel and enable need their action on the subscription: a Reader of it, or a role in one of its groups, gets 403', async () => {
      const sub = (await putAlias('guarded', admin, { displayName: 'Guarded' })).body.properties.subscriptionId;
      assert.equal((await putGroup(admin, sub, 'inner')).status, 201);
      const groupContributor = await newUser(server, admin, 'group-contributor');
      await assignRole(server, admin, `/subscriptions/${sub}/resourceGroups/inner`, groupContributor.id, 'Contributor');
      for (const user of [reader, groupContributor, nobody]) {
        for (const [action, body] of [['cancel', undefined], ['enable', undefined], ['rename', { subscriptionName: 'Taken' }]] as const) {
          const res = await call(actionUrl(sub, action), { method: 'POST', token: user.token, body });
          assert.equal(res.status, 403, `${action}: ${JSON.stringify(res.body)}`);
          assert.equal(errorOf(res.body).code, 'AuthorizationFailed');
          assert.match(errorOf(res.body).message, new RegExp(`Microsoft\\.Subscription/${action}/action' over scope '/subscriptions/${sub}'`));
        }
      }
      assert.equal((await getSubscription(admin, sub)).body.state, 'Enabled');
      assert.equal((await getSubscription(admin, sub)).body.displayName, 'Guarded');
    });

    it('a display name is 1 to 64 characters (code points), not blank, without control characters; refusals never echo it', async () => {
      const refused: [string, unknown][] = [
        ['missing', { workload: 'Production' }],
        ['empty', { displayName: '' }],
        ['blank', { displayName: '   ' }],
        ['65 characters', { displayName: 'x'.repeat(65) }],
        ['a newline', { displayName: 'two\nlines' }],
        ['a tab', { displayName: 'tab\there' }],
        ['a NUL', { displayName: 'nul\u0000' }],
        ['a C1 control', { displayName: 'c1\u0085' }],
        ['control and markup', { displayName: '<img src=x onerror=alert(1)>\u0007' }],
        ['a number', { displayName: 42 }],
        ['an object', { displayName: { text: 'x' } }],
      ];
      for (const [what, properties] of refused) {
        const res = await putAlias(`bad-${what.replace(/\W+/g, '-')}`, admin, properties);
        assert.equal(res.status, 400, `${what}: ${JSON.stringify(res.body)}`);
        assert.equal(errorOf(res.body).code, 'InvalidParameter');
        assert.match(errorOf(res.body).message, /displayName/);
        assert.doesNotMatch(errorOf(res.body).message, /<img|onerror/);
      }
      assert.equal((await putAlias('sixty-four', admin, { displayName: '\u{1F600}'.repeat(64) })).status, 201, '64 emoji are 64 characters');
      const renamed = await call(actionUrl(server.subscriptionId, 'rename'), { method: 'POST', token: admin, body: { subscriptionName: 'y'.repeat(65) } });
      assert.equal(renamed.status, 400);
      assert.match(errorOf(renamed.body).message, /subscriptionName/);
    });

    it('alias names are 1 to 64 letters, digits, -, _ or ., starting with a letter or digit', async () => {
      for (const name of ['has space', 'a@b', '-lead', '.hidden', '_under', 'x'.repeat(65), 'ünïcode', 'semi;colon']) {
        const res = await putAlias(name, admin, { displayName: 'Bad alias' });
        assert.ok(res.status === 400, `${JSON.stringify(name)}: ${res.status} ${JSON.stringify(res.body)}`);
        assert.equal(errorOf(res.body).code, 'InvalidParameter');
      }
      const good = await putAlias('A.b_c-9', admin, { displayName: 'Good alias' });
      assert.equal(good.status, 201);
      assert.equal((await putAlias('x'.repeat(64), admin, { displayName: 'Long alias' })).status, 201);
    });

    it('bodies of the wrong shape or type are 400 naming the field', async () => {
      const cases: [string, unknown, RegExp][] = [
        ['no body', undefined, /body is missing/],
        ['an array', [], /JSON object/],
        ['a string', '"text"', /JSON object/],
        ['no properties', {}, /properties/],
        ['properties an array', { properties: [] }, /properties/],
        ['an unknown field', { properties: { displayName: 'x', colour: 'red' } }, /colour/],
        ['a wrong workload', { properties: { displayName: 'x', workload: 'Staging' } }, /workload/],
        ['a workload of the wrong type', { properties: { displayName: 'x', workload: 1 } }, /workload/],
        ['a non-GUID subscriptionId', { properties: { subscriptionId: 'not-a-guid' } }, /subscriptionId/],
        ['a subscriptionId number', { properties: { subscriptionId: 7 } }, /subscriptionId/],
        ['a billingScope number', { properties: { displayName: 'x', billingScope: 7 } }, /billingScope/],
        ['a resellerId', { properties: { displayName: 'x', resellerId: 'mpn' } }, /resellerId/],
      ];
      for (const [what, body, message] of cases) {
        const res = await call(aliasUrl('shape'), { method: 'PUT', token: admin, body });
        assert.equal(res.status, 400, `${what}: ${JSON.stringify(res.body)}`);
        assert.match(errorOf(res.body).message, message, what);
      }
      const renames: [string, unknown][] = [
        ['no body', undefined],
        ['no subscriptionName', {}],
        ['a number', { subscriptionName: 5 }],
        ['an unknown field', { subscriptionName: 'x', displayName: 'x' }],
      ];
      for (const [what, body] of renames) {
        const res = await call(actionUrl(server.subscriptionId, 'rename'), { method: 'POST', token: admin, body });
        assert.equal(res.status, 400, `rename, ${what}: ${JSON.stringify(res.body)}`);
      }
      assert.equal((await call(actionUrl(server.subscriptionId, 'cancel'), { method: 'POST', token: admin, body: [1] })).status, 400);
      assert.equal((await call(actionUrl(server.subscriptionId, 'cancel'), { method: 'POST', token: admin, body: { force: true } })).status, 400);
      assert.equal((await call(actionUrl('not-a-guid', 'cancel'), { method: 'POST', token: admin })).status, 400);
      assert.equal((await getSubscription(admin, server.subscriptionId)).body.state, 'Enabled', 'nothing was cancelled');
    });

    it('a Disabled subscription is read-only through ML Server\'s API too, but its services still score (a known limit)', async () => {
      const service = (method: string, version: string, body?: unknown) => call(`${server.url}/services/adder/${version}`, { method, token: admin, body });
      const adder = { runtimeType: 'JavaScript', code: 'z = x + y;', inputParameterDefinitions: [{ name: 'x', type: 'numeric' }, { name: 'y', type: 'numeric' }], outputParameterDefinitions: [{ name: 'z', type: 'numeric' }] };
      assert.equal((await service('POST', '1', adder)).status, 201);
      assert.equal((await call(actionUrl(server.subscriptionId, 'cancel'), { method: 'POST', token: admin })).status, 200);
      try {
        for (const [method, version, body] of [['POST', '2', adder], ['PATCH', '1', { description: 'changed' }], ['DELETE', '1', undefined]] as const) {
          const res = await service(method, version, body);
          assert.equal(res.status, 409, `${method}: ${JSON.stringify(res.body)}`);
          assert.equal(errorOf(res.body).code, 'ReadOnlyDisabledSubscription');
        }
        const scored = await call<{ outputParameters: Record<string, number> }>(`${server.url}/api/adder/1`, { method: 'POST', token: admin, body: { x: 1, y: 2 } });
        assert.equal(scored.status, 200, 'the scoring gateway answers from memory and does not look at the subscription');
        assert.deepEqual(scored.body.outputParameters, { z: 3 });
      } finally {
        assert.equal((await call(actionUrl(server.subscriptionId, 'enable'), { method: 'POST', token: admin })).status, 200);
      }
      assert.equal((await service('DELETE', '1')).status, 200);
    });

    it('any api-version is accepted, as everywhere in the management API; other verbs on the paths are 404 RouteNotFound', async () => {
      for (const query of ['api-version=2099-01-01', 'api-version=2020-09-01', '']) {
        const res = await call(`${server.url}/providers/Microsoft.Subscription/aliases${query ? `?${query}` : ''}`, { token: admin });
        assert.equal(res.status, 200, `${query}: ${JSON.stringify(res.body)}`);
      }
      assert.equal((await putAlias('Team-B', admin, { displayName: 'x' })).status, 200);
      const patch = await call(aliasUrl('team-b'), { method: 'PATCH', token: admin, body: { properties: {} } });
      assert.equal(patch.status, 404);
      assert.equal(errorOf(patch.body).code, 'RouteNotFound');
      const getRename = await call(actionUrl(server.subscriptionId, 'rename'), { token: admin });
      assert.equal(getRename.status, 404);
      const renameAtRoot = await call(`${server.url}/providers/Microsoft.Subscription/rename?${V}`, { method: 'POST', token: admin, body: { subscriptionName: 'x' } });
      assert.equal(renameAtRoot.status, 404);
    });
  });
}
