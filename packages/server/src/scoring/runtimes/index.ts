/**
 * The scoring gateway's runtimes: `createRuntime(spec, log)` gives the runtime for
 * `spec.kind`, not yet started (ONNX: in the server's process, or in worker processes when the
 * spec has an isolation).
 *
 * @example
 *   const runtime = createRuntime(spec, (line, stream) => logs.append(line, stream));
 *   await runtime.start();                       // rejects with a message for the service's logs
 *   const outcome = await runtime.score({ body }, 60_000);
 *   await runtime.stop();
 */
import { JavascriptRuntime } from './javascriptRuntime.js';
import { OnnxRuntime } from './onnxRuntime.js';
import { OnnxWorkerRuntime } from './onnxWorkerRuntime.js';
import { PythonRuntime } from './pythonRuntime.js';
import type { RuntimeFactory } from './types.js';

export const createRuntime: RuntimeFactory = (spec, log) => {
  switch (spec.kind) {
    case 'onnx':
      // Isolated only when the server was told to (--isolate-onnx gives the spec an isolation).
      return spec.isolation ? new OnnxWorkerRuntime(spec, log) : new OnnxRuntime(spec, log);
    case 'javascript':
      return new JavascriptRuntime(spec, log);
    case 'python':
      return new PythonRuntime(spec, log);
  }
};

export type * from './types.js';
export { JavascriptRuntime, OnnxRuntime, OnnxWorkerRuntime, PythonRuntime };
