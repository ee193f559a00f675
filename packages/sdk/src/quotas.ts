/** Quotas (administration): defaults, per-workspace and per-principal overrides, usage. */
import { scopePath } from './armPaths.js';
import type { TesseraClient } from './tesseraClient.js';

/** The four limits. */
export type QuotaName = 'services' | 'workers' | 'memoryGb' | 'modelStorageBytes';

/** A value per limit; null is unlimited. */
export type QuotaLimits = Record<QuotaName, number | null>;

/** An override: the limits it sets (null: unlimited); those left out inherit the default. */
export type QuotaOverride = Partial<QuotaLimits>;

/** The scope kinds a limit applies in. */
export type QuotaScope = 'workspace' | 'principal';

/** An administrator's override as the server lists it. */
export interface QuotaOverrideInfo {
  scope: 'default' | QuotaScope;
  /** default: the scope kind; workspace: its resource ID; principal: its object id. */
  id: string;
  displayName: string;
  limits: QuotaOverride;
  updatedAt: string;
  updatedBy: string | null;
}

/** `GET /admin/quotas`. */
export interface QuotaOverview {
  /** What applies where no override does. */
  defaults: Record<QuotaScope, QuotaLimits>;
  /** The server's configuration (TESSERA_QUOTA_*), under the stored defaults. */
  configured: Record<QuotaScope, QuotaLimits>;
  overrides: QuotaOverrideInfo[];
}

/** One line of a usage report (Azure's usage-list shape). */
export interface QuotaUsageLine {
  name: QuotaName;
  currentValue: number;
  limit: number | null;
  unit: 'Count' | 'GB' | 'Bytes';
}

/** Usage against limits of one workspace or principal. */
export interface QuotaUsage {
  scope: QuotaScope;
  id: string;
  displayName: string;
  value: QuotaUsageLine[];
}

/** Who a quota call is about: a workspace resource ID or a principal's object id. */
export type QuotaTarget = { workspace: string } | { principal: string };

/** An override just set, with the limits now in effect. */
export type QuotaOverrideResult = QuotaOverrideInfo & { effective: QuotaLimits };

function targetPath(target: QuotaTarget): string {
  return 'workspace' in target ? `/admin/quotas/workspaces${scopePath(target.workspace)}` : `/admin/quotas/principals/${encodeURIComponent(target.principal)}`;
}

/**
 * Quota administration; needs an administrator's token.
 * @example await new Quotas(client).set({ workspace: workspaceId(sub, 'rg', 'ws') }, { workers: 8 })
 */
export class Quotas {
  constructor(private readonly client: TesseraClient) {}

  /** The defaults, the configuration's, and every override. */
  show(): Promise<QuotaOverview> {
    return this.client.request<QuotaOverview>('GET', '/admin/quotas');
  }

  /** Usage against limits of a workspace or a principal. */
  usage(target: QuotaTarget): Promise<QuotaUsage> {
    const query = 'workspace' in target ? `workspace=${encodeURIComponent(target.workspace)}` : `principal=${encodeURIComponent(target.principal)}`;
    return this.client.request<QuotaUsage>('GET', `/admin/quotas/usage?${query}`);
  }

  /** Replaces a workspace's or principal's override. */
  set(target: QuotaTarget, limits: QuotaOverride): Promise<QuotaOverrideResult> {
    return this.client.request<QuotaOverrideResult>('PUT', targetPath(target), limits);
  }

  /** Removes a workspace's or principal's override (404 when there is none). */
  async delete(target: QuotaTarget): Promise<void> {
    await this.client.request('DELETE', targetPath(target));
  }

  /** Replaces the stored defaults; a scope kind left out falls back to the configuration. */
  setDefaults(defaults: Partial<Record<QuotaScope, QuotaOverride>>): Promise<QuotaOverview> {
    return this.client.request<QuotaOverview>('PUT', '/admin/quotas/default', defaults);
  }

  /** Removes the stored defaults (404 when there are none). */
  async deleteDefaults(): Promise<void> {
    await this.client.request('DELETE', '/admin/quotas/default');
  }
}
