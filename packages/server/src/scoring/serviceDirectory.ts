/**
 * The scoring gateway's in-memory view of the web services: route key → what a scoring
 * request needs (auth mode, key hashes with their type and expiry, token audience, scope,
 * state, limits). Loaded at start; a local change updates it before the management call
 * answers; other replicas' changes arrive within a second through a cheap poll of each
 * service's generation. The scoring path reads only this view, never the store.
 */
import type { DirectoryRow, WebServices } from '../workspace/webServices.js';

/** One service as the gateway sees it. */
export interface ServiceEntry extends DirectoryRow {
  /** Key hash → type and expiry: a key check is one lookup. */
  keyByHash: Map<string, { type: 'Primary' | 'Secondary'; expiresAt: number | null }>;
  /** The audience its service tokens carry (set on first use: the public URL's port may be chosen after load). */
  audience: string | undefined;
}

/** What the directory reports to its listener (the deployment supervisor). */
export type DirectoryEvent = { kind: 'changed'; entry: ServiceEntry; previous: ServiceEntry | undefined } | { kind: 'removed'; entry: ServiceEntry };

const POLL_MS = 1000;

export class ServiceDirectory {
  private readonly byRoute = new Map<string, ServiceEntry>();
  private readonly byId = new Map<string, ServiceEntry>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  constructor(
    private readonly services: WebServices,
    private readonly onEvent: (event: DirectoryEvent) => void,
    private readonly onPollError: (err: unknown) => void,
  ) {}

  /** Loads every service and starts polling for other replicas' changes. */
  async start(): Promise<void> {
    for (const row of await this.services.directoryRows()) this.put(row);
    this.timer = setInterval(() => {
      this.polling ??= this.poll()
        .catch(this.onPollError)
        .finally(() => {
          this.polling = undefined;
        });
    }, POLL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The service at a scoring URL's name (lower-cased), or undefined. */
  get(routeKey: string): ServiceEntry | undefined {
    return this.byRoute.get(routeKey);
  }

  /** The service with that id, or undefined. */
  getById(id: string): ServiceEntry | undefined {
    return this.byId.get(id);
  }

  /** Re-reads one service now (after a change on this replica). */
  async refresh(id: string): Promise<void> {
    const [row] = await this.services.directoryRows([id]);
    if (row) this.put(row);
    else this.remove(id);
  }

  /** Compares every service's generation with the view and re-reads those that moved. */
  async poll(): Promise<void> {
    const generations = await this.services.generations();
    const seen = new Set<string>();
    const stale: string[] = [];
    for (const { id, generation } of generations) {
      seen.add(id);
      if (this.byId.get(id)?.generation !== generation) stale.push(id);
    }
    for (const id of [...this.byId.keys()]) if (!seen.has(id)) this.remove(id);
    for (let i = 0; i < stale.length; i += 200) {
      for (const row of await this.services.directoryRows(stale.slice(i, i + 200))) this.put(row);
    }
  }

  private put(row: DirectoryRow): void {
    const previous = this.byId.get(row.id);
    // A slower read can land after a newer one: never go back.
    if (previous && previous.generation > row.generation) return;
    const entry: ServiceEntry = {
      ...row,
      keyByHash: new Map(row.keys.map((k) => [k.hash, { type: k.type, expiresAt: k.expiresAt }])),
      audience: undefined,
    };
    if (previous && previous.routeKey !== entry.routeKey) this.byRoute.delete(previous.routeKey);
    this.byId.set(row.id, entry);
    this.byRoute.set(row.routeKey, entry);
    this.onEvent({ kind: 'changed', entry, previous });
  }

  private remove(id: string): void {
    const entry = this.byId.get(id);
    if (!entry) return;
    this.byId.delete(id);
    if (this.byRoute.get(entry.routeKey) === entry) this.byRoute.delete(entry.routeKey);
    this.onEvent({ kind: 'removed', entry });
  }
}
