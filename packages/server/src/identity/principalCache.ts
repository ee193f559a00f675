/**
 * Whether a principal may still act, asked on every authenticated request. Answers are
 * cached for one second and dropped at once when this replica changes the principal, so
 * a disable or delete takes effect on the next request here and within a second on
 * every other replica.
 */
import type { Store } from '../store/db.js';
import type { Clock } from '../clock.js';

export interface PrincipalState {
  exists: boolean;
  enabled: boolean;
  displayName: string;
  username: string | null;
}

const TTL_MS = 1000;
const MISSING: PrincipalState = { exists: false, enabled: false, displayName: '', username: null };

export class PrincipalCache {
  private readonly entries = new Map<string, { at: number; state: PrincipalState }>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async get(objectId: string): Promise<PrincipalState> {
    const now = this.clock.now();
    const hit = this.entries.get(objectId);
    if (hit && now - hit.at < TTL_MS) return hit.state;
    const row = await this.store.db.selectFrom('users').select(['enabled', 'display_name', 'username']).where('id', '=', objectId).executeTakeFirst();
    const state: PrincipalState = row ? { exists: true, enabled: row.enabled === 1, displayName: row.display_name, username: row.username } : MISSING;
    if (this.entries.size > 50_000) this.entries.clear();
    this.entries.set(objectId, { at: now, state });
    return state;
  }

  invalidate(objectId: string): void {
    this.entries.delete(objectId);
  }
}
