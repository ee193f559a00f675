/**
 * N workers (threads or processes), each answering one request at a time, shared by the
 * JavaScript and Python runtimes. A worker that crashes or runs past its timeout is
 * killed and replaced, with a backoff (100 ms doubling to 5 s) while replacements keep
 * failing; only the request it was running fails. The runtime supplies how to launch one
 * worker (`WorkerLauncher`); the pool owns timing, restarts and shutdown.
 */
import type { LogSink, ScoreOutcome } from './types.js';

/** Where a worker's answer to one request goes. */
export interface AnswerSink {
  answer(outcome: ScoreOutcome): void;
}

/** One live worker, as its runtime launched it. */
export interface WorkerConnection {
  /** Resolves once `init()` has finished; rejects with a message fit for the service's logs. */
  readonly ready: Promise<void>;
  /** Resolves (never rejects) when the worker has exited for any reason, saying why. */
  readonly exited: Promise<string>;
  /**
   * Sends one request (the pool never sends a worker a second before the first is
   * answered); the answer goes to `to`. A worker that dies never answers (see `exited`).
   */
  call(body: string, to: AnswerSink): void;
  /** Ends the worker now (SIGKILL or Worker.terminate); `exited` then resolves. */
  kill(): void;
}

export type WorkerLauncher = (index: number) => WorkerConnection;

export interface PoolOptions {
  workers: number;
  initTimeoutMs: number;
  launch: WorkerLauncher;
  log: LogSink;
  /** Names the workers in log lines ("python worker 1"). */
  label: string;
}

const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;

interface Slot {
  index: number;
  state: 'starting' | 'idle' | 'busy' | 'down';
  connection?: WorkerConnection;
  /** Consecutive failed lives (crash, timeout, init failure): sets the next backoff. */
  failures: number;
  restartTimer?: NodeJS.Timeout;
  /** The request running on the worker now. */
  request?: PoolRequest;
}

/**
 * One request, from score() to its outcome: a timeout, the worker's answer, or the
 * worker's death, whichever comes first. An object rather than closures: the hot path
 * allocates one of these, one promise and one timer per request.
 */
class PoolRequest implements AnswerSink {
  settled = false;
  /** The worker it runs on, once it has one. */
  slot: Slot | undefined;
  connection: WorkerConnection | undefined;
  readonly timer: NodeJS.Timeout;

  constructor(
    readonly pool: WorkerPool,
    readonly body: string,
    readonly timeoutMs: number,
    private readonly resolve: (outcome: ScoreOutcome) => void,
  ) {
    this.timer = setTimeout(onRequestTimeout, timeoutMs, this);
  }

  finish(outcome: ScoreOutcome): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.resolve(outcome);
  }

  /** The worker answered: free it (unless it is no longer this request's) and settle. */
  answer(outcome: ScoreOutcome): void {
    const slot = this.slot!;
    if (slot.request === this && slot.connection === this.connection && slot.state === 'busy') {
      slot.request = undefined;
      if (outcome.ok || outcome.reason === 'client') {
        slot.failures = 0;
        this.pool.release(slot);
      }
    }
    this.finish(outcome);
  }
}

function onRequestTimeout(request: PoolRequest): void {
  request.pool.timedOut(request);
}

export class WorkerPool {
  private readonly slots: Slot[];
  private readonly waiters: PoolRequest[] = [];
  private stopping?: Promise<void>;

  constructor(private readonly options: PoolOptions) {
    this.slots = Array.from({ length: Math.max(1, options.workers) }, (_, index) => ({ index, state: 'down' as const, failures: 0 }));
  }

  /** Launches every worker and waits for all their `init()`s; on any failure, kills them all and rejects. */
  async start(): Promise<void> {
    const results = await Promise.allSettled(this.slots.map((slot) => this.launch(slot)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.stop();
      throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    }
  }

  /** Runs one request on a free worker, waiting for one (a restarting worker) within the same timeout. */
  score(body: string, timeoutMs: number): Promise<ScoreOutcome> {
    if (this.stopping) return Promise.resolve(stoppedOutcome());
    return new Promise<ScoreOutcome>((resolve) => {
      const request = new PoolRequest(this, body, timeoutMs, resolve);
      const free = this.slots.find((s) => s.state === 'idle');
      if (free) this.runOn(free, request);
      else this.waiters.push(request);
    });
  }

  /** Kills every worker; requests in flight or waiting end as `crash`. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const request of this.waiters.splice(0)) request.finish(stoppedOutcome());
      const exits: Promise<string>[] = [];
      for (const slot of this.slots) {
        clearTimeout(slot.restartTimer);
        slot.request?.finish(stoppedOutcome());
        slot.request = undefined;
        if (slot.connection) {
          exits.push(slot.connection.exited);
          slot.connection.kill();
        }
        slot.state = 'down';
      }
      await Promise.all(exits);
    })();
    return this.stopping;
  }

  private runOn(slot: Slot, request: PoolRequest): void {
    const connection = slot.connection!;
    slot.state = 'busy';
    slot.request = request;
    request.slot = slot;
    request.connection = connection;
    try {
      connection.call(request.body, request);
    } catch (error) {
      // The worker could not be sent the request: treat it as dead.
      slot.request = undefined;
      request.finish({ ok: false, reason: 'crash', message: `the worker failed: ${String(error)}` });
      connection.kill();
    }
  }

  /** A request ran out of time: waiting, it leaves the queue; running, its worker is restarted. */
  timedOut(request: PoolRequest): void {
    if (request.settled) return;
    const slot = request.slot;
    if (slot) this.onTimeout(slot, request);
    else this.dropWaiter(request);
    const message = slot
      ? `the request ran past its timeout of ${request.timeoutMs} ms; the worker is being restarted`
      : `no worker became free within the request timeout of ${request.timeoutMs} ms`;
    request.finish({ ok: false, reason: 'timeout', message });
  }

  private onTimeout(slot: Slot, request: PoolRequest): void {
    if (slot.state !== 'busy' || slot.request !== request) return;
    slot.request = undefined;
    this.options.log(`${this.options.label} ${slot.index + 1} ran past the request timeout and is being restarted`, 'system');
    slot.connection?.kill();
  }

  /** Hands an idle worker to the first waiting request, or marks it idle. */
  release(slot: Slot): void {
    if (this.stopping) return;
    const request = this.waiters.shift();
    if (request) this.runOn(slot, request);
    else slot.state = 'idle';
  }

  private dropWaiter(request: PoolRequest): void {
    const at = this.waiters.indexOf(request);
    if (at >= 0) this.waiters.splice(at, 1);
  }

  /** Starts one worker's life: resolves when its init() is done, rejects if it fails or runs past initTimeoutMs. */
  private launch(slot: Slot): Promise<void> {
    const { initTimeoutMs, label, log } = this.options;
    slot.state = 'starting';
    const connection = this.options.launch(slot.index);
    slot.connection = connection;
    let ready = false;
    void connection.exited.then((why) => {
      if (slot.connection !== connection) return;
      const request = slot.request;
      slot.connection = undefined;
      slot.request = undefined;
      slot.state = 'down';
      // The request it was running fails; only that one (a timed-out one was settled already).
      request?.finish({ ok: false, reason: 'crash', message: `${why}; it is being restarted` });
      if (this.stopping) return;
      if (ready) {
        log(`${label} ${slot.index + 1} stopped: ${why}`, 'system');
        this.scheduleRestart(slot);
      }
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`init() did not finish within ${initTimeoutMs} ms`)), initTimeoutMs);
    });
    const exitedEarly = connection.exited.then((why) => Promise.reject(new Error(`the worker stopped during init(): ${why}`)));
    return Promise.race([connection.ready, timeout, exitedEarly]).then(
      () => {
        clearTimeout(timer);
        if (slot.connection !== connection || this.stopping) return;
        ready = true;
        this.release(slot);
      },
      (error: unknown) => {
        clearTimeout(timer);
        connection.kill();
        const message = error instanceof Error ? error.message : String(error);
        log(`${label} ${slot.index + 1} failed to start: ${message}`, 'system');
        throw new Error(message);
      },
    );
  }

  private scheduleRestart(slot: Slot): void {
    const delay = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** slot.failures);
    slot.failures += 1;
    slot.state = 'down';
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined;
      if (this.stopping) return;
      this.launch(slot).catch(() => {
        // Logged by launch(); keep trying with a longer backoff until the pool stops.
        if (!this.stopping) this.scheduleRestart(slot);
      });
    }, delay);
  }
}

function stoppedOutcome(): ScoreOutcome {
  return { ok: false, reason: 'crash', message: 'the service is stopping' };
}
