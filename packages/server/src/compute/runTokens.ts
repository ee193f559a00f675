/**
 * Run tokens: minted at submission for the submitter, restricted to one run. The token
 * carries the run's resource ID (`xms_run`) and row id (`xms_rid`); a request made with it
 * is allowed only what {@link runTokenAllows} lists, and only while the run is active.
 */
import type { IssuedToken, TokenMinter } from '../tokens/accessTokens.js';
import { RESOURCE_URIS } from '../tokens/audiences.js';
import { JOB_TYPE } from './names.js';

const MODEL_READS = ['Microsoft.MachineLearningServices/workspaces/models/read', 'Microsoft.MachineLearningServices/workspaces/models/versions/read'];
/** What a run does to itself, at its own job's scope. */
const OWN_RUN = ['read', 'logs/read', 'metrics/read', 'metrics/action', 'artifacts/read', 'artifacts/action'].map((v) => `${JOB_TYPE}/${v}`);

/** The workspace ID a job ID lives in: everything before `/jobs/`. */
function workspaceOfJob(jobScope: string): string {
  return jobScope.slice(0, jobScope.toLowerCase().lastIndexOf('/jobs/'));
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * Whether a run token for `jobScope` may perform `action` at `scope`: its own run's
 * reads, logs, metrics and artifacts; reading the workspace's models (then the
 * submitter's roles must allow it too: `needsRbac`). Nothing else.
 */
export function runTokenAllows(jobScope: string, action: string, scope: string): { allowed: boolean; needsRbac: boolean } {
  if (OWN_RUN.some((a) => same(a, action))) return { allowed: same(scope, jobScope), needsRbac: false };
  if (MODEL_READS.some((a) => same(a, action))) {
    const workspace = workspaceOfJob(jobScope);
    const models = `${workspace}/models`;
    // At the workspace: the list of its models (filtered by the submitter's roles).
    return { allowed: same(scope, workspace) || same(scope, models) || scope.toLowerCase().startsWith(`${models.toLowerCase()}/`), needsRbac: true };
  }
  return { allowed: false, needsRbac: false };
}

export async function mintRunToken(
  minter: TokenMinter,
  run: { tenantId: string; submitter: { objectId: string; kind: 'user' | 'app'; name: string }; jobScope: string; runRowId: string },
  lifetimeSec: number,
): Promise<IssuedToken> {
  return minter.accessToken({
    subject: { tenantId: run.tenantId, objectId: run.submitter.objectId, kind: run.submitter.kind, name: run.submitter.name },
    resource: RESOURCE_URIS.management,
    clientId: run.submitter.objectId,
    lifetimeSec,
    extra: { xms_run: run.jobScope, xms_rid: run.runRowId },
  });
}
