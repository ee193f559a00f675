/**
 * One directory's lookups: find the entry a typed name names (search as the service
 * account with the configured filter, the name escaped), check a password (bind as the
 * entry), read an entry again by its unique id, and list its groups (the memberOf
 * attribute, or a group search; nested groups followed level by level, or left to AD's
 * LDAP_MATCHING_RULE_IN_CHAIN). Every value Tessera puts into a filter is escaped.
 */
import type { Entry } from 'ldapts';
import { TesseraError } from '../errors.js';
import { DirectoryConnections } from './connection.js';
import { escapeFilterValue, fillFilter, firstRdnValue } from './filters.js';
import type { DirectorySettings } from './settings.js';

export interface DirectoryAccount {
  directory: string;
  dn: string;
  /** entryUUID, or objectGUID as AD shows it (lower-case). */
  uniqueId: string;
  /** The sign-in name (uid, sAMAccountName), lower-cased. */
  username: string;
  displayName: string;
  mail: string | null;
  /** memberOf values read with the entry (when groups come from that attribute). */
  memberOf: string[];
}

export interface DirectoryGroup {
  dn: string;
  uniqueId: string;
  name: string;
}

/** Longest typed name sent to the directory (UPNs are at most 1024 in AD; sign-in names far less). */
export const MAX_TYPED_NAME = 256;
/** Group DNs put into one OR filter when following nesting. */
const GROUP_BATCH = 50;
/** Nesting deeper than this is taken as a loop. */
const MAX_NESTING = 16;

function first(entry: Entry, attribute: string): string | Buffer | undefined {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === attribute.toLowerCase());
  const value = key === undefined ? undefined : entry[key];
  if (Array.isArray(value)) return value[0] as string | Buffer | undefined;
  return value as string | Buffer | undefined;
}

function all(entry: Entry, attribute: string): string[] {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === attribute.toLowerCase());
  const value = key === undefined ? undefined : entry[key];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map((v) => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v)));
}

/** AD's objectGUID bytes as the GUID string AD shows (the first three parts little-endian). */
export function guidFromBytes(b: Buffer): string {
  if (b.length !== 16) return b.toString('hex');
  const hex = (from: number, to: number, reverse: boolean) => {
    const part = Buffer.from(b.subarray(from, to));
    return (reverse ? part.reverse() : part).toString('hex');
  };
  return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`;
}

/** The filter value that finds an objectGUID: each byte escaped. */
export function guidFilterValue(guid: string): string {
  const h = guid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(h)) throw new TesseraError('InvalidParameter', 'Not a GUID.');
  const bytes = Buffer.from(h, 'hex');
  const ordered = Buffer.concat([Buffer.from(bytes.subarray(0, 4)).reverse(), Buffer.from(bytes.subarray(4, 6)).reverse(), Buffer.from(bytes.subarray(6, 8)).reverse(), bytes.subarray(8)]);
  return [...ordered].map((x) => `\\${x.toString(16).padStart(2, '0')}`).join('');
}

function isBinaryId(attribute: string): boolean {
  return attribute.toLowerCase() === 'objectguid';
}

export class LdapDirectory {
  readonly connections: DirectoryConnections;

  constructor(readonly settings: DirectorySettings) {
    this.connections = new DirectoryConnections(settings);
  }

  get name(): string {
    return this.settings.name;
  }

  private userAttributes(): string[] {
    const s = this.settings;
    const list = [s.uniqueIdAttribute, s.usernameAttribute, s.displayNameAttribute, s.mailAttribute];
    if (s.groupAttribute !== '') list.push(s.groupAttribute);
    return list;
  }

  private uniqueIdOf(entry: Entry, attribute: string): string {
    const raw = first(entry, attribute);
    if (raw === undefined) throw new TesseraError('DirectoryError', `The directory '${this.name}' returned an entry without its ${attribute}: check uniqueIdAttribute.`);
    if (Buffer.isBuffer(raw)) return isBinaryId(attribute) ? guidFromBytes(raw) : raw.toString('hex');
    return String(raw).toLowerCase();
  }

  private accountOf(entry: Entry): DirectoryAccount {
    const s = this.settings;
    const username = first(entry, s.usernameAttribute);
    const name = (Buffer.isBuffer(username) ? username.toString('utf8') : username ?? firstRdnValue(entry.dn)).normalize('NFC').toLowerCase();
    const display = first(entry, s.displayNameAttribute);
    const mail = first(entry, s.mailAttribute);
    return {
      directory: this.name,
      dn: entry.dn,
      uniqueId: this.uniqueIdOf(entry, s.uniqueIdAttribute),
      username: name,
      displayName: (Buffer.isBuffer(display) ? display.toString('utf8') : display ?? name).normalize('NFC'),
      mail: mail === undefined ? null : String(mail).toLowerCase(),
      memberOf: s.groupAttribute === '' ? [] : all(entry, s.groupAttribute),
    };
  }

  /**
   * The entry the typed name names, or undefined when none does. Two or more matches
   * refuse the sign-in: a filter that finds several accounts must not pick one.
   */
  async locate(typed: string): Promise<DirectoryAccount | undefined> {
    const s = this.settings;
    const entries = await this.connections.search(s.searchBase, {
      scope: 'sub',
      filter: fillFilter(s.searchFilter, { '0': typed }),
      attributes: this.userAttributes(),
      explicitBufferAttributes: isBinaryId(s.uniqueIdAttribute) ? [s.uniqueIdAttribute] : [],
      sizeLimit: 2,
      timeLimit: Math.ceil(s.timeoutMs / 1000),
    });
    if (entries.length === 0) return undefined;
    if (entries.length > 1) throw new TesseraError('DirectoryError', `The name matches several entries in the directory '${this.name}': its searchFilter must find one account per name.`);
    return this.accountOf(entries[0]!);
  }

  /** The account with this unique id, read again (a sync or a token refresh), or undefined when it is gone. */
  async byUniqueId(uniqueId: string): Promise<DirectoryAccount | undefined> {
    const s = this.settings;
    const value = isBinaryId(s.uniqueIdAttribute) ? guidFilterValue(uniqueId) : escapeFilterValue(uniqueId);
    const entries = await this.connections.search(s.searchBase, {
      scope: 'sub',
      filter: `(${s.uniqueIdAttribute}=${value})`,
      attributes: this.userAttributes(),
      explicitBufferAttributes: isBinaryId(s.uniqueIdAttribute) ? [s.uniqueIdAttribute] : [],
      sizeLimit: 2,
    });
    return entries.length === 1 ? this.accountOf(entries[0]!) : undefined;
  }

  checkPassword(account: DirectoryAccount, password: string): Promise<boolean> {
    return this.connections.checkPassword(account.dn, password);
  }

  private groupOf(entry: Entry): DirectoryGroup {
    const s = this.settings;
    const name = first(entry, s.groupNameAttribute);
    return {
      dn: entry.dn,
      uniqueId: this.uniqueIdOf(entry, s.groupUniqueIdAttribute),
      name: (Buffer.isBuffer(name) ? name.toString('utf8') : name ?? firstRdnValue(entry.dn)).normalize('NFC'),
    };
  }

  private groupSearch(filter: string): Promise<Entry[]> {
    const s = this.settings;
    return this.connections.search(s.groupSearchBase, {
      scope: 'sub',
      filter,
      attributes: [s.groupUniqueIdAttribute, s.groupNameAttribute, ...(s.groupAttribute !== '' ? [s.groupAttribute] : [])],
      explicitBufferAttributes: isBinaryId(s.groupUniqueIdAttribute) ? [s.groupUniqueIdAttribute] : [],
      sizeLimit: s.maxGroups + 1,
      paged: { pageSize: 500 },
    });
  }

  /** Reads groups by DN (memberOf values), a base-scope read each, a few at a time. */
  private async groupsByDn(dns: string[]): Promise<Entry[]> {
    const s = this.settings;
    const found: Entry[] = [];
    const queue = [...dns];
    const worker = async () => {
      for (let dn = queue.shift(); dn !== undefined; dn = queue.shift()) {
        try {
          const entries = await this.connections.search(dn, {
            scope: 'base',
            filter: '(objectClass=*)',
            attributes: [s.groupUniqueIdAttribute, s.groupNameAttribute, s.groupAttribute],
            explicitBufferAttributes: isBinaryId(s.groupUniqueIdAttribute) ? [s.groupUniqueIdAttribute] : [],
          });
          found.push(...entries);
        } catch (err) {
          // A memberOf value the service account cannot read (or that is gone) is not a group we can use.
          if (err instanceof Error && /NoSuchObject|InsufficientAccess/.test(err.constructor.name)) continue;
          throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(s.poolSize, Math.max(1, dns.length)) }, worker));
    return found;
  }

  private tooMany(): TesseraError {
    return new TesseraError('DirectoryError', `The account is in more than ${this.settings.maxGroups} groups of the directory '${this.name}' (maxGroups): raise the limit or narrow groupSearchBase.`);
  }

  /** The account's groups, nested ones included as the settings say. */
  async groupsOf(account: DirectoryAccount): Promise<DirectoryGroup[]> {
    const s = this.settings;
    const byDn = new Map<string, DirectoryGroup>();
    const add = (entries: Entry[]): string[] => {
      const fresh: string[] = [];
      for (const e of entries) {
        const key = e.dn.toLowerCase();
        if (byDn.has(key)) continue;
        byDn.set(key, this.groupOf(e));
        fresh.push(e.dn);
        if (byDn.size > s.maxGroups) throw this.tooMany();
      }
      return fresh;
    };
    if (s.groupAttribute !== '') {
      if (account.memberOf.length > s.maxGroups) throw this.tooMany();
      let level = add(await this.groupsByDn(account.memberOf));
      for (let depth = 0; s.nestedGroups === 'recursive' && level.length > 0 && depth < MAX_NESTING; depth++) {
        const parents = (await this.groupsByDn(level)).flatMap((e) => all(e, s.groupAttribute)).filter((dn) => !byDn.has(dn.toLowerCase()));
        level = add(await this.groupsByDn([...new Set(parents)]));
      }
      return [...byDn.values()];
    }
    let level = add(await this.groupSearch(fillFilter(s.groupSearchFilter, { dn: account.dn })));
    for (let depth = 0; s.nestedGroups === 'recursive' && level.length > 0 && depth < MAX_NESTING; depth++) {
      const next: string[] = [];
      for (let i = 0; i < level.length; i += GROUP_BATCH) {
        const batch = level.slice(i, i + GROUP_BATCH).map((dn) => fillFilter(s.groupSearchFilter, { dn }));
        next.push(...add(await this.groupSearch(batch.length === 1 ? batch[0]! : `(|${batch.join('')})`)));
      }
      level = next;
    }
    return [...byDn.values()];
  }

  close(): Promise<void> {
    return this.connections.close();
  }
}
