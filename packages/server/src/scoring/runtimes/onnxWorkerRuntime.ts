/**
 * The isolated ONNX runtime (`--isolate-onnx`): the session runs in worker processes
 * (onnx/host.mts) started through the spec's isolation, one session per worker and one
 * request at a time per worker (workerPool.ts), instead of in the server's process. What
 * that buys, at the price of a process per worker and a pipe hop per request:
 *
 *   - a model that crashes onnxruntime's native code (a crafted graph, a parser bug)
 *     takes its worker down, not the server, and the pool restarts it;
 *   - a run past its timeout is ended (the worker is killed and restarted), where in
 *     process it can only be abandoned while it keeps its core busy;
 *   - the memory limit holds: the worker's control group (or address-space rlimit)
 *     counts the session's native allocations, which no V8 limit sees.
 *
 * Requests and answers are the in-process runtime's (onnxSession.ts), message for message.
 * The sandbox shows the worker the built runtimes directory, the server package's
 * package.json (it makes the directory's `.js` files ES modules) and the two
 * onnxruntime packages, read-only, beside the model.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DirectIsolation, type PreparedDeployment, type RuntimeMount } from '../../sandbox/index.js';
import { hostModels, scriptEnvironment } from './environment.js';
import type { OnnxHostConfig } from './onnx/host.mjs';
import { modelFileOf } from './onnxSession.js';
import { PooledRuntime } from './pooledRuntime.js';
import { runtimesMount } from './processWorker.js';
import { DEFAULT_ANSWER_LIMIT, type RuntimeSpec } from './types.js';

/** What Node.js and onnxruntime's libraries use beyond the session's own memory, MiB. */
const RUNTIME_OVERHEAD_MB = 128;
/** V8's reserved address space and onnxruntime's thread stacks: room for them under RLIMIT_AS, MiB. */
const ADDRESS_SPACE_SLACK_MB = 1536;
const HEAP_OUT_OF_MEMORY = /JavaScript heap out of memory|Reached heap limit/;

export class OnnxWorkerRuntime extends PooledRuntime {
  readonly kind = 'onnx' as const;

  async start(): Promise<void> {
    this.checkNotStarted();
    // The same refusals as in process (no model, two .onnx files…), before any worker starts.
    const file = modelFileOf(this.spec.models);
    const runtimes = runtimesMount();
    const isolation = this.spec.isolation ?? new DirectIsolation();
    const prepared = await isolation.prepare({
      directory: this.spec.directory,
      models: hostModels(this.spec),
      mounts: [runtimes, ...onnxPackageMounts()],
      programs: [process.execPath],
    });
    const config: OnnxHostConfig = { modelFile: modelFileInside(this.spec, prepared, file), answerLimit: this.spec.answerLimit ?? DEFAULT_ANSWER_LIMIT };
    await this.startWorkers(prepared, JSON.stringify(config), {
      command: prepared.program(process.execPath),
      // The heap holds the request's and the answer's arrays; the tensors are native.
      args: [`--max-old-space-size=${this.spec.memoryMb}`, path.posix.join(prepared.pathOf(runtimes), 'onnx', 'host.mjs')],
      env: scriptEnvironment(this.spec, prepared),
      overheadMb: RUNTIME_OVERHEAD_MB,
      addressSpaceSlackMb: ADDRESS_SPACE_SLACK_MB,
      outOfMemoryOutput: HEAP_OUT_OF_MEMORY,
    });
  }
}

/** The model file as the worker sees it: the model itself (a file model) or the same file in its folder. */
function modelFileInside(spec: RuntimeSpec, prepared: PreparedDeployment, file: string): string {
  const inside = prepared.models[0]!.path;
  return path.resolve(spec.models[0]!.path) === path.resolve(file) ? inside : path.posix.join(inside, path.basename(file));
}

/** onnxruntime-node (its native library with it) and onnxruntime-common, where the runtimes directory's imports find them. */
function onnxPackageMounts(): RuntimeMount[] {
  const require = createRequire(import.meta.url);
  const node = packageRoot(require.resolve('onnxruntime-node'), 'onnxruntime-node');
  const common = packageRoot(createRequire(path.join(node, 'package.json')).resolve('onnxruntime-common'), 'onnxruntime-common');
  const serverPackage = packageRoot(fileURLToPath(import.meta.url), '@tessera/server');
  return [
    { source: path.join(serverPackage, 'package.json'), target: '/opt/tessera/package.json' },
    { source: node, target: '/opt/tessera/node_modules/onnxruntime-node' },
    { source: common, target: '/opt/tessera/node_modules/onnxruntime-common' },
  ];
}

/** The directory of the package named `name` that holds `file` (real path: the sandbox binds real directories). */
function packageRoot(file: string, name: string): string {
  let dir = path.dirname(realpathSync(file));
  for (;;) {
    try {
      if ((JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string }).name === name) return dir;
    } catch {
      // no package.json here, or not this package's: look further up
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`the ${name} package was not found above ${file}`);
    dir = parent;
  }
}
