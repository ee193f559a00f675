/**
 * Support for the management-API suites: a server with the ARM routes, and small calls
 * (sign in a new user with no roles, assign a role through the API, ARM URLs).
 */
import crypto from 'node:crypto';
import type { Services } from '../src/services.js';
import { TESSERA_CLI_CLIENT_ID } from '../src/index.js';
import { call, createUser, login, postForm, startTestServer, type StartOptions, type StoreKind, type TestServer } from './helpers.js';

export interface ArmTestServer {
  url: string;
  services: Services;
  tenantId: string;
  subscriptionId: string;
  logs: string[];
  server: TestServer;
  close(): Promise<void>;
}

/** Starts a server (with the management API) on a fresh store. */
export async function startArmServer(kind: StoreKind, options: StartOptions = {}): Promise<ArmTestServer> {
  const server = await startTestServer(kind, options);
  return {
    url: server.url,
    services: server.running.services,
    tenantId: server.running.bootstrap.tenantId,
    subscriptionId: server.running.bootstrap.subscriptionId,
    logs: server.logs,
    server,
    close: () => server.close(),
  };
}

/** Creates a user with no roles, signs it in, and returns its id and access token. */
export async function newUser(server: ArmTestServer, adminToken: string, userName: string): Promise<{ id: string; token: string; password: string }> {
  const password = `Pw-${crypto.randomBytes(9).toString('base64url')}-9z`;
  const id = await createUser(server.server, adminToken, userName, password);
  const token = (await login(server.server, userName, password)).access_token;
  return { id, token, password };
}

/** An access token for the workspace data plane (what `aad` scoring takes), by the password grant. */
export async function workspaceToken(server: ArmTestServer, userName: string, password: string): Promise<string> {
  const res = await postForm<{ access_token: string }>(`${server.url}/organizations/oauth2/v2.0/token`, {
    grant_type: 'password',
    client_id: TESSERA_CLI_CLIENT_ID,
    username: userName,
    password,
    scope: 'api://tessera/workspace/.default',
  });
  if (res.status !== 200) throw new Error(`workspace token for ${userName}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.access_token;
}

/** Signs in as admin. */
export async function adminToken(server: ArmTestServer): Promise<string> {
  return (await login(server.server)).access_token;
}

/** Assigns a role through the API as `token`; returns the assignment id. Throws unless 201. */
export async function assignRole(server: ArmTestServer, token: string, scope: string, principalId: string, role: string): Promise<string> {
  const id = crypto.randomUUID();
  const res = await call(`${server.url}${scope === '/' ? '' : scope}/providers/Microsoft.Authorization/roleAssignments/${id}?api-version=2022-04-01`, {
    method: 'PUT',
    token,
    body: { properties: { roleDefinitionId: role, principalId } },
  });
  if (res.status !== 201) throw new Error(`assign ${role} at ${scope} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return id;
}

/** ARM paths under the bootstrap subscription. */
export function armPaths(server: ArmTestServer) {
  const sub = `/subscriptions/${server.subscriptionId}`;
  const rg = (name: string) => `${sub}/resourceGroups/${name}`;
  const ws = (group: string, name: string) => `${rg(group)}/providers/Microsoft.MachineLearningServices/workspaces/${name}`;
  return { sub, rg, ws, url: (p: string, query = 'api-version=2023-10-01') => `${server.url}${p}${p.includes('?') ? '&' : '?'}${query}` };
}

/** `{code, message}` of an error response. */
export function errorOf(body: Record<string, unknown>): { code: string; message: string } {
  return (body.error as { code: string; message: string } | undefined) ?? { code: '', message: '' };
}
