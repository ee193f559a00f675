/**
 * When each service key was last used, noted in memory on the scoring path (a map set)
 * and written to the store in the background every few seconds: `listKeys` shows it,
 * and no scoring request ever waits on a write.
 */
import type { WebServices } from '../workspace/webServices.js';

const FLUSH_MS = 5_000;

export class KeyUsage {
  /** Last use by service and key: `{serviceId} {keyHash}` → epoch ms. */
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly services: WebServices,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Notes a use of the service's key with this hash (two services may hold the same key value). */
  touch(serviceId: string, hash: string, at: number): void {
    this.pending.set(`${serviceId} ${hash}`, at);
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  /** Writes what was noted since the last flush. */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    await this.services.recordKeyUse(batch).catch(this.onError);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
