/**
 * The access decision against an independent oracle: 50 assignments made through 5
 * groups (built-in and custom roles, at every level of the hierarchy), checked over a
 * grid of actions and scopes, before and after a member leaves a group. Correctness
 * only; the cost of a decision belongs to the benchmark (bench/rbac.mjs).
 */
import crypto from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STORE_KINDS, call } from './helpers.js';
import { adminToken, armPaths, assignRole, newUser, startArmServer, type ArmTestServer } from './arm-helpers.js';

interface Permission {
  actions: string[];
  notActions: string[];
}

interface OracleAssignment {
  id: string;
  groupIndex: number;
  roleId: string;
  scope: string;
}

/** An independent reading of Azure's wildcard: `*` is any run; a whole-segment `*` may also be no segment. */
function oracleMatch(pattern: string, action: string): boolean {
  const p = pattern.toLowerCase();
  const a = action.toLowerCase();
  const variants = new Set([p]);
  // Expand each "/*/" into "/" too, then match with plain '*' → '.*'.
  for (let changed = true; changed; ) {
    changed = false;
    for (const v of [...variants]) {
      const i = v.indexOf('/*/');
      if (i >= 0) {
        const collapsed = v.slice(0, i) + v.slice(i + 2);
        const kept = v.slice(0, i + 1) + '\u0001' + v.slice(i + 2);
        for (const n of [collapsed, kept]) if (!variants.has(n)) (variants.add(n), (changed = true));
        variants.delete(v);
      }
    }
  }
  return [...variants].some((v) => {
    const re = new RegExp(`^${v.split(/[*\u0001]/).map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    return re.test(a);
  });
}

function oracleGrants(permissions: Permission[], action: string): boolean {
  return permissions.some((p) => p.actions.some((x) => oracleMatch(x, action)) && !p.notActions.some((x) => oracleMatch(x, action)));
}

function oracleContains(scope: string, target: string): boolean {
  const s = scope.toLowerCase();
  const t = target.toLowerCase();
  return s === '/' || t === s || t.startsWith(`${s}/`);
}

/** A small deterministic generator, so a failure can be reproduced. */
function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

for (const kind of STORE_KINDS) {
  describe(`access decisions: 50 assignments through 5 groups [${kind}]`, () => {
    let server: ArmTestServer;
    let admin: string;
    let p: ReturnType<typeof armPaths>;
    let userId: string;
    const groupIds: string[] = [];
    const assignments: OracleAssignment[] = [];
    const roles = new Map<string, Permission[]>();
    const scopes: string[] = [];

    before(async () => {
      server = await startArmServer(kind);
      admin = await adminToken(server);
      p = armPaths(server);
      scopes.push(p.sub);
      for (const rg of ['alpha', 'beta', 'gamma']) {
        await call(p.url(p.rg(rg)), { method: 'PUT', token: admin, body: { location: 'westeurope' } });
        scopes.push(p.rg(rg));
        for (const ws of ['one', 'two']) {
          await call(p.url(p.ws(rg, `${rg}-${ws}`)), { method: 'PUT', token: admin, body: {} });
          scopes.push(p.ws(rg, `${rg}-${ws}`));
        }
      }
      const custom = [
        { Name: 'Model Writer', Actions: ['Microsoft.MachineLearningServices/workspaces/models/*', 'Microsoft.MachineLearningServices/workspaces/read'], NotActions: ['Microsoft.MachineLearningServices/workspaces/models/delete'] },
        { Name: 'Group Keeper', Actions: ['Microsoft.Resources/subscriptions/resourceGroups/*', 'Microsoft.MachineLearningServices/*'], NotActions: ['Microsoft.MachineLearningServices/workspaces/*/delete', 'Microsoft.Resources/subscriptions/resourceGroups/delete'] },
      ];
      const roleIds = ['acdd72a7-3385-48ef-bd42-f606fba81ae7', 'f6c7c914-8db3-469d-8ca1-694a8f32e121', 'e503ece1-11d0-4e8e-8e2c-7a6c3bf38815', 'b24988ac-6180-42a0-ab88-20f7382dd24c'];
      for (const role of custom) {
        const id = crypto.randomUUID();
        const res = await call(p.url(`${p.sub}/providers/Microsoft.Authorization/roleDefinitions/${id}`), { method: 'PUT', token: admin, body: { ...role, AssignableScopes: [p.sub] } });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        roleIds.push(id);
      }
      const defs = await call<{ value: { name: string; properties: { permissions: Permission[] } }[] }>(p.url(`${p.sub}/providers/Microsoft.Authorization/roleDefinitions`), { token: admin });
      for (const d of defs.body.value) roles.set(d.name, d.properties.permissions);
      userId = (await newUser(server, admin, 'many-groups')).id;
      for (let g = 0; g < 5; g++) {
        const group = await call<{ id: string }>(`${server.url}/v1.0/groups`, { token: admin, body: { displayName: `Decision group ${g}` } });
        groupIds.push(group.body.id);
        await call(`${server.url}/v1.0/groups/${group.body.id}/members/$ref`, { token: admin, body: { id: userId } });
      }
      const random = lcg(20_240_601);
      const seen = new Set<string>();
      for (let g = 0; g < 5; g++) {
        let made = 0;
        while (made < 10) {
          const roleId = roleIds[Math.floor(random() * roleIds.length)]!;
          const scope = scopes[Math.floor(random() * scopes.length)]!;
          if (roleId === 'b24988ac-6180-42a0-ab88-20f7382dd24c' && scope === p.sub) continue; // keep some denials
          const key = `${g} ${roleId} ${scope}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const id = await assignRole(server, admin, scope, groupIds[g]!, roleId);
          assignments.push({ id, groupIndex: g, roleId, scope });
          made++;
        }
      }
    });
    after(() => server.close());

    const actions = [
      'Microsoft.MachineLearningServices/workspaces/read',
      'Microsoft.MachineLearningServices/workspaces/write',
      'Microsoft.MachineLearningServices/workspaces/delete',
      'Microsoft.MachineLearningServices/workspaces/models/write',
      'Microsoft.MachineLearningServices/workspaces/models/delete',
      'Microsoft.MachineLearningServices/workspaces/computes/write',
      'Microsoft.MachineLearningServices/workspaces/computes/delete',
      'Microsoft.MachineLearningServices/workspaces/listKeys/action',
      'Microsoft.Resources/subscriptions/resourceGroups/read',
      'Microsoft.Resources/subscriptions/resourceGroups/write',
      'Microsoft.Resources/subscriptions/resourceGroups/delete',
      'Microsoft.Authorization/roleAssignments/write',
      'Microsoft.Authorization/roleAssignments/read',
    ];

    async function checkGrid(memberOf: Set<number>): Promise<{ allowed: number; denied: number }> {
      const targets = [...scopes, `${p.ws('beta', 'beta-two')}/computes/gpu-1`, '/'];
      let allowed = 0;
      let denied = 0;
      for (const action of actions) {
        for (const target of targets) {
          const expected = assignments
            .filter((a) => memberOf.has(a.groupIndex) && oracleContains(a.scope, target) && oracleGrants(roles.get(a.roleId)!, action))
            .map((a) => a.id)
            .sort();
          const decision = await server.services.access.decide(userId, action, target.toUpperCase());
          assert.equal(decision.allowed, expected.length > 0, `${action} at ${target}`);
          assert.deepEqual(decision.grantedBy.map((r) => r.id).sort(), expected, `${action} at ${target}: the granting assignments`);
          if (decision.allowed) allowed++;
          else denied++;
        }
      }
      return { allowed, denied };
    }

    it('made 50 assignments through 5 groups', () => {
      assert.equal(assignments.length, 50);
      assert.deepEqual([0, 1, 2, 3, 4].map((g) => assignments.filter((a) => a.groupIndex === g).length), [10, 10, 10, 10, 10]);
    });

    it('every decision over the grid matches the oracle, with the same granting assignments', async () => {
      const { allowed, denied } = await checkGrid(new Set([0, 1, 2, 3, 4]));
      assert.ok(allowed > 20 && denied > 20, `the grid exercises both answers (allowed ${allowed}, denied ${denied})`);
    });

    it('after leaving two groups, decisions follow at once', async () => {
      for (const g of [1, 3]) {
        const res = await call(`${server.url}/v1.0/groups/${groupIds[g]}/members/${userId}/$ref`, { method: 'DELETE', token: admin });
        assert.equal(res.status, 204);
      }
      await checkGrid(new Set([0, 2, 4]));
    });

    it('checkAccess agrees with the decision', async () => {
      for (const action of actions.slice(0, 6)) {
        const target = p.ws('alpha', 'alpha-one');
        const res = await call<{ allowed: boolean; decidedBy: { assignmentId: string }[] }>(`${server.url}/providers/Tessera.Authorization/checkAccess`, { token: admin, body: { principalId: userId, action, scope: target } });
        const decision = await server.services.access.decide(userId, action, target);
        assert.equal(res.body.allowed, decision.allowed, action);
        assert.deepEqual(res.body.decidedBy.map((d) => d.assignmentId).sort(), decision.grantedBy.map((r) => r.id).sort());
      }
    });
  });
}
