/**
 * N workers (threads or processes), each answering one request at a time, shared by the
 * JavaScript and Python runtimes. A worker that crashes or runs past its timeout is
 * killed and replaced, with a backoff (100 ms doubling to 5 s) while replacements keep
 * failing; only the request it was running fails. The runtime supplies how to launch one
 * worker (`WorkerLauncher`); the pool owns timing, restarts and shutdown.
 */
import type { LogSink, ScoreOutcome } from './types.js';

/** One live worker, as its runtime launched it. */
export interface WorkerConnection {
  /** Resolves once `init()` has finished; rejects with a message fit for the service's logs. */
  readonly ready: Promise<void>;
  /** Resolves (never rejects) when the worker has exited for any reason, saying why. */
  readonly exited: Promise<string>;
  /** Sends one request. Resolves with the worker's answer; a worker that dies never answers (see `exited`). */
  call(body: string): Promise<ScoreOutcome>;
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
  /** Ends the request in flight when the pool stops. */
  abort?: (outcome: ScoreOutcome) => void;
}

interface Waiter {
  take: (slot: Slot) => void;
  finish: (outcome: ScoreOutcome) => void;
}

export class WorkerPool {
  private readonly slots: Slot[];
  private readonly waiters: Waiter[] = [];
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
      let settled = false;
      const finish = (outcome: ScoreOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const timer = setTimeout(() => {
        if (waiter) this.dropWaiter(waiter);
        if (slot) this.onTimeout(slot);
        const message = slot
          ? `the request ran past its timeout of ${timeoutMs} ms; the worker is being restarted`
          : `no worker became free within the request timeout of ${timeoutMs} ms`;
        finish({ ok: false, reason: 'timeout', message });
      }, timeoutMs);
      let slot: Slot | undefined;
      let waiter: Waiter | undefined;
      const run = (taken: Slot) => {
        waiter = undefined;
        if (settled) return this.release(taken);
        slot = taken;
        this.runOn(taken, body, finish);
      };
      const free = this.slots.find((s) => s.state === 'idle');
      if (free) run(free);
      else {
        waiter = { take: run, finish };
        this.waiters.push(waiter);
      }
    });
  }

  /** Kills every worker; requests in flight or waiting end as `crash`. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const waiter of this.waiters.splice(0)) waiter.finish(stoppedOutcome());
      const exits: Promise<string>[] = [];
      for (const slot of this.slots) {
        clearTimeout(slot.restartTimer);
        slot.abort?.(stoppedOutcome());
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

  private runOn(slot: Slot, body: string, finish: (outcome: ScoreOutcome) => void): void {
    const connection = slot.connection!;
    slot.state = 'busy';
    slot.abort = finish;
    const died = connection.exited.then((why): ScoreOutcome => ({ ok: false, reason: 'crash', message: `${why}; it is being restarted` }));
    const answered = connection.call(body).catch((error: unknown): ScoreOutcome => ({ ok: false, reason: 'crash', message: `the worker failed: ${String(error)}` }));
    void Promise.race([answered, died]).then((outcome) => {
      if (slot.connection !== connection || slot.state !== 'busy') return finish(outcome);
      slot.abort = undefined;
      if (outcome.ok || outcome.reason === 'client') {
        slot.failures = 0;
        this.release(slot);
      }
      // A crash: the exit handler installed by launch() restarts the slot.
      finish(outcome);
    });
  }

  private onTimeout(slot: Slot): void {
    if (slot.state !== 'busy') return;
    slot.abort = undefined;
    this.options.log(`${this.options.label} ${slot.index + 1} ran past the request timeout and is being restarted`, 'system');
    slot.connection?.kill();
  }

  /** Hands an idle worker to the first waiting request, or marks it idle. */
  private release(slot: Slot): void {
    if (this.stopping) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      slot.state = 'busy';
      waiter.take(slot);
    } else slot.state = 'idle';
  }

  private dropWaiter(waiter: Waiter): void {
    const at = this.waiters.indexOf(waiter);
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
      slot.connection = undefined;
      slot.abort = undefined;
      slot.state = 'down';
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
