/**
 * What Machine Learning Server's publish (`POST /services/{name}/{version}`) and update
 * (`PATCH …`) bodies may say, checked once into typed values. Every refusal is a 400
 * naming the field. Parameter names become variables of the service's code, so they must
 * be identifiers of both Python and JavaScript.
 */
import { TesseraError } from '../errors.js';
import { fields, objectBody, optionalString } from '../validation/jsonFields.js';
import { shown } from '../workspace/names.js';
import type { ParameterDefinition } from '../scoring/runtimes/types.js';

/** `code` and `initCode`: at most 1 MiB of UTF-8 each. */
export const MAX_CODE_BYTES = 1024 * 1024;
/** A model file: at most 16 MiB once decoded (register larger models in the model registry). */
export const MAX_MODEL_FILE_BYTES = 16 * 1024 * 1024;
/** The publish and update bodies' limit: the model file in base64 plus the code. */
export const PUBLISH_BODY_LIMIT = 32 * 1024 * 1024;
export const MAX_PARAMETERS = 64;

/** ML Server's parameter types. */
export const PARAMETER_TYPES = ['numeric', 'integer', 'logical', 'character', 'vector', 'matrix', 'data.frame'] as const;
export type ParameterType = (typeof PARAMETER_TYPES)[number];

/** The runtimes ML Server's `runtimeType` names here ('R' is not offered). */
export type RuntimeType = 'Python' | 'JavaScript';

export interface ModelFileInput {
  fileName: string;
  content: Buffer;
}

/** A publish body, checked. */
export interface PublishDefinition {
  runtimeType: RuntimeType;
  code: string;
  initCode: string | undefined;
  description: string;
  operationId: string;
  inputs: ParameterDefinition[];
  outputs: ParameterDefinition[];
  modelFile: ModelFileInput | undefined;
}

/** An update body, checked: absent fields stay; `modelFile: null` removes the model file. */
export interface UpdateDefinition {
  runtimeType?: RuntimeType;
  code?: string;
  initCode?: string;
  description?: string;
  operationId?: string;
  inputs?: ParameterDefinition[];
  outputs?: ParameterDefinition[];
  modelFile?: ModelFileInput | null;
}

const FIELDS = ['code', 'initCode', 'runtimeType', 'description', 'operationId', 'inputParameterDefinitions', 'outputParameterDefinitions', 'modelFile'] as const;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Words a parameter cannot be called: keywords (or fixed names) of Python or JavaScript. */
const RESERVED = new Set(
  [
    // Python
    'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else', 'except',
    'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try',
    'while', 'with', 'yield',
    // JavaScript
    'case', 'catch', 'const', 'debugger', 'default', 'delete', 'do', 'enum', 'export', 'extends', 'false', 'function', 'implements',
    'instanceof', 'interface', 'let', 'new', 'null', 'package', 'private', 'protected', 'public', 'static', 'super', 'switch', 'this',
    'throw', 'true', 'typeof', 'var', 'void', 'arguments', 'eval', 'undefined', 'NaN', 'Infinity',
  ],
);

function code(value: unknown, field: string, required: boolean): string | undefined {
  if (value === undefined || value === null) {
    if (required) throw new TesseraError('InvalidParameter', `The field '${field}' is required: the ${field === 'code' ? 'code to run on each request' : 'code'} as a string.`);
    return undefined;
  }
  if (typeof value !== 'string') throw new TesseraError('InvalidParameter', `The field '${field}' must be a string of code.`);
  if (required && value.trim() === '') throw new TesseraError('InvalidParameter', `The field '${field}' is empty: give the code to run on each request.`);
  if (Buffer.byteLength(value, 'utf8') > MAX_CODE_BYTES) throw new TesseraError('InvalidParameter', `The field '${field}' is larger than 1 MiB.`);
  if (value.includes('\u0000')) throw new TesseraError('InvalidParameter', `The field '${field}' holds a NUL character.`);
  return value;
}

function runtimeType(value: unknown): RuntimeType | undefined {
  if (value === undefined || value === null) return undefined;
  const lower = typeof value === 'string' ? value.toLowerCase() : '';
  if (lower === 'python') return 'Python';
  if (lower === 'javascript') return 'JavaScript';
  if (lower === 'r') throw new TesseraError('InvalidParameter', "The runtimeType 'R' is not available on this server: publish 'Python' or 'JavaScript' code.");
  throw new TesseraError('InvalidParameter', "The field 'runtimeType' must be 'Python' or 'JavaScript'.");
}

function operationId(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !IDENTIFIER.test(value)) {
    throw new TesseraError('InvalidParameter', "The field 'operationId' must be an identifier: 1 to 64 letters, digits and '_', not starting with a digit.");
  }
  return value;
}

/** `[{name, type}]`: identifiers, unique, of ML Server's types (matched without regard to case). */
export function parameterDefinitions(value: unknown, field: string): ParameterDefinition[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new TesseraError('InvalidParameter', `The field '${field}' must be an array of {"name", "type"}.`);
  if (value.length > MAX_PARAMETERS) throw new TesseraError('InvalidParameter', `The field '${field}' may declare at most ${MAX_PARAMETERS} parameters.`);
  const seen = new Set<string>();
  return value.map((item: unknown, i) => {
    const where = `Entry ${i} of '${field}'`;
    const def = fields(objectBody(item, where), ['name', 'type'], where);
    if (typeof def.name !== 'string' || !IDENTIFIER.test(def.name) || def.name.startsWith('__')) {
      throw new TesseraError('InvalidParameter', `${where} needs a 'name' that is an identifier (letters, digits and '_', not starting with a digit or '__', at most 64): it becomes a variable of the code.`);
    }
    if (RESERVED.has(def.name)) throw new TesseraError('InvalidParameter', `${where} is named ${shown(def.name)}, a reserved word of Python or JavaScript: choose another name.`);
    if (seen.has(def.name)) throw new TesseraError('InvalidParameter', `The field '${field}' declares ${shown(def.name)} more than once.`);
    seen.add(def.name);
    const type = typeof def.type === 'string' ? PARAMETER_TYPES.find((t) => t === (def.type as string).toLowerCase()) : undefined;
    if (type === undefined) throw new TesseraError('InvalidParameter', `${where} needs a 'type': one of ${PARAMETER_TYPES.map((t) => `'${t}'`).join(', ')}.`);
    return { name: def.name, type };
  });
}

/** `{fileName, content}` with the content in base64 (strict, canonical), at most 16 MiB decoded. */
export function modelFile(value: unknown): ModelFileInput | undefined {
  if (value === undefined || value === null) return undefined;
  const body = fields(objectBody(value, "The field 'modelFile'"), ['fileName', 'content'], "The field 'modelFile'");
  if (typeof body.fileName !== 'string' || !FILE_NAME.test(body.fileName) || body.fileName.includes('..')) {
    throw new TesseraError('InvalidParameter', "The field 'modelFile.fileName' must be a plain file name (letters, digits, '_', '-', '.'; at most 128 characters) such as model.pkl.");
  }
  const text = body.content;
  if (typeof text !== 'string' || text.length === 0) throw new TesseraError('InvalidParameter', "The field 'modelFile.content' must be the file's bytes in base64.");
  if (text.length > Math.ceil(MAX_MODEL_FILE_BYTES / 3) * 4) throw new TesseraError('InvalidParameter', `The model file is larger than ${MAX_MODEL_FILE_BYTES / 1024 / 1024} MiB: register it in the model registry instead.`);
  const content = BASE64.test(text) && text.length % 4 === 0 ? Buffer.from(text, 'base64') : undefined;
  if (!content || content.toString('base64') !== text) throw new TesseraError('InvalidParameter', "The field 'modelFile.content' is not valid base64 (standard alphabet, padded).");
  return { fileName: body.fileName, content };
}

function description(value: unknown): string | undefined {
  return optionalString(value, 'description', 4096, true);
}

/**
 * Reads a publish body.
 * @example parsePublishBody({ code: 'z = x + y', inputParameterDefinitions: [{ name: 'x', type: 'numeric' }] })
 */
export function parsePublishBody(body: unknown): PublishDefinition {
  const b = fields(objectBody(body), FIELDS, 'The request body');
  return {
    runtimeType: runtimeType(b.runtimeType) ?? 'Python',
    code: code(b.code, 'code', true)!,
    initCode: code(b.initCode, 'initCode', false),
    description: description(b.description) ?? '',
    operationId: operationId(b.operationId) ?? 'consume',
    inputs: parameterDefinitions(b.inputParameterDefinitions, 'inputParameterDefinitions') ?? [],
    outputs: parameterDefinitions(b.outputParameterDefinitions, 'outputParameterDefinitions') ?? [],
    modelFile: modelFile(b.modelFile),
  };
}

/** Reads an update body: only the fields given. */
export function parseUpdateBody(body: unknown): UpdateDefinition {
  const b = fields(objectBody(body), FIELDS, 'The request body');
  const out: UpdateDefinition = {};
  const rt = runtimeType(b.runtimeType);
  if (rt !== undefined) out.runtimeType = rt;
  const c = code(b.code, 'code', b.code !== undefined && b.code !== null);
  if (c !== undefined) out.code = c;
  const init = code(b.initCode, 'initCode', false);
  if (init !== undefined) out.initCode = init;
  const d = description(b.description);
  if (d !== undefined) out.description = d;
  const op = operationId(b.operationId);
  if (op !== undefined) out.operationId = op;
  const inputs = parameterDefinitions(b.inputParameterDefinitions, 'inputParameterDefinitions');
  if (inputs !== undefined) out.inputs = inputs;
  const outputs = parameterDefinitions(b.outputParameterDefinitions, 'outputParameterDefinitions');
  if (outputs !== undefined) out.outputs = outputs;
  if (b.modelFile === null) out.modelFile = null;
  else {
    const file = modelFile(b.modelFile);
    if (file !== undefined) out.modelFile = file;
  }
  return out;
}
