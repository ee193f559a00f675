/**
 * Nodes: the processes that run a compute's jobs. Each is registered with a credential
 * (`tsnd_…`, shown once, stored as its SHA-256, the lookup key) that it presents on the
 * node protocol; rotating replaces it at once, revoking deletes the node. A node is Online
 * while it has polled within the node timeout.
 */
import crypto from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Store } from '../store/db.js';
import { isUniqueViolation } from '../store/db.js';
import type { ComputeNodesTable } from '../store/schema.js';
import type { Clock } from '../clock.js';
import { TesseraError } from '../errors.js';
import { SecretPrefix, generateSecret, hashSecret, looksLikeSecret } from '../crypto/secrets.js';
import { isGuid } from '../workspace/names.js';
import { checkNodeName } from './names.js';

export type NodeRow = Selectable<ComputeNodesTable>;
const MAX_NODES = 64;
/** How long a looked-up credential is trusted without asking the store (a revoke elsewhere lands within it). */
const CACHE_MS = 1000;

export interface NodeView {
  nodeId: string;
  name: string;
  state: 'Online' | 'Offline';
  createdOn: string;
  lastSeenOn: string | null;
}

export class ComputeNodes {
  private readonly cache = new Map<string, { at: number; row: NodeRow | undefined }>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly timeoutMs: number,
  ) {}

  view(row: NodeRow): NodeView {
    const online = row.last_seen_at !== null && this.clock.now() - row.last_seen_at < this.timeoutMs;
    return { nodeId: row.id, name: row.name, state: online ? 'Online' : 'Offline', createdOn: new Date(row.created_at).toISOString(), lastSeenOn: row.last_seen_at === null ? null : new Date(row.last_seen_at).toISOString() };
  }

  list(computeId: string): Promise<NodeRow[]> {
    return this.store.db.selectFrom('compute_nodes').selectAll().where('compute_id', '=', computeId).orderBy('created_at').execute();
  }

  async get(computeId: string, nodeId: string): Promise<NodeRow> {
    const row = isGuid(nodeId) ? await this.store.db.selectFrom('compute_nodes').selectAll().where('compute_id', '=', computeId).where('id', '=', nodeId.toLowerCase()).executeTakeFirst() : undefined;
    if (!row) throw new TesseraError('ResourceNotFound', 'The compute has no node with that id.');
    return row;
  }

  /** Counts for a compute's view. */
  async counts(computeId: string): Promise<{ registered: number; online: number }> {
    const rows = await this.list(computeId);
    const since = this.clock.now() - this.timeoutMs;
    return { registered: rows.length, online: rows.filter((r) => r.last_seen_at !== null && r.last_seen_at > since).length };
  }

  async register(computeId: string, name: string | undefined, createdBy: string | null): Promise<{ row: NodeRow; credential: string }> {
    const existing = await this.list(computeId);
    if (existing.length >= MAX_NODES) throw new TesseraError('Conflict', `A compute may have at most ${MAX_NODES} nodes: revoke one first.`);
    const checked = name === undefined ? `node-${existing.length + 1}` : checkNodeName(name);
    if (existing.some((n) => n.name.toLowerCase() === checked.toLowerCase())) throw new TesseraError('Conflict', `The compute already has a node named '${checked}'.`);
    const credential = generateSecret(SecretPrefix.nodeCredential);
    const now = this.clock.now();
    const row: NodeRow = { id: crypto.randomUUID(), compute_id: computeId, name: checked, credential_hash: hashSecret(credential), created_at: now, rotated_at: now, last_seen_at: null, created_by: createdBy };
    try {
      await this.store.db.insertInto('compute_nodes').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new TesseraError('Conflict', 'The node could not be registered; try again.');
      throw err;
    }
    return { row, credential };
  }

  /** A new credential; the old one stops at once (here, and within a second elsewhere). */
  async rotate(computeId: string, nodeId: string): Promise<{ row: NodeRow; credential: string }> {
    const row = await this.get(computeId, nodeId);
    const credential = generateSecret(SecretPrefix.nodeCredential);
    const changed = { credential_hash: hashSecret(credential), rotated_at: this.clock.now() };
    await this.store.db.updateTable('compute_nodes').set(changed).where('id', '=', row.id).execute();
    this.cache.clear();
    return { row: { ...row, ...changed }, credential };
  }

  /** Deletes the node: its credential stops at once. */
  async revoke(computeId: string, nodeId: string): Promise<NodeRow> {
    const row = await this.get(computeId, nodeId);
    await this.store.db.deleteFrom('compute_nodes').where('id', '=', row.id).execute();
    this.cache.clear();
    return row;
  }

  /** The node a credential belongs to; 401 when none does. Marks it seen. */
  async authenticate(credential: string): Promise<NodeRow> {
    const refused = new TesseraError('InvalidAuthenticationToken', 'The node credential is not valid (revoked, rotated or mistyped).', { bearerError: 'invalid_token' });
    if (!looksLikeSecret(credential, SecretPrefix.nodeCredential)) throw refused;
    const hash = hashSecret(credential);
    const now = this.clock.now();
    const hit = this.cache.get(hash);
    let row = hit && now - hit.at < CACHE_MS ? hit.row : undefined;
    if (!hit || now - hit.at >= CACHE_MS) {
      row = await this.store.db.selectFrom('compute_nodes').selectAll().where('credential_hash', '=', hash).executeTakeFirst();
      if (this.cache.size > 1000) this.cache.clear();
      this.cache.set(hash, { at: now, row });
    }
    if (!row) throw refused;
    // Seen: at most one write per node per second.
    if (row.last_seen_at === null || now - row.last_seen_at >= 1000) {
      row.last_seen_at = now;
      await this.store.db.updateTable('compute_nodes').set({ last_seen_at: now }).where('id', '=', row.id).execute();
    }
    return row;
  }

  /** Nodes not heard from within the timeout that still hold runs: for the sweeper. */
  async silentSince(): Promise<number> {
    return this.clock.now() - this.timeoutMs;
  }
}
