/**
 * The Python runtime: each worker is a long-lived Python process running python/host.py,
 * which imports the entry script and calls its init() once, then answers requests over
 * the host protocol (processWorker.ts). Workers start through the spec's isolation (the
 * sandbox, or plain processes). A worker that exits, is killed by a signal, runs out of
 * memory or hangs is replaced by the pool (workerPool.ts).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DirectIsolation, type RuntimeMount } from '../../sandbox/index.js';
import { hostModels, scriptEnvironment } from './environment.js';
import { PooledRuntime } from './pooledRuntime.js';

/** Where the sandbox shows host.py's directory. */
const HOST_TARGET = '/opt/tessera/python';

/**
 * Where host.py is: next to this module when the build copied it, else in the source
 * tree (tsc does not copy `.py` files: dist/src/scoring/runtimes/ → src/scoring/runtimes/).
 */
export function hostScriptPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.join(here, 'python', 'host.py')];
  const distMarker = `${path.sep}dist${path.sep}src${path.sep}`;
  const at = here.lastIndexOf(distMarker);
  if (at >= 0) candidates.push(path.join(here.slice(0, at), 'src', here.slice(at + distMarker.length), 'python', 'host.py'));
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) throw new Error(`the Python worker host is missing (looked in ${candidates.join(', ')})`);
  return found;
}

export class PythonRuntime extends PooledRuntime {
  readonly kind = 'python' as const;

  async start(): Promise<void> {
    this.checkNotStarted();
    const { directory, entryScript, contract, memoryMb, python } = this.spec;
    if (!entryScript || path.basename(entryScript) !== entryScript || !entryScript.endsWith('.py')) {
      throw new Error('a python service needs an entry script file name ending in .py');
    }
    if (!existsSync(path.join(directory, entryScript))) throw new Error(`the entry script ${entryScript} is missing from the service's directory`);
    const hostMount: RuntimeMount = { source: path.dirname(hostScriptPath()), target: HOST_TARGET };
    const isolation = this.spec.isolation ?? new DirectIsolation();
    const prepared = await isolation.prepare({ directory, models: hostModels(this.spec), mounts: [hostMount], programs: [python] });
    const config = JSON.stringify({
      directory: prepared.directory,
      entryScript,
      memoryMb,
      contract:
        contract.kind === 'mlserver'
          ? { kind: 'mlserver', initCode: contract.initCode ?? '', inputs: contract.inputs.map((p) => p.name), outputs: contract.outputs.map((p) => p.name) }
          : { kind: 'azureml' },
    });
    await this.startWorkers(prepared, config, {
      command: prepared.program(python),
      args: ['-u', path.join(prepared.pathOf(hostMount), 'host.py')],
      env: { ...scriptEnvironment(this.spec, prepared), PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' },
      // host.py sets its own address-space limit (a MemoryError it can report); the sandbox's
      // cap is the control group's, or this one with no slack.
      overheadMb: 0,
      addressSpaceSlackMb: 0,
    });
  }
}
