/**
 * The signed-in account's subscriptions, as `az account` shows them: `show`, `list`, `set`
 * and `get-access-token`, with az's field names (`id` is the subscription id, `name` its
 * display name, `isDefault`, `state`, `user: {name, type}`) so scripts written for az
 * read them unchanged. The subscriptions and the one `set` chooses are kept in the
 * session file, as az keeps them in its profile.
 *
 * Which subscription a command works in: the one it is given, else `TESSERA_SUBSCRIPTION`,
 * else the one `set` chose, else the first enabled one the account can see (az's default
 * after `az login`).
 */
import { Audience, type AccessToken } from './audience.js';
import { CliAuthentication, type Account } from './cliAuthentication.js';
import { NotSignedInError } from './errors.js';
import { ResourceManagement } from './resourceManagement.js';
import { readStoredSession, writeSession, type KnownSubscription, type StoredSession } from './session.js';
import { withSessionLock } from './sessionLock.js';
import { TesseraClient } from './tesseraClient.js';

/** The environment variable that names the subscription when no flag does. */
export const SUBSCRIPTION_ENV = 'TESSERA_SUBSCRIPTION';

/** Who holds the session, as az's `user` field has it. */
export interface AccountUser {
  name: string;
  type: 'user' | 'servicePrincipal';
  /** A managed identity's session: `MSI` or `MSIClient-{clientId}`. */
  assignedIdentityInfo?: string;
}

/** One subscription as `az account list` prints it. */
export interface SubscriptionAccount {
  /** The subscription id (a GUID, not a resource ID: az's field). */
  id: string;
  name: string;
  state: string;
  isDefault: boolean;
  tenantId: string;
  homeTenantId: string;
  managedByTenants: unknown[];
  user: AccountUser;
  /** `az account list` names the cloud `cloudName`; `az account show` names it `environmentName`. */
  cloudName?: string;
  environmentName?: string;
  /** Tessera's additions, not in az's output: the server the session talks to, and the signed-in principal's object id. */
  server: string;
  objectId: string;
}

/** What `az account get-access-token` prints, plus the epoch seconds newer az adds. */
export interface AccountAccessToken {
  accessToken: string;
  /** Local time as az prints it: `2026-12-07 16:40:00.000000` (see {@link azLocalTime}). */
  expiresOn: string;
  /** Epoch seconds. */
  expires_on: number;
  subscription: string;
  tenant: string;
  tokenType: 'Bearer';
}

/** Where the subscription a command uses came from. */
export type SubscriptionSource = 'argument' | 'environment' | 'session' | 'default';

/** The cloud name shown in `cloudName` / `environmentName`. */
export const CLOUD_NAME = 'Tessera';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function userOf(account: Account): AccountUser {
  if (account.assignedIdentityInfo !== undefined) {
    // az names a managed identity's user by kind, not by id.
    const name = account.assignedIdentityInfo === 'MSI' ? 'systemAssignedIdentity' : 'userAssignedIdentity';
    return { name, type: 'servicePrincipal', assignedIdentityInfo: account.assignedIdentityInfo };
  }
  return { name: account.user, type: account.type ?? 'user' };
}

/**
 * What az shows for an account that sees no subscription (`az login
 * --allow-no-subscriptions`): the tenant itself, so a new user can still sign in.
 */
function tenantLevel(account: Account): Omit<SubscriptionAccount, 'cloudName' | 'environmentName'> {
  return {
    homeTenantId: account.tenantId,
    id: account.tenantId,
    isDefault: true,
    managedByTenants: [],
    name: 'N/A(tenant level account)',
    state: 'Enabled',
    tenantId: account.tenantId,
    user: userOf(account),
    server: account.server,
    objectId: account.objectId,
  };
}

/** `subscriptions` shortened for a message. */
function named(subscriptions: KnownSubscription[]): string {
  return subscriptions.map((s) => `${s.id} (${JSON.stringify(s.name)})`).join(', ');
}

/** A subscription given by name or id that matches none, or several: a mistake in what was typed. */
export class SubscriptionNotFoundError extends Error {
  override readonly name = 'SubscriptionNotFoundError';
}

/** No subscription to default to (none visible, none enabled, or the chosen one gone): nothing was typed wrong. */
export class SubscriptionUnavailableError extends Error {
  override readonly name = 'SubscriptionUnavailableError';
}

/**
 * The CLI session's account and subscriptions. As az keeps them in its profile, the
 * subscriptions are remembered in the session file when signing in and when
 * {@link refresh} asks again (`account list --refresh`); a name not among them is looked
 * for once more on the server before it is refused, so a subscription made since is found.
 * @example
 * const profile = new AccountProfile();
 * await profile.set('Research');                     // by name or id, as az account set
 * const { id, name } = await profile.show();
 * const { accessToken } = await profile.getAccessToken({ scope: 'https://management.azure.com//.default' });
 */
export class AccountProfile {
  readonly auth: CliAuthentication;

  constructor(options: { auth?: CliAuthentication; configDir?: string } = {}) {
    this.auth = options.auth ?? new CliAuthentication({ configDir: options.configDir });
  }

  /** Asks the server for the subscriptions the account can see (oldest first) and remembers them. */
  async refresh(): Promise<KnownSubscription[]> {
    const account = await this.auth.account();
    const listed = await new ResourceManagement(new TesseraClient(account.server, this.auth)).listSubscriptions();
    const known = listed.map((s) => ({ id: s.subscriptionId, name: s.displayName, state: s.state, tenantId: s.tenantId }));
    // Only into the session they were listed for: a sign-in in between replaced it.
    await this.update((session) => (session.objectId === account.objectId && session.server === account.server ? { ...session, subscriptions: known } : session));
    return known;
  }

  /** Remembers that none is known yet (signing in when they cannot be listed): later calls ask the server again. */
  async forget(): Promise<void> {
    await this.update((session) => ({ ...session, subscriptions: [] }));
  }

  /**
   * The subscriptions remembered in the session. None remembered: the server is asked
   * (an account given a role since, or a sign-in that could not list them); when it
   * cannot answer, `tolerant` callers (show, list) get none, the others the error.
   */
  async known(options: { tolerant?: boolean } = {}): Promise<KnownSubscription[]> {
    const remembered = (await this.session()).subscriptions;
    if (remembered !== undefined && remembered.length > 0) return remembered;
    try {
      return await this.refresh();
    } catch (err) {
      if (remembered !== undefined && options.tolerant === true) return remembered;
      throw err;
    }
  }

  /**
   * As `az account list`: the enabled subscriptions (every one with `all`), the default
   * marked `isDefault`; `refresh` asks the server first. An account that sees none shows
   * its tenant, as az does.
   */
  async list(options: { all?: boolean; refresh?: boolean } = {}): Promise<SubscriptionAccount[]> {
    const subscriptions = options.refresh === true ? await this.refresh() : await this.known({ tolerant: true });
    const [account, selected] = [await this.auth.account(), await this.selected()];
    if (subscriptions.length === 0) return [{ cloudName: CLOUD_NAME, ...tenantLevel(account) }];
    const defaultId = defaultOf(subscriptions, selected)?.id;
    return subscriptions.filter((s) => options.all === true || s.state === 'Enabled').map((s) => ({ cloudName: CLOUD_NAME, ...entry(account, s, s.id === defaultId) }));
  }

  /** How many remembered subscriptions `list()` leaves out (not Enabled). */
  async hiddenCount(): Promise<number> {
    return (await this.known({ tolerant: true })).filter((s) => s.state !== 'Enabled').length;
  }

  /**
   * As `az account show`: the subscription `subscription` names (id or name), else
   * {@link SUBSCRIPTION_ENV}'s, else the one in use — the one other commands would use.
   */
  async show(subscription?: string): Promise<SubscriptionAccount> {
    const account = await this.auth.account();
    const selected = await this.selected();
    const subscriptions = await this.known({ tolerant: true });
    const wanted = subscription ?? subscriptionFromEnv();
    if (wanted === undefined && selected === undefined && subscriptions.length === 0) return { environmentName: CLOUD_NAME, ...tenantLevel(account) };
    const chosen = wanted !== undefined ? await this.find(wanted) : this.inUse(subscriptions, selected);
    return { environmentName: CLOUD_NAME, ...entry(account, chosen, chosen.id === defaultOf(subscriptions, selected)?.id) };
  }

  /**
   * As `az account set --subscription`: makes `subscription` (an id or a name, without
   * regard to case) the default, kept in the session file. A name two subscriptions share
   * is refused: give the id.
   */
  async set(subscription: string): Promise<SubscriptionAccount> {
    // A name is matched against the server's list now, not the remembered one: a renamed
    // subscription's old name must not pick it.
    const found = GUID.test(subscription.trim()) ? await this.find(subscription) : pickOne(match(await this.refresh(), subscription), subscription);
    await this.update((session) => ({ ...session, subscriptionId: found.id }));
    return this.show(found.id);
  }

  /**
   * The subscription id a command should use, and where it came from: `given` (an id or
   * a name), else {@link SUBSCRIPTION_ENV}, else the session's choice, else the default.
   */
  async resolve(given?: string): Promise<{ subscriptionId: string; source: SubscriptionSource }> {
    const fromEnv = subscriptionFromEnv();
    const wanted = given ?? fromEnv;
    if (wanted !== undefined) {
      const source: SubscriptionSource = given !== undefined ? 'argument' : 'environment';
      // An id needs no lookup: the server checks access to it.
      if (GUID.test(wanted)) return { subscriptionId: wanted.toLowerCase(), source };
      return { subscriptionId: (await this.find(wanted)).id, source };
    }
    const selected = await this.selected();
    if (selected !== undefined) return { subscriptionId: selected, source: 'session' };
    return { subscriptionId: this.inUse(await this.known(), undefined).id, source: 'default' };
  }

  /**
   * As `az account get-access-token`: a token for `resource` (or `scope`, a resource's
   * `/.default`), and the subscription it is for (the tenant, for an account that sees none).
   */
  async getAccessToken(options: { resource?: string; scope?: string; subscription?: string } = {}): Promise<AccountAccessToken> {
    const resource = resourceOf(options);
    // The subscription other commands would use (the tenant, for an account that sees none).
    const subscription = (await this.show(options.subscription)).id;
    const account = await this.auth.account();
    const token: AccessToken = await this.auth.getToken(resource);
    return {
      accessToken: token.token,
      expiresOn: azLocalTime(token.expiresOn),
      expires_on: token.expiresOn,
      subscription,
      tenant: account.tenantId,
      tokenType: 'Bearer',
    };
  }

  /** The subscription `set` chose (kept in the session), if any. */
  async selected(): Promise<string | undefined> {
    return (await this.session()).subscriptionId;
  }

  private async session(): Promise<StoredSession> {
    const session = await readStoredSession(this.auth.configDir);
    if (!session) throw new NotSignedInError();
    return session;
  }

  /** Rewrites the session under its lock (a token refresh may be rewriting it too). */
  private async update(change: (session: StoredSession) => StoredSession): Promise<void> {
    const dir = this.auth.configDir;
    await withSessionLock(dir, async () => {
      const session = await readStoredSession(dir);
      if (!session) throw new NotSignedInError();
      await writeSession(dir, change(session));
    });
  }

  /** The subscription in use: the session's choice while it is remembered, else the first enabled one. */
  private inUse(subscriptions: KnownSubscription[], selected: string | undefined): KnownSubscription {
    if (selected !== undefined) {
      const still = subscriptions.find((s) => s.id === selected);
      if (!still) throw new SubscriptionUnavailableError(`The subscription ${selected} chosen with 'tessera account set' is not visible to this account any more (or not yet listed: try tessera account list --refresh): choose another with tessera account set --subscription <id or name>.`);
      return still;
    }
    const first = subscriptions.find((s) => s.state === 'Enabled');
    if (first) return first;
    throw new SubscriptionUnavailableError(
      subscriptions.length === 0
        ? 'No subscription is visible to this account (it holds no role in any; if it was given one since signing in, run tessera account list --refresh): ask an Owner for one, or give --subscription <id>.'
        : `None of this account's subscriptions is enabled (${named(subscriptions)}): see them with tessera account list --all.`,
    );
  }

  /** The one subscription whose id or name is `given`: among those remembered, else among the server's now. */
  private async find(given: string): Promise<KnownSubscription> {
    const remembered = match(await this.known(), given);
    if (remembered.length === 1) return remembered[0]!;
    return pickOne(remembered.length === 0 ? match(await this.refresh(), given) : remembered, given);
  }
}

/** The one subscription `matched` holds; an error naming `given` for none or several. */
function pickOne(matched: KnownSubscription[], given: string): KnownSubscription {
  if (matched.length === 1) return matched[0]!;
  const shown = JSON.stringify(given.length > 80 ? `${given.slice(0, 80)}…` : given);
  if (matched.length > 1) throw new SubscriptionNotFoundError(`The subscription name ${shown} is ambiguous: ${matched.length} subscriptions have it (${named(matched)}). Give the id instead.`);
  throw new SubscriptionNotFoundError(`Subscription ${shown} not found: it is neither the id nor the name of a subscription this account can see. Check the spelling, or see them with tessera account list --all.`);
}

/**
 * An epoch time as az prints `expiresOn`: local time, `YYYY-MM-DD HH:MM:SS.ffffff`
 * (Python's str(datetime)), which scripts written for az parse; `expires_on` has the epoch.
 */
export function azLocalTime(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const two = (n: number): string => String(n).padStart(2, '0');
  const micros = String(d.getMilliseconds() * 1000).padStart(6, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${micros}`;
}

/** {@link SUBSCRIPTION_ENV}, trimmed; unset when absent or blank. */
export function subscriptionFromEnv(): string | undefined {
  const value = process.env[SUBSCRIPTION_ENV]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** The subscriptions whose id is `given`, else those whose name is (each without regard to case). */
function match(subscriptions: KnownSubscription[], given: string): KnownSubscription[] {
  const wanted = given.trim().toLowerCase();
  const byId = subscriptions.filter((s) => s.id.toLowerCase() === wanted);
  return byId.length > 0 ? byId : subscriptions.filter((s) => s.name.toLowerCase() === wanted);
}

/** The default: the session's choice while the account still sees it, else the first enabled one. */
function defaultOf(subscriptions: KnownSubscription[], selected: string | undefined): KnownSubscription | undefined {
  return subscriptions.find((s) => s.id === selected) ?? subscriptions.find((s) => s.state === 'Enabled');
}

function entry(account: Account, s: KnownSubscription, isDefault: boolean): Omit<SubscriptionAccount, 'cloudName' | 'environmentName'> {
  return {
    homeTenantId: s.tenantId,
    id: s.id,
    isDefault,
    managedByTenants: [],
    name: s.name,
    state: s.state,
    tenantId: s.tenantId,
    user: userOf(account),
    server: account.server,
    objectId: account.objectId,
  };
}

/** The resource `options` ask a token for: `resource`, or `scope` without its `/.default`. */
export function resourceOf(options: { resource?: string; scope?: string }): string {
  if (options.resource !== undefined && options.scope !== undefined) throw new TypeError('Give a resource or a scope, not both.');
  if (options.scope === undefined) return options.resource ?? Audience.ControlPlane;
  const scope = options.scope.trim();
  // `https://management.azure.com//.default` is the resource `https://management.azure.com/`.
  const resource = scope.endsWith('/.default') ? scope.slice(0, -'/.default'.length) : '';
  if (resource === '') throw new TypeError(`A scope names a resource's /.default (e.g. https://management.azure.com//.default), not '${scope.slice(0, 100)}'.`);
  return resource;
}
