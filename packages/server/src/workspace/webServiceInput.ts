/**
 * What a web service's PUT body and key regeneration may say, checked once into typed
 * settings. Every refusal is a 400 naming the field; the messages for the auth rules are
 * the contract's (docs/models-and-services.md, "Web services").
 */
import { TesseraError } from '../errors.js';
import type { RuntimeKind, ScriptContract } from '../scoring/runtimes/types.js';
import { fields, objectBody, optionalString } from '../validation/jsonFields.js';
import { checkTags, shown } from './names.js';

export type ServiceTarget = 'instance' | 'cluster';
export type AuthMode = 'key' | 'token' | 'aad' | 'none';
export type ServiceState = 'Transitioning' | 'Healthy' | 'Failed';
export type KeyType = 'Primary' | 'Secondary';

export interface EntryScript {
  fileName: string;
  content: string;
}

/** A service's desired state, validated. */
export interface ServiceSettings {
  description: string;
  tags: Record<string, string>;
  /** `name:version` or `name` (latest when deployed), as given. */
  models: string[];
  entryScript: EntryScript | null;
  runtime: RuntimeKind;
  target: ServiceTarget;
  authMode: AuthMode;
  cpuCores: number;
  memoryGb: number;
  replicas: number;
  scoringTimeoutMs: number;
  maxQueueSize: number;
  contract: ScriptContract;
}

/** Defaults a server sets for what a body leaves out. */
export interface ServiceDefaults {
  scoringTimeoutMs: number;
  maxQueueSize: number;
}

export const KEY_AND_TOKEN_MESSAGE = "Key auth and token auth cannot be combined: set at most one of 'authEnabled' and 'tokenAuthEnabled' to true.";
export const TOKEN_ON_INSTANCE_MESSAGE = "Token auth is not available on instance targets: deploy to target 'cluster' for token auth, or use key auth.";

export const MAX_SCRIPT_BYTES = 1024 * 1024;
export const MAX_MODELS = 32;
const SERVICE_NAME = /^[a-z][a-z0-9-]{1,30}[a-z0-9]$/;
const SCRIPT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const MODEL_REF = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}(:[1-9][0-9]{0,8})?$/;
const KEY_VALUE = /^[A-Za-z0-9._~-]{32,256}$/;

const ENVELOPE = ['id', 'name', 'type', 'location', 'tags', 'properties', 'kind', 'identity', 'sku', 'systemData'] as const;
const PROPERTIES = [
  'description',
  'models',
  'entryScript',
  'runtime',
  'target',
  'authMode',
  'authEnabled',
  'tokenAuthEnabled',
  'cpuCores',
  'memoryGb',
  'replicas',
  'scoringTimeoutMs',
  'maxQueueSize',
  // Read-only: ignored when a GET's answer is sent back, as ARM ignores them.
  'state',
  'error',
  'scoringUri',
  'swaggerUri',
  'createdBy',
  'createdAt',
  'updatedAt',
  'kind',
] as const;

/** A service name: 3 to 32 lower-case letters, digits and `-`, starting with a letter, not ending with `-`. */
export function checkServiceName(name: string): string {
  if (!SERVICE_NAME.test(name)) {
    throw new TesseraError('InvalidParameter', `The service name ${shown(name)} is invalid: use 3 to 32 lower-case letters, digits and '-', starting with a letter and not ending with '-'.`);
  }
  return name;
}

/** The runtime an entry script's file name calls for. */
export function runtimeOfScript(fileName: string): RuntimeKind {
  // Case matters: the runtimes load `.py`, `.js`, `.mjs`, `.cjs` and `.ts` files as such.
  if (fileName.endsWith('.py')) return 'python';
  if (['.js', '.mjs', '.cjs', '.ts'].some((ext) => fileName.endsWith(ext))) return 'javascript';
  throw new TesseraError('InvalidParameter', "The entry script's file name must end in .py (python), or .js, .mjs, .cjs or .ts (javascript), in lower case.");
}

/** An entry script `{fileName, content}`: a plain file name, UTF-8 text of at most 1 MiB. */
export function checkEntryScript(value: unknown, field = 'entryScript'): EntryScript {
  const body = fields(objectBody(value, `The field '${field}'`), ['fileName', 'content'], `The field '${field}'`);
  if (typeof body.fileName !== 'string' || !SCRIPT_NAME.test(body.fileName) || body.fileName.includes('..')) {
    throw new TesseraError('InvalidParameter', `The field '${field}.fileName' must be a plain file name (letters, digits, '_', '-', '.'; at most 128 characters) such as score.py.`);
  }
  runtimeOfScript(body.fileName);
  if (typeof body.content !== 'string') throw new TesseraError('InvalidParameter', `The field '${field}.content' must be the script as a string.`);
  if (Buffer.byteLength(body.content, 'utf8') > MAX_SCRIPT_BYTES) throw new TesseraError('InvalidParameter', `The field '${field}.content' is larger than 1 MiB.`);
  if (body.content.includes('\u0000')) throw new TesseraError('InvalidParameter', `The field '${field}.content' holds a NUL character.`);
  return { fileName: body.fileName, content: body.content };
}

function optionalNumber(value: unknown, field: string, min: number, max: number, integer: boolean, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    throw new TesseraError('InvalidParameter', `The field '${field}' must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}.`);
  }
  return value;
}

function optionalBoolean(value: unknown, field: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new TesseraError('InvalidParameter', `The field '${field}' must be true or false.`);
  return value;
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T | undefined {
  if (value === undefined || value === null) return undefined;
  const found = typeof value === 'string' ? allowed.find((a) => a.toLowerCase() === value.toLowerCase()) : undefined;
  if (found === undefined) throw new TesseraError('InvalidParameter', `The field '${field}' must be one of ${allowed.map((a) => `'${a}'`).join(', ')}.`);
  return found;
}

/** Model references: `name` or `name:version`, at most 32, no duplicates. */
export function checkModelRefs(value: unknown, field = 'models'): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new TesseraError('InvalidParameter', `The field '${field}' must be an array of 'name' or 'name:version' strings.`);
  if (value.length > MAX_MODELS) throw new TesseraError('InvalidParameter', `The field '${field}' may name at most ${MAX_MODELS} models.`);
  const seen = new Set<string>();
  for (const item of value) {
    if (typeof item !== 'string' || !MODEL_REF.test(item)) {
      throw new TesseraError('InvalidParameter', `Each entry of '${field}' must be a model name, optionally followed by ':' and a version number (e.g. 'iris:1').`);
    }
    const key = item.toLowerCase().split(':')[0]!;
    if (seen.has(key)) throw new TesseraError('InvalidParameter', `The field '${field}' names the model ${shown(key)} more than once.`);
    seen.add(key);
  }
  return value as string[];
}

/**
 * The auth mode from `authMode` or Azure's booleans, with the target's default
 * (instance: none; cluster: key). Combining key and token, or token on an instance, is a 400.
 */
export function resolveAuthMode(target: ServiceTarget, authMode: AuthMode | undefined, authEnabled: boolean | undefined, tokenAuthEnabled: boolean | undefined): AuthMode {
  if (authEnabled === true && tokenAuthEnabled === true) throw new TesseraError('InvalidParameter', KEY_AND_TOKEN_MESSAGE);
  let fromBooleans: AuthMode | undefined;
  if (tokenAuthEnabled === true) fromBooleans = 'token';
  else if (authEnabled === true) fromBooleans = 'key';
  else if (authEnabled === false) fromBooleans = 'none';
  if (authMode !== undefined && fromBooleans !== undefined && authMode !== fromBooleans && !(authMode === 'aad' && fromBooleans === 'none')) {
    throw new TesseraError('InvalidParameter', `The field 'authMode' ('${authMode}') contradicts 'authEnabled'/'tokenAuthEnabled'; give one or make them agree.`);
  }
  const mode = authMode ?? fromBooleans ?? (target === 'cluster' ? 'key' : 'none');
  if (mode === 'token' && target === 'instance') throw new TesseraError('InvalidParameter', TOKEN_ON_INSTANCE_MESSAGE);
  return mode;
}

/**
 * Reads a web service's PUT body (ARM's envelope with the contract's properties).
 * @example parseServiceBody({ properties: { entryScript: { fileName: 'score.py', content: '…' } } }, defaults)
 */
export function parseServiceBody(body: unknown, defaults: ServiceDefaults, urlName: string): ServiceSettings {
  const envelope = fields(objectBody(body), ENVELOPE, 'The web service');
  if (envelope.name !== undefined && envelope.name !== null && envelope.name !== urlName) {
    throw new TesseraError('InvalidParameter', "The field 'name' in the body does not match the name in the URL.");
  }
  const props = fields(objectBody(envelope.properties ?? {}, "The field 'properties'"), PROPERTIES, "The field 'properties'");
  const entryScript = props.entryScript === undefined || props.entryScript === null ? null : checkEntryScript(props.entryScript);
  const models = checkModelRefs(props.models);
  const scriptRuntime: RuntimeKind = entryScript ? runtimeOfScript(entryScript.fileName) : 'onnx';
  const runtime = oneOf(props.runtime, 'runtime', ['python', 'javascript', 'onnx'] as const);
  if (runtime !== undefined && runtime !== scriptRuntime) {
    throw new TesseraError(
      'InvalidParameter',
      entryScript
        ? `The field 'runtime' ('${runtime}') contradicts the entry script '${entryScript.fileName}', which runs on '${scriptRuntime}'.`
        : `The field 'runtime' is '${runtime}' but no entry script is given; without a script the runtime is 'onnx'.`,
    );
  }
  if (!entryScript && models.length === 0) {
    throw new TesseraError('InvalidParameter', "Without an entry script the service runs an ONNX model: 'models' must name the model that holds the .onnx file.");
  }
  const target = oneOf(props.target, 'target', ['instance', 'cluster'] as const) ?? 'instance';
  const authMode = resolveAuthMode(
    target,
    oneOf(props.authMode, 'authMode', ['key', 'token', 'aad', 'none'] as const),
    optionalBoolean(props.authEnabled, 'authEnabled'),
    optionalBoolean(props.tokenAuthEnabled, 'tokenAuthEnabled'),
  );
  return {
    description: optionalString(props.description, 'description', 2048, true) ?? '',
    tags: checkTags(envelope.tags),
    models,
    entryScript,
    runtime: scriptRuntime,
    target,
    authMode,
    cpuCores: optionalNumber(props.cpuCores, 'cpuCores', 0.1, 64, false, 1),
    memoryGb: optionalNumber(props.memoryGb, 'memoryGb', 0.1, 16, false, 1),
    replicas: optionalNumber(props.replicas, 'replicas', 1, 8, true, 1),
    scoringTimeoutMs: optionalNumber(props.scoringTimeoutMs, 'scoringTimeoutMs', 100, 300_000, true, defaults.scoringTimeoutMs),
    maxQueueSize: optionalNumber(props.maxQueueSize, 'maxQueueSize', 0, 10_000, true, defaults.maxQueueSize),
    contract: { kind: 'azureml' },
  };
}

export interface RegenerateKeyInput {
  keyType: KeyType;
  /** A caller-chosen key; a generated one when absent. */
  keyValue: string | undefined;
  /** Epoch milliseconds, in the future; never expires when absent. */
  expiresAt: number | undefined;
}

/** Reads `regenerateKeys`' body: `{"keyType", "keyValue"?, "expiresAt"?}`. Never echoes a key. */
export function parseRegenerateBody(body: unknown, now: number): RegenerateKeyInput {
  const b = fields(objectBody(body), ['keyType', 'keyValue', 'expiresAt'], 'The request body');
  const keyType = oneOf(b.keyType, 'keyType', ['Primary', 'Secondary'] as const);
  if (keyType === undefined) throw new TesseraError('InvalidParameter', "The field 'keyType' is required: 'Primary' or 'Secondary'.");
  let keyValue: string | undefined;
  if (b.keyValue !== undefined && b.keyValue !== null) {
    if (typeof b.keyValue !== 'string' || !KEY_VALUE.test(b.keyValue)) {
      throw new TesseraError('InvalidParameter', "The field 'keyValue' must be 32 to 256 characters of letters, digits and '.', '_', '~', '-'.");
    }
    keyValue = b.keyValue;
  }
  let expiresAt: number | undefined;
  if (b.expiresAt !== undefined && b.expiresAt !== null) {
    const t = typeof b.expiresAt === 'string' && b.expiresAt.length <= 64 && /^\d{4}-\d{2}-\d{2}T/.test(b.expiresAt) ? Date.parse(b.expiresAt) : NaN;
    if (!Number.isFinite(t)) throw new TesseraError('InvalidParameter', "The field 'expiresAt' must be an ISO 8601 time such as 2030-01-01T00:00:00Z.");
    if (t <= now) throw new TesseraError('InvalidParameter', "The field 'expiresAt' must be in the future.");
    expiresAt = t;
  }
  return { keyType, keyValue, expiresAt };
}
