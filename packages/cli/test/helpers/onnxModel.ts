/**
 * The server's test ONNX builder (packages/server/dist/test/onnx/buildModel.js), loaded
 * from its build output: the CLI's tests deploy real ONNX models without a second copy.
 */
type LinearRegression = (spec: { weights: number[][]; bias: number[] }) => Uint8Array;

const BUILDER = new URL('../../../../server/dist/test/onnx/buildModel.js', import.meta.url);

/** The bytes of an ONNX model computing `Y = X·W + B` (input `X` [N, inputs], output `Y` [N, outputs]). */
export async function linearRegressionModel(spec: { weights: number[][]; bias: number[] }): Promise<Uint8Array> {
  const module = (await import(BUILDER.href)) as { linearRegressionModel: LinearRegression };
  return module.linearRegressionModel(spec);
}
