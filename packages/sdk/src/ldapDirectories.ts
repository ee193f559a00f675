/**
 * The LDAP / Active Directory directories users sign in with (`/admin/directories`):
 * list and show them (never the service account's password), set or remove one held
 * by the server, see what an account would get (`test`), and refresh every directory
 * user now (`sync`).
 * @example await new LdapDirectories(client).test('alice')
 */
import type { TesseraClient } from './tesseraClient.js';
import { pathSegment } from './armPaths.js';

/** A directory's settings as the server shows them. */
export interface LdapDirectorySettings {
  name: string;
  kind: 'openldap' | 'activeDirectory';
  urls: string[];
  startTls: boolean;
  insecure: boolean;
  caFile?: string;
  bindDn?: string;
  /** Whether a service-account password is held (it is never shown). */
  bindPasswordSet: boolean;
  searchBase: string;
  searchFilter: string;
  uniqueIdAttribute: string;
  usernameAttribute: string;
  displayNameAttribute: string;
  mailAttribute: string;
  groupAttribute: string;
  groupSearchBase: string;
  groupSearchFilter: string;
  groupNameAttribute: string;
  groupUniqueIdAttribute: string;
  nestedGroups: 'none' | 'recursive' | 'inChain';
  timeoutMs: number;
  connectTimeoutMs: number;
  poolSize: number;
  maxGroups: number;
  syncIntervalSec: number;
}

export interface LdapDirectory {
  settings: LdapDirectorySettings;
  /** `static`: set by the server's environment or config file; `api`: set through this API. */
  origin: 'static' | 'api';
  updatedAt?: string;
}

/** What `set` sends: the settings (urls and searchBase required), the password write-only. */
export type LdapDirectoryInput = Partial<Omit<LdapDirectorySettings, 'name' | 'bindPasswordSet'>> & { urls: string[]; searchBase: string; bindPassword?: string };

export interface DirectoryTestResult {
  directory: string;
  /** The URL that answered. */
  url: string;
  found: boolean;
  account?: { dn: string; uniqueId: string; userName: string; displayName: string; mail: string | null };
  groups?: string[];
  tesseraUser?: { id: string; userName: string; exists: boolean };
}

export interface DirectorySyncResult {
  directories: Array<{ name: string; users: number; updated: number; disabled: number; failed?: string }>;
}

export class LdapDirectories {
  constructor(private readonly client: TesseraClient) {}

  async list(): Promise<LdapDirectory[]> {
    return (await this.client.request<{ value: LdapDirectory[] }>('GET', '/admin/directories')).value;
  }

  show(name: string): Promise<LdapDirectory> {
    return this.client.request<LdapDirectory>('GET', `/admin/directories/${pathSegment(name, 'directory name')}`);
  }

  /** Creates or replaces a directory held by the server; without bindPassword a stored one is kept. */
  set(name: string, settings: LdapDirectoryInput): Promise<LdapDirectory> {
    return this.client.request<LdapDirectory>('PUT', `/admin/directories/${pathSegment(name, 'directory name')}`, settings);
  }

  async delete(name: string): Promise<void> {
    await this.client.request('DELETE', `/admin/directories/${pathSegment(name, 'directory name')}`);
  }

  /** What the account `userName` would get: found or not, its DN, groups, Tessera user. No password is asked. */
  async test(userName: string, directory?: string): Promise<DirectoryTestResult[]> {
    return (await this.client.request<{ value: DirectoryTestResult[] }>('POST', '/admin/directories/test', { userName, ...(directory !== undefined ? { directory } : {}) })).value;
  }

  sync(): Promise<DirectorySyncResult> {
    return this.client.request<DirectorySyncResult>('POST', '/admin/directories/sync', {});
  }
}
