/**
 * Support for the web-service suites: a workspace to deploy into, PUT a service, wait for
 * its state, score it over real HTTP.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { call, type JsonResponse } from './helpers.js';
import { adminToken, armPaths, type ArmTestServer } from './arm-helpers.js';

export interface Workspace {
  /** The workspace's resource ID. */
  ws: string;
  admin: string;
  /** A management URL under the workspace. */
  url(suffix: string): string;
}

/** Creates a resource group and workspace as admin. */
export async function makeWorkspace(server: ArmTestServer, group = 'rg-svc', name = 'ws-svc'): Promise<Workspace> {
  const admin = await adminToken(server);
  const p = armPaths(server);
  const rg = await call(p.url(p.rg(group)), { method: 'PUT', token: admin, body: { location: 'westeurope' } });
  if (rg.status !== 201 && rg.status !== 200) throw new Error(`rg: ${rg.status}`);
  const ws = await call(p.url(p.ws(group, name)), { method: 'PUT', token: admin, body: { location: 'westeurope' } });
  if (ws.status !== 201 && ws.status !== 200) throw new Error(`ws: ${ws.status}`);
  const id = p.ws(group, name);
  return { ws: id, admin, url: (suffix: string) => p.url(`${id}${suffix}`) };
}

export const JS_ECHO = `export function init() { console.log('echo ready'); }\nexport function run(input) { return { echo: input, version: 1 }; }\n`;
export const PY_ECHO = `import json\n\ndef init():\n    print("python echo ready")\n\ndef run(raw_data):\n    data = json.loads(raw_data)\n    print("scored", data)\n    return {"echo": data}\n`;

/** A PUT body for a script service. */
export function scriptBody(fileName: string, content: string, properties: Record<string, unknown> = {}): Record<string, unknown> {
  return { properties: { entryScript: { fileName, content }, ...properties } };
}

/** PUTs a service. */
export function putService(w: Workspace, name: string, body: unknown, token = w.admin): Promise<JsonResponse> {
  return call(w.url(`/onlineEndpoints/${name}`), { method: 'PUT', token, body });
}

/** Polls the service until its state is `state` (or it settles in another, which fails). */
export async function waitForState(w: Workspace, name: string, state: 'Healthy' | 'Failed', timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call(w.url(`/onlineEndpoints/${name}`), { token: w.admin });
    const props = res.body.properties as Record<string, unknown> | undefined;
    if (props?.state === state) return res.body;
    if (props && props.state !== 'Transitioning') throw new Error(`${name} is ${String(props.state)}: ${String(props.error)}`);
    if (Date.now() > deadline) throw new Error(`${name} did not become ${state}: ${JSON.stringify(res.body)}`);
    await sleep(50);
  }
}

/** PUTs a service and waits until it is Healthy. */
export async function deploy(w: Workspace, name: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await putService(w, name, body);
  if (res.status !== 201 && res.status !== 200) throw new Error(`PUT ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  return waitForState(w, name, 'Healthy');
}

/** Both keys of a service. */
export async function keysOf(w: Workspace, name: string): Promise<{ primaryKey: string; secondaryKey: string }> {
  const res = await call<{ primaryKey: string; secondaryKey: string }>(w.url(`/onlineEndpoints/${name}/listKeys`), { method: 'POST', token: w.admin });
  if (res.status !== 200) throw new Error(`listKeys: ${res.status}`);
  return res.body;
}

/** POSTs to a service's scoring URL. */
export function score(base: string, name: string, body: unknown, credential?: string, headers: Record<string, string> = {}): Promise<JsonResponse> {
  return call(`${base}/api/v1/service/${name}/score`, { method: 'POST', body, ...(credential ? { token: credential } : {}), headers });
}
