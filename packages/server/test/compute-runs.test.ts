/**
 * Runs on compute, end to end with the real parts: jobs run by the built-in node and by
 * a `tessera node start` process under bubblewrap, getting tokens from the node's
 * managed-identity endpoint through @azure/identity (both environment shapes) and plain
 * urllib, acting with their run token, and ending whatever they started.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { call } from './helpers.js';
import { assignRole } from './arm-helpers.js';
import { createCompute, createIdentity, jobLog, startComputeWorld, submitJob, waitForJob, type ComputeWorld } from './compute-helpers.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const JOBS = path.resolve(HERE, '..', '..', 'test', 'compute-jobs');
const REPO = path.resolve(HERE, '..', '..', '..', '..');
const CLI = path.join(REPO, 'packages', 'cli', 'dist', 'src', 'main.js');
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';

const job = (file: string) => fs.readFileSync(path.join(JOBS, file), 'utf8');

/** An environment whose node_modules is the repository's (where @azure/identity is installed). */
function nodeEnvironment(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-env-'));
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

/** A TCP listener the runs' processes connect to: a connection that closes means its process ended. */
async function liveness(): Promise<{ port: number; sockets: net.Socket[]; close(): void }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    sockets.push(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, sockets, close: () => server.close() };
}

const closed = (s: net.Socket) => s.destroyed || s.readyState === 'closed' || !s.readable;

async function metrics(world: ComputeWorld, name: string): Promise<Record<string, unknown>> {
  const res = await call<{ value: { name: string; value: unknown }[] }>(world.url(`${world.ws}/jobs/${name}/metrics`), { token: world.admin });
  return Object.fromEntries(res.body.value.map((m) => [m.name, m.value]));
}

describe('runs on the built-in node', () => {
  let world: ComputeWorld;
  let envDir: string;
  before(async () => {
    envDir = nodeEnvironment();
    world = await startComputeWorld('sqlite', { env: { TESSERA_NODE_ENVIRONMENTS: `azure=${envDir}`, TESSERA_SANDBOX: 'required', TESSERA_LOCAL_NODE_CAPACITY: '4' } });
  });
  after(async () => {
    await world.close();
    fs.rmSync(envDir, { recursive: true, force: true });
  });

  test('a Node script gets tokens through @azure/identity ManagedIdentityCredential in both environment shapes and calls Tessera with them', async () => {
    const compute = await createCompute(world, 'cpu', { type: 'SystemAssigned' });
    await assignRole(world.server, world.admin, world.ws, compute.identity.principalId!, READER);
    for (const shape of ['app-service', 'ml']) {
      await submitJob(world, `identity-${shape}`, 'cpu', `node identity-probe.mjs ${shape}`, { 'identity-probe.mjs': job('identity-probe.mjs') }, { environmentId: 'azure' });
      const done = await waitForJob(world, `identity-${shape}`);
      assert.equal(done.properties.status, 'Completed', JSON.stringify(await jobLog(world, `identity-${shape}`)));
      const log = (await jobLog(world, `identity-${shape}`)).join('\n');
      assert.match(log, new RegExp(`shape=${shape} status=200 appid=[0-9a-f-]{36} idtyp=app`));
      const result = await fetch(world.url(`${world.ws}/jobs/identity-${shape}/artifacts`, 'api-version=1&path=outputs/result.json'), { headers: { authorization: `Bearer ${world.admin}` } });
      const body = (await result.json()) as { oid: string };
      assert.equal(body.oid, compute.identity.principalId, 'the token is for the compute\'s system-assigned identity');
      assert.equal((await metrics(world, `identity-${shape}`)).workspace_status, 200, 'the SDK helper logged a metric with the run token');
    }
  });

  test('a Python script gets a token with only urllib; the endpoint refuses a missing or wrong secret, an unknown identity and a foreign resource; the run token reaches its own run only', async () => {
    await createCompute(world, 'py', { type: 'SystemAssigned' });
    await submitJob(world, 'other', 'py', 'python other.py', { 'other.py': 'print(1)\n' });
    await waitForJob(world, 'other');
    await submitJob(world, 'probe', 'py', 'python msi_probe.py other', { 'msi_probe.py': job('msi_probe.py') });
    const done = await waitForJob(world, 'probe');
    assert.equal(done.properties.status, 'Completed', JSON.stringify(await jobLog(world, 'probe')));
    const m = await metrics(world, 'probe');
    assert.deepEqual(
      { ...m },
      {
        msi_ok: 200,
        msi_resource_echo: true,
        msi_no_secret: 401,
        msi_wrong_secret: 401,
        msi_no_metadata: 400,
        msi_unknown_client: 400,
        msi_foreign_resource: 400,
        own_run: 200,
        other_run: 403,
        workspace_write: 403,
        role_assignments: 403,
        services: 403,
        models: 200,
        directory: 403,
        submit_job: 403,
      },
    );
    const list = await call<{ value: { path: string }[] }>(world.url(`${world.ws}/jobs/probe/artifacts`), { token: world.admin });
    assert.deepEqual(list.body.value.map((a) => a.path).sort(), ['outputs/answer.txt', 'outputs/run_token.txt', 'outputs/uploaded.txt']);
    const answer = await fetch(world.url(`${world.ws}/jobs/probe/artifacts`, 'api-version=1&path=outputs/answer.txt'), { headers: { authorization: `Bearer ${world.admin}` } });
    assert.equal(await answer.text(), '42');
    // A finished run's output becomes a model version.
    const registered = await call<{ properties: Record<string, unknown> }>(world.url(`${world.ws}/models/from-run/versions/1`), {
      method: 'PUT',
      token: world.admin,
      body: { properties: { modelUri: 'azureml://jobs/probe/outputs/artifacts/paths/outputs/answer.txt', description: 'from a run' } },
    });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    const file = await fetch(world.url(`${world.ws}/models/from-run/versions/1`, 'api-version=1&path=answer.txt'), { headers: { authorization: `Bearer ${world.admin}` } });
    assert.equal(await file.text(), '42');
    for (const modelUri of ['azureml://jobs/probe/outputs/artifacts/paths/nothing-here', 'file:///etc/passwd', 'azureml://jobs/nobody/outputs/artifacts/paths/x']) {
      const bad = await call(world.url(`${world.ws}/models/from-run/versions/2`), { method: 'PUT', token: world.admin, body: { properties: { modelUri } } });
      assert.ok(bad.status === 400 || bad.status === 404, `${modelUri} → ${bad.status}`);
    }

    // After its run ended, the run token is refused; so is one with an edited claim.
    const tokenRes = await fetch(world.url(`${world.ws}/jobs/probe/artifacts`, 'api-version=1&path=outputs/run_token.txt'), { headers: { authorization: `Bearer ${world.admin}` } });
    const runToken = await tokenRes.text();
    await sleep(1100);
    const afterEnd = await call(world.url(`${world.ws}/jobs/probe`), { token: runToken });
    assert.equal(afterEnd.status, 401);
    const [h, p, s] = runToken.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    claims.xms_run = `${world.ws}/jobs/other`;
    const edited = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
    assert.equal((await call(world.url(`${world.ws}/jobs/other`), { token: edited })).status, 401);
    // Nor does the token endpoint take it as a credential.
    const exchange = await fetch(`${world.server.url}/organizations/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: String(claims.appid), client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: runToken, scope: 'api://tessera/management/.default' }),
    });
    assert.ok(exchange.status === 400 || exchange.status === 401, `exchange answered ${exchange.status}`);
    assert.ok(!world.server.logs.some((l) => l.includes(runToken)), 'the run token is never logged');
  });

  test('a user-assigned identity is chosen by client id; the run environment holds nothing of the server', async () => {
    const uai = await createIdentity(world, 'trainer');
    await createCompute(world, 'uai', { type: 'UserAssigned', userAssignedIdentities: { [uai.id]: {} } });
    const script = `
import json, os, urllib.request
u = os.environ["IDENTITY_ENDPOINT"] + "?api-version=2019-08-01&resource=api://tessera/workspace&client_id=${uai.properties.clientId}"
t = json.load(urllib.request.urlopen(urllib.request.Request(u, headers={"X-IDENTITY-HEADER": os.environ["IDENTITY_HEADER"]})))
print("client", t["client_id"])
print("env", " ".join(sorted(os.environ)))
`;
    await submitJob(world, 'uai-job', 'uai', 'python t.py', { 't.py': script });
    const done = await waitForJob(world, 'uai-job');
    const log = await jobLog(world, 'uai-job');
    assert.equal(done.properties.status, 'Completed', JSON.stringify(log));
    assert.ok(log.includes(`client ${uai.properties.clientId}`));
    const env = log.find((l) => l.startsWith('env '))!.slice(4).split(' ');
    for (const name of env) assert.match(name, /^(AZUREML_|IDENTITY_|MSI_|DEFAULT_IDENTITY_CLIENT_ID$|PATH$|HOME$|TMPDIR$|LANG$|PWD$|PYTHONPATH$|PYTHONUNBUFFERED$|TZ$)/, `unexpected variable ${name}`);
  });

  test('a script that forks and exits has its whole process tree ended with the run; cancel and timeout end it too', async () => {
    await createCompute(world, 'forks', { type: 'None' }, 3);
    const probe = await liveness();
    try {
      // The parent sleeps only once its child has connected (the child says so on a pipe),
      // so a slow start on a loaded machine cannot end a run before its child exists.
      const forker = `
import os, socket, subprocess, sys, time
code = "import socket,sys,time\\ns=socket.create_connection(('127.0.0.1', ${probe.port}))\\nprint('connected', flush=True)\\ntime.sleep(600)"
child = subprocess.Popen([sys.executable, "-c", code], start_new_session=True, stdout=subprocess.PIPE)
child.stdout.readline()
time.sleep(float(sys.argv[1]))
`;
      await submitJob(world, 'forker', 'forks', 'python f.py 1', { 'f.py': forker });
      await submitJob(world, 'canceled', 'forks', 'python f.py 600', { 'f.py': forker });
      await submitJob(world, 'slow', 'forks', 'python f.py 600', { 'f.py': forker }, { limits: { timeout: 6 } });
      await waitForJob(world, 'canceled', (j) => j.properties.status === 'Running');
      for (let i = 0; probe.sockets.length < 3 && i < 300; i++) await sleep(100);
      assert.equal(probe.sockets.length, 3, 'each run started its child');
      const cancel = await call(world.url(`${world.ws}/jobs/canceled/cancel`), { method: 'POST', token: world.admin });
      assert.equal(cancel.status, 202);
      assert.equal((await waitForJob(world, 'forker')).properties.status, 'Completed');
      assert.equal((await waitForJob(world, 'canceled')).properties.status, 'Canceled');
      const slow = await waitForJob(world, 'slow');
      assert.equal(slow.properties.status, 'Failed');
      assert.equal(slow.properties.error?.code, 'Timeout');
      for (let i = 0; probe.sockets.some((s) => !closed(s)) && i < 50; i++) await sleep(100);
      assert.ok(probe.sockets.every(closed), 'no process of an ended run is left');
      const again = await call(world.url(`${world.ws}/jobs/forker/cancel`), { method: 'POST', token: world.admin });
      assert.equal(again.status, 409, 'an ended run cannot be canceled');
    } finally {
      probe.close();
    }
  });

  test('a compute runs at most maxConcurrentRuns at once; the rest wait Queued', async () => {
    await createCompute(world, 'one', { type: 'None' }, 1);
    await submitJob(world, 'first', 'one', 'python s.py', { 's.py': 'import time\ntime.sleep(1.5)\n' });
    await submitJob(world, 'second', 'one', 'python s.py', { 's.py': 'import time\ntime.sleep(0.1)\n' });
    await waitForJob(world, 'first', (j) => j.properties.status === 'Running');
    const second = await call<{ properties: { status: string } }>(world.url(`${world.ws}/jobs/second`), { token: world.admin });
    assert.equal(second.body.properties.status, 'Queued');
    assert.equal((await waitForJob(world, 'second')).properties.status, 'Completed');
  });

  test('a failing script is Failed with its exit code and its output in the log', async () => {
    await submitJob(world, 'fails', 'one', 'python bad.py --flag "two words"', { 'bad.py': 'import sys\nprint(sys.argv[1:])\nsys.exit(3)\n' });
    const done = await waitForJob(world, 'fails');
    assert.equal(done.properties.status, 'Failed');
    assert.equal(done.properties.exitCode, 3);
    assert.ok((await jobLog(world, 'fails')).includes("['--flag', 'two words']"));
  });
});

describe('runs on a node of its own (tessera node start)', () => {
  let world: ComputeWorld;
  const started: ReturnType<typeof spawn>[] = [];
  before(async () => {
    // 8 s: long enough that a stall of the loaded machine does not lose a live node, short enough to wait out.
    world = await startComputeWorld('postgres', { env: { TESSERA_NODE_TIMEOUT_SEC: '8', TESSERA_SANDBOX: 'required' } });
  });
  after(async () => {
    for (const child of started) child.kill('SIGKILL');
    await world.close();
  });

  async function register(compute: string): Promise<{ nodeId: string; file: string }> {
    const res = await call<{ nodeId: string; credential: string }>(world.url(`${world.ws}/computes/${compute}/registerNode`), { method: 'POST', token: world.admin, body: {} });
    assert.equal(res.status, 201);
    assert.match(res.body.credential, /^tsnd_[A-Za-z0-9_-]{43}$/);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-node-cred-')), 'node.token');
    fs.writeFileSync(file, res.body.credential, { mode: 0o600 });
    return { nodeId: res.body.nodeId, file };
  }

  function startNode(compute: string, file: string) {
    const child = spawn(process.execPath, [CLI, 'node', 'start', '--compute', compute, '--server', world.server.url, '--token-file', file, '--sandbox', 'required'], { stdio: ['ignore', 'pipe', 'pipe'] });
    started.push(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, stderr: () => stderr, exited };
  }

  test('a registered node runs its compute\'s jobs; the credential is shown once, rotation stops the old one', async () => {
    await createCompute(world, 'remote', { type: 'SystemAssigned' });
    const { nodeId, file } = await register('remote');
    const list = await call<{ value: Record<string, unknown>[] }>(world.url(`${world.ws}/computes/remote/nodes`), { token: world.admin });
    assert.equal(list.body.value.length, 1);
    assert.equal(list.body.value[0]!.credential, undefined, 'the credential is never listed');
    const node = startNode('remote', file);
    await submitJob(world, 'on-node', 'remote', 'python t.py', { 't.py': 'import os\nprint("endpoint", os.environ["IDENTITY_ENDPOINT"].startswith("http://127.0.0.1:"))\n' });
    const done = await waitForJob(world, 'on-node');
    assert.equal(done.properties.status, 'Completed', node.stderr());
    assert.ok((await jobLog(world, 'on-node')).includes('endpoint True'));
    const old = fs.readFileSync(file, 'utf8');
    const rotated = await call<{ credential: string }>(world.url(`${world.ws}/computes/remote/nodes/${nodeId}/rotateCredential`), { method: 'POST', token: world.admin });
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.credential, old);
    const refused = await fetch(`${world.server.url}/nodes/v1/me`, { headers: { authorization: `Bearer ${old}` } });
    assert.equal(refused.status, 401);
    // The running node, still on the old credential, is refused and stops.
    assert.equal(await node.exited, 1, node.stderr());
    assert.match(node.stderr(), /refused this node/);
  });

  test('a node that dies mid-run leaves the run Failed with the reason; a revoked credential is refused', async () => {
    await createCompute(world, 'fragile', { type: 'None' });
    const { nodeId, file } = await register('fragile');
    const node = startNode('fragile', file);
    await submitJob(world, 'orphaned', 'fragile', 'python s.py', { 's.py': 'import time\nprint("working", flush=True)\ntime.sleep(600)\n' });
    await waitForJob(world, 'orphaned', (j) => j.properties.status === 'Running', 30_000);
    node.child.kill('SIGKILL');
    const failed = await waitForJob(world, 'orphaned', undefined, 30_000);
    assert.equal(failed.properties.status, 'Failed');
    assert.equal(failed.properties.error?.code, 'NodeLost');
    assert.match(failed.properties.error!.message, /stopped answering/);
    const revoke = await call(world.url(`${world.ws}/computes/fragile/nodes/${nodeId}`), { method: 'DELETE', token: world.admin });
    assert.equal(revoke.status, 200);
    const again = startNode('fragile', file);
    assert.notEqual(await again.exited, 0);
    assert.match(again.stderr(), /not valid/);
  });
});
