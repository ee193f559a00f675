/** Web services and their keys in the contract's shapes (docs/models-and-services.md). */
import type { ServiceKeyInfo, WebServiceRow } from './webServices.js';
import { ONLINE_ENDPOINT_TYPE } from './webServices.js';

function iso(t: number | null): string | null {
  return t === null ? null : new Date(t).toISOString();
}

function parsed(json: string): unknown {
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return {};
  }
}

/**
 * A service as GET answers it; `workspaceResourceId` is its workspace's resource ID;
 * `isolation` how its code runs on this server (`sandbox`, `process`, `in-process` for
 * ONNX in the server's process, `unavailable` when the sandbox is required and cannot be made).
 */
export function webServiceView(row: WebServiceRow, workspaceResourceId: string, publicUrl: string, isolation: string): Record<string, unknown> {
  const models = (parsed(row.model_refs) as { name: string; version: number }[]).map((m) => `${m.name}:${m.version}`);
  const properties: Record<string, unknown> = {
    description: row.description,
    target: row.target,
    authMode: row.auth_mode,
    authEnabled: row.auth_mode === 'key',
    tokenAuthEnabled: row.auth_mode === 'token',
    runtime: row.runtime,
    isolation,
    entryScript: row.entry_script_name,
    models,
    cpuCores: row.cpu_cores,
    memoryGb: row.memory_gb,
    replicas: row.replicas,
    scoringTimeoutMs: row.scoring_timeout_ms,
    maxQueueSize: row.max_queue_size,
    state: row.state,
    error: row.error,
    scoringUri: `${publicUrl}/api/v1/service/${row.name}/score`,
    swaggerUri: `${publicUrl}/api/v1/service/${row.name}/swagger.json`,
    createdBy: row.created_by,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    kind: row.kind,
  };
  if (row.kind === 'mlserver') {
    properties.version = row.mlserver_version;
    properties.scoringUri = `${publicUrl}/api/${row.name}/${row.mlserver_version ?? ''}`;
    properties.swaggerUri = `${publicUrl}/api/${row.name}/${row.mlserver_version ?? ''}/swagger.json`;
  }
  return {
    id: `${workspaceResourceId}/onlineEndpoints/${row.name}`,
    name: row.name,
    type: ONLINE_ENDPOINT_TYPE,
    tags: parsed(row.tags),
    properties,
  };
}

/** `listKeys`' answer. */
export function keysView(keys: readonly ServiceKeyInfo[]): Record<string, unknown> {
  const of = (type: string) => keys.find((k) => k.keyType === type)?.key ?? null;
  return {
    primaryKey: of('Primary'),
    secondaryKey: of('Secondary'),
    keys: keys.map((k) => ({ keyType: k.keyType, createdAt: iso(k.createdAt), lastUsedAt: iso(k.lastUsedAt), expiresAt: iso(k.expiresAt) })),
  };
}

/** `regenerateKeys`' answer: the new key, once. */
export function newKeyView(key: ServiceKeyInfo): Record<string, unknown> {
  return { keyType: key.keyType, key: key.key, createdAt: iso(key.createdAt), expiresAt: iso(key.expiresAt) };
}
