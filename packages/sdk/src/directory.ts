/** The directory: users and groups, in Microsoft Graph's shapes under `/v1.0`. */
import type { TesseraClient } from './tesseraClient.js';

/** A user account. */
export interface User {
  id: string;
  userName: string;
  userPrincipalName: string;
  displayName: string;
  mail: string | null;
  accountEnabled: boolean;
  createdDateTime: string;
  lastPasswordChangeDateTime: string | null;
  userType: 'Member';
  /** `local`, or `ldap:NAME` for a user of that directory. */
  source: string;
  onPremisesSyncEnabled: boolean | null;
  onPremisesDistinguishedName: string | null;
  onPremisesImmutableId: string | null;
  onPremisesLastSyncDateTime: string | null;
}

/** A user to create. */
export interface NewUser {
  userName: string;
  password: string;
  displayName?: string;
  mail?: string;
  /** Default true. */
  accountEnabled?: boolean;
}

/** Changes to a user; absent fields stay as they are. */
export interface UserChanges {
  displayName?: string;
  /** null clears it. */
  mail?: string | null;
  accountEnabled?: boolean;
  password?: string;
}

/** A group of principals. */
export interface Group {
  id: string;
  displayName: string;
  description: string | null;
  createdDateTime: string;
  /** `local`, or `ldap:NAME` for a directory's group (membership read-only). */
  source: string;
  onPremisesSyncEnabled: boolean | null;
}

/** A member of a group. */
export interface GroupMember {
  id: string;
  displayName: string;
  userName: string | null;
}

const seg = encodeURIComponent;

/**
 * Users and groups. Ids may be object ids or names (user names, group display names).
 * @example
 * const directory = new Directory(new TesseraClient(server, new CliAuthentication()));
 * const ada = await directory.createUser({ userName: 'ada', password: 'correct horse battery' });
 */
export class Directory {
  constructor(private readonly client: TesseraClient) {}

  /** Users, at most `top` (1 to 999). */
  async listUsers(top?: number): Promise<User[]> {
    const query = top === undefined ? '' : `?$top=${top}`;
    return (await this.client.request<{ value: User[] }>('GET', `/v1.0/users${query}`)).value;
  }

  /** Creates a user. */
  createUser(input: NewUser): Promise<User> {
    const body: Record<string, unknown> = { userName: input.userName, passwordProfile: { password: input.password } };
    if (input.displayName !== undefined) body.displayName = input.displayName;
    if (input.mail !== undefined) body.mail = input.mail;
    if (input.accountEnabled !== undefined) body.accountEnabled = input.accountEnabled;
    return this.client.request<User>('POST', '/v1.0/users', body);
  }

  /** One user, by object id or user name. */
  getUser(id: string): Promise<User> {
    return this.client.request<User>('GET', `/v1.0/users/${seg(id)}`);
  }

  /** Changes a user; a new password or disabling ends the user's sessions. */
  updateUser(id: string, changes: UserChanges): Promise<User> {
    const body: Record<string, unknown> = {};
    if (changes.displayName !== undefined) body.displayName = changes.displayName;
    if (changes.mail !== undefined) body.mail = changes.mail;
    if (changes.accountEnabled !== undefined) body.accountEnabled = changes.accountEnabled;
    if (changes.password !== undefined) body.passwordProfile = { password: changes.password };
    return this.client.request<User>('PATCH', `/v1.0/users/${seg(id)}`, body);
  }

  /** Deletes a user. */
  async deleteUser(id: string): Promise<void> {
    await this.client.request('DELETE', `/v1.0/users/${seg(id)}`);
  }

  /** Clears a user's failed sign-ins and lockout. */
  async unlockUser(id: string): Promise<void> {
    await this.client.request('POST', `/v1.0/users/${seg(id)}/unlock`);
  }

  /** Every group. */
  async listGroups(): Promise<Group[]> {
    return (await this.client.request<{ value: Group[] }>('GET', '/v1.0/groups')).value;
  }

  /** Creates a group. */
  createGroup(input: { displayName: string; description?: string }): Promise<Group> {
    return this.client.request<Group>('POST', '/v1.0/groups', input.description === undefined ? { displayName: input.displayName } : input);
  }

  /** One group, by object id or display name. */
  getGroup(id: string): Promise<Group> {
    return this.client.request<Group>('GET', `/v1.0/groups/${seg(id)}`);
  }

  /** Deletes a group. */
  async deleteGroup(id: string): Promise<void> {
    await this.client.request('DELETE', `/v1.0/groups/${seg(id)}`);
  }

  /** A group's members. */
  async listMembers(group: string): Promise<GroupMember[]> {
    const members = (await this.client.request<{ value: (GroupMember & { '@odata.type'?: string })[] }>('GET', `/v1.0/groups/${seg(group)}/members`)).value;
    return members.map(({ id, displayName, userName }) => ({ id, displayName, userName }));
  }

  /** Adds the principal with object id `memberId` to a group. */
  async addMember(group: string, memberId: string): Promise<void> {
    await this.client.request('POST', `/v1.0/groups/${seg(group)}/members/$ref`, { '@odata.id': `${this.client.server}/v1.0/directoryObjects/${seg(memberId)}` });
  }

  /** Removes the principal with object id `memberId` from a group. */
  async removeMember(group: string, memberId: string): Promise<void> {
    await this.client.request('DELETE', `/v1.0/groups/${seg(group)}/members/${seg(memberId)}/$ref`);
  }
}
