// RBAC decisions per second, in-process (no HTTP, no token checks): what `access.decide`
// costs a management or scoring request for a principal with 50 role assignments that
// reach it through 5 groups. Warm: the per-principal cache of assignments is filled, as it
// is for a principal making requests (it lasts one second, so a warm run still refetches
// once a second). Cold: `access.invalidate()` before every decision, so each one reads the
// assignments from the store again: what any change to roles, assignments or membership costs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveConfig, startServer } from '@tessera/server';
import { median } from './lib.mjs';

const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const CONTRIBUTOR = 'b24988ac-6180-42a0-ab88-20f7382dd24c';
export const GROUPS = 5;
export const PER_GROUP = 10;
const WS_READ = 'Microsoft.MachineLearningServices/workspaces/read';
const WS_WRITE = 'Microsoft.MachineLearningServices/workspaces/write';
const ASSIGN = 'Microsoft.Authorization/roleAssignments/write';

/**
 * The user, its groups and assignments. Assignment i is on resource group rg<i>, Reader for
 * even i and Contributor for odd i, made to group floor(i / 10).
 */
async function setUp(running) {
  const { services, bootstrap } = running;
  const { tenantId, subscriptionId } = bootstrap;
  const user = await services.users.create(tenantId, { username: 'rbac-bench', password: 'Bench-user-password-77' });
  const rgScope = (i) => `/subscriptions/${subscriptionId}/resourceGroups/rg${i}`;
  // Once assignments may only name resources that exist, the groups must exist first; the
  // workspace part creates them where the server has it (it is being built as this is written).
  const resourceGroups = services.workspace?.resourceGroups;
  for (let g = 0; g < GROUPS; g++) {
    const group = await services.groups.create(tenantId, { displayName: `rbac-bench-${g}` });
    await services.groups.addMember(tenantId, group.id, user.id);
    for (let k = 0; k < PER_GROUP; k++) {
      const i = g * PER_GROUP + k;
      if (resourceGroups) await resourceGroups.put(tenantId, subscriptionId, `rg${i}`, { location: 'local' }, null);
      await services.access.assign({ tenantId, principalId: group.id, principalType: 'Group', roleDefinitionId: i % 2 ? CONTRIBUTOR : READER, scope: rgScope(i), createdBy: null });
    }
  }

  // The mix of questions, each with the answer the assignments above must give.
  const cases = [];
  for (let i = 0; i < GROUPS * PER_GROUP; i++) {
    const ws = `${rgScope(i)}/providers/Microsoft.MachineLearningServices/workspaces/ws${i}`;
    cases.push({ action: WS_READ, scope: ws, allowed: true }); // Reader or Contributor, inherited
    cases.push({ action: WS_WRITE, scope: ws, allowed: i % 2 === 1 }); // Contributor only
    cases.push({ action: ASSIGN, scope: rgScope(i), allowed: false }); // Contributor's NotActions
    cases.push({ action: WS_READ, scope: `${rgScope(i + 100)}/providers/Microsoft.MachineLearningServices/workspaces/ws`, allowed: false }); // nothing there
  }
  cases.push({ action: WS_READ, scope: `/subscriptions/${subscriptionId}`, allowed: false }); // above every assignment
  return { userId: user.id, cases };
}

/** Decisions per second over `seconds`, round-robin over `cases`, one at a time. */
async function decisionsPerSec(access, userId, cases, seconds, cold) {
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  let n = 0;
  // Read the clock once per batch: a warm decision costs about as much as reading it.
  while (performance.now() < end) {
    for (let b = 0; b < 64; b++, n++) {
      const c = cases[n % cases.length];
      if (cold) access.invalidate();
      await access.decide(userId, c.action, c.scope);
    }
  }
  return n / ((performance.now() - started) / 1000);
}

export async function measureRbac({ seconds, rounds }) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-bench-rbac-'));
  const running = await startServer(resolveConfig({ port: 0, data: dataDir, logLevel: 'warn' }, { TESSERA_ADMIN_PASSWORD: 'Bench-operator-secret-42' }));
  try {
    const { access } = running.services;
    const { userId, cases } = await setUp(running);
    // Fail loudly if the decisions are not the ones the assignments imply: a fast wrong answer measures nothing.
    for (const c of cases) {
      const { allowed } = await access.decide(userId, c.action, c.scope);
      if (allowed !== c.allowed) throw new Error(`RBAC bench: ${c.action} at ${c.scope} was ${allowed ? 'allowed' : 'denied'}, expected the opposite`);
    }
    await decisionsPerSec(access, userId, cases, 0.5, false); // warm-up (JIT)
    await decisionsPerSec(access, userId, cases, 0.5, true);
    const warm = [];
    const cold = [];
    for (let round = 0; round < rounds; round++) {
      warm.push(await decisionsPerSec(access, userId, cases, seconds, false));
      cold.push(await decisionsPerSec(access, userId, cases, seconds, true));
    }
    return {
      groups: GROUPS,
      assignments: GROUPS * PER_GROUP,
      cases: cases.length,
      allowedCases: cases.filter((c) => c.allowed).length,
      warmPerSec: median(warm),
      coldPerSec: median(cold),
      roundsPerSec: { warm, cold },
    };
  } finally {
    await running.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
