/**
 * Support for the compute suites: a workspace, identities and computes through the
 * management API, jobs submitted with their code inline, and waiting for a run to end.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { call } from './helpers.js';
import { adminToken, armPaths, startArmServer, type ArmTestServer } from './arm-helpers.js';
import type { StartOptions, StoreKind } from './helpers.js';

export interface ComputeWorld {
  server: ArmTestServer;
  admin: string;
  /** ARM path of the group and workspace. */
  rg: string;
  ws: string;
  url: (p: string, query?: string) => string;
  close(): Promise<void>;
}

/** A server with a group `rg1` and a workspace `ws1`, and the admin's token. */
export async function startComputeWorld(kind: StoreKind, options: StartOptions = {}): Promise<ComputeWorld> {
  const server = await startArmServer(kind, options);
  const admin = await adminToken(server);
  const paths = armPaths(server);
  const rg = paths.rg('rg1');
  const ws = paths.ws('rg1', 'ws1');
  const g = await call(paths.url(rg), { method: 'PUT', token: admin, body: { location: 'local' } });
  if (g.status !== 201) throw new Error(`group: ${g.status} ${JSON.stringify(g.body)}`);
  const w = await call(paths.url(ws), { method: 'PUT', token: admin, body: { location: 'local' } });
  if (w.status !== 201) throw new Error(`workspace: ${w.status} ${JSON.stringify(w.body)}`);
  return { server, admin, rg, ws, url: paths.url, close: () => server.close() };
}

export interface IdentityResource {
  id: string;
  properties: { principalId: string; clientId: string; tenantId: string };
}

export async function createIdentity(world: ComputeWorld, name: string): Promise<IdentityResource> {
  const res = await call<IdentityResource>(world.url(`${world.rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`), { method: 'PUT', token: world.admin, body: { location: 'local' } });
  if (res.status !== 201) throw new Error(`identity: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export interface ComputeResource {
  id: string;
  identity: { type: string; principalId?: string; userAssignedIdentities?: Record<string, { principalId: string; clientId: string }> };
  properties: Record<string, unknown>;
}

export async function createCompute(world: ComputeWorld, name: string, identity: { type: string; userAssignedIdentities?: Record<string, object> } = { type: 'SystemAssigned' }, maxConcurrentRuns = 2): Promise<ComputeResource> {
  const res = await call<ComputeResource>(world.url(`${world.ws}/computes/${name}`), {
    method: 'PUT',
    token: world.admin,
    body: { identity, properties: { computeType: 'ComputeInstance', properties: { maxConcurrentRuns } } },
  });
  if (res.status !== 201) throw new Error(`compute: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export interface JobResource {
  id: string;
  name: string;
  properties: { status: string; error?: { code: string; message: string }; exitCode?: number } & Record<string, unknown>;
}

/** Submits `command` with `files` (path → text) on `compute`; returns the job. */
export async function submitJob(world: ComputeWorld, name: string, compute: string, command: string, files: Record<string, string>, extra: Record<string, unknown> = {}, token = world.admin): Promise<JobResource> {
  const codeFiles = Object.fromEntries(Object.entries(files).map(([p, t]) => [p, Buffer.from(t).toString('base64')]));
  const res = await call<JobResource>(world.url(`${world.ws}/jobs/${name}`), {
    method: 'PUT',
    token,
    body: { properties: { jobType: 'Command', command, codeFiles, computeId: compute, experimentName: 'exp1', ...extra } },
  });
  if (res.status !== 201) throw new Error(`job ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export const TERMINAL = ['Completed', 'Failed', 'Canceled'];

/** Polls the job until `until` holds (by default: it ended); throws after `timeoutMs`. */
export async function waitForJob(world: ComputeWorld, name: string, until: (job: JobResource) => boolean = (j) => TERMINAL.includes(j.properties.status), timeoutMs = 60_000): Promise<JobResource> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call<JobResource>(world.url(`${world.ws}/jobs/${name}`), { token: world.admin });
    if (res.status !== 200) throw new Error(`job ${name}: ${res.status} ${JSON.stringify(res.body)}`);
    if (until(res.body)) return res.body;
    if (Date.now() > deadline) throw new Error(`job ${name} is still ${res.body.properties.status} (${JSON.stringify(await jobLog(world, name))})`);
    await sleep(200);
  }
}

/** The job's whole log, as text lines. */
export async function jobLog(world: ComputeWorld, name: string): Promise<string[]> {
  const res = await call<{ value: { text: string }[] }>(world.url(`${world.ws}/jobs/${name}/logs`), { token: world.admin });
  return res.body.value?.map((l) => l.text) ?? [];
}
