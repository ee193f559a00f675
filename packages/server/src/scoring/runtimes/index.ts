/**
 * The scoring gateway's runtimes: `createRuntime(spec, log)` gives the runtime for
 * `spec.kind`, not yet started.
 *
 * @example
 *   const runtime = createRuntime(spec, (line, stream) => logs.append(line, stream));
 *   await runtime.start();                       // rejects with a message for the service's logs
 *   const outcome = await runtime.score({ body }, 60_000);
 *   await runtime.stop();
 */
import { JavascriptRuntime } from './javascriptRuntime.js';
import { OnnxRuntime } from './onnxRuntime.js';
import { PythonRuntime } from './pythonRuntime.js';
import type { RuntimeFactory } from './types.js';

export const createRuntime: RuntimeFactory = (spec, log) => {
  switch (spec.kind) {
    case 'onnx':
      return new OnnxRuntime(spec, log);
    case 'javascript':
      return new JavascriptRuntime(spec, log);
    case 'python':
      return new PythonRuntime(spec, log);
  }
};

export type * from './types.js';
export { JavascriptRuntime, OnnxRuntime, PythonRuntime };
