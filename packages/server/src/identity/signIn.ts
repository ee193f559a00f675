/**
 * Password sign-in, shared by Machine Learning Server's `/login` and the OAuth password
 * grant: throttle check, password check, failure accounting, enabled check. A wrong
 * password and an unknown name get the same answer after the same work.
 */
import { TesseraError } from '../errors.js';
import type { Users, UserRow } from './users.js';
import { accountKey, addressKey, type SigninThrottle } from './throttle.js';

export interface PasswordSignInRequest {
  tenantId: string;
  username: string;
  password: string;
  /** The caller's address, for per-address throttling. */
  address: string;
}

export class PasswordSignIn {
  constructor(
    private readonly users: Users,
    private readonly throttle: SigninThrottle,
  ) {}

  /** Returns the signed-in user, or throws AuthenticationFailed, AccountLocked, TooManyRequests or AccountDisabled. */
  async signIn(req: PasswordSignInRequest): Promise<UserRow> {
    const keys = { account: accountKey(req.username), address: addressKey(req.address) };
    await this.throttle.check(keys);
    const user = await this.users.checkPassword(req.tenantId, req.username, req.password);
    if (!user) {
      await this.throttle.recordFailure(keys);
      throw new TesseraError('AuthenticationFailed', 'Invalid username or password.', { aadCodes: [50126] });
    }
    await this.throttle.recordSuccess(keys);
    if (user.enabled !== 1) throw new TesseraError('AccountDisabled', 'The account is disabled.', { aadCodes: [50057] });
    return user;
  }
}
