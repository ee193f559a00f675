/**
 * How Tessera reaches an LDAP or Active Directory directory: one validated
 * {@link DirectorySettings} per directory, from `TESSERA_LDAP_*` (one directory named
 * `ldap`), `tessera serve --ldap-*` flags, or the config file's `directories` (any
 * number). Defaults fit OpenLDAP; `kind: 'activeDirectory'` switches them to AD's.
 * Plain LDAP without StartTLS is refused unless `insecure` says so explicitly: the
 * users' passwords cross that connection.
 */
import fs from 'node:fs';

export type DirectoryKind = 'openldap' | 'activeDirectory';
/** How groups nest: not at all, followed by Tessera (OpenLDAP), or by AD's LDAP_MATCHING_RULE_IN_CHAIN. */
export type NestedGroups = 'none' | 'recursive' | 'inChain';

export interface DirectorySettings {
  /** Names the directory in users' `source` (`ldap:NAME`); lower-case letters, digits and dashes. */
  name: string;
  kind: DirectoryKind;
  /** Tried in order: the first that answers is used (fail-over). */
  urls: string[];
  /** Upgrade ldap:// connections with StartTLS. */
  startTls: boolean;
  /** Allow ldap:// without StartTLS (passwords in clear on the wire). */
  insecure: boolean;
  /** PEM file of the CA that signed the directory's certificate (else the system's CAs). */
  caFile: string | undefined;
  /** The service account that searches; absent: anonymous search. */
  bindDn: string | undefined;
  bindPassword: string | undefined;
  searchBase: string;
  /** `{0}` is the typed name, escaped (RFC 4515). */
  searchFilter: string;
  /** The attribute that never changes for an account: entryUUID, objectGUID. */
  uniqueIdAttribute: string;
  /** The account's sign-in name (uid, sAMAccountName): becomes the Tessera user name. */
  usernameAttribute: string;
  displayNameAttribute: string;
  mailAttribute: string;
  /** `memberOf` to read groups from the user's entry; empty to search for them with groupSearchFilter. */
  groupAttribute: string;
  groupSearchBase: string;
  /** `{dn}` is the user's (or, when nesting, a group's) DN, escaped. */
  groupSearchFilter: string;
  groupNameAttribute: string;
  groupUniqueIdAttribute: string;
  nestedGroups: NestedGroups;
  /** Each LDAP operation's limit, and the TCP/TLS connect limit. */
  timeoutMs: number;
  connectTimeoutMs: number;
  /** Service-account connections kept open for searches. */
  poolSize: number;
  /** More groups than this for one user refuses the sign-in (with a clear error) rather than truncating. */
  maxGroups: number;
  /** How often directory users and their groups are refreshed (0: only at sign-in and refresh). */
  syncIntervalSec: number;
}

export interface DirectoryPolicy {
  directories: DirectorySettings[];
  /** `all`: local accounts keep working beside the directory; `admin`: only the built-in admin does. */
  localAccounts: 'all' | 'admin';
}

export class DirectorySettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DirectorySettingsError';
  }
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
const ATTRIBUTE = /^[A-Za-z][A-Za-z0-9-]{0,63}$/;
const MAX_URLS = 8;

function defaultsFor(kind: DirectoryKind) {
  return kind === 'activeDirectory'
    ? {
        searchFilter: '(&(objectCategory=person)(objectClass=user)(sAMAccountName={0}))',
        uniqueIdAttribute: 'objectGUID',
        usernameAttribute: 'sAMAccountName',
        displayNameAttribute: 'displayName',
        groupAttribute: 'memberOf',
        groupSearchFilter: '(&(objectClass=group)(member={dn}))',
        groupUniqueIdAttribute: 'objectGUID',
        nestedGroups: 'inChain' as NestedGroups,
      }
    : {
        searchFilter: '(uid={0})',
        uniqueIdAttribute: 'entryUUID',
        usernameAttribute: 'uid',
        displayNameAttribute: 'cn',
        groupAttribute: '',
        groupSearchFilter: '(&(objectClass=groupOfNames)(member={dn}))',
        groupUniqueIdAttribute: 'entryUUID',
        nestedGroups: 'recursive' as NestedGroups,
      };
}

/** What a directory's settings may be given as (env, flags or the config file): strings, numbers, booleans. */
export type DirectoryInput = Partial<Record<keyof DirectorySettings, unknown>> & { urls?: unknown; url?: unknown; bindPasswordFile?: unknown };

function text(input: DirectoryInput, key: string, fallback: string | undefined, where: string, max = 1024): string | undefined {
  const value = (input as Record<string, unknown>)[key];
  if (value === undefined || value === '') return fallback;
  if (typeof value !== 'string') throw new DirectorySettingsError(`${where}: ${key} must be a string.`);
  if (value.length > max || /[\u0000-\u001f\u007f]/.test(value)) throw new DirectorySettingsError(`${where}: ${key} must be at most ${max} printable characters.`);
  return value;
}

function flag(input: DirectoryInput, key: string, where: string): boolean {
  const value = (input as Record<string, unknown>)[key];
  if (value === undefined || value === '') return false;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(1|true|yes|on)$/i.test(value)) return true;
  if (typeof value === 'string' && /^(0|false|no|off)$/i.test(value)) return false;
  throw new DirectorySettingsError(`${where}: ${key} must be true or false.`);
}

function whole(input: DirectoryInput, key: string, fallback: number, min: number, max: number, where: string): number {
  const value = (input as Record<string, unknown>)[key];
  if (value === undefined || value === '') return fallback;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new DirectorySettingsError(`${where}: ${key} must be a whole number from ${min} to ${max}.`);
  return n;
}

function attribute(input: DirectoryInput, key: string, fallback: string, where: string, allowEmpty = false): string {
  const value = text(input, key, fallback, where, 64) ?? '';
  if (value === '' && allowEmpty) return '';
  if (!ATTRIBUTE.test(value)) throw new DirectorySettingsError(`${where}: ${key} must be an attribute name such as ${fallback || 'memberOf'}.`);
  return value;
}

/** A search filter template: balanced parentheses, and the placeholder it needs. */
function filterTemplate(value: string, placeholder: string, key: string, where: string): string {
  if (!value.startsWith('(') || !value.endsWith(')')) throw new DirectorySettingsError(`${where}: ${key} must be an LDAP filter in parentheses, e.g. (uid=${placeholder}).`);
  let depth = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (c === '(') depth++;
    if (c === ')' && --depth < 0) break;
  }
  if (depth !== 0) throw new DirectorySettingsError(`${where}: ${key} has unbalanced parentheses.`);
  if (!value.includes(placeholder)) throw new DirectorySettingsError(`${where}: ${key} must contain ${placeholder}, where the ${placeholder === '{0}' ? 'typed name' : "member's DN"} goes.`);
  return value;
}

function urlsOf(input: DirectoryInput, where: string): string[] {
  const raw = input.urls ?? input.url;
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.trim().split(/\s+/) : [];
  if (list.length === 0 || (list.length === 1 && list[0] === '')) throw new DirectorySettingsError(`${where}: give the directory's URL (ldaps://host:636, or ldap://host:389 with StartTLS); several, space-separated, fail over in order.`);
  if (list.length > MAX_URLS) throw new DirectorySettingsError(`${where}: at most ${MAX_URLS} URLs.`);
  return list.map((u) => {
    if (typeof u !== 'string') throw new DirectorySettingsError(`${where}: each URL must be a string.`);
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new DirectorySettingsError(`${where}: '${u.slice(0, 200)}' is not a URL.`);
    }
    if (parsed.protocol !== 'ldap:' && parsed.protocol !== 'ldaps:') throw new DirectorySettingsError(`${where}: '${u.slice(0, 200)}' must be ldap:// or ldaps://.`);
    if (parsed.username || parsed.password || (parsed.pathname && parsed.pathname !== '/') || parsed.search || parsed.hash) {
      throw new DirectorySettingsError(`${where}: '${parsed.protocol}//${parsed.host}' must be only a scheme, host and port (the search base and credentials are settings of their own).`);
    }
    return `${parsed.protocol}//${parsed.host}`;
  });
}

/** Checks one directory's settings and fills in the defaults for its kind. */
export function directorySettings(input: DirectoryInput, where = 'directory'): DirectorySettings {
  const name = text(input, 'name', 'ldap', where, 32)!;
  if (!NAME.test(name)) throw new DirectorySettingsError(`${where}: name must be 1 to 32 lower-case letters, digits or dashes.`);
  const kindText = text(input, 'kind', 'openldap', where, 32)!;
  if (kindText !== 'openldap' && kindText !== 'activeDirectory') throw new DirectorySettingsError(`${where}: kind must be openldap or activeDirectory.`);
  const kind: DirectoryKind = kindText;
  const d = defaultsFor(kind);
  const urls = urlsOf(input, where);
  const startTls = flag(input, 'startTls', where);
  const insecure = flag(input, 'insecure', where);
  const plain = urls.filter((u) => u.startsWith('ldap://'));
  if (plain.length > 0 && !startTls && !insecure) {
    throw new DirectorySettingsError(`${where}: ${plain[0]} is plain LDAP: use ldaps://, or StartTLS (startTls / TESSERA_LDAP_STARTTLS=1), or say insecure explicitly (TESSERA_LDAP_INSECURE=1) to send passwords unencrypted.`);
  }
  const caFile = text(input, 'caFile', undefined, where, 4096);
  if (caFile !== undefined && !fs.existsSync(caFile)) throw new DirectorySettingsError(`${where}: caFile ${caFile} does not exist.`);
  const bindDn = text(input, 'bindDn', undefined, where);
  let bindPassword = text(input, 'bindPassword', undefined, where, 1024);
  const passwordFile = text(input, 'bindPasswordFile', undefined, where, 4096);
  if (passwordFile !== undefined) {
    if (bindPassword !== undefined) throw new DirectorySettingsError(`${where}: give bindPassword or bindPasswordFile, not both.`);
    try {
      bindPassword = fs.readFileSync(passwordFile, 'utf8').replace(/\r?\n$/, '');
    } catch {
      throw new DirectorySettingsError(`${where}: bindPasswordFile ${passwordFile} cannot be read.`);
    }
  }
  if ((bindDn === undefined) !== (bindPassword === undefined)) throw new DirectorySettingsError(`${where}: bindDn and its password go together (leave both out for anonymous search).`);
  const searchBase = text(input, 'searchBase', undefined, where);
  if (searchBase === undefined) throw new DirectorySettingsError(`${where}: searchBase is required (e.g. ou=people,dc=example,dc=com).`);
  const syncIntervalSec = whole(input, 'syncIntervalSec', 900, 0, 7 * 24 * 3600, where);
  if (syncIntervalSec !== 0 && syncIntervalSec < 30) throw new DirectorySettingsError(`${where}: syncIntervalSec must be 0 (off) or at least 30.`);
  const nested = text(input, 'nestedGroups', d.nestedGroups, where, 16)!;
  if (nested !== 'none' && nested !== 'recursive' && nested !== 'inChain') throw new DirectorySettingsError(`${where}: nestedGroups must be none, recursive or inChain.`);
  return {
    name,
    kind,
    urls,
    startTls,
    insecure,
    caFile,
    bindDn,
    bindPassword,
    searchBase,
    searchFilter: filterTemplate(text(input, 'searchFilter', d.searchFilter, where)!, '{0}', 'searchFilter', where),
    uniqueIdAttribute: attribute(input, 'uniqueIdAttribute', d.uniqueIdAttribute, where),
    usernameAttribute: attribute(input, 'usernameAttribute', d.usernameAttribute, where),
    displayNameAttribute: attribute(input, 'displayNameAttribute', d.displayNameAttribute, where),
    mailAttribute: attribute(input, 'mailAttribute', 'mail', where),
    groupAttribute: attribute(input, 'groupAttribute', d.groupAttribute, where, true),
    groupSearchBase: text(input, 'groupSearchBase', undefined, where) ?? searchBase,
    groupSearchFilter: filterTemplate(text(input, 'groupSearchFilter', d.groupSearchFilter, where)!, '{dn}', 'groupSearchFilter', where),
    groupNameAttribute: attribute(input, 'groupNameAttribute', 'cn', where),
    groupUniqueIdAttribute: attribute(input, 'groupUniqueIdAttribute', d.groupUniqueIdAttribute, where),
    nestedGroups: nested,
    timeoutMs: whole(input, 'timeoutMs', 5000, 100, 120_000, where),
    connectTimeoutMs: whole(input, 'connectTimeoutMs', 3000, 100, 60_000, where),
    poolSize: whole(input, 'poolSize', 4, 1, 64, where),
    maxGroups: whole(input, 'maxGroups', 5000, 1, 100_000, where),
    syncIntervalSec,
  };
}

/** The one directory `TESSERA_LDAP_*` (and `--ldap-*` flags, already merged in) describe, if TESSERA_LDAP_URL is set. */
export function directoryFromEnv(env: Record<string, string | undefined>): DirectorySettings | undefined {
  if (!env.TESSERA_LDAP_URL) return undefined;
  return directorySettings(
    {
      name: env.TESSERA_LDAP_NAME,
      kind: env.TESSERA_LDAP_KIND,
      url: env.TESSERA_LDAP_URL,
      startTls: env.TESSERA_LDAP_STARTTLS,
      insecure: env.TESSERA_LDAP_INSECURE,
      caFile: env.TESSERA_LDAP_CA_FILE,
      bindDn: env.TESSERA_LDAP_BIND_DN,
      bindPassword: env.TESSERA_LDAP_BIND_PASSWORD,
      bindPasswordFile: env.TESSERA_LDAP_BIND_PASSWORD_FILE,
      searchBase: env.TESSERA_LDAP_SEARCH_BASE,
      searchFilter: env.TESSERA_LDAP_SEARCH_FILTER,
      uniqueIdAttribute: env.TESSERA_LDAP_UNIQUE_ID,
      usernameAttribute: env.TESSERA_LDAP_USERNAME_ATTRIBUTE,
      displayNameAttribute: env.TESSERA_LDAP_DISPLAY_NAME_ATTRIBUTE,
      mailAttribute: env.TESSERA_LDAP_MAIL_ATTRIBUTE,
      groupAttribute: env.TESSERA_LDAP_GROUP_ATTRIBUTE,
      groupSearchBase: env.TESSERA_LDAP_GROUP_SEARCH_BASE,
      groupSearchFilter: env.TESSERA_LDAP_GROUP_SEARCH_FILTER,
      nestedGroups: env.TESSERA_LDAP_NESTED_GROUPS,
      timeoutMs: env.TESSERA_LDAP_TIMEOUT_MS,
      syncIntervalSec: env.TESSERA_LDAP_SYNC_INTERVAL_SEC,
    },
    'TESSERA_LDAP_*',
  );
}

/** The directories of a config file's `directories` array. */
export function directoriesFromFile(value: unknown, file: string): DirectorySettings[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new DirectorySettingsError(`${file}: directories must be an array.`);
  return value.map((entry, i) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new DirectorySettingsError(`${file}: directories[${i}] must be an object.`);
    return directorySettings(entry as DirectoryInput, `${file}: directories[${i}]`);
  });
}

/** Settings as the API and `tessera directory` show them: never the password. */
export function publicSettings(s: DirectorySettings): Omit<DirectorySettings, 'bindPassword'> & { bindPasswordSet: boolean } {
  const { bindPassword, ...rest } = s;
  return { ...rest, bindPasswordSet: bindPassword !== undefined };
}
