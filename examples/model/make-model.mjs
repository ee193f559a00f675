#!/usr/bin/env node
// Writes a small ONNX model, an iris classifier, with nothing but Node.js: no download,
// no Python `onnx` package.
//
//   node examples/model/make-model.mjs iris.onnx
//
// The model: input `features` float[N, 4] (sepal length, sepal width, petal length,
// petal width, in cm), output `probabilities` float[N, 3] (setosa, versicolor,
// virginica) = Softmax(features · W + B). W and B are set by hand, close to what a
// logistic regression learns from Fisher's iris data: enough to tell the species apart
// in a walkthrough, not a trained model.
//
// The file is an ONNX ModelProto (ir_version 8, opset 13) written with a minimal
// protobuf writer; the field numbers are those of onnx/onnx.proto.

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The species, in the order of the model's output columns. */
export const SPECIES = ['setosa', 'versicolor', 'virginica'];

/** W: one row per feature, one column per species. */
export const WEIGHTS = [
  [-0.42, 0.53, -0.11],
  [0.97, -0.32, -0.65],
  [-2.52, -0.21, 2.73],
  [-1.08, -0.94, 2.02],
];

/** B: one per species. */
export const BIAS = [9.85, 2.24, -12.09];

// ---- protobuf wire format: varints and length-delimited fields are all ONNX needs here

function varint(value) {
  const bytes = [];
  let v = BigInt(value);
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    bytes.push(byte);
  } while (v !== 0n);
  return Buffer.from(bytes);
}

/** A varint field (wire type 0). */
const int = (field, value) => Buffer.concat([varint((field << 3) | 0), varint(value)]);
/** A length-delimited field (wire type 2): bytes, a string or an embedded message. */
const bytes = (field, data) => {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.concat([data].flat());
  return Buffer.concat([varint((field << 3) | 2), varint(buf.length), buf]);
};

// ---- the ONNX messages used

/** TensorProto of float32 values: dims 1, data_type 2 (FLOAT = 1), name 8, raw_data 9. */
function floatTensor(name, dims, values) {
  const raw = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => raw.writeFloatLE(v, i * 4));
  return [...dims.map((d) => int(1, d)), int(2, 1), bytes(8, name), bytes(9, raw)];
}

/** ValueInfoProto: name 1, type 2 → TypeProto.tensor_type 1 → elem_type 1, shape 2 → dim 1 (dim_value 1 | dim_param 2). */
function floatInput(name, shape) {
  const dims = shape.map((d) => bytes(1, typeof d === 'number' ? int(1, d) : bytes(2, d)));
  return [bytes(1, name), bytes(2, bytes(1, [int(1, 1), bytes(2, dims)]))];
}

/** NodeProto: input 1, output 2, name 3, op_type 4, attribute 5 (AttributeProto: name 1, i 3, type 20 = INT 2). */
function node(op, inputs, outputs, intAttributes = {}) {
  return [
    ...inputs.map((i) => bytes(1, i)),
    ...outputs.map((o) => bytes(2, o)),
    bytes(3, `${op}_${outputs[0]}`),
    bytes(4, op),
    ...Object.entries(intAttributes).map(([name, value]) => bytes(5, [bytes(1, name), int(3, value), int(20, 2)])),
  ];
}

/** The model's bytes. */
export function irisModel() {
  const graph = [
    bytes(1, node('MatMul', ['features', 'W'], ['scores'])),
    bytes(1, node('Add', ['scores', 'B'], ['logits'])),
    bytes(1, node('Softmax', ['logits'], ['probabilities'], { axis: 1 })),
    bytes(2, 'iris_classifier'),
    bytes(5, floatTensor('W', [4, 3], WEIGHTS.flat())),
    bytes(5, floatTensor('B', [3], BIAS)),
    bytes(11, floatInput('features', ['N', 4])), // graph input
    bytes(12, floatInput('probabilities', ['N', 3])), // graph output
  ];
  return Buffer.concat([
    int(1, 8), // ir_version
    bytes(2, 'tessera-examples'), // producer_name
    bytes(7, graph),
    bytes(8, [bytes(1, ''), int(2, 13)]), // opset_import: the default domain, version 13
  ]);
}

// Run as a script: write the model to the path given.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (out === undefined || process.argv.length > 3) {
    console.error('usage: node make-model.mjs OUTPUT.onnx');
    process.exit(2);
  }
  const model = irisModel();
  writeFileSync(out, model);
  console.error(`wrote ${out} (${model.length} bytes): input features float[N,4], output probabilities float[N,3]`);
}
