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

  /** Clears the failures and lockout recorded under `key`. */
  async clearSignInLockout(key: string): Promise<void> {
    await this.client.request('DELETE', `/admin/signInLockouts?key=${encodeURIComponent(key)}`);
  }
}
