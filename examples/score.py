"""Entry script for the iris model (model/make-model.mjs), as Azure ML has them.

init() runs once when the service starts: it reads the registered model from
AZUREML_MODEL_DIR. run(raw_data) runs on every request, with the request body as a
string, and returns what is sent back as JSON.

    request:  {"data": [[5.1, 3.5, 1.4, 0.2], ...]}     sepal and petal sizes, in cm
    answer:   {"species": ["setosa", ...], "probabilities": [[0.9823, 0.0177, 0.0], ...]}

Standard library only: it reads the model's weights (the ONNX initializers W and B)
with a few lines of protobuf decoding and computes Softmax(features . W + B) itself,
the same function the ONNX runtime computes from the same file.
"""
import glob
import json
import math
import os
import struct

SPECIES = ["setosa", "versicolor", "virginica"]
weights = None  # 4 rows (features) x 3 columns (species)
bias = None  # 3 values


def _varint(buf, i):
    value, shift = 0, 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, i
        shift += 7


def _fields(buf):
    """Yields (field number, wire type, value) of one protobuf message."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 2:
            length, i = _varint(buf, i)
            value, i = buf[i : i + length], i + length
        elif wire == 5:
            value, i = buf[i : i + 4], i + 4
        elif wire == 1:
            value, i = buf[i : i + 8], i + 8
        else:
            raise ValueError("unsupported protobuf wire type %d" % wire)
        yield field, wire, value


def _tensor(buf):
    """A float TensorProto: (name, dims, values). Fields: dims 1, float_data 4, name 8, raw_data 9."""
    name, dims, values = "", [], []
    for field, wire, value in _fields(buf):
        if field == 1 and wire == 0:
            dims.append(value)
        elif field == 1 and wire == 2:  # packed dims
            j = 0
            while j < len(value):
                d, j = _varint(value, j)
                dims.append(d)
        elif field == 4:
            values.extend(struct.unpack("<%df" % (len(value) // 4), value))
        elif field == 8:
            name = value.decode("utf-8")
        elif field == 9:
            values = list(struct.unpack("<%df" % (len(value) // 4), value))
    return name, dims, values


def _initializers(model_bytes):
    """ModelProto.graph (7) -> GraphProto.initializer (5), by name."""
    found = {}
    for field, _, graph in _fields(model_bytes):
        if field == 7:
            for gfield, _, tensor in _fields(graph):
                if gfield == 5:
                    name, dims, values = _tensor(tensor)
                    found[name] = (dims, values)
    return found


def init():
    global weights, bias
    model_dir = os.environ["AZUREML_MODEL_DIR"]
    files = glob.glob(os.path.join(model_dir, "**", "*.onnx"), recursive=True)
    if len(files) != 1:
        raise RuntimeError("expected one .onnx file under AZUREML_MODEL_DIR, found %d" % len(files))
    with open(files[0], "rb") as f:
        tensors = _initializers(f.read())
    (w_dims, w), (b_dims, b) = tensors["W"], tensors["B"]
    if w_dims != [4, 3] or b_dims != [3]:
        raise RuntimeError("this script expects the iris model of make-model.mjs (W 4x3, B 3)")
    weights = [w[r * 3 : r * 3 + 3] for r in range(4)]
    bias = b
    print("iris model loaded from", os.path.basename(files[0]))


def _classify(row):
    logits = [bias[c] + sum(row[f] * weights[f][c] for f in range(4)) for c in range(3)]
    top = max(logits)
    exps = [math.exp(v - top) for v in logits]
    total = sum(exps)
    return [round(e / total, 4) for e in exps]


def run(raw_data):
    body = json.loads(raw_data)
    rows = body.get("data") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not rows:
        raise ValueError('send {"data": [[sepal_length, sepal_width, petal_length, petal_width], ...]}')
    for row in rows:
        if not (isinstance(row, list) and len(row) == 4 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in row)):
            raise ValueError("each row must be 4 numbers: sepal length, sepal width, petal length, petal width (cm)")
    probabilities = [_classify(row) for row in rows]
    species = [SPECIES[p.index(max(p))] for p in probabilities]
    return {"species": species, "probabilities": probabilities}
