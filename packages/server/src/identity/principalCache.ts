/**
 * Whether a principal (a user or a service principal) may still act, asked on every
 * authenticated request. Answers are cached for one second and dropped at once when this
 * replica changes the principal, so a disable or delete takes effect on the next request
 * here and within a second on every other replica.
 */
import type { Store } from '../store/db.js';
import type { Clock } from '../clock.js';

export interface PrincipalState {
  exists: boolean;
  enabled: boolean;
  kind: 'user' | 'app';
  displayName: string;
  /** The user name of a user. */
  username: string | null;
  /** How refusals name the caller: a user's name, or a service principal's application id. */
  clientName: string;
}

const TTL_MS = 1000;
const MISSING: PrincipalState = { exists: false, enabled: false, kind: 'user', displayName: '', username: null, clientName: '' };

export class PrincipalCache {
  private readonly entries = new Map<string, { at: number; state: PrincipalState }>();
  /** Bumped by every invalidation: a lookup that raced one is not cached. */
  private generation = 0;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async get(objectId: string): Promise<PrincipalState> {
    const now = this.clock.now();
    const hit = this.entries.get(objectId);
    if (hit && now - hit.at < TTL_MS) return hit.state;
    const generation = this.generation;
    const state = await this.load(objectId);
    if (generation === this.generation) {
      if (this.entries.size > 50_000) this.entries.clear();
      this.entries.set(objectId, { at: now, state });
    }
    return state;
  }

  private async load(objectId: string): Promise<PrincipalState> {
    const user = await this.store.db.selectFrom('users').select(['enabled', 'display_name', 'username']).where('id', '=', objectId).executeTakeFirst();
    if (user) return { exists: true, enabled: user.enabled === 1, kind: 'user', displayName: user.display_name, username: user.username, clientName: user.username };
    const sp = await this.store.db.selectFrom('service_principals').select(['enabled', 'display_name', 'app_id']).where('id', '=', objectId).executeTakeFirst();
    if (sp) return { exists: true, enabled: sp.enabled === 1, kind: 'app', displayName: sp.display_name, username: null, clientName: sp.app_id };
    return MISSING;
  }

  invalidate(objectId: string): void {
    this.generation++;
    this.entries.delete(objectId);
  }
}
