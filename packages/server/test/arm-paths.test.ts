/**
 * Path confusion: a resource ID names one resource, and the resource the permission check
 * sees is the resource the handler acts on. A role inside one resource group or workspace
 * must never reach a sibling through a nested `/providers/…` chain.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STORE_KINDS, call } from './helpers.js';
import { adminToken, armPaths, assignRole, newUser, startArmServer, type ArmTestServer } from './arm-helpers.js';

for (const kind of STORE_KINDS) {
  describe(`ARM path confusion [${kind}]`, () => {
    let server: ArmTestServer;
    let admin: string;
    let p: ReturnType<typeof armPaths>;
    let contributor: { id: string; token: string };

    before(async () => {
      server = await startArmServer(kind);
      admin = await adminToken(server);
      p = armPaths(server);
      for (const rg of ['mine', 'victim']) assert.equal((await call(p.url(p.rg(rg)), { method: 'PUT', token: admin, body: { location: 'westeurope' } })).status, 201);
      for (const ws of ['ws-mine', 'ws-victim']) assert.equal((await call(p.url(p.ws('mine', ws)), { method: 'PUT', token: admin, body: {} })).status, 201);
      contributor = await newUser(server, admin, 'narrow');
      await assignRole(server, admin, p.rg('mine'), contributor.id, 'Contributor');
    });
    after(() => server.close());

    it('a resource-group Contributor cannot name another group through a nested Microsoft.Resources chain', async () => {
      const nested = `${p.rg('mine')}/providers/Microsoft.Resources/subscriptions/${server.subscriptionId}/resourceGroups/victim`;
      for (const method of ['DELETE', 'PUT', 'GET', 'PATCH']) {
        const res = await call(p.url(nested), { method, token: contributor.token, body: method === 'PUT' || method === 'PATCH' ? { location: 'westeurope' } : undefined });
        assert.equal(res.status, 400, `${method}: ${JSON.stringify(res.body)}`);
      }
      assert.equal((await call(p.url(p.rg('victim')), { token: admin })).status, 200, 'the other group is untouched');
    });

    it('a workspace-scoped role cannot reach a sibling workspace through a nested workspaces chain', async () => {
      const wsOwner = await newUser(server, admin, 'wsowner');
      await assignRole(server, admin, p.ws('mine', 'ws-mine'), wsOwner.id, 'Contributor');
      const nested = `${p.ws('mine', 'ws-mine')}/providers/Microsoft.MachineLearningServices/workspaces/ws-victim`;
      for (const method of ['DELETE', 'PUT', 'GET']) {
        const res = await call(p.url(nested), { method, token: wsOwner.token, body: method === 'PUT' ? {} : undefined });
        assert.equal(res.status, 400, `${method}: ${JSON.stringify(res.body)}`);
      }
      const rgChain = `${p.ws('mine', 'ws-mine')}/providers/Microsoft.Resources/subscriptions/${server.subscriptionId}/resourceGroups/mine`;
      assert.equal((await call(p.url(rgChain), { method: 'DELETE', token: wsOwner.token })).status, 400);
      assert.equal((await call(p.url(p.ws('mine', 'ws-victim')), { token: admin })).status, 200, 'the sibling workspace is untouched');
      assert.equal((await call(p.url(p.rg('mine')), { token: admin })).status, 200, 'and so is the group');
    });

    it('role assignments as extension resources still work below a workspace', async () => {
      const reader = await newUser(server, admin, 'wsreader');
      await assignRole(server, admin, p.ws('mine', 'ws-mine'), reader.id, 'Reader');
      assert.equal((await call(p.url(p.ws('mine', 'ws-mine')), { token: reader.token })).status, 200);
    });
  });
}
