/**
 * JSON nested arrays ⇄ ONNX tensors. Input is checked against the model's declared
 * element type and shape (rank, fixed dimensions; symbolic dimensions take any size), and
 * every refusal names the input and what the model expects.
 */
import { Tensor } from 'onnxruntime-node';

/** The input was wrong: becomes a `client` outcome with this message. */
export class TensorInputError extends Error {}

/** Deeper nesting than any model's rank is refused before it is walked. */
const MAX_RANK = 32;

type Element = number | bigint | boolean | string;

interface ElementRule {
  /** What a JSON value must be, for the message. */
  expects: string;
  accept: (value: unknown) => Element | undefined;
  build: (values: Element[], dims: number[]) => Tensor;
}

const integer = (min: number, max: number) => (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : undefined);
const safeInteger = (min: number) => (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= min ? BigInt(v) : undefined);
const number = (v: unknown) => (typeof v === 'number' ? v : undefined);
const typed = <T extends Tensor.Type>(type: T, make: (values: Element[]) => Tensor.DataTypeMap[T]) => (values: Element[], dims: number[]) =>
  new Tensor(type, make(values), dims);

const RULES: Partial<Record<Tensor.Type, ElementRule>> = {
  float32: { expects: 'numbers', accept: number, build: typed('float32', (v) => Float32Array.from(v as number[])) },
  float64: { expects: 'numbers', accept: number, build: typed('float64', (v) => Float64Array.from(v as number[])) },
  int8: { expects: 'integers from -128 to 127', accept: integer(-128, 127), build: typed('int8', (v) => Int8Array.from(v as number[])) },
  uint8: { expects: 'integers from 0 to 255', accept: integer(0, 255), build: typed('uint8', (v) => Uint8Array.from(v as number[])) },
  int16: { expects: 'integers from -32768 to 32767', accept: integer(-32768, 32767), build: typed('int16', (v) => Int16Array.from(v as number[])) },
  uint16: { expects: 'integers from 0 to 65535', accept: integer(0, 65535), build: typed('uint16', (v) => Uint16Array.from(v as number[])) },
  int32: { expects: '32-bit integers', accept: integer(-(2 ** 31), 2 ** 31 - 1), build: typed('int32', (v) => Int32Array.from(v as number[])) },
  uint32: { expects: 'unsigned 32-bit integers', accept: integer(0, 2 ** 32 - 1), build: typed('uint32', (v) => Uint32Array.from(v as number[])) },
  int64: { expects: 'safe integers (±9007199254740991)', accept: safeInteger(-Number.MAX_SAFE_INTEGER), build: typed('int64', (v) => BigInt64Array.from(v as bigint[])) },
  uint64: { expects: 'safe non-negative integers', accept: safeInteger(0), build: typed('uint64', (v) => BigUint64Array.from(v as bigint[])) },
  bool: { expects: 'true or false', accept: (v) => (typeof v === 'boolean' ? v : undefined), build: typed('bool', (v) => Uint8Array.from(v as boolean[], (b) => (b ? 1 : 0))) },
  string: { expects: 'strings', accept: (v) => (typeof v === 'string' ? v : undefined), build: typed('string', (v) => v as string[]) },
};

function describeShape(type: string, shape: ReadonlyArray<number | string>): string {
  return `${type}[${shape.map((d) => (typeof d === 'number' && d >= 0 ? String(d) : typeof d === 'string' && d !== '' ? d : '?')).join(', ')}]`;
}

/** Builds the tensor for input `name` from JSON, or throws TensorInputError saying what the model expects. */
export function toTensor(name: string, value: unknown, type: Tensor.Type, shape: ReadonlyArray<number | string>): Tensor {
  const rule = RULES[type];
  if (!rule) throw new TensorInputError(`input '${name}' has element type ${type}, which this runtime cannot feed from JSON`);
  const refuse = (what: string) => new TensorInputError(`input '${name}': ${what}; the model expects ${describeShape(type, shape)} (${rule.expects})`);

  // The dimensions, read along the first elements; then every element is checked against them.
  const dims: number[] = [];
  for (let level: unknown = value; Array.isArray(level); level = level[0]) {
    if (dims.length >= MAX_RANK) throw refuse(`nested deeper than ${MAX_RANK} levels`);
    dims.push(level.length);
    if (level.length === 0) break;
  }
  // An empty declared shape means the model does not say; otherwise rank and fixed sizes must match.
  if (shape.length > 0) {
    if (dims.length !== shape.length) throw refuse(`got ${dims.length} dimension(s) [${dims.join(', ')}]`);
    shape.forEach((want, axis) => {
      if (typeof want === 'number' && want >= 0 && dims[axis] !== want) throw refuse(`dimension ${axis} has size ${dims[axis]}, not ${want}`);
    });
  }
  const flat: Element[] = [];
  // The indices down to the element being checked: messages name it ("the value[1][0]"),
  // built only when one is refused.
  const at: number[] = [];
  const where = () => `the value${at.map((i) => `[${i}]`).join('')}`;
  const walk = (node: unknown, depth: number): void => {
    if (depth === dims.length) {
      if (Array.isArray(node)) throw refuse(`ragged array: ${where()} is nested deeper than the first element`);
      const element = rule.accept(node);
      if (element === undefined) throw refuse(`${where()} is ${truncateJson(node)}, not one of ${rule.expects}`);
      flat.push(element);
      return;
    }
    if (!Array.isArray(node) || node.length !== dims[depth]) {
      throw refuse(`ragged array: ${where()} has ${Array.isArray(node) ? `${node.length} elements` : 'no array'} where ${dims[depth]} are expected`);
    }
    at.push(0);
    for (let i = 0; i < node.length; i++) {
      at[depth] = i;
      walk(node[i], depth + 1);
    }
    at.pop();
  };
  walk(value, 0);
  return rule.build(flat, dims);
}

function truncateJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= 40 ? text : `${text.slice(0, 40)}…`;
}

/** A tensor as nested arrays; 64-bit integers become numbers when safe, else decimal strings; bools become booleans. */
export function fromTensor(tensor: Tensor): unknown {
  const data = tensor.data as ArrayLike<unknown>;
  const element = (i: number): unknown => {
    const v = data[i];
    if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
    if (tensor.type === 'bool') return v !== 0 && v !== false;
    if (typeof v === 'number' && !Number.isFinite(v)) return null;
    return v;
  };
  const dims = tensor.dims;
  if (dims.length === 0) return element(0);
  let offset = 0;
  const build = (axis: number): unknown[] => {
    const out: unknown[] = [];
    for (let i = 0; i < dims[axis]!; i++) out.push(axis === dims.length - 1 ? element(offset++) : build(axis + 1));
    return out;
  };
  return build(0);
}
