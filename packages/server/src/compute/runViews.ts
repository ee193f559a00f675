/** How runs are shown: Azure ML's job resource. */
import { settingsOf, type RunRow } from './runs.js';

const iso = (t: number | null) => (t === null ? undefined : new Date(t).toISOString());

export interface JobView {
  id: string;
  name: string;
  type: 'Microsoft.MachineLearningServices/workspaces/jobs';
  properties: Record<string, unknown>;
  systemData: { createdAt: string; createdBy: string; createdByType: string };
}

export function jobView(row: RunRow, workspaceId: string): JobView {
  const s = settingsOf(row);
  const properties: Record<string, unknown> = {
    jobType: 'Command',
    status: row.status,
    command: row.command,
    computeId: `${workspaceId}/computes/${row.compute_name}`,
    experimentName: row.experiment,
    displayName: s.displayName,
    description: s.description,
    tags: s.tags,
    environmentId: s.environment,
    environmentVariables: s.variables,
    limits: { timeout: s.timeoutSec },
    creationTime: iso(row.created_at),
    startTimeUtc: iso(row.started_at),
    endTimeUtc: iso(row.ended_at),
  };
  if (row.cancel_requested === 1 && row.status !== 'Canceled') properties.cancelRequested = true;
  if (row.exit_code !== null) properties.exitCode = row.exit_code;
  if (row.error_code !== null) properties.error = { code: row.error_code, message: row.error_message ?? '' };
  return {
    id: `${workspaceId}/jobs/${row.name}`,
    name: row.name,
    type: 'Microsoft.MachineLearningServices/workspaces/jobs',
    properties,
    systemData: { createdAt: new Date(row.created_at).toISOString(), createdBy: row.created_by, createdByType: row.created_by_type },
  };
}
