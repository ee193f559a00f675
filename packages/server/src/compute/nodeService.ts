/**
 * The server's end of the node protocol (docs/compute-and-runs.md): a node polls for runs
 * of its compute and learns which to stop, reports each run's status and log lines,
 * uploads its outputs, and gets managed-identity tokens for the run it holds. The HTTP
 * routes (http/routes/nodes.ts) and the built-in node (node/localLink.ts) both call this.
 */
import type { Clock } from '../clock.js';
import type { Store } from '../store/db.js';
import { TesseraError } from '../errors.js';
import type { TokenMinter } from '../tokens/accessTokens.js';
import { audienceOf } from '../tokens/audiences.js';
import type { PrincipalCache } from '../identity/principalCache.js';
import { isGuid } from '../workspace/names.js';
import { Computes, type ComputeIdentity, type ComputeRow } from './computes.js';
import type { NodeRow } from './nodes.js';
import { isTerminal, settingsOf, type RunRow, type RunStatus, RUN_STATUSES, type Runs } from './runs.js';
import { mintRunToken } from './runTokens.js';
import { workspaceContext } from './workspaceContext.js';

/** A run as a node receives it: everything it needs to run it, the run token included. */
export interface RunAssignment {
  runRowId: string;
  runId: string;
  jobId: string;
  experiment: string;
  runtime: 'python' | 'node';
  script: string;
  args: string[];
  /** Relative path → base64. */
  code: Record<string, string>;
  environment: string | null;
  variables: Record<string, string>;
  timeoutSec: number;
  runToken: string;
  /** Epoch seconds. */
  runTokenExpiresOn: number;
  serviceEndpoint: string;
  subscriptionId: string;
  resourceGroup: string;
  workspaceName: string;
  /** The compute's identities (ids only: tokens come from {@link NodeService.identityToken}). */
  identities: ComputeIdentity[];
}

export interface PollAnswer {
  runs: RunAssignment[];
  /** Runs the node holds that it must stop now (canceled, or ended here). */
  cancel: string[];
  pollSec: number;
}

export interface IdentityTokenRequest {
  resource: string;
  clientId?: string | undefined;
  objectId?: string | undefined;
  resourceId?: string | undefined;
}

export interface IdentityTokenAnswer {
  access_token: string;
  expires_on: number;
  resource: string;
  token_type: 'Bearer';
  client_id: string;
}

/** Who polls: a registered node, or the server's built-in node (which serves computes without nodes). */
export type Poller = { kind: 'node'; node: NodeRow } | { kind: 'builtIn' };

const MAX_WAIT_SEC = 20;

export class NodeService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly computes: Computes,
    private readonly runs: Runs,
    private readonly minter: TokenMinter,
    private readonly principals: PrincipalCache,
    private readonly publicUrl: () => string,
    private readonly policy: { runTokenLifetimeSec: number; accessTokenLifetimeSec: number },
  ) {}

  /** The computes a poller serves: a node its own; the built-in node every compute without a registered node. */
  private async computesOf(poller: Poller): Promise<ComputeRow[]> {
    if (poller.kind === 'node') {
      const row = await this.computes.byId(poller.node.compute_id);
      return row ? [row] : [];
    }
    return this.store.db
      .selectFrom('computes')
      .selectAll()
      .where((eb) => eb.not(eb.exists(eb.selectFrom('compute_nodes').select('compute_nodes.id').whereRef('compute_nodes.compute_id', '=', 'computes.id'))))
      .execute();
  }

  /** Claims runs (waiting up to `waitSec` for one when there are none) and names the held runs to stop. */
  async poll(poller: Poller, input: { running: string[]; capacity: number; waitSec: number }, signal?: AbortSignal): Promise<PollAnswer> {
    const held = input.running.filter((id) => isGuid(id)).slice(0, 256);
    const deadline = this.clock.now() + Math.min(Math.max(input.waitSec, 0), MAX_WAIT_SEC) * 1000;
    for (;;) {
      const cancel = await this.runs.toStop(held);
      const runs: RunAssignment[] = [];
      let capacity = input.capacity;
      for (const compute of await this.computesOf(poller)) {
        const claimed = await this.runs.claim(compute, poller.kind === 'node' ? poller.node : null, capacity);
        capacity -= claimed.length;
        for (const row of claimed) runs.push(await this.assignment(row, compute));
      }
      if (runs.length > 0 || cancel.length > 0 || this.clock.now() >= deadline || signal?.aborted) return { runs, cancel, pollSec: 1 };
      await this.waitForWork(deadline - this.clock.now(), signal);
    }
  }

  /** Until a run is queued or canceled here, a second passes (other replicas' news), or the poll is abandoned. */
  private waitForWork(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.runs.events.off('queued', done);
        this.runs.events.off('cancel', done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, Math.min(ms, 1000)));
      this.runs.events.on('queued', done);
      this.runs.events.on('cancel', done);
      signal?.addEventListener('abort', done);
    });
  }

  private async assignment(row: RunRow, compute: ComputeRow): Promise<RunAssignment> {
    const ws = await workspaceContext(this.store, row.workspace_id);
    if (!ws) throw new Error('a claimed run has no workspace');
    const record = await this.computes.record(compute, ws.id, ws.tenantId);
    const settings = settingsOf(row);
    const jobId = `${ws.id}/jobs/${row.name}`;
    const submitter = await this.principals.get(row.created_by);
    // Never past the bounded lifetime counted from submission.
    const remaining = Math.max(1, Math.floor((row.created_at + this.policy.runTokenLifetimeSec * 1000 - this.clock.now()) / 1000));
    const token = await mintRunToken(
      this.minter,
      { tenantId: ws.tenantId, submitter: { objectId: row.created_by, kind: submitter.kind, name: submitter.displayName }, jobScope: jobId, runRowId: row.id },
      remaining,
    );
    const code: Record<string, string> = {};
    for (const [p, bytes] of await this.runs.files.readCode(row.id)) code[p] = bytes.toString('base64');
    return {
      runRowId: row.id,
      runId: row.name,
      jobId,
      experiment: row.experiment,
      runtime: settings.runtime,
      script: settings.script,
      args: settings.args,
      code,
      environment: settings.environment,
      variables: settings.variables,
      timeoutSec: settings.timeoutSec,
      runToken: token.token,
      runTokenExpiresOn: token.expiresOn,
      serviceEndpoint: this.publicUrl(),
      subscriptionId: ws.subscriptionId,
      resourceGroup: ws.groupName,
      workspaceName: ws.workspaceName,
      identities: Computes.identitiesOf(record),
    };
  }

  /** The run a poller holds; 404 when it is not this poller's (or no longer exists). */
  async heldRun(poller: Poller, runRowId: string): Promise<RunRow> {
    const row = isGuid(runRowId) ? await this.runs.byRowId(runRowId) : undefined;
    const mine = row && (poller.kind === 'node' ? row.node_id === poller.node.id : row.node_id === null);
    if (!row || !mine || row.status === 'Queued') throw new TesseraError('ResourceNotFound', 'This node holds no such run.');
    return row;
  }

  async report(poller: Poller, runRowId: string, event: { status?: unknown; error?: unknown; exitCode?: unknown; logs?: unknown }): Promise<{ cancel: boolean }> {
    const row = await this.heldRun(poller, runRowId);
    return this.runs.report(row, parseEvent(event));
  }

  /** A managed-identity token for the run's compute, as the node's endpoint hands it to the run. */
  async identityToken(poller: Poller, runRowId: string, request: IdentityTokenRequest): Promise<IdentityTokenAnswer> {
    const row = await this.heldRun(poller, runRowId);
    if (isTerminal(row.status)) throw new TesseraError('InvalidParameter', 'The run has ended: its identity endpoint no longer gives tokens.');
    if (typeof request.resource !== 'string' || request.resource === '') throw new TesseraError('InvalidParameter', "The parameter 'resource' is required.");
    if (request.resource.length > 512 || !audienceOf(request.resource)) {
      throw new TesseraError('InvalidParameter', `The resource is not one this server issues tokens for (use api://tessera/management, api://tessera/workspace, https://management.azure.com/ or https://ml.azure.com).`);
    }
    const compute = row.compute_id ? await this.computes.byId(row.compute_id) : undefined;
    const ws = await workspaceContext(this.store, row.workspace_id);
    if (!compute || !ws) throw new TesseraError('InvalidParameter', "The run's compute no longer exists.");
    const identities = Computes.identitiesOf(await this.computes.record(compute, ws.id, ws.tenantId));
    const chosen = chooseIdentity(identities, request);
    const principal = await this.principals.get(chosen.principalId);
    const token = await this.minter.accessToken({
      subject: { tenantId: ws.tenantId, objectId: chosen.principalId, kind: 'app', name: principal.displayName },
      resource: request.resource,
      clientId: chosen.clientId,
      lifetimeSec: this.policy.accessTokenLifetimeSec,
    });
    return { access_token: token.token, expires_on: token.expiresOn, resource: request.resource, token_type: 'Bearer', client_id: chosen.clientId };
  }
}

/** The identity a request names (client id, object id or resource ID), else the default: the system-assigned, or the only one. */
export function chooseIdentity(identities: readonly ComputeIdentity[], request: IdentityTokenRequest): ComputeIdentity {
  const given = [request.clientId, request.objectId, request.resourceId].filter((v) => v !== undefined && v !== '');
  if (given.length > 1) throw new TesseraError('InvalidParameter', 'Name the identity once: a client id, an object id or a resource ID.');
  const unknown = () => new TesseraError('InvalidParameter', 'The compute has no managed identity with that id.');
  if (request.clientId) return identities.find((i) => i.clientId.toLowerCase() === request.clientId!.toLowerCase()) ?? (() => { throw unknown(); })();
  if (request.objectId) return identities.find((i) => i.principalId.toLowerCase() === request.objectId!.toLowerCase()) ?? (() => { throw unknown(); })();
  if (request.resourceId) return identities.find((i) => i.resourceId.toLowerCase() === request.resourceId!.toLowerCase()) ?? (() => { throw unknown(); })();
  if (identities.length === 0) throw new TesseraError('InvalidParameter', 'The compute has no managed identity: give it one (identity type SystemAssigned or UserAssigned).');
  const system = identities.find((i) => i.kind === 'SystemAssigned');
  if (system) return system;
  if (identities.length === 1) return identities[0]!;
  throw new TesseraError('InvalidParameter', 'The compute has several user-assigned identities: name one (client_id, object_id or mi_res_id).');
}

function parseEvent(event: { status?: unknown; error?: unknown; exitCode?: unknown; logs?: unknown }): Parameters<Runs['report']>[1] {
  const out: Parameters<Runs['report']>[1] = {};
  if (event.status !== undefined) {
    if (typeof event.status !== 'string' || !(RUN_STATUSES as readonly string[]).includes(event.status) || event.status === 'Queued') throw new TesseraError('InvalidParameter', "The field 'status' must be Preparing, Running, Completed, Failed or Canceled.");
    out.status = event.status as RunStatus;
  }
  if (event.error !== undefined && event.error !== null) {
    const e = event.error as { code?: unknown; message?: unknown };
    if (typeof e !== 'object' || typeof e.code !== 'string' || typeof e.message !== 'string' || e.code.length > 64) throw new TesseraError('InvalidParameter', "The field 'error' must be {code, message}.");
    out.error = { code: e.code, message: e.message };
  }
  if (event.exitCode !== undefined && event.exitCode !== null) {
    if (typeof event.exitCode !== 'number' || !Number.isInteger(event.exitCode)) throw new TesseraError('InvalidParameter', "The field 'exitCode' must be a whole number.");
    out.exitCode = event.exitCode;
  }
  if (event.logs !== undefined) {
    if (!Array.isArray(event.logs) || event.logs.length > 5000) throw new TesseraError('InvalidParameter', "The field 'logs' must be a list of at most 5000 {stream, text}.");
    out.logs = event.logs.map((l: unknown) => {
      const line = l as { stream?: unknown; text?: unknown };
      if (typeof line !== 'object' || line === null || typeof line.text !== 'string' || typeof line.stream !== 'string') throw new TesseraError('InvalidParameter', 'Each log line must be {stream, text}.');
      return { stream: line.stream, text: line.text.replace(/\u0000/g, '') };
    });
  }
  return out;
}
