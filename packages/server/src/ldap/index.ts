/**
 * Directories as an identity source: the directories of the environment and the config
 * file, plus those set through the API (their service-account password sealed under
 * the master key), in order. The password sign-in asks them for an account (search as
 * the service account), then for the password (bind as the account); a directory user
 * is refreshed from the directory at each sign-in, at each token refresh and by the
 * periodic sync, so a user removed from a group loses what the group gave at once, and
 * a user the directory no longer has is disabled.
 */
import type { Store } from '../store/db.js';
import type { Clock } from '../clock.js';
import type { MasterKey } from '../crypto/masterKey.js';
import type { UserRow } from '../identity/users.js';
import type { DirectorySignIn, LocatedAccount } from '../identity/signIn.js';
import { directorySource, isDirectorySource } from '../identity/sources.js';
import { hasControlChars } from '../identity/validate.js';
import { TesseraError } from '../errors.js';
import { DirectoryAccounts, type AccountChanges } from './accounts.js';
import { DirectoryUnreachableError } from './connection.js';
import { LdapDirectory, MAX_TYPED_NAME, type DirectoryAccount, type DirectoryGroup } from './directory.js';
import { DirectorySettingsError, directorySettings, publicSettings, type DirectoryInput, type DirectoryPolicy, type DirectorySettings } from './settings.js';

export { DirectorySettingsError, directorySettings, directoryFromEnv, directoriesFromFile, publicSettings, type DirectoryPolicy, type DirectorySettings } from './settings.js';

const SEAL_CONTEXT = 'tessera:directory-bind-password';
/** The built-in administrator keeps signing in locally whatever localAccounts says. */
const BUILT_IN_ADMIN = 'admin';

export interface DirectoriesDeps {
  store: Store;
  clock: Clock;
  master: MasterKey;
  changes: AccountChanges;
  /** Ends a user's sessions (refresh chains, browser sessions). */
  endSessions(userId: string): Promise<void>;
  onError(err: unknown, what: string): void;
}

export interface DirectoryTestResult {
  directory: string;
  url: string;
  found: boolean;
  account?: { dn: string; uniqueId: string; userName: string; displayName: string; mail: string | null };
  groups?: string[];
  /** The Tessera user the account is (or would become at first sign-in). */
  tesseraUser?: { id: string; userName: string; exists: boolean };
}

export interface SyncResult {
  directories: Array<{ name: string; users: number; updated: number; disabled: number; failed?: string }>;
}

export interface StoredDirectory {
  settings: ReturnType<typeof publicSettings>;
  /** `api` when set through the API (and changeable there), else `environment` or `config file`. */
  origin: 'api' | 'static';
  updatedAt?: string;
}

function unavailable(err: DirectoryUnreachableError): TesseraError {
  return new TesseraError('DirectoryUnavailable', `The directory '${err.directory}' is not answering, so directory accounts cannot sign in right now; try again later (local accounts still work).`);
}

export class Directories implements DirectorySignIn {
  private readonly fixed: LdapDirectory[];
  private stored: LdapDirectory[] = [];
  private readonly storedAt = new Map<string, number>();
  readonly accounts: DirectoryAccounts;
  private timer: NodeJS.Timeout | undefined;
  private loadedAt = 0;

  constructor(
    private readonly policy: DirectoryPolicy,
    private readonly deps: DirectoriesDeps,
  ) {
    this.fixed = policy.directories.map((s) => new LdapDirectory(s));
    this.accounts = new DirectoryAccounts(deps.store, deps.clock, deps.changes);
  }

  private get all(): LdapDirectory[] {
    return [...this.fixed, ...this.stored];
  }

  get configured(): boolean {
    return this.all.length > 0;
  }

  /** Whether a local account may sign in with its password while directories are configured. */
  localAllowed(user: UserRow): boolean {
    return !this.configured || this.policy.localAccounts === 'all' || user.username === BUILT_IN_ADMIN;
  }

  private byName(name: string): LdapDirectory | undefined {
    return this.all.find((d) => d.name === name);
  }

  /** Loads the directories set through the API and starts the periodic sync. */
  async start(): Promise<void> {
    await this.reload();
    const intervals = this.all.map((d) => d.settings.syncIntervalSec).filter((s) => s > 0);
    if (intervals.length > 0) {
      const every = Math.min(...intervals) * 1000;
      this.timer = setInterval(() => void this.sync().catch((err) => this.deps.onError(err, 'the directory sync')), every);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.all(this.all.map((d) => d.close()));
  }

  /** Directories set through the API on another replica are seen within this long. */
  private static readonly RELOAD_MS = 5000;

  private async reload(): Promise<void> {
    this.loadedAt = this.deps.clock.now();
    const rows = await this.deps.store.db.selectFrom('directories').selectAll().orderBy('name').execute();
    const next: LdapDirectory[] = [];
    for (const row of rows) {
      if (this.fixed.some((d) => d.name === row.name)) continue;
      try {
        const bindPassword = row.bind_password_sealed === null ? undefined : this.deps.master.open(row.bind_password_sealed, SEAL_CONTEXT);
        const kept = this.stored.find((d) => d.name === row.name);
        if (kept && this.storedAt.get(row.name) === row.updated_at) {
          next.push(kept);
          continue;
        }
        next.push(new LdapDirectory(directorySettings({ ...(JSON.parse(row.settings) as DirectoryInput), bindPassword }, `directory '${row.name}'`)));
        this.storedAt.set(row.name, row.updated_at);
      } catch (err) {
        this.deps.onError(err, `the stored directory '${row.name}'`);
      }
    }
    const dropped = this.stored.filter((d) => !next.includes(d));
    this.stored = next;
    await Promise.all(dropped.map((d) => d.close()));
  }

  /**
   * The directory account a typed name names: the first directory that has it wins. A
   * directory that does not answer is skipped; when none found it and one did not
   * answer, the sign-in cannot be decided: DirectoryUnavailable.
   */
  async locate(tenantId: string, typed: string): Promise<LocatedAccount | undefined> {
    const name = typed.normalize('NFC');
    if (name.length === 0 || name.length > MAX_TYPED_NAME || hasControlChars(name)) return undefined;
    if (this.deps.clock.now() - this.loadedAt > Directories.RELOAD_MS) await this.reload();
    let down: DirectoryUnreachableError | undefined;
    for (const directory of this.all) {
      let account: DirectoryAccount | undefined;
      try {
        account = await directory.locate(name);
      } catch (err) {
        if (err instanceof DirectoryUnreachableError) {
          down ??= err;
          continue;
        }
        throw err;
      }
      if (!account) continue;
      const found = account;
      const existing = await this.accounts.byEntry(tenantId, directory.name, found.uniqueId);
      return {
        accountKey: existing?.id ?? `${directorySource(directory.name)}:${found.uniqueId}`,
        userId: existing?.id,
        verify: (password) => this.verify(tenantId, directory, found, password),
      };
    }
    if (down) throw unavailable(down);
    return undefined;
  }

  private async verify(tenantId: string, directory: LdapDirectory, account: DirectoryAccount, password: string): Promise<UserRow | undefined> {
    let ok: boolean;
    try {
      ok = await directory.checkPassword(account, password);
    } catch (err) {
      if (err instanceof DirectoryUnreachableError) throw unavailable(err);
      throw err;
    }
    if (!ok) return undefined;
    return this.provision(tenantId, directory, account);
  }

  private async groupsOf(directory: LdapDirectory, account: DirectoryAccount): Promise<DirectoryGroup[]> {
    try {
      return await directory.groupsOf(account);
    } catch (err) {
      if (err instanceof DirectoryUnreachableError) throw unavailable(err);
      throw err;
    }
  }

  private async provision(tenantId: string, directory: LdapDirectory, account: DirectoryAccount): Promise<UserRow> {
    return this.accounts.provision(tenantId, account, await this.groupsOf(directory, account));
  }

  /**
   * Reads a directory user again (a token refresh): name, mail and groups as the
   * directory has them now. A user the directory no longer has is disabled and their
   * sessions end; a local user is returned as is.
   */
  async refresh(user: UserRow): Promise<UserRow> {
    if (!isDirectorySource(user.source) || user.external_id === null) return user;
    const directory = this.byName(user.source.replace(/^ldap:/, ''));
    if (!directory) throw new TesseraError('AuthenticationFailed', 'The directory this account came from is no longer configured. Sign in again.', { aadCodes: [50057] });
    let account: DirectoryAccount | undefined;
    try {
      account = await directory.byUniqueId(user.external_id);
    } catch (err) {
      if (err instanceof DirectoryUnreachableError) throw unavailable(err);
      throw err;
    }
    if (!account) {
      await this.retire(user);
      throw new TesseraError('AccountDisabled', 'The account no longer exists in its directory.', { aadCodes: [50057] });
    }
    const refreshed = await this.provision(user.tenant_id, directory, account);
    return { ...refreshed, enabled: user.enabled };
  }

  private async retire(user: UserRow): Promise<void> {
    await this.accounts.disable(user.id, user.source);
    await this.deps.endSessions(user.id);
  }

  /** What `tessera directory test` shows: the service account binds and searches; the user's password is never asked. */
  async test(tenantId: string, typed: string, only?: string): Promise<DirectoryTestResult[]> {
    const name = typed.normalize('NFC');
    if (name.length === 0 || name.length > MAX_TYPED_NAME || hasControlChars(name)) throw new TesseraError('InvalidParameter', `The user name must be 1 to ${MAX_TYPED_NAME} printable characters.`);
    const targets = only === undefined ? this.all : this.all.filter((d) => d.name === only);
    if (only !== undefined && targets.length === 0) throw new TesseraError('ResourceNotFound', `No directory is named '${only.slice(0, 64)}'.`);
    if (targets.length === 0) throw new TesseraError('ResourceNotFound', 'No directory is configured (TESSERA_LDAP_URL, the config file, or tessera directory set).');
    const results: DirectoryTestResult[] = [];
    for (const directory of targets) {
      let account: DirectoryAccount | undefined;
      try {
        account = await directory.locate(name);
      } catch (err) {
        if (err instanceof DirectoryUnreachableError) throw unavailable(err);
        throw err;
      }
      const url = directory.connections.currentUrl;
      if (!account) {
        results.push({ directory: directory.name, url, found: false });
        continue;
      }
      const groups = await this.groupsOf(directory, account);
      const existing = await this.accounts.byEntry(tenantId, directory.name, account.uniqueId);
      results.push({
        directory: directory.name,
        url,
        found: true,
        account: { dn: account.dn, uniqueId: account.uniqueId, userName: account.username, displayName: account.displayName, mail: account.mail },
        groups: groups.map((g) => g.name).sort(),
        ...(existing ? { tesseraUser: { id: existing.id, userName: existing.username, exists: true } } : {}),
      });
    }
    return results;
  }

  /** Reads every directory user again; a user the directory no longer has is disabled. */
  async sync(): Promise<SyncResult> {
    await this.reload();
    const result: SyncResult = { directories: [] };
    for (const directory of this.all) {
      const users = await this.accounts.usersOf(directory.name);
      const line = { name: directory.name, users: users.length, updated: 0, disabled: 0 } as SyncResult['directories'][number];
      try {
        for (const user of users) {
          if (user.external_id === null) continue;
          const account = await directory.byUniqueId(user.external_id);
          if (!account) {
            if (user.enabled === 1) {
              await this.retire(user);
              line.disabled++;
            }
            continue;
          }
          await this.provision(user.tenant_id, directory, account);
          line.updated++;
        }
      } catch (err) {
        // One directory down must not stop the others' sync.
        if (!(err instanceof DirectoryUnreachableError) && !(err instanceof TesseraError)) throw err;
        line.failed = err.message;
      }
      result.directories.push(line);
    }
    return result;
  }

  /** Every directory, without passwords. */
  async list(): Promise<StoredDirectory[]> {
    await this.reload();
    const rows = await this.deps.store.db.selectFrom('directories').select(['name', 'updated_at']).execute();
    const at = new Map(rows.map((r) => [r.name, r.updated_at]));
    return this.all.map((d) => ({
      settings: publicSettings(d.settings),
      origin: this.fixed.includes(d) ? 'static' : 'api',
      ...(at.has(d.name) && !this.fixed.includes(d) ? { updatedAt: new Date(at.get(d.name)!).toISOString() } : {}),
    }));
  }

  async show(name: string): Promise<StoredDirectory> {
    const found = (await this.list()).find((d) => d.settings.name === name);
    if (!found) throw new TesseraError('ResourceNotFound', `No directory is named '${name.slice(0, 64)}'.`);
    return found;
  }

  /**
   * Sets a directory through the API. The password is sealed under the master key; a
   * PUT without one keeps the stored one. Directories of the environment or the config
   * file are changed there, not here.
   */
  async put(name: string, input: DirectoryInput, actorId: string | undefined): Promise<StoredDirectory> {
    if (this.fixed.some((d) => d.name === name)) throw new TesseraError('Conflict', `The directory '${name}' is set by the environment or the config file: change it there.`);
    if ('bindPasswordFile' in input) throw new TesseraError('InvalidParameter', 'bindPasswordFile is a setting of the config file; send bindPassword.');
    const row = await this.deps.store.db.selectFrom('directories').selectAll().where('name', '=', name).executeTakeFirst();
    const keptPassword = row?.bind_password_sealed ? this.deps.master.open(row.bind_password_sealed, SEAL_CONTEXT) : undefined;
    const bindPassword = input.bindPassword === undefined ? (input.bindDn === undefined ? undefined : keptPassword) : input.bindPassword;
    let settings: DirectorySettings;
    try {
      settings = directorySettings({ ...input, name, bindPassword }, 'directory');
    } catch (err) {
      if (err instanceof DirectorySettingsError) throw new TesseraError('InvalidParameter', err.message.replace(/^directory: /, ''));
      throw err;
    }
    const { bindPassword: secret, ...stored } = settings;
    const values = {
      name,
      settings: JSON.stringify(stored),
      bind_password_sealed: secret === undefined ? null : this.deps.master.seal(secret, SEAL_CONTEXT),
      updated_at: this.deps.clock.now(),
      updated_by: actorId ?? null,
    };
    await this.deps.store.db
      .insertInto('directories')
      .values(values)
      .onConflict((oc) => oc.column('name').doUpdateSet({ settings: values.settings, bind_password_sealed: values.bind_password_sealed, updated_at: values.updated_at, updated_by: values.updated_by }))
      .execute();
    await this.reload();
    return this.show(name);
  }

  async remove(name: string): Promise<void> {
    if (this.fixed.some((d) => d.name === name)) throw new TesseraError('Conflict', `The directory '${name}' is set by the environment or the config file: remove it there.`);
    const result = await this.deps.store.db.deleteFrom('directories').where('name', '=', name).executeTakeFirst();
    if (Number(result.numDeletedRows) !== 1) throw new TesseraError('ResourceNotFound', `No directory is named '${name.slice(0, 64)}'.`);
    await this.reload();
  }
}
