/**
 * Jobs (runs) under ARM's paths: `W/jobs/{name}` (PUT submits, GET, list), and the run's
 * own data: cancel, logs, metrics, artifacts. The same operations serve a person (by
 * their roles) and the run itself (by its run token, which reaches only its own run:
 * http/auth.ts). Permissions follow the router's one rule.
 */
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { TesseraError } from '../../../errors.js';
import { WORKSPACE_TYPE } from '../../../workspace/resourceIds.js';
import { JOB_TYPE } from '../../../compute/names.js';
import { parseJobBody } from '../../../compute/jobInput.js';
import { RUN_STATUSES, type RunRow } from '../../../compute/runs.js';
import { jobView } from '../../../compute/runViews.js';
import type { WorkspaceContext } from '../../../compute/workspaceContext.js';
import { context } from './compute.js';
import type { MultipartBody } from '../../multipart.js';
import type { ArmContext, ArmOperation } from './router.js';
import { fields, objectBody } from '../../../validation/jsonFields.js';
import { mayListUnder, nameOf, readable } from './resources.js';
import { discardRest, receiveModelUpload } from './modelUpload.js';

async function runOf(ctx: ArmContext): Promise<{ ws: WorkspaceContext; row: RunRow }> {
  const ws = await context(ctx);
  return { ws, row: await ctx.services.compute.runs.get(ws.rowId, nameOf(ctx.levels, JOB_TYPE)) };
}

const listJobs: ArmOperation = {
  method: 'GET',
  shape: 'collection',
  resourceType: JOB_TYPE,
  parents: [WORKSPACE_TYPE],
  check: 'filtered',
  async handle(ctx) {
    await mayListUnder(ctx, ctx.parentId, `${WORKSPACE_TYPE}/read`);
    const ws = await context(ctx);
    const status = ctx.query.params.status;
    if (status !== undefined && !(RUN_STATUSES as readonly string[]).includes(status)) throw new TesseraError('InvalidParameter', `The status filter must be one of ${RUN_STATUSES.join(', ')}.`);
    const experiment = ctx.query.params.experimentname;
    const rows = await ctx.services.compute.runs.list(ws.rowId, { ...(experiment !== undefined ? { experiment } : {}), ...(status !== undefined ? { status } : {}) });
    const visible = await readable(ctx, rows, `${JOB_TYPE}/read`, (r) => `${ws.id}/jobs/${r.name}`);
    return { body: { value: visible.map((r) => jobView(r, ws.id)) } };
  },
};

const getJob: ArmOperation = {
  method: 'GET',
  shape: 'instance',
  resourceType: JOB_TYPE,
  parents: [WORKSPACE_TYPE],
  async handle(ctx) {
    const { ws, row } = await runOf(ctx);
    return { body: jobView(row, ws.id) };
  },
};

const putJob: ArmOperation = {
  method: 'PUT',
  shape: 'instance',
  resourceType: JOB_TYPE,
  parents: [WORKSPACE_TYPE],
  // The code travels inline, base64 (4/3 of its size), with the rest of the body.
  bodyLimit: 24 * 1024 * 1024,
  async handle(ctx) {
    const ws = await context(ctx);
    const { compute, config } = ctx.services;
    const declared = Number(ctx.request.headers['content-length']);
    if (Number.isFinite(declared) && declared > (config.compute.codeLimit * 4) / 3 + 1024 * 1024) throw new TesseraError('RequestEntityTooLarge', `A job's code may be at most ${Math.floor(config.compute.codeLimit / 1024 / 1024)} MiB.`);
    const input = parseJobBody(ctx.body, ctx.name!, ws.id, compute.runs.files);
    const target = await compute.computes.get(ws.rowId, input.computeName);
    const row = await compute.runs.submit({
      workspaceRowId: ws.rowId,
      compute: target,
      name: ctx.name!,
      experiment: input.experiment,
      command: input.command,
      settings: input.settings,
      code: input.code,
      createdBy: ctx.caller.objectId,
      createdByType: ctx.caller.kind === 'user' ? 'User' : 'Application',
    });
    return { status: 201, body: jobView(row, ws.id) };
  },
};

const cancelJob: ArmOperation = {
  method: 'POST',
  shape: 'action',
  resourceType: `${JOB_TYPE}/cancel`,
  parents: [JOB_TYPE],
  async handle(ctx) {
    if (ctx.body !== undefined && ctx.body !== null) fields(objectBody(ctx.body), [], 'The request body');
    const { ws, row } = await runOf(ctx);
    return { status: 202, body: jobView(await ctx.services.compute.runs.cancel(row), ws.id) };
  },
};

const jobLogs: ArmOperation = {
  method: 'GET',
  shape: 'collection',
  resourceType: `${JOB_TYPE}/logs`,
  parents: [JOB_TYPE],
  async handle(ctx) {
    const { row } = await runOf(ctx);
    const afterText = ctx.query.params.after ?? '0';
    if (!/^\d{1,9}$/.test(afterText)) throw new TesseraError('InvalidParameter', "The parameter 'after' must be a log line's sequence number.");
    const lines = await ctx.services.compute.runs.readLogs(row.id, Number(afterText));
    const last = lines.length > 0 ? lines[lines.length - 1]!.seq : Number(afterText);
    const complete = ['Completed', 'Failed', 'Canceled'].includes(row.status) && last >= row.log_seq;
    return { body: { value: lines, next: last, complete, status: row.status } };
  },
};

const MAX_METRICS_PER_POST = 1000;

const logMetrics: ArmOperation = {
  method: 'POST',
  shape: 'action',
  resourceType: `${JOB_TYPE}/metrics`,
  parents: [JOB_TYPE],
  bodyLimit: 1024 * 1024,
  async handle(ctx) {
    const body = fields(objectBody(ctx.body), ['metrics'], 'The request body');
    if (!Array.isArray(body.metrics) || body.metrics.length === 0 || body.metrics.length > MAX_METRICS_PER_POST) {
      throw new TesseraError('InvalidParameter', `The field 'metrics' must be a list of 1 to ${MAX_METRICS_PER_POST} {name, value, step?}.`);
    }
    const metrics = body.metrics.map((m: unknown) => {
      const metric = fields(objectBody(m, 'A metric'), ['name', 'value', 'step'], 'A metric');
      const { name, value, step } = metric;
      if (typeof name !== 'string' || !/^[^\u0000-\u001f\u007f]{1,255}$/.test(name)) throw new TesseraError('InvalidParameter', "A metric's 'name' must be 1 to 255 printable characters.");
      const ok = (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean' || (typeof value === 'string' && value.length <= 4096 && !/[\u0000]/.test(value));
      if (!ok) throw new TesseraError('InvalidParameter', `The metric ${JSON.stringify(name.slice(0, 60))} has a value that is not a finite number, a boolean or a short string.`);
      if (step !== undefined && (typeof step !== 'number' || !Number.isInteger(step) || step < 0 || step > 2 ** 31 - 1)) throw new TesseraError('InvalidParameter', "A metric's 'step' must be a whole number from 0.");
      return { name, value: value as number | string | boolean, step: step as number | undefined };
    });
    const { row } = await runOf(ctx);
    if (['Completed', 'Failed', 'Canceled'].includes(row.status) && ctx.caller.token.run) throw new TesseraError('Conflict', 'The run has ended.');
    await ctx.services.compute.runs.logMetrics(row, metrics);
    return { status: 204 };
  },
};

const readMetrics: ArmOperation = {
  method: 'GET',
  shape: 'collection',
  resourceType: `${JOB_TYPE}/metrics`,
  parents: [JOB_TYPE],
  async handle(ctx) {
    const { row } = await runOf(ctx);
    return { body: { value: await ctx.services.compute.runs.readMetrics(row.id) } };
  },
};

/** Upload: multipart, one `file` part per artifact, its filename the artifact's path. */
const uploadArtifacts: ArmOperation = {
  method: 'POST',
  shape: 'action',
  resourceType: `${JOB_TYPE}/artifacts`,
  parents: [JOB_TYPE],
  multipart: true,
  async handle(ctx) {
    const body = ctx.body as MultipartBody;
    try {
      const { row } = await runOf(ctx);
      const { runs } = ctx.services.compute;
      const stored: { path: string; size: number }[] = [];
      await receiveModelUpload(
        body,
        {
          async addFile(p: string, stream: Readable) {
            const artifact = await runs.files.writeArtifact(row.id, p, stream);
            await runs.recordArtifact(row.id, artifact);
            stored.push({ path: artifact.path, size: artifact.size });
          },
          setDescription() {
            throw new TesseraError('InvalidParameter', "An artifact upload takes only 'file' parts.");
          },
          setTags() {
            throw new TesseraError('InvalidParameter', "An artifact upload takes only 'file' parts.");
          },
        },
        runs.files.artifactLimit,
      );
      return { status: 201, body: { value: stored } };
    } catch (err) {
      await discardRest(ctx.request.raw);
      throw err;
    }
  },
};

/** The list, or with `?path=` one artifact's bytes. */
const listArtifacts: ArmOperation = {
  method: 'GET',
  shape: 'collection',
  resourceType: `${JOB_TYPE}/artifacts`,
  parents: [JOB_TYPE],
  async handle(ctx) {
    const { row } = await runOf(ctx);
    const { runs } = ctx.services.compute;
    const artifacts = await runs.listArtifacts(row.id);
    if (ctx.query.path === undefined) return { body: { value: artifacts.map((a) => ({ path: a.path, size: a.size, contentHash: a.sha256, createdOn: new Date(a.created_at).toISOString() })) } };
    const found = artifacts.find((a) => a.path === ctx.query.path);
    if (!found) throw new TesseraError('ResourceNotFound', 'The run has no artifact at that path.');
    const base = found.path.slice(found.path.lastIndexOf('/') + 1);
    const headers = {
      'content-type': 'application/octet-stream',
      'content-length': String(found.size),
      'content-disposition': `attachment; filename="${base.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200) || 'download'}"; filename*=UTF-8''${encodeURIComponent(base)}`,
    };
    if (ctx.request.method === 'HEAD') return { headers };
    return { headers, body: fs.createReadStream(runs.files.artifactFile(row.id, found.path)) };
  },
};

export const jobOperations: ArmOperation[] = [listJobs, getJob, putJob, cancelJob, jobLogs, logMetrics, readMetrics, uploadArtifacts, listArtifacts];
