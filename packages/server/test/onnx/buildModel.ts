/**
 * Tiny ONNX models written from scratch: a minimal protobuf writer and the few ModelProto
 * messages (ir_version 8, opset 13) the tests and benches need. No download, no Python
 * `onnx` package. Field numbers are those of onnx/onnx.proto.
 *
 * @example
 *   writeFileSync(file, linearRegressionModel({ weights: [[1], [2], [3]], bias: [0.5] }));
 */

/** ONNX TensorProto.DataType values. */
export const ElementType = { float: 1, uint8: 2, int8: 3, int32: 6, int64: 7, string: 8, bool: 9, double: 11 } as const;
export type ElementTypeName = keyof typeof ElementType;

/** A dimension: a fixed size, or a name for a size given at run time (`'N'`). */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  type: ElementTypeName;
  shape: Dim[];
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  /** Integer attributes only (enough for these models). */
  intAttributes?: Record<string, number>;
}

export interface Initializer {
  name: string;
  dims: number[];
  /** float32 values, little-endian in raw_data. */
  floats?: number[];
  /** int64 values. */
  int64s?: number[];
}

export interface GraphSpec {
  name: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  nodes: NodeSpec[];
  initializers?: Initializer[];
}

// ---- protobuf wire format ----------------------------------------------------------

class Writer {
  private readonly chunks: Uint8Array[] = [];

  private varint(value: bigint): void {
    // Negative int64s are written as their 64-bit two's complement (10 bytes).
    let v = BigInt.asUintN(64, value);
    const bytes: number[] = [];
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      bytes.push(byte);
    } while (v !== 0n);
    this.chunks.push(Uint8Array.from(bytes));
  }

  private tag(field: number, wireType: 0 | 2): void {
    this.varint(BigInt((field << 3) | wireType));
  }

  int(field: number, value: number | bigint): this {
    this.tag(field, 0);
    this.varint(BigInt(value));
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, 2);
    this.varint(BigInt(data.length));
    this.chunks.push(data);
    return this;
  }

  string(field: number, text: string): this {
    return this.bytes(field, new TextEncoder().encode(text));
  }

  message(field: number, build: (w: Writer) => void): this {
    const inner = new Writer();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }
}

// ---- ONNX messages -----------------------------------------------------------------

function valueInfo(w: Writer, info: ValueInfo): void {
  w.string(1, info.name); // ValueInfoProto.name
  w.message(2, (type) =>
    // TypeProto.tensor_type
    type.message(1, (tensor) => {
      tensor.int(1, ElementType[info.type]); // elem_type
      tensor.message(2, (shape) => {
        for (const dim of info.shape) shape.message(1, (d) => (typeof dim === 'number' ? d.int(1, dim) : d.string(2, dim)));
      });
    }),
  );
}

function initializer(w: Writer, init: Initializer): void {
  for (const dim of init.dims) w.int(1, dim); // dims
  if (init.floats) {
    w.int(2, ElementType.float); // data_type
    w.string(8, init.name);
    const raw = new Uint8Array(init.floats.length * 4);
    const view = new DataView(raw.buffer);
    init.floats.forEach((v, i) => view.setFloat32(i * 4, v, true));
    w.bytes(9, raw); // raw_data
  } else {
    w.int(2, ElementType.int64);
    w.string(8, init.name);
    const raw = new Uint8Array((init.int64s ?? []).length * 8);
    const view = new DataView(raw.buffer);
    (init.int64s ?? []).forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
    w.bytes(9, raw);
  }
}

/** Any graph as ModelProto bytes (ir_version 8, default-domain opset 13). */
export function buildModel(graph: GraphSpec): Uint8Array {
  const model = new Writer();
  model.int(1, 8); // ir_version
  model.string(2, 'tessera-test'); // producer_name
  model.message(7, (g) => {
    for (const node of graph.nodes) {
      g.message(1, (n) => {
        for (const input of node.inputs) n.string(1, input);
        for (const output of node.outputs) n.string(2, output);
        n.string(3, `${node.op}_${node.outputs[0]}`);
        n.string(4, node.op);
        for (const [name, value] of Object.entries(node.intAttributes ?? {})) {
          // AttributeProto: name 1, i 3, type 20 (INT = 2)
          n.message(5, (a) => a.string(1, name).int(3, value).int(20, 2));
        }
      });
    }
    g.string(2, graph.name);
    for (const init of graph.initializers ?? []) g.message(5, (t) => initializer(t, init));
    for (const input of graph.inputs) g.message(11, (v) => valueInfo(v, input));
    for (const output of graph.outputs) g.message(12, (v) => valueInfo(v, output));
  });
  model.message(8, (opset) => opset.string(1, '').int(2, 13)); // opset_import
  return model.finish();
}

/**
 * Y = MatMul(X, W) + B: X float[N, inputs], W `weights` (inputs × outputs), B `bias`
 * (one per output), Y float[N, outputs]. Input `X`, output `Y`.
 */
export function linearRegressionModel({ weights, bias }: { weights: number[][]; bias: number[] }): Uint8Array {
  const inputs = weights.length;
  const outputs = bias.length;
  if (inputs === 0 || weights.some((row) => row.length !== outputs)) throw new Error('weights must be inputs × outputs, with one bias per output');
  return buildModel({
    name: 'linear_regression',
    inputs: [{ name: 'X', type: 'float', shape: ['N', inputs] }],
    outputs: [{ name: 'Y', type: 'float', shape: ['N', outputs] }],
    initializers: [
      { name: 'W', dims: [inputs, outputs], floats: weights.flat() },
      { name: 'B', dims: [outputs], floats: bias },
    ],
    nodes: [
      { op: 'MatMul', inputs: ['X', 'W'], outputs: ['XW'] },
      { op: 'Add', inputs: ['XW', 'B'], outputs: ['Y'] },
    ],
  });
}

/** Two inputs, two outputs: `Sum` = A + B and `Product` = A × B, all float[N, 2]. */
export function sumAndProductModel(): Uint8Array {
  const shape: Dim[] = ['N', 2];
  return buildModel({
    name: 'sum_and_product',
    inputs: [
      { name: 'A', type: 'float', shape },
      { name: 'B', type: 'float', shape },
    ],
    outputs: [
      { name: 'Sum', type: 'float', shape },
      { name: 'Product', type: 'float', shape },
    ],
    nodes: [
      { op: 'Add', inputs: ['A', 'B'], outputs: ['Sum'] },
      { op: 'Mul', inputs: ['A', 'B'], outputs: ['Product'] },
    ],
  });
}

/** int64 counts: `Doubled` = `Counts` × 2, int64[N]. */
export function int64DoubleModel(): Uint8Array {
  return buildModel({
    name: 'int64_double',
    inputs: [{ name: 'Counts', type: 'int64', shape: ['N'] }],
    outputs: [{ name: 'Doubled', type: 'int64', shape: ['N'] }],
    initializers: [{ name: 'Two', dims: [], int64s: [2] }],
    nodes: [{ op: 'Mul', inputs: ['Counts', 'Two'], outputs: ['Doubled'] }],
  });
}

/** `Output` = Identity(`Input`) for any element type and shape: to check how each type travels. */
export function identityModel(type: ElementTypeName, shape: Dim[]): Uint8Array {
  return buildModel({
    name: `identity_${type}`,
    inputs: [{ name: 'Input', type, shape }],
    outputs: [{ name: 'Output', type, shape }],
    nodes: [{ op: 'Identity', inputs: ['Input'], outputs: ['Output'] }],
  });
}
