/**
 * Conditional access: policies (Microsoft Graph's `conditionalAccessPolicy`, as its docs
 * write them), ip named locations, and what-if, under `/v1.0/identity/conditionalAccess`.
 */
import type { TesseraClient } from './tesseraClient.js';

export type ConditionalAccessPolicyState = 'enabled' | 'disabled' | 'enabledForReportingButNotEnforced';

/** A stored policy, as the server shows it (normalized: every list present, ids lower-cased). */
export interface ConditionalAccessPolicy {
  id: string;
  displayName: string;
  state: ConditionalAccessPolicyState;
  createdDateTime: string;
  modifiedDateTime: string | null;
  conditions: {
    users: { includeUsers: string[]; excludeUsers: string[]; includeGroups: string[]; excludeGroups: string[]; includeRoles: string[]; excludeRoles: string[] } | null;
    applications: { includeApplications: string[]; excludeApplications: string[] };
    clientApplications: { includeServicePrincipals: string[]; excludeServicePrincipals: string[] } | null;
    clientAppTypes: string[];
    locations: { includeLocations: string[]; excludeLocations: string[] } | null;
  } & Record<string, unknown>;
  grantControls: { operator: 'OR' | 'AND'; builtInControls: ('block' | 'mfa')[] } & Record<string, unknown>;
  sessionControls: null;
}

/** An ip named location. */
export interface IpNamedLocation {
  '@odata.type': '#microsoft.graph.ipNamedLocation';
  id: string;
  displayName: string;
  isTrusted: boolean;
  ipRanges: { '@odata.type': string; cidrAddress: string }[];
  createdDateTime: string;
  modifiedDateTime: string | null;
}

/** The sign-in paths conditional access tells apart. */
export type ClientAppKind = 'browser' | 'deviceCode' | 'password' | 'clientCredentials' | 'refresh' | 'mlServerLogin';

/** A sign-in to evaluate: a user or a service principal, from an address, through one path. */
export interface WhatIfInput {
  /** A user's object id or user name. */
  user?: string;
  /** A service principal's appId, object id or name. */
  servicePrincipal?: string;
  /** The client application's appId (default: the Tessera CLI, or the service principal itself). */
  clientAppId?: string;
  /** Default api://tessera/management. */
  resource?: string;
  ipAddress: string;
  clientApp: ClientAppKind;
  /** Methods already done (default ['pwd']). */
  amr?: ('pwd' | 'mfa' | 'otp' | 'rc')[];
}

/** One policy's verdict: whether it applies, why (one line per condition), and what it asks. */
export interface PolicyVerdict {
  id: string;
  displayName: string;
  state: ConditionalAccessPolicyState;
  applies: boolean;
  reasons: string[];
  result?: 'block' | 'mfa' | 'allow';
}

/** The outcome of a what-if: the result, the enforced policy that decided it, and every policy's verdict. */
export interface WhatIfResult {
  result: 'allow' | 'block' | 'mfa';
  decidedBy?: { id: string; displayName: string };
  policies: PolicyVerdict[];
  request: Record<string, unknown>;
}

/** `force: true` saves a policy even though it would block the caller (else 409 ConditionalAccessLockout). */
export interface PolicyWriteOptions {
  force?: boolean;
}

const BASE = '/v1.0/identity/conditionalAccess';
const seg = encodeURIComponent;
const forced = (options: PolicyWriteOptions) => (options.force ? '?force=true' : '');

/**
 * Policies, named locations and what-if; needs a role that may manage the directory.
 * @example
 * const ca = new ConditionalAccess(client);
 * const office = await ca.createNamedLocation({ displayName: 'office', cidrs: ['203.0.113.0/24'] });
 * await ca.createPolicy({ displayName: 'Block outside the office', state: 'enabled',
 *   conditions: { users: { includeUsers: ['All'], excludeUsers: [adminId] }, applications: { includeApplications: ['All'] },
 *     locations: { includeLocations: ['All'], excludeLocations: [office.id] } },
 *   grantControls: { operator: 'OR', builtInControls: ['block'] } });
 * (await ca.whatIf({ user: 'ada', ipAddress: '198.51.100.7', clientApp: 'browser' })).result; // 'block'
 */
export class ConditionalAccess {
  constructor(private readonly client: TesseraClient) {}

  /** Every policy, oldest first. */
  async listPolicies(): Promise<ConditionalAccessPolicy[]> {
    return (await this.client.request<{ value: ConditionalAccessPolicy[] }>('GET', `${BASE}/policies`)).value;
  }

  /** One policy by id. */
  getPolicy(id: string): Promise<ConditionalAccessPolicy> {
    return this.client.request<ConditionalAccessPolicy>('GET', `${BASE}/policies/${seg(id)}`);
  }

  /** Creates a policy from Graph's JSON. */
  createPolicy(policy: Record<string, unknown>, options: PolicyWriteOptions = {}): Promise<ConditionalAccessPolicy> {
    return this.client.request<ConditionalAccessPolicy>('POST', `${BASE}/policies${forced(options)}`, policy);
  }

  /** Replaces the top-level fields given (Graph's PATCH) and returns the policy as stored. */
  async updatePolicy(id: string, changes: Record<string, unknown>, options: PolicyWriteOptions = {}): Promise<ConditionalAccessPolicy> {
    await this.client.request('PATCH', `${BASE}/policies/${seg(id)}${forced(options)}`, changes);
    return this.getPolicy(id);
  }

  /** Deletes a policy. */
  async deletePolicy(id: string): Promise<void> {
    await this.client.request('DELETE', `${BASE}/policies/${seg(id)}`);
  }

  /** Every named location, by name. */
  async listNamedLocations(): Promise<IpNamedLocation[]> {
    return (await this.client.request<{ value: IpNamedLocation[] }>('GET', `${BASE}/namedLocations`)).value;
  }

  /** One named location by id. */
  getNamedLocation(id: string): Promise<IpNamedLocation> {
    return this.client.request<IpNamedLocation>('GET', `${BASE}/namedLocations/${seg(id)}`);
  }

  /** Creates an ip named location from CIDR ranges (IPv4 or IPv6). */
  createNamedLocation(input: { displayName: string; cidrs: string[]; isTrusted?: boolean }): Promise<IpNamedLocation> {
    return this.client.request<IpNamedLocation>('POST', `${BASE}/namedLocations`, {
      '@odata.type': '#microsoft.graph.ipNamedLocation',
      displayName: input.displayName,
      isTrusted: input.isTrusted ?? false,
      ipRanges: input.cidrs.map((cidrAddress) => ({ cidrAddress })),
    });
  }

  /** Deletes a named location (refused while a policy names it). */
  async deleteNamedLocation(id: string): Promise<void> {
    await this.client.request('DELETE', `${BASE}/namedLocations/${seg(id)}`);
  }

  /** Which policies would apply to a sign-in, why, and the result: the server's own evaluation. */
  whatIf(input: WhatIfInput): Promise<WhatIfResult> {
    return this.client.request<WhatIfResult>('POST', `${BASE}/evaluate`, input);
  }
}
