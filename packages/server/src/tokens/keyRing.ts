/**
 * Per-tenant signing keys. Private keys are sealed with the master key in the store;
 * this ring holds them opened in memory. Every replica reads the same rows, so any
 * replica verifies any replica's tokens. A rotated key keeps verifying (and stays in the
 * JWKS) until every token it signed has expired.
 */
import crypto, { type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { Store } from '../store/db.js';
import type { MasterKey } from '../crypto/masterKey.js';
import type { Clock } from '../clock.js';
import type { SigningAlg } from '../config.js';

export interface SigningKey {
  kid: string;
  tenantId: string;
  alg: SigningAlg;
  publicKey: KeyObject;
  publicJwk: JWK;
  /** Present only for the tenant's current key. */
  privateKey: KeyObject | undefined;
  createdAt: number;
  retiredAt: number | null;
  expiresAt: number | null;
}

/** What `keys list` shows: no key material. */
export interface SigningKeyInfo {
  kid: string;
  alg: SigningAlg;
  status: 'current' | 'retired';
  createdAt: string;
  retiredAt: string | null;
  removedFromJwksAt: string | null;
}

const RELOAD_EVERY_MS = 30_000;
/** A kid found in no row is not looked up again for this long (a flood of made-up kids costs one lookup each). */
const MISS_MEMORY_MS = 1_000;
const MISS_LIMIT = 10_000;

export class KeyRing {
  private byKid = new Map<string, SigningKey>();
  private current = new Map<string, SigningKey>();
  private jwksCache = new Map<string, string>();
  private readonly misses = new Map<string, number>();
  /** The reload under way, shared by every caller that asks meanwhile. */
  private loading: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param maxTokenLifetimeMs longest life of a token this ring signs; a retired key stays
   *   published this long (plus clock skew) after it stops signing.
   */
  constructor(
    private readonly store: Store,
    private readonly master: MasterKey,
    private readonly clock: Clock,
    private readonly maxTokenLifetimeMs: number,
  ) {}

  /** Loads the keys and keeps them fresh, so keys rotated on another replica arrive. */
  async start(): Promise<void> {
    await this.reload();
    this.timer = setInterval(() => {
      this.reload().catch(() => undefined);
    }, RELOAD_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Reads the keys again; concurrent callers share one read. */
  reload(): Promise<void> {
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(): Promise<void> {
    const now = this.clock.now();
    const rows = await this.store.db
      .selectFrom('signing_keys')
      .selectAll()
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .execute();
    const byKid = new Map<string, SigningKey>();
    const current = new Map<string, SigningKey>();
    for (const row of rows) {
      const publicJwk = JSON.parse(row.public_jwk) as JWK;
      const isCurrent = row.retired_at === null;
      const key: SigningKey = {
        kid: row.kid,
        tenantId: row.tenant_id,
        alg: row.alg as SigningAlg,
        publicKey: crypto.createPublicKey({ key: publicJwk as crypto.JsonWebKey, format: 'jwk' }),
        publicJwk,
        privateKey: isCurrent
          ? crypto.createPrivateKey({ key: JSON.parse(this.master.open(row.private_jwk_sealed, row.kid)) as crypto.JsonWebKey, format: 'jwk' })
          : undefined,
        createdAt: row.created_at,
        retiredAt: row.retired_at,
        expiresAt: row.expires_at,
      };
      byKid.set(key.kid, key);
      const seen = current.get(key.tenantId);
      if (isCurrent && (!seen || seen.createdAt < key.createdAt)) current.set(key.tenantId, key);
    }
    this.byKid = byKid;
    this.current = current;
    this.jwksCache.clear();
  }

  /** The key new tokens of `tenantId` are signed with. */
  signingKey(tenantId: string): SigningKey {
    const key = this.current.get(tenantId);
    if (!key?.privateKey) throw new Error(`tenant ${tenantId} has no signing key`);
    return key;
  }

  /**
   * The public key for `kid`. A kid new to this replica (rotated in on another one) is
   * looked up by its id; only a key that really exists triggers a reload, which also
   * moves this replica's signing to it.
   */
  async verificationKey(kid: string): Promise<SigningKey | undefined> {
    const found = this.byKid.get(kid);
    const now = this.clock.now();
    if (found) return found.expiresAt === null || found.expiresAt > now ? found : undefined;
    const missedAt = this.misses.get(kid);
    if (missedAt !== undefined && now - missedAt < MISS_MEMORY_MS) return undefined;
    const row = await this.store.db.selectFrom('signing_keys').select(['kid', 'expires_at']).where('kid', '=', kid).executeTakeFirst();
    if (!row || (row.expires_at !== null && row.expires_at <= now)) {
      if (this.misses.size >= MISS_LIMIT) this.misses.clear();
      this.misses.set(kid, now);
      return undefined;
    }
    await this.reload();
    return this.byKid.get(kid);
  }

  /** Creates the tenant's first key if it has none. */
  async ensureKey(tenantId: string, alg: SigningAlg): Promise<void> {
    await this.reload();
    if (!this.current.has(tenantId)) await this.rotate(tenantId, alg);
  }

  /**
   * Makes a new current key; the previous one stops signing now and leaves the JWKS
   * once every token it signed has expired.
   */
  async rotate(tenantId: string, alg: SigningAlg): Promise<SigningKeyInfo> {
    const { publicKey, privateKey } =
      alg === 'ES256'
        ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const publicJwk = publicKey.export({ format: 'jwk' }) as JWK;
    const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
    const published: JWK = { ...publicJwk, kid, alg, use: 'sig' };
    const now = this.clock.now();
    await this.store.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('signing_keys')
        .set({ retired_at: now, expires_at: now + this.maxTokenLifetimeMs + 5 * 60_000 })
        .where('tenant_id', '=', tenantId)
        .where('retired_at', 'is', null)
        .execute();
      await trx
        .insertInto('signing_keys')
        .values({
          kid,
          tenant_id: tenantId,
          alg,
          public_jwk: JSON.stringify(published),
          private_jwk_sealed: this.master.seal(JSON.stringify(privateKey.export({ format: 'jwk' })), kid),
          created_at: now,
          retired_at: null,
          expires_at: null,
        })
        .execute();
    });
    await this.reload();
    return toInfo(this.byKid.get(kid)!);
  }

  /** The tenant's published keys, as the JWKS document's text. */
  jwksJson(tenantId: string): string {
    let text = this.jwksCache.get(tenantId);
    if (text === undefined) {
      const now = this.clock.now();
      const keys = [...this.byKid.values()]
        .filter((k) => k.tenantId === tenantId && (k.expiresAt === null || k.expiresAt > now))
        .sort((a, b) => b.createdAt - a.createdAt)
        .map((k) => k.publicJwk);
      text = JSON.stringify({ keys });
      this.jwksCache.set(tenantId, text);
    }
    return text;
  }

  /** The algorithms the tenant's published keys use. */
  algorithms(tenantId: string): SigningAlg[] {
    return [...new Set([...this.byKid.values()].filter((k) => k.tenantId === tenantId).map((k) => k.alg))];
  }

  list(tenantId: string): SigningKeyInfo[] {
    return [...this.byKid.values()]
      .filter((k) => k.tenantId === tenantId)
      .sort((a, b) => b.createdAt - a.createdAt)
      .map(toInfo);
  }
}

function toInfo(key: SigningKey): SigningKeyInfo {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    kid: key.kid,
    alg: key.alg,
    status: key.retiredAt === null ? 'current' : 'retired',
    createdAt: new Date(key.createdAt).toISOString(),
    retiredAt: iso(key.retiredAt),
    removedFromJwksAt: iso(key.expiresAt),
  };
}
