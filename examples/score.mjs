// Entry script for the iris model (model/make-model.mjs), in JavaScript: the same
// contract as score.py, with Tessera's JavaScript runtime.
//
// init() runs once when the service starts: it reads the registered model from
// AZUREML_MODEL_DIR. run(input) runs on every request, with the parsed JSON body, and
// its return value is sent back as JSON.
//
//   request:  {"data": [[5.1, 3.5, 1.4, 0.2], ...]}     sepal and petal sizes, in cm
//   answer:   {"species": ["setosa", ...], "probabilities": [[0.9823, 0.0177, 0], ...]}
//
// No packages: it reads the model's weights (the ONNX initializers W and B) with a few
// lines of protobuf decoding and computes Softmax(features · W + B) itself, the same
// function the ONNX runtime computes from the same file.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const SPECIES = ['setosa', 'versicolor', 'virginica'];
let weights; // 4 rows (features) × 3 columns (species)
let bias; // 3 values

function varint(buf, i) {
  let value = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = buf[i++];
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [value, i];
  }
}

/** The (field number, wire type, value) of one protobuf message. */
function* fields(buf) {
  let i = 0;
  while (i < buf.length) {
    let key;
    [key, i] = varint(buf, i);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    let value;
    if (wire === 0) [value, i] = varint(buf, i);
    else if (wire === 2) {
      let length;
      [length, i] = varint(buf, i);
      value = buf.subarray(i, (i += length));
    } else if (wire === 5) value = buf.subarray(i, (i += 4));
    else if (wire === 1) value = buf.subarray(i, (i += 8));
    else throw new Error(`unsupported protobuf wire type ${wire}`);
    yield [field, wire, value];
  }
}

const floats = (buf) => Array.from({ length: buf.length / 4 }, (_, k) => buf.readFloatLE(k * 4));

/** A float TensorProto: dims 1, float_data 4, name 8, raw_data 9. */
function tensor(buf) {
  const t = { name: '', dims: [], values: [] };
  for (const [field, wire, value] of fields(buf)) {
    if (field === 1 && wire === 0) t.dims.push(value);
    else if (field === 1 && wire === 2) for (let j = 0; j < value.length; ) { let d; [d, j] = varint(value, j); t.dims.push(d); } // packed dims
    else if (field === 4) t.values.push(...floats(value));
    else if (field === 8) t.name = value.toString('utf8');
    else if (field === 9) t.values = floats(value);
  }
  return t;
}

/** ModelProto.graph (7) → GraphProto.initializer (5), by name. */
function initializers(modelBytes) {
  const found = new Map();
  for (const [field, , graph] of fields(modelBytes)) {
    if (field !== 7) continue;
    for (const [gField, , t] of fields(graph)) if (gField === 5) { const parsed = tensor(t); found.set(parsed.name, parsed); }
  }
  return found;
}

/** The .onnx files under `dir`, at any depth. */
function onnxFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.onnx'))
    .map((e) => path.join(e.parentPath ?? e.path, e.name));
}

export function init() {
  const files = onnxFiles(process.env.AZUREML_MODEL_DIR);
  if (files.length !== 1) throw new Error(`expected one .onnx file under AZUREML_MODEL_DIR, found ${files.length}`);
  const tensors = initializers(readFileSync(files[0]));
  const w = tensors.get('W');
  const b = tensors.get('B');
  if (!w || !b || w.dims.join() !== '4,3' || b.dims.join() !== '3') throw new Error('this script expects the iris model of make-model.mjs (W 4×3, B 3)');
  weights = [0, 1, 2, 3].map((r) => w.values.slice(r * 3, r * 3 + 3));
  bias = b.values;
  console.log('iris model loaded from', path.basename(files[0]));
}

function classify(row) {
  const logits = [0, 1, 2].map((c) => bias[c] + row.reduce((sum, v, f) => sum + v * weights[f][c], 0));
  const top = Math.max(...logits);
  const exps = logits.map((v) => Math.exp(v - top));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => Math.round((e / total) * 1e4) / 1e4);
}

export function run(input) {
  const rows = input?.data;
  if (!Array.isArray(rows) || rows.length === 0) throw new Error('send {"data": [[sepal_length, sepal_width, petal_length, petal_width], ...]}');
  for (const row of rows) {
    if (!Array.isArray(row) || row.length !== 4 || !row.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new Error('each row must be 4 numbers: sepal length, sepal width, petal length, petal width (cm)');
    }
  }
  const probabilities = rows.map(classify);
  return { species: probabilities.map((p) => SPECIES[p.indexOf(Math.max(...p))]), probabilities };
}
