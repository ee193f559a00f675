/**
 * Identities, computes, nodes and job submissions through the management API, on both
 * stores: what they show, who may attach an identity, and the refusal of wrong, missing,
 * oversized and hostile input.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { call, STORE_KINDS } from './helpers.js';
import { assignRole, errorOf, newUser } from './arm-helpers.js';
import { createCompute, createIdentity, startComputeWorld, submitJob, type ComputeWorld } from './compute-helpers.js';

const CONTRIBUTOR = 'b24988ac-6180-42a0-ab88-20f7382dd24c';

for (const kind of STORE_KINDS) {
  describe(`compute resources (${kind})`, () => {
    let world: ComputeWorld;
    before(async () => {
      world = await startComputeWorld(kind, { env: { TESSERA_LOCAL_NODE: 'off', TESSERA_RUN_CODE_LIMIT: String(64 * 1024) } });
    });
    after(() => world.close());

    test('a user-assigned identity is a managed-identity principal: roles are assigned to it, it has no credentials, it goes with its resource', async () => {
      const uai = await createIdentity(world, 'id-reader');
      assert.match(uai.properties.clientId, /^[0-9a-f-]{36}$/);
      await assignRole(world.server, world.admin, world.ws, uai.properties.principalId, CONTRIBUTOR);
      const sp = await call<{ servicePrincipalType: string; appId: string }>(`${world.server.url}/v1.0/servicePrincipals/${uai.properties.principalId}`, { token: world.admin });
      assert.equal(sp.body.servicePrincipalType, 'ManagedIdentity');
      assert.equal(sp.body.appId, uai.properties.clientId);
      const secret = await call(`${world.server.url}/v1.0/servicePrincipals/${uai.properties.principalId}/addPassword`, { token: world.admin, body: {} });
      assert.equal(secret.status, 400);
      const deleted = await call(world.url(uai.id), { method: 'DELETE', token: world.admin });
      assert.equal(deleted.status, 200);
      const gone = await call(`${world.server.url}/v1.0/servicePrincipals/${uai.properties.principalId}`, { token: world.admin });
      assert.equal(gone.status, 404);
      assert.equal((await call(world.url(uai.id), { method: 'DELETE', token: world.admin })).status, 204);
    });

    test('a compute shows its system- and user-assigned identities; its type cannot change; deleting it deletes its system identity', async () => {
      const uai = await createIdentity(world, 'id-both');
      const compute = await createCompute(world, 'both', { type: 'SystemAssigned,UserAssigned', userAssignedIdentities: { [uai.id]: {} } });
      assert.equal(compute.identity.type, 'SystemAssigned,UserAssigned');
      assert.match(compute.identity.principalId!, /^[0-9a-f-]{36}$/);
      assert.equal(compute.identity.userAssignedIdentities![uai.id]!.clientId, uai.properties.clientId);
      const retype = await call(world.url(`${world.ws}/computes/both`), { method: 'PUT', token: world.admin, body: { properties: { computeType: 'AmlCompute' } } });
      assert.equal(retype.status, 409);
      const list = await call<{ value: { name: string }[] }>(world.url(`${world.ws}/computes`), { token: world.admin });
      assert.ok(list.body.value.some((c) => c.name === 'both'));
      assert.equal((await call(world.url(`${world.ws}/computes/both`), { method: 'DELETE', token: world.admin })).status, 200);
      assert.equal((await call(`${world.server.url}/v1.0/servicePrincipals/${compute.identity.principalId}`, { token: world.admin })).status, 404);
      assert.equal((await call(world.url(uai.id), { token: world.admin })).status, 200, 'a user-assigned identity outlives the compute');
    });

    test('attaching an identity needs assign/action on it, not only write on the compute', async () => {
      const uai = await createIdentity(world, 'id-guarded');
      const user = await newUser(world.server, world.admin, 'compute-writer');
      await assignRole(world.server, world.admin, world.ws, user.id, CONTRIBUTOR);
      const body = { identity: { type: 'UserAssigned', userAssignedIdentities: { [uai.id]: {} } }, properties: { computeType: 'AmlCompute' } };
      const refused = await call(world.url(`${world.ws}/computes/stolen`), { method: 'PUT', token: user.token, body });
      assert.equal(refused.status, 403);
      assert.match(errorOf(refused.body).message, /userAssignedIdentities\/assign\/action/);
      const plain = await call(world.url(`${world.ws}/computes/plain`), { method: 'PUT', token: user.token, body: { properties: { computeType: 'AmlCompute' } } });
      assert.equal(plain.status, 201);
    });

    test('wrong, missing and hostile compute bodies and names are refused with 400', async () => {
      const cases: [string, unknown][] = [
        ['c1', { properties: {} }],
        ['c1', { properties: { computeType: 'Kubernetes' } }],
        ['c1', { identity: { type: 'Magic' }, properties: { computeType: 'AmlCompute' } }],
        ['c1', { identity: { type: 'UserAssigned' }, properties: { computeType: 'AmlCompute' } }],
        ['c1', { identity: { type: 'UserAssigned', userAssignedIdentities: { '/not/an/id': {} } }, properties: { computeType: 'AmlCompute' } }],
        ['c1', { properties: { computeType: 'AmlCompute', properties: { maxConcurrentRuns: 0 } } }],
        ['c1', { properties: { computeType: 'AmlCompute', description: 'x'.repeat(5000) } }],
        ['c1', { properties: { computeType: 'AmlCompute', surprise: 1 } }],
        ['<script>', { properties: { computeType: 'AmlCompute' } }],
      ];
      for (const [name, body] of cases) {
        const res = await call(world.url(`${world.ws}/computes/${encodeURIComponent(name)}`), { method: 'PUT', token: world.admin, body });
        assert.equal(res.status, 400, `${name} ${JSON.stringify(body)} → ${res.status} ${JSON.stringify(res.body)}`);
        assert.ok(!JSON.stringify(res.body).includes('<script>'), 'markup is never echoed');
      }
      const missingIdentity = await call(world.url(`${world.ws}/computes/c2`), {
        method: 'PUT',
        token: world.admin,
        body: { identity: { type: 'UserAssigned', userAssignedIdentities: { [`${world.rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/nobody`]: {} } }, properties: { computeType: 'AmlCompute' } },
      });
      assert.equal(missingIdentity.status, 400);
      assert.equal((await call(world.url(`${world.rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${encodeURIComponent('a b')}`), { method: 'PUT', token: world.admin, body: {} })).status, 400);
    });

    test('a node credential is shown once, works on the node protocol, and stops at once when rotated or revoked', async () => {
      await createCompute(world, 'noded', { type: 'None' });
      const reg = await call<{ nodeId: string; credential: string }>(world.url(`${world.ws}/computes/noded/registerNode`), { method: 'POST', token: world.admin, body: { name: 'gpu-box' } });
      assert.equal(reg.status, 201);
      const me = await call<{ compute: string }>(`${world.server.url}/nodes/v1/me`, { token: reg.body.credential });
      assert.equal(me.body.compute, 'noded');
      const poll = await call<{ runs: unknown[] }>(`${world.server.url}/nodes/v1/poll`, { token: reg.body.credential, body: { capacity: 1, waitSec: 0 } });
      assert.equal(poll.status, 200);
      assert.deepEqual(poll.body.runs, []);
      for (const bad of [{ capacity: -1 }, { capacity: 1, running: 'x' }, { capacity: 1, extra: true }, {}]) {
        assert.equal((await call(`${world.server.url}/nodes/v1/poll`, { token: reg.body.credential, body: bad })).status, 400, JSON.stringify(bad));
      }
      assert.equal((await call(`${world.server.url}/nodes/v1/token`, { token: reg.body.credential, body: { runId: '00000000-0000-0000-0000-000000000000', resource: 'api://tessera/management' } })).status, 404);
      assert.equal((await call(`${world.server.url}/nodes/v1/me`, { token: 'tsnd_' + 'A'.repeat(43) })).status, 401);
      assert.equal((await call(`${world.server.url}/nodes/v1/me`, { token: world.admin })).status, 401, 'a user token is not a node credential');
      const duplicate = await call(world.url(`${world.ws}/computes/noded/registerNode`), { method: 'POST', token: world.admin, body: { name: 'gpu-box' } });
      assert.equal(duplicate.status, 409);
      const hostile = await call(world.url(`${world.ws}/computes/noded/registerNode`), { method: 'POST', token: world.admin, body: { name: '<img src=x>' } });
      assert.equal(hostile.status, 400);
      const revoke = await call(world.url(`${world.ws}/computes/noded/nodes/${reg.body.nodeId}`), { method: 'DELETE', token: world.admin });
      assert.equal(revoke.status, 200);
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal((await call(`${world.server.url}/nodes/v1/me`, { token: reg.body.credential })).status, 401);
      assert.ok(!world.server.logs.some((l) => l.includes(reg.body.credential)), 'the credential is never logged');
    });

    test('job submissions: a command run by no shell, code inside its folder, names and variables checked, sizes bounded', async () => {
      await createCompute(world, 'jobs', { type: 'None' });
      const ok = await submitJob(world, 'ok-job', 'jobs', 'python train.py --lr 0.1', { 'train.py': 'print(1)' });
      assert.equal(ok.properties.status, 'Queued');
      const put = (name: string, properties: Record<string, unknown>) =>
        call(world.url(`${world.ws}/jobs/${encodeURIComponent(name)}`), { method: 'PUT', token: world.admin, body: { properties: { computeId: 'jobs', command: 'python train.py', codeFiles: { 'train.py': Buffer.from('print(1)').toString('base64') }, ...properties } } });
      const refused: [string, Record<string, unknown>, number][] = [
        ['ok-job', {}, 409],
        ['j1', { command: 'python train.py && rm -rf /' }, 201],
        ['j2', { command: 'bash -c "curl evil"' }, 400],
        ['j3', { command: 'python missing.py' }, 400],
        ['j4', { codeFiles: { '../escape.py': 'cHJpbnQoMSk=' }, command: 'python ../escape.py' }, 400],
        ['j5', { codeFiles: { '/etc/passwd': 'eA==' } }, 400],
        ['j6', { environmentVariables: { AZUREML_RUN_TOKEN: 'forged' } }, 400],
        ['j7', { environmentVariables: { 'BAD NAME': 'x' } }, 400],
        ['j8', { computeId: 'nowhere' }, 404],
        ['j9', { limits: { timeout: -5 } }, 400],
        ['j10', { command: 'python "unterminated' }, 400],
        ['j11', { codeFiles: { 'train.py': Buffer.alloc(80 * 1024).toString('base64') } }, 413],
        ['j12', { inputs: {} }, 400],
        ['<b>x</b>', {}, 400],
      ];
      for (const [name, properties, status] of refused) {
        const res = await put(name, properties);
        assert.equal(res.status, status, `${name} ${JSON.stringify(properties).slice(0, 100)} → ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      }
      // `&&` is an argument to the script, not a shell operator.
      const j1 = await call<{ properties: { command: string } }>(world.url(`${world.ws}/jobs/j1`), { token: world.admin });
      assert.equal(j1.body.properties.command, 'python train.py && rm -rf /');
      const list = await call<{ value: unknown[] }>(world.url(`${world.ws}/jobs`, 'api-version=1&status=Queued'), { token: world.admin });
      assert.equal(list.body.value.length, 2);
      assert.equal((await call(world.url(`${world.ws}/jobs`, 'api-version=1&status=Bogus'), { token: world.admin })).status, 400);
      const cancel = await call<{ properties: { status: string } }>(world.url(`${world.ws}/jobs/j1/cancel`), { method: 'POST', token: world.admin });
      assert.equal(cancel.body.properties.status, 'Canceled');
      const metrics = await call(world.url(`${world.ws}/jobs/ok-job/metrics`), { method: 'POST', token: world.admin, body: { metrics: [{ name: 'loss', value: 'NaN-is-a-string' }, { name: 'x', value: { nested: 1 } }] } });
      assert.equal(metrics.status, 400);
      const logs = await call(world.url(`${world.ws}/jobs/ok-job/logs`, 'api-version=1&after=-1'), { token: world.admin });
      assert.equal(logs.status, 400);
    });

    test('a user without roles in the workspace cannot see or submit jobs', async () => {
      const outsider = await newUser(world.server, world.admin, 'job-outsider');
      assert.equal((await call(world.url(`${world.ws}/jobs/ok-job`), { token: outsider.token })).status, 403);
      assert.equal((await call(world.url(`${world.ws}/jobs`), { token: outsider.token })).status, 403);
      const submit = await call(world.url(`${world.ws}/jobs/sneaky`), { method: 'PUT', token: outsider.token, body: { properties: { computeId: 'jobs', command: 'python a.py', codeFiles: { 'a.py': 'eA==' } } } });
      assert.equal(submit.status, 403);
      assert.equal((await call(world.url(`${world.ws}/computes/jobs/registerNode`), { method: 'POST', token: outsider.token, body: {} })).status, 403);
    });
  });
}
