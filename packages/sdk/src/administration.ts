/** Server administration: token signing keys and sign-in lockouts. */
import type { TesseraClient } from './tesseraClient.js';

/** The algorithms signing keys may use. */
export type SigningAlg = 'ES256' | 'RS256';

/** A token signing key (never its private part). */
export interface SigningKeyInfo {
  kid: string;
  alg: SigningAlg;
  status: 'current' | 'retired';
  createdAt: string;
  retiredAt: string | null;
  removedFromJwksAt: string | null;
}

/** Failed sign-ins recorded under an account name or a source address. */
export interface SignInLockout {
  /** `account:<tenant>:<user id>`, `account:<tenant>:unknown-<hash of a name no user has>`, or `address:<ip or IPv6 /64>`. */
  key: string;
  /** The user the key counts, for a known account. */
  userId: string | null;
  failures: number;
  lastFailure: string;
  lockedUntil: string | null;
}

/**
 * Signing keys and sign-in lockouts; needs an administrator's token.
 * @example await new Administration(client).rotateSigningKey('RS256')
 */
/** One record of the audit trail. */
export interface AuditRecord {
  id: string;
  time: string;
  /** `Management` or `SignIn`. */
  category: string;
  operation: string;
  /** `Success`, `Denied` or `Failure`. */
  result: string;
  status: number;
  reason: string | null;
  actor: { id: string | null; name: string | null };
  target: string | null;
  requestId: string;
  clientIp: string | null;
}

export interface AuditQuery {
  top?: number | undefined;
  category?: 'Management' | 'SignIn' | undefined;
  /** ISO 8601: only records at or after. */
  since?: string | undefined;
  actorId?: string | undefined;
}

export class Administration {
  constructor(private readonly client: TesseraClient) {}

  /** The tenant's signing keys, newest first. */
  async listSigningKeys(): Promise<SigningKeyInfo[]> {
    return (await this.client.request<{ value: SigningKeyInfo[] }>('GET', '/admin/signingKeys')).value;
  }

  /** Makes a new current signing key (the server's configured algorithm unless `alg` is given). */
  rotateSigningKey(alg?: SigningAlg): Promise<SigningKeyInfo> {
    return this.client.request<SigningKeyInfo>('POST', '/admin/signingKeys/rotate', alg === undefined ? undefined : { alg });
  }

  /** Keys with recent failed sign-ins, locked or being delayed. */
  async listSignInLockouts(): Promise<SignInLockout[]> {
    return (await this.client.request<{ value: SignInLockout[] }>('GET', '/admin/signInLockouts')).value;
  }

  /** The audit trail, newest first. */
  async listAuditRecords(query: AuditQuery = {}): Promise<AuditRecord[]> {
    const params = new URLSearchParams();
    if (query.top !== undefined) params.set('$top', String(query.top));
    if (query.category !== undefined) params.set('category', query.category);
    if (query.since !== undefined) params.set('since', query.since);
    if (query.actorId !== undefined) params.set('actorId', query.actorId);
    const qs = params.toString();
    return (await this.client.request<{ value: AuditRecord[] }>('GET', `/admin/auditRecords${qs ? `?${qs}` : ''}`)).value;
  }

  /** Clears the failures and lockout recorded under `key`. */
  async clearSignInLockout(key: string): Promise<void> {
    await this.client.request('DELETE', `/admin/signInLockouts?key=${encodeURIComponent(key)}`);
  }
}
