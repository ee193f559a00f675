/**
 * Password sign-in, shared by Machine Learning Server's `/login` and the OAuth password
 * grant: resolve the name, throttle check, password check (one slot per account at a
 * time), failure accounting, enabled check. A wrong password and an unknown name get the
 * same answer after the same work.
 */
import { TesseraError } from '../errors.js';
import type { Users, UserRow } from './users.js';
import { addressKey, type SigninThrottle } from './throttle.js';

export interface PasswordSignInRequest {
  tenantId: string;
  username: string;
  password: string;
  /** The caller's address, for per-address throttling. */
  address: string;
  /** Told who tried, when the name belongs to an account (a name that matches none is never recorded). */
  audit?: { actorId?: string; actorName?: string } | undefined;
}

export class PasswordSignIn {
  constructor(
    private readonly users: Users,
    private readonly throttle: SigninThrottle,
  ) {}

  /** Returns the signed-in user, or throws AuthenticationFailed, AccountLocked, TooManyRequests or AccountDisabled. */
  async signIn(req: PasswordSignInRequest): Promise<UserRow> {
    const user = await this.users.find(req.tenantId, req.username);
    if (user && req.audit) {
      req.audit.actorId = user.id;
      req.audit.actorName = user.username;
    }
    const keys = {
      account: user ? this.throttle.userKey(req.tenantId, user.id) : this.throttle.unknownNameKey(req.tenantId, req.username),
      address: addressKey(req.address),
    };
    await this.throttle.check(keys);
    const release = this.throttle.enter(keys);
    let ok: boolean;
    try {
      ok = await this.users.verifyPassword(user, req.password);
      if (!ok) await this.throttle.recordFailure(keys);
      else await this.throttle.recordSuccess(keys);
    } finally {
      release();
    }
    if (!ok || !user) throw new TesseraError('AuthenticationFailed', 'Invalid username or password.', { aadCodes: [50126] });
    if (user.enabled !== 1) throw new TesseraError('AccountDisabled', 'The account is disabled.', { aadCodes: [50057] });
    return user;
  }
}
