/**
 * Password sign-in, shared by Machine Learning Server's `/login` and the OAuth password
 * grant: resolve the name, throttle check, password check (one slot per account at a
 * time), failure accounting, enabled check. A wrong password and an unknown name get the
 * same answer after the same work.
 */
import { TesseraError } from '../errors.js';
import type { Users, UserRow } from './users.js';
import { addressKey, type SigninThrottle } from './throttle.js';
import { LOCAL_SOURCE } from './sources.js';

/** An account a directory found for a typed name, before its password is checked. */
export interface LocatedAccount {
  /** What the throttle counts failures against: the Tessera user's id, or the directory entry. */
  accountKey: string;
  /** The Tessera user, when the account signed in before. */
  userId: string | undefined;
  /** Binds as the account; the (provisioned, refreshed) user, or undefined for a wrong password. */
  verify(password: string): Promise<UserRow | undefined>;
}

/** The directories (LDAP, Active Directory) a password sign-in may consult. */
export interface DirectorySignIn {
  /** Whether a local account may still sign in with its password. */
  localAllowed(user: UserRow): boolean;
  /** The account a typed name names in a directory; throws DirectoryUnavailable when that cannot be told. */
  locate(tenantId: string, typed: string): Promise<LocatedAccount | undefined>;
}

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
    private readonly directory?: DirectorySignIn,
  ) {}

  /** Returns the signed-in user, or throws AuthenticationFailed, AccountLocked, TooManyRequests, AccountDisabled or DirectoryUnavailable. */
  async signIn(req: PasswordSignInRequest): Promise<UserRow> {
    const found = await this.users.find(req.tenantId, req.username);
    // A local account signs in here; a directory's account (or any name Tessera does not hold) is the directory's to check.
    const local = found && found.source === LOCAL_SOURCE && (this.directory === undefined || this.directory.localAllowed(found)) ? found : undefined;
    const located = local === undefined && this.directory !== undefined ? await this.directory.locate(req.tenantId, req.username) : undefined;
    const knownId = local?.id ?? located?.userId;
    if (knownId !== undefined && req.audit) {
      req.audit.actorId = knownId;
      req.audit.actorName = local?.username ?? found?.username;
    }
    const keys = {
      account: local ? this.throttle.userKey(req.tenantId, local.id) : located ? this.throttle.userKey(req.tenantId, located.accountKey) : this.throttle.unknownNameKey(req.tenantId, req.username),
      address: addressKey(req.address),
    };
    // Checked before any password is: a locked account's password is never relayed to a directory.
    await this.throttle.check(keys);
    const release = this.throttle.enter(keys);
    let user: UserRow | undefined;
    try {
      if (located) {
        user = await located.verify(req.password);
      } else {
        user = (await this.users.verifyPassword(local, req.password)) ? local : undefined;
      }
      if (!user) await this.throttle.recordFailure(keys);
      else await this.throttle.recordSuccess(keys);
    } finally {
      release();
    }
    if (!user) throw new TesseraError('AuthenticationFailed', 'Invalid username or password.', { aadCodes: [50126] });
    if (req.audit) {
      req.audit.actorId = user.id;
      req.audit.actorName = user.username;
    }
    if (user.enabled !== 1) throw new TesseraError('AccountDisabled', 'The account is disabled.', { aadCodes: [50057] });
    return user;
  }
}
