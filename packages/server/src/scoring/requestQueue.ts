/**
 * Per service: at most `replicas` requests running on this server replica, at most
 * `maxQueueSize` waiting; more are refused at once (503 with Retry-After). A request
 * that waits past its timeout leaves the queue and is answered 504. No timers when the
 * queue is empty: a request that finds a free slot runs at once.
 */
import { TesseraError } from '../errors.js';

interface Waiter {
  start: () => void;
  timer: NodeJS.Timeout;
}

export class RequestQueue {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    private concurrency: number,
    private maxWaiting: number,
  ) {}

  /** Adopts new limits (a service update); waiting requests keep their places. */
  resize(concurrency: number, maxWaiting: number): void {
    this.concurrency = concurrency;
    this.maxWaiting = maxWaiting;
    this.drain();
  }

  /** Takes a slot if one is free and nobody waits (the caller must {@link leave}); false otherwise. */
  tryEnter(): boolean {
    if (this.running >= this.concurrency || this.waiting.length > 0) return false;
    this.running++;
    return true;
  }

  /** Gives back a slot taken with {@link tryEnter}. */
  leave(): void {
    this.running--;
    this.drain();
  }

  /**
   * Runs `task` when a slot is free, given the time it has left; throws 503 when the
   * queue is full and 504 when the wait outlasts `timeoutMs`.
   */
  async run<T>(timeoutMs: number, task: (remainingMs: number) => Promise<T>): Promise<T> {
    const began = Date.now();
    if (this.running >= this.concurrency || this.waiting.length > 0) await this.wait(timeoutMs);
    else this.running++;
    try {
      return await task(timeoutMs - (Date.now() - began));
    } finally {
      this.running--;
      this.drain();
    }
  }

  private wait(timeoutMs: number): Promise<void> {
    if (this.waiting.length >= this.maxWaiting) {
      throw new TesseraError('ServiceUnavailable', 'The service is busy: its request queue is full. Retry after the Retry-After interval.', { retryAfter: 1 });
    }
    const queuedAt = Date.now();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          clearTimeout(waiter.timer);
          if (Date.now() - queuedAt >= timeoutMs) {
            reject(new TesseraError('GatewayTimeout', 'The request waited in the service queue longer than its scoring timeout.'));
            return;
          }
          this.running++;
          resolve();
        },
        timer: setTimeout(() => {
          const at = this.waiting.indexOf(waiter);
          if (at >= 0) this.waiting.splice(at, 1);
          reject(new TesseraError('GatewayTimeout', 'The request waited in the service queue longer than its scoring timeout.'));
        }, timeoutMs),
      };
      this.waiting.push(waiter);
    });
  }

  private drain(): void {
    while (this.running < this.concurrency && this.waiting.length > 0) this.waiting.shift()!.start();
  }
}
