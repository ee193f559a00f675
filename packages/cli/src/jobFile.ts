/**
 * `job.yml` as `az ml job create --file` reads a command job: `$schema`, `type: command`,
 * `command`, `code` (a folder, relative to the file), `environment` and `compute` (with
 * or without `azureml:`), `experiment_name`, `display_name`, `description`, `tags`,
 * `environment_variables`, `limits.timeout`, `name`. Any other key is refused by name;
 * `inputs` and `outputs` are refused as not supported yet. Every refusal is a usage error
 * naming the file and the key, never quoting more of the file than a key name.
 */
import fs from 'node:fs';
import path from 'node:path';
import { yaml } from './yaml.js';
import { interpreterOf, isExperimentName, splitCommandLine } from '@tessera/sdk';
import { UsageError } from './usageError.js';

/** What a job file says, ready for `Experiment.submit`. */
export interface JobSpec {
  command: string;
  /** Absolute path of the code folder. */
  code: string | undefined;
  compute: string;
  experimentName: string;
  environment: string | undefined;
  displayName: string | undefined;
  description: string | undefined;
  tags: Record<string, string> | undefined;
  environmentVariables: Record<string, string> | undefined;
  timeoutSec: number | undefined;
  /** The run id (`name:`). */
  name: string | undefined;
}

const KEYS = ['$schema', 'type', 'name', 'command', 'code', 'environment', 'compute', 'experiment_name', 'display_name', 'description', 'tags', 'environment_variables', 'limits'];
const NOT_YET = ['inputs', 'outputs'];
/** A job file larger than this is not a job file. */
const MAX_FILE_BYTES = 1024 * 1024;

/** A key or value as it may appear in a message: quoted, escaped, short. */
function shown(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}

type Fail = (message: string) => UsageError;

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function optionalString(doc: Record<string, unknown>, key: string, fail: Fail): string | undefined {
  const value = doc[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw fail(`'${key}' must be a string.`);
  return value;
}

/** A map of scalars, as strings (`EPOCHS: 3` is "3"). */
function stringMap(doc: Record<string, unknown>, key: string, fail: Fail): Record<string, string> | undefined {
  const value = doc[key];
  if (value === undefined || value === null) return undefined;
  if (!isMap(value)) throw fail(`'${key}' must be a map of names to values.`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null || !['string', 'number', 'boolean'].includes(typeof v)) throw fail(`'${key}.${k.slice(0, 60)}' must be a string, a number or a boolean.`);
    out[k] = String(v);
  }
  return out;
}

/** `azureml:name`, `azureml:name:3`, `name@latest` → `name`. */
function environmentName(value: string): string {
  return value.replace(/^azureml:/, '').replace(/@latest$/, '').replace(/:[^:/]+$/, '');
}

/** Checks the command: one line, `python|python3 <x.py> …` or `node <x.mjs|.js|.cjs> …`; returns the script path. */
function checkCommand(command: string, fail: Fail): string {
  if (command === '') throw fail("'command' is empty.");
  if (/[\r\n]/.test(command)) throw fail("'command' must be one line (several commands are not supported: one script runs).");
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(command)) throw fail("'command' holds control characters.");
  if (command.includes('${{')) throw fail("'command' refers to ${{…}} (inputs and outputs), which are not supported yet.");
  let words: string[];
  try {
    words = splitCommandLine(command);
  } catch (err) {
    throw fail(`'command': ${(err as Error).message}`);
  }
  const [program, script] = words;
  const kind = script === undefined ? undefined : interpreterOf(script);
  const fits = (program === 'python' || program === 'python3') ? kind === 'python' : program === 'node' ? kind === 'node' : false;
  if (!fits) throw fail("'command' must be 'python <script.py> [args…]' or 'node <script.mjs|.js|.cjs> [args…]' (shell commands, pipes and other programs do not run).");
  return script!;
}

/**
 * Reads and checks a job file; `fallbackExperiment` names the experiment when the file does not.
 * @example const spec = readJobFile('job.yml'); // { command: 'python train.py', code: '/abs/src', compute: 'cpu', … }
 */
export function readJobFile(file: string): JobSpec {
  const where = path.resolve(file);
  const fail: Fail = (message) => new UsageError(`--file ${file}: ${message}`);
  let text: string;
  try {
    const stat = fs.statSync(where);
    if (!stat.isFile()) throw fail('it is not a file.');
    if (stat.size > MAX_FILE_BYTES) throw fail(`it is larger than ${MAX_FILE_BYTES / 1024} KiB: that is no job file.`);
    text = fs.readFileSync(where, 'utf8').replace(/^\uFEFF/, '');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw fail(`cannot read it (${(err as NodeJS.ErrnoException).code ?? 'unreadable'}).`);
  }
  const parsed = yaml().parseDocument(text, { uniqueKeys: true });
  if (parsed.errors.length > 0) {
    const first = parsed.errors[0]!;
    const pos = first.linePos?.[0];
    // The parser's first line says what is wrong; the lines after it quote the file.
    const what = first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '').slice(0, 200);
    throw fail(`it is not valid YAML${pos ? ` (line ${pos.line}, column ${pos.col})` : ''}: ${what}.`);
  }
  let doc: unknown;
  try {
    doc = parsed.toJS({ maxAliasCount: 20 });
  } catch {
    throw fail('it is not valid YAML (too many aliases).');
  }
  if (!isMap(doc)) throw fail('it must hold a map of keys (type: command, command: …, compute: …).');

  const refused = Object.keys(doc).filter((k) => NOT_YET.includes(k));
  if (refused.length > 0) throw fail(`${refused.map((k) => `'${k}'`).join(' and ')} ${refused.length > 1 ? 'are' : 'is'} not supported yet.`);
  const unknown = Object.keys(doc).filter((k) => !KEYS.includes(k));
  if (unknown.length > 0) throw fail(`unknown key${unknown.length > 1 ? 's' : ''} ${unknown.slice(0, 10).map(shown).join(', ')} (a command job takes ${KEYS.join(', ')}).`);

  const type = optionalString(doc, 'type', fail);
  if (type !== undefined && type !== 'command') throw fail(`'type' must be 'command', not ${shown(type)}: only command jobs are supported.`);
  const command = optionalString(doc, 'command', fail)?.trim();
  if (command === undefined) throw fail("'command' is missing (e.g. command: python train.py).");
  const script = checkCommand(command, fail);

  const baseDir = path.dirname(where);
  const codeValue = optionalString(doc, 'code', fail);
  let code: string | undefined;
  if (codeValue !== undefined) {
    if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(codeValue)) throw fail("'code' must be a local folder (registered code assets and URLs are not supported).");
    code = path.resolve(baseDir, codeValue);
    if (!fs.statSync(code, { throwIfNoEntry: false })?.isDirectory()) throw fail(`'code': the folder ${code} does not exist.`);
  }
  if (code === undefined) throw fail(`'code' is missing: give the folder that holds ${shown(script)} (e.g. code: ./src).`);
  const scriptFile = path.resolve(code, script);
  const inCode = !path.relative(code, scriptFile).startsWith('..') && !path.isAbsolute(script);
  if (!inCode || !fs.statSync(scriptFile, { throwIfNoEntry: false })?.isFile()) throw fail(`the command runs ${shown(script)}, which is not a file in the code folder ${code}.`);

  const environmentValue = doc.environment;
  if (environmentValue !== undefined && environmentValue !== null && typeof environmentValue !== 'string') {
    throw fail("'environment' must be the name of an environment (inline environments with an image or a conda file are not supported).");
  }
  const computeValue = optionalString(doc, 'compute', fail);
  if (computeValue === undefined || computeValue.replace(/^azureml:/, '') === '') throw fail("'compute' is missing (e.g. compute: azureml:cpu).");

  const experimentName = optionalString(doc, 'experiment_name', fail) ?? defaultExperimentName(baseDir);
  if (!isExperimentName(experimentName)) throw fail(`'experiment_name' ${shown(experimentName)} is invalid: use 1 to 255 letters, digits, '_', '-' or '.'.`);

  const limits = doc.limits;
  let timeoutSec: number | undefined;
  if (limits !== undefined && limits !== null) {
    if (!isMap(limits)) throw fail("'limits' must be a map (limits: {timeout: 3600}).");
    const extra = Object.keys(limits).filter((k) => k !== 'timeout');
    if (extra.length > 0) throw fail(`unknown key${extra.length > 1 ? 's' : ''} ${extra.slice(0, 10).map((k) => shown(`limits.${k}`)).join(', ')} (limits takes timeout).`);
    if (limits.timeout !== undefined) {
      if (typeof limits.timeout !== 'number' || !Number.isInteger(limits.timeout) || limits.timeout < 1) throw fail("'limits.timeout' must be a whole number of seconds from 1.");
      timeoutSec = limits.timeout;
    }
  }
  const name = doc.name === undefined || doc.name === null ? undefined : typeof doc.name === 'string' ? doc.name : String(doc.name);

  return {
    command,
    code,
    compute: computeValue.replace(/^azureml:/, ''),
    experimentName,
    environment: typeof environmentValue === 'string' ? environmentName(environmentValue) : undefined,
    displayName: optionalString(doc, 'display_name', fail),
    description: optionalString(doc, 'description', fail),
    tags: stringMap(doc, 'tags', fail),
    environmentVariables: stringMap(doc, 'environment_variables', fail),
    timeoutSec,
    name,
  };
}

/** az's default experiment: the folder's name, when it is a valid one; else `Default`. */
export function defaultExperimentName(dir: string): string {
  const name = path.basename(path.resolve(dir));
  return isExperimentName(name) ? name : 'Default';
}
