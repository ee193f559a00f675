/**
 * What the Python, JavaScript and isolated ONNX runtimes share: a pool of host-protocol
 * worker processes (workerPool.ts, processWorker.ts) over a prepared deployment. A
 * runtime says what its host is and how each worker is started; this class owns the
 * pool's life, scoring, stopping, and the options every worker is launched with.
 */
import type { PreparedDeployment } from '../../sandbox/index.js';
import { launchProcessWorker } from './processWorker.js';
import { DEFAULT_ANSWER_LIMIT, type LogSink, type RuntimeKind, type RuntimeSpec, type ScoreInput, type ScoreOutcome, type ServiceRuntime } from './types.js';
import { WorkerPool } from './workerPool.js';

/** How one of the runtime's workers is started. */
export interface HostWorker {
  /** The program, as the prepared deployment names it, and its arguments. */
  command: string;
  args: string[];
  env: Record<string, string>;
  /** What the program needs beyond the service's `memoryMb`, MiB (its cap is the sum). */
  overheadMb: number;
  addressSpaceSlackMb: number;
  /** A stderr line that means the worker ran out of memory. */
  outOfMemoryOutput?: RegExp;
}

export abstract class PooledRuntime implements ServiceRuntime {
  abstract readonly kind: RuntimeKind;
  private pool?: WorkerPool;
  private stopped = false;

  constructor(
    protected readonly spec: RuntimeSpec,
    protected readonly log: LogSink,
  ) {}

  abstract start(): Promise<void>;

  /** Refuses a second start (or one after stop): call first in start(). */
  protected checkNotStarted(): void {
    if (this.pool || this.stopped) throw new Error('the runtime was already started');
  }

  /** Starts `spec.workers` workers with the host configuration `config`, and waits for their init. */
  protected async startWorkers(prepared: PreparedDeployment, config: string, worker: HostWorker): Promise<void> {
    const { memoryMb, serviceName, cpuCores } = this.spec;
    const label = `${this.kind} worker`;
    const answerLimit = this.spec.answerLimit ?? DEFAULT_ANSWER_LIMIT;
    this.pool = new WorkerPool({
      workers: this.spec.workers,
      initTimeoutMs: this.spec.initTimeoutMs,
      log: this.log,
      label,
      launch: (index) =>
        launchProcessWorker({
          prepared,
          command: {
            command: worker.command,
            args: worker.args,
            env: worker.env,
            memoryMb: memoryMb + worker.overheadMb,
            addressSpaceSlackMb: worker.addressSpaceSlackMb,
            cpuCores: cpuCores ?? 0,
            label: `${serviceName}-${this.kind}-${index + 1}`,
          },
          config,
          label,
          answerLimit,
          memoryMb,
          log: this.log,
          ...(worker.outOfMemoryOutput ? { outOfMemoryOutput: worker.outOfMemoryOutput } : {}),
        }),
    });
    await this.pool.start();
  }

  score(input: ScoreInput, timeoutMs: number): Promise<ScoreOutcome> {
    if (!this.pool) return Promise.resolve({ ok: false, reason: 'crash', message: this.stopped ? 'the service is stopping' : 'the runtime is not started' });
    return this.pool.score(input.body, timeoutMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.pool?.stop();
  }
}
