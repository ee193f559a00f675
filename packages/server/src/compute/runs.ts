/**
 * Runs (jobs): submitted to a compute, queued, claimed by one of its nodes (at most the
 * compute's maxConcurrentRuns at once), then Preparing → Running → Completed, Failed or
 * Canceled as the node reports. Logs and metrics live in the store, artifacts in the run
 * directory (runFiles.ts). A run whose node goes silent or is revoked becomes Failed
 * with the reason: never Running forever.
 */
import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Selectable } from 'kysely';
import type { Store } from '../store/db.js';
import { isUniqueViolation } from '../store/db.js';
import type { RunsTable } from '../store/schema.js';
import type { Clock } from '../clock.js';
import { TesseraError } from '../errors.js';
import type { ComputeRow } from './computes.js';
import type { NodeRow } from './nodes.js';
import type { JobCommand } from './jobCommand.js';
import { checkRunName } from './names.js';
import type { RunFiles } from './runFiles.js';

export type RunRow = Selectable<RunsTable>;
export const RUN_STATUSES = ['Queued', 'Preparing', 'Running', 'Completed', 'Failed', 'Canceled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const ACTIVE_STATUSES: readonly RunStatus[] = ['Queued', 'Preparing', 'Running'];
const ON_NODE: readonly RunStatus[] = ['Preparing', 'Running'];

export function isTerminal(status: string): boolean {
  return status === 'Completed' || status === 'Failed' || status === 'Canceled';
}

/** What a run keeps of its job body besides its command. */
export interface RunSettings {
  displayName: string;
  description: string;
  tags: Record<string, string>;
  environment: string | null;
  variables: Record<string, string>;
  timeoutSec: number;
  runtime: JobCommand['runtime'];
  script: string;
  args: string[];
}

export function settingsOf(row: RunRow): RunSettings {
  return JSON.parse(row.settings) as RunSettings;
}

export interface LogLine {
  seq: number;
  time: string;
  stream: string;
  text: string;
}

const MAX_LINE = 16 * 1024;
const MAX_LINES_PER_EVENT = 2000;
const MAX_LOG_LINES = 200_000;
const MAX_METRICS = 100_000;
const ACTIVE_CACHE_MS = 1000;

export class Runs {
  /** Emits `queued` when a run is submitted, so a node's long poll answers at once (on this replica). */
  readonly events = new EventEmitter();
  private readonly active = new Map<string, { at: number; active: boolean }>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    readonly files: RunFiles,
    /** A node unheard of this long has its runs failed. */
    private readonly nodeTimeoutMs: number,
  ) {
    this.events.setMaxListeners(0);
  }

  async find(workspaceRowId: string, name: string): Promise<RunRow | undefined> {
    return this.store.db.selectFrom('runs').selectAll().where('workspace_id', '=', workspaceRowId).where('name_key', '=', checkRunName(name).toLowerCase()).executeTakeFirst();
  }

  async get(workspaceRowId: string, name: string): Promise<RunRow> {
    const row = await this.find(workspaceRowId, name);
    if (!row) throw new TesseraError('ResourceNotFound', `The job '${name}' could not be found in this workspace.`);
    return row;
  }

  byRowId(id: string): Promise<RunRow | undefined> {
    return this.store.db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
  }

  list(workspaceRowId: string, filter: { experiment?: string; status?: string }, top = 1000): Promise<RunRow[]> {
    let query = this.store.db.selectFrom('runs').selectAll().where('workspace_id', '=', workspaceRowId);
    if (filter.experiment !== undefined) query = query.where('experiment', '=', filter.experiment);
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    return query.orderBy('created_at', 'desc').limit(top).execute();
  }

  async submit(input: {
    workspaceRowId: string;
    compute: ComputeRow;
    name: string;
    experiment: string;
    command: string;
    settings: RunSettings;
    code: Map<string, Buffer>;
    createdBy: string;
    createdByType: 'User' | 'Application';
  }): Promise<RunRow> {
    const name = checkRunName(input.name);
    const row: RunRow = {
      id: crypto.randomUUID(),
      workspace_id: input.workspaceRowId,
      name,
      name_key: name.toLowerCase(),
      experiment: input.experiment,
      compute_id: input.compute.id,
      compute_name: input.compute.name,
      status: 'Queued',
      command: input.command,
      settings: JSON.stringify(input.settings),
      node_id: null,
      cancel_requested: 0,
      error_code: null,
      error_message: null,
      exit_code: null,
      created_at: this.clock.now(),
      started_at: null,
      ended_at: null,
      created_by: input.createdBy,
      created_by_type: input.createdByType,
      log_seq: 0,
    };
    if (!input.code.has(input.settings.script)) throw new TesseraError('InvalidParameter', `The job's script '${input.settings.script}' is not among its code files.`);
    await this.files.writeCode(row.id, input.code);
    try {
      await this.store.db.insertInto('runs').values(row).execute();
    } catch (err) {
      await this.files.remove([row.id]);
      if (isUniqueViolation(err)) throw new TesseraError('Conflict', `A job named '${name}' already exists in this workspace: jobs cannot be changed, submit one with another name.`);
      throw err;
    }
    this.events.emit('queued', input.compute.id);
    return row;
  }

  /** Ends a run in a final status, unless it already ended. */
  private async end(row: RunRow, status: RunStatus, error?: { code: string; message: string }, exitCode?: number | null): Promise<RunRow> {
    const now = this.clock.now();
    const changes = { status, ended_at: now, error_code: error?.code ?? null, error_message: error?.message.slice(0, 4000) ?? null, exit_code: exitCode ?? null };
    const result = await this.store.db.updateTable('runs').set(changes).where('id', '=', row.id).where('status', 'in', [...ACTIVE_STATUSES]).executeTakeFirst();
    this.active.delete(row.id);
    if (Number(result.numUpdatedRows) === 0) return (await this.byRowId(row.id)) ?? row;
    return { ...row, ...changes };
  }

  /** Cancels: a queued run at once; a run on a node when the node has stopped it (it is told on its next poll). */
  async cancel(row: RunRow): Promise<RunRow> {
    if (isTerminal(row.status)) throw new TesseraError('Conflict', `The job '${row.name}' has already ended (${row.status}).`);
    if (row.status === 'Queued') {
      const ended = await this.end(row, 'Canceled', { code: 'Canceled', message: 'The job was canceled before it started.' });
      if (ended.status === 'Canceled') return ended;
      row = ended;
    }
    await this.store.db.updateTable('runs').set({ cancel_requested: 1 }).where('id', '=', row.id).execute();
    this.events.emit('cancel', row.compute_id);
    return { ...row, cancel_requested: 1 };
  }

  /** The compute is going: its runs end (Canceled), and their nodes stop them when they next ask. */
  async endOnCompute(computeId: string): Promise<void> {
    const rows = await this.store.db.selectFrom('runs').selectAll().where('compute_id', '=', computeId).where('status', 'in', [...ACTIVE_STATUSES]).execute();
    for (const row of rows) await this.end(row, 'Canceled', { code: 'ComputeDeleted', message: `The compute '${row.compute_name}' was deleted.` });
  }

  /** Whether the run may still act with its token: Queued, Preparing or Running (cached a second). */
  async isActive(runRowId: string): Promise<boolean> {
    const now = this.clock.now();
    const hit = this.active.get(runRowId);
    if (hit && now - hit.at < ACTIVE_CACHE_MS) return hit.active;
    const row = await this.store.db.selectFrom('runs').select('status').where('id', '=', runRowId).executeTakeFirst();
    const active = row !== undefined && !isTerminal(row.status);
    if (this.active.size > 10_000) this.active.clear();
    this.active.set(runRowId, { at: now, active });
    return active;
  }

  /**
   * Gives a node queued runs of its compute, oldest first, while the compute has room
   * (maxConcurrentRuns across its nodes) and the node has capacity. A run is taken by
   * one node only: the update is conditional on it still being Queued.
   */
  async claim(compute: ComputeRow, node: NodeRow | null, capacity: number): Promise<RunRow[]> {
    if (capacity <= 0) return [];
    const activeCount = await this.store.db
      .selectFrom('runs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('compute_id', '=', compute.id)
      .where('status', 'in', [...ON_NODE])
      .executeTakeFirstOrThrow();
    const room = Math.min(capacity, compute.max_concurrent_runs - Number(activeCount.n));
    if (room <= 0) return [];
    const queued = await this.store.db.selectFrom('runs').selectAll().where('compute_id', '=', compute.id).where('status', '=', 'Queued').orderBy('created_at').limit(room).execute();
    const claimed: RunRow[] = [];
    const now = this.clock.now();
    for (const row of queued) {
      const result = await this.store.db
        .updateTable('runs')
        .set({ status: 'Preparing', node_id: node?.id ?? null, started_at: now })
        .where('id', '=', row.id)
        .where('status', '=', 'Queued')
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 1) claimed.push({ ...row, status: 'Preparing', node_id: node?.id ?? null, started_at: now });
    }
    return claimed;
  }

  /** Of these runs a node holds, those whose cancel was asked or that already ended elsewhere. */
  async toStop(runRowIds: readonly string[]): Promise<string[]> {
    if (runRowIds.length === 0) return [];
    const rows = await this.store.db.selectFrom('runs').select(['id', 'status', 'cancel_requested']).where('id', 'in', [...runRowIds]).execute();
    const known = new Map(rows.map((r) => [r.id, r]));
    return runRowIds.filter((id) => {
      const r = known.get(id);
      return !r || r.cancel_requested === 1 || isTerminal(r.status);
    });
  }

  /**
   * What a node reports about a run it holds: a new status, an error, an exit code, log
   * lines. Answers whether the node should stop it (canceled, or ended meanwhile).
   */
  async report(row: RunRow, event: { status?: RunStatus; error?: { code: string; message: string }; exitCode?: number | null; logs?: { stream: string; text: string }[] }): Promise<{ cancel: boolean }> {
    if (event.logs && event.logs.length > 0) await this.appendLogs(row, event.logs);
    let current = row;
    if (event.status && event.status !== row.status && !isTerminal(row.status)) {
      if (event.status === 'Running') {
        await this.store.db.updateTable('runs').set({ status: 'Running' }).where('id', '=', row.id).where('status', 'in', ['Preparing', 'Queued']).execute();
        current = { ...row, status: 'Running' };
      } else if (isTerminal(event.status)) {
        const status = event.status === 'Failed' || row.cancel_requested !== 1 ? event.status : 'Canceled';
        current = await this.end(row, status, event.error ?? (status === 'Canceled' ? { code: 'Canceled', message: 'The job was canceled.' } : undefined), event.exitCode);
      }
    }
    return { cancel: current.cancel_requested === 1 || isTerminal(current.status) };
  }

  async appendLogs(row: RunRow, lines: readonly { stream: string; text: string }[]): Promise<void> {
    const batch = lines.slice(0, MAX_LINES_PER_EVENT);
    const now = this.clock.now();
    await this.store.db.transaction().execute(async (trx) => {
      const current = await trx.selectFrom('runs').select('log_seq').where('id', '=', row.id).executeTakeFirst();
      if (!current || current.log_seq >= MAX_LOG_LINES) return;
      let seq = current.log_seq;
      const values = batch.map((l) => ({ run_id: row.id, seq: ++seq, at: now, stream: l.stream === 'stderr' ? 'stderr' : l.stream === 'system' ? 'system' : 'stdout', text: l.text.slice(0, MAX_LINE) }));
      if (seq >= MAX_LOG_LINES) values.push({ run_id: row.id, seq: ++seq, at: now, stream: 'system', text: `the log reached ${MAX_LOG_LINES} lines: later lines are dropped` });
      await trx.insertInto('run_logs').values(values).execute();
      await trx.updateTable('runs').set({ log_seq: seq }).where('id', '=', row.id).execute();
    });
  }

  async readLogs(runRowId: string, after: number, limit = 5000): Promise<LogLine[]> {
    const rows = await this.store.db.selectFrom('run_logs').selectAll().where('run_id', '=', runRowId).where('seq', '>', after).orderBy('seq').limit(limit).execute();
    return rows.map((r) => ({ seq: r.seq, time: new Date(r.at).toISOString(), stream: r.stream, text: r.text }));
  }

  async logMetrics(row: RunRow, metrics: readonly { name: string; value: number | string | boolean; step?: number | undefined }[]): Promise<void> {
    const count = await this.store.db.selectFrom('run_metrics').select((eb) => eb.fn.countAll<number>().as('n')).where('run_id', '=', row.id).executeTakeFirstOrThrow();
    if (Number(count.n) + metrics.length > MAX_METRICS) throw new TesseraError('QuotaExceeded', `A run may log at most ${MAX_METRICS} metric values.`);
    const now = this.clock.now();
    const steps = new Map<string, number>();
    const values = [];
    for (const m of metrics) {
      let step = m.step;
      if (step === undefined) {
        if (!steps.has(m.name)) {
          const last = await this.store.db.selectFrom('run_metrics').select((eb) => eb.fn.max('step').as('s')).where('run_id', '=', row.id).where('name', '=', m.name).executeTakeFirst();
          steps.set(m.name, last?.s === null || last?.s === undefined ? -1 : Number(last.s));
        }
        step = steps.get(m.name)! + 1;
      }
      steps.set(m.name, Math.max(steps.get(m.name) ?? -1, step));
      values.push({ run_id: row.id, name: m.name, step, value: JSON.stringify(m.value), at: now });
    }
    if (values.length > 0) await this.store.db.insertInto('run_metrics').values(values).execute();
  }

  async readMetrics(runRowId: string): Promise<{ name: string; step: number; value: unknown; time: string }[]> {
    const rows = await this.store.db.selectFrom('run_metrics').selectAll().where('run_id', '=', runRowId).orderBy('name').orderBy('step').execute();
    return rows.map((r) => ({ name: r.name, step: r.step, value: JSON.parse(r.value) as unknown, time: new Date(r.at).toISOString() }));
  }

  async recordArtifact(runRowId: string, artifact: { path: string; size: number; sha256: string }): Promise<void> {
    const values = { run_id: runRowId, path: artifact.path, size: artifact.size, sha256: artifact.sha256, created_at: this.clock.now() };
    await this.store.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('run_artifacts').where('run_id', '=', runRowId).where('path', '=', artifact.path).execute();
      await trx.insertInto('run_artifacts').values(values).execute();
    });
  }

  listArtifacts(runRowId: string): Promise<{ path: string; size: number; sha256: string; created_at: number }[]> {
    return this.store.db.selectFrom('run_artifacts').select(['path', 'size', 'sha256', 'created_at']).where('run_id', '=', runRowId).orderBy('path').execute();
  }

  /**
   * Runs on a node that is gone (revoked) or silent past the node timeout become Failed,
   * saying why. The built-in node (no node row) is never silent while the server runs.
   */
  async sweep(): Promise<void> {
    const rows = await this.store.db
      .selectFrom('runs')
      .leftJoin('compute_nodes', 'compute_nodes.id', 'runs.node_id')
      .selectAll('runs')
      .select(['compute_nodes.id as live_node', 'compute_nodes.last_seen_at as last_seen', 'compute_nodes.name as node_name'])
      .where('runs.status', 'in', [...ON_NODE])
      .where('runs.node_id', 'is not', null)
      .execute();
    const silentBefore = this.clock.now() - this.nodeTimeoutMs;
    for (const { live_node, last_seen, node_name, ...row } of rows) {
      if (live_node === null) await this.end(row, 'Failed', { code: 'NodeRevoked', message: 'The node running this job was revoked.' });
      else if ((last_seen ?? 0) < silentBefore) {
        await this.end(row, 'Failed', { code: 'NodeLost', message: `The node '${node_name ?? ''}' stopped answering (last seen ${last_seen === null ? 'never' : new Date(last_seen).toISOString()}); the job's state is unknown.` });
      }
    }
  }

  /** Fails what the built-in node held when the server stopped (called at start). */
  async failOrphansOfBuiltIn(): Promise<void> {
    const rows = await this.store.db.selectFrom('runs').selectAll().where('status', 'in', [...ON_NODE]).where('node_id', 'is', null).execute();
    for (const row of rows) await this.end(row, 'Failed', { code: 'NodeLost', message: "The server's built-in node stopped (the server restarted) while the job ran." });
  }
}
