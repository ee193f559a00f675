/**
 * The audit trail: who changed what (management writes), who was refused, and who signed
 * in, kept for 90 days. Records name actors and targets, never secrets: no password,
 * token, secret or key is ever written here, and a sign-in name that matched no account
 * is not recorded (people type passwords into the name box).
 */
import crypto from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Store } from '../store/db.js';
import type { AuditRecordsTable } from '../store/schema.js';
import type { Clock } from '../clock.js';

export type AuditRecordRow = Selectable<AuditRecordsTable>;

export type AuditCategory = 'Management' | 'SignIn';
export type AuditResult = 'Success' | 'Denied' | 'Failure';

export interface AuditEntry {
  tenantId: string;
  category: AuditCategory;
  operation: string;
  result: AuditResult;
  status: number;
  reason?: string | null | undefined;
  actorId?: string | null | undefined;
  actorName?: string | null | undefined;
  target?: string | null | undefined;
  requestId: string;
  clientIp?: string | null | undefined;
}

export interface AuditRecordView {
  id: string;
  time: string;
  category: string;
  operation: string;
  result: string;
  status: number;
  reason: string | null;
  actor: { id: string | null; name: string | null };
  target: string | null;
  requestId: string;
  clientIp: string | null;
}

export interface AuditQuery {
  top: number;
  category?: AuditCategory | undefined;
  /** Epoch ms: only records at or after. */
  since?: number | undefined;
  actorId?: string | undefined;
}

const RETENTION_MS = 90 * 24 * 3600_000;

export class AuditLog {
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    /** Where a failed write is reported (the operation it records has already happened). */
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    this.sweeper = setInterval(() => {
      this.store.db.deleteFrom('audit_records').where('at', '<', this.clock.now() - RETENTION_MS).execute().catch(this.onError);
    }, 24 * 3600_000);
    this.sweeper.unref();
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
  }

  /** Writes a record; resolves when it is stored (failures go to onError, never to the caller). */
  async record(entry: AuditEntry): Promise<void> {
    try {
      await this.store.db
        .insertInto('audit_records')
        .values({
          id: crypto.randomUUID(),
          tenant_id: entry.tenantId,
          at: this.clock.now(),
          category: entry.category,
          operation: entry.operation.slice(0, 256),
          result: entry.result,
          status: entry.status,
          reason: entry.reason ?? null,
          actor_id: entry.actorId ?? null,
          actor_name: entry.actorName?.slice(0, 320) ?? null,
          target: entry.target?.slice(0, 1024) ?? null,
          request_id: entry.requestId.slice(0, 64),
          client_ip: entry.clientIp?.slice(0, 64) ?? null,
        })
        .execute();
    } catch (err) {
      this.onError(err);
    }
  }

  async list(tenantId: string, query: AuditQuery): Promise<AuditRecordView[]> {
    let q = this.store.db.selectFrom('audit_records').selectAll().where('tenant_id', '=', tenantId);
    if (query.category) q = q.where('category', '=', query.category);
    if (query.since !== undefined) q = q.where('at', '>=', query.since);
    if (query.actorId) q = q.where('actor_id', '=', query.actorId);
    const rows = await q.orderBy('at', 'desc').limit(query.top).execute();
    return rows.map((r) => ({
      id: r.id,
      time: new Date(r.at).toISOString(),
      category: r.category,
      operation: r.operation,
      result: r.result,
      status: r.status,
      reason: r.reason,
      actor: { id: r.actor_id, name: r.actor_name },
      target: r.target,
      requestId: r.request_id,
      clientIp: r.client_ip,
    }));
  }
}
