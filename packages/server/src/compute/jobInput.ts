/** A job PUT body (az ml's command job, with its code inline), checked before anything is stored. */
import { TesseraError } from '../errors.js';
import { checkTags, shown } from '../workspace/names.js';
import { parseJobCommand } from './jobCommand.js';
import { checkComputeName, checkExperimentName } from './names.js';
import type { RunFiles } from './runFiles.js';
import type { RunSettings } from './runs.js';

export interface JobInput {
  command: string;
  /** The compute's name (from a name or a resource ID in this workspace). */
  computeName: string;
  experiment: string;
  settings: RunSettings;
  code: Map<string, Buffer>;
}

const MAX_TIMEOUT_SEC = 30 * 24 * 3600;
const DEFAULT_TIMEOUT_SEC = 24 * 3600;
/** Variables a job may not set: the run's own. */
const RESERVED = /^(AZUREML_|IDENTITY_|MSI_|DEFAULT_IDENTITY_CLIENT_ID$|PATH$|PYTHONPATH$|HOME$|TMPDIR$|LD_|NODE_OPTIONS$)/;

function text(value: unknown, field: string, max: number, fallback = ''): string {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string' || value.length > max || /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(value)) {
    throw new TesseraError('InvalidParameter', `The field '${field}' must be text of at most ${max} characters without control characters.`);
  }
  return value;
}

export function parseJobBody(body: unknown, jobName: string, workspaceId: string, files: RunFiles): JobInput {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new TesseraError('InvalidParameter', 'The request body must be a JSON object with a \'properties\' object.');
  const top = body as Record<string, unknown>;
  const unknownTop = Object.keys(top).filter((k) => !['id', 'name', 'type', 'properties', 'systemData'].includes(k));
  if (unknownTop.length > 0) throw new TesseraError('InvalidParameter', `The body has unknown fields: ${unknownTop.slice(0, 5).map((k) => shown(k)).join(', ')}.`);
  const p = top.properties;
  if (p === null || typeof p !== 'object' || Array.isArray(p)) throw new TesseraError('InvalidParameter', "The field 'properties' must be an object.");
  const props = p as Record<string, unknown>;
  const allowed = ['jobType', 'command', 'codeFiles', 'computeId', 'experimentName', 'displayName', 'description', 'tags', 'environmentId', 'environmentVariables', 'limits', 'status', 'properties'];
  const unknown = Object.keys(props).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw new TesseraError('InvalidParameter', `The job has unknown properties: ${unknown.slice(0, 5).map((k) => shown(k)).join(', ')} (inputs, outputs and other job types are not supported yet).`);
  if (props.jobType !== undefined && props.jobType !== 'Command') throw new TesseraError('InvalidParameter', "Only jobs of 'jobType' Command are supported.");
  const command = text(props.command, 'properties.command', 8192);
  const parsed = parseJobCommand(command);
  const computeRef = text(props.computeId, 'properties.computeId', 600);
  if (computeRef === '') throw new TesseraError('InvalidParameter', "The field 'properties.computeId' is required: the compute's name or resource ID.");
  let computeName = computeRef;
  if (computeRef.startsWith('/')) {
    const prefix = `${workspaceId}/computes/`;
    if (!computeRef.toLowerCase().startsWith(prefix.toLowerCase())) throw new TesseraError('InvalidParameter', "The job's compute must be in the job's workspace.");
    computeName = computeRef.slice(prefix.length);
  }
  checkComputeName(computeName);
  const experiment = checkExperimentName(text(props.experimentName, 'properties.experimentName', 255, 'Default') || 'Default');
  const variables: Record<string, string> = {};
  const vars = props.environmentVariables;
  if (vars !== undefined && vars !== null) {
    if (typeof vars !== 'object' || Array.isArray(vars)) throw new TesseraError('InvalidParameter', "The field 'properties.environmentVariables' must be an object of names to strings.");
    const entries = Object.entries(vars as Record<string, unknown>);
    if (entries.length > 100) throw new TesseraError('InvalidParameter', 'A job may set at most 100 environment variables.');
    for (const [name, value] of entries) {
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(name)) throw new TesseraError('InvalidParameter', `The environment variable name ${shown(name)} is invalid.`);
      if (RESERVED.test(name)) throw new TesseraError('InvalidParameter', `The environment variable '${name}' is set by the node for every run; a job may not set it.`);
      variables[name] = text(value, `properties.environmentVariables.${name}`, 8192);
    }
  }
  let timeoutSec = DEFAULT_TIMEOUT_SEC;
  const limits = props.limits;
  if (limits !== undefined && limits !== null) {
    const t = (limits as Record<string, unknown>).timeout;
    if (typeof limits !== 'object' || (t !== undefined && (typeof t !== 'number' || !Number.isInteger(t) || t < 1 || t > MAX_TIMEOUT_SEC))) {
      throw new TesseraError('InvalidParameter', `The field 'properties.limits.timeout' must be a whole number of seconds from 1 to ${MAX_TIMEOUT_SEC}.`);
    }
    if (typeof t === 'number') timeoutSec = t;
  }
  const environment = text(props.environmentId, 'properties.environmentId', 64) || null;
  if (environment !== null && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(environment)) throw new TesseraError('InvalidParameter', `The environment ${shown(environment)} is not an environment name.`);
  const code = files.decodeCode(props.codeFiles);
  if (!code.has(parsed.script)) throw new TesseraError('InvalidParameter', `The job's script '${parsed.script.slice(0, 200)}' is not among its code files ('properties.codeFiles').`);
  void jobName;
  return {
    command,
    computeName,
    experiment,
    code,
    settings: {
      displayName: text(props.displayName, 'properties.displayName', 256, jobName),
      description: text(props.description, 'properties.description', 4096),
      tags: checkTags(props.tags, 'properties.tags'),
      environment,
      variables,
      timeoutSec,
      runtime: parsed.runtime,
      script: parsed.script,
      args: parsed.args,
    },
  };
}
