/**
 * A workspace's computes (`W/computes/{name}`, in Azure's shapes) and their nodes: the
 * processes that run the compute's jobs (`tessera node start`), each with a credential
 * shown once at registration and at each rotation.
 */
import { pathSegment, userAssignedIdentityId } from './armPaths.js';
import type { Workspace } from './workspace.js';

/** How a compute identifies itself to what its runs call. */
export type ComputeIdentityType = 'SystemAssigned' | 'UserAssigned' | 'SystemAssigned,UserAssigned' | 'None';
/** The kinds of compute (all alike on Tessera: jobs run on the compute's nodes). */
export type ComputeType = 'ComputeInstance' | 'AmlCompute';

/** The identity values {@link ComputeIdentityType} takes. */
export const COMPUTE_IDENTITY_TYPES: readonly ComputeIdentityType[] = ['SystemAssigned', 'UserAssigned', 'SystemAssigned,UserAssigned', 'None'];
/** The values {@link ComputeType} takes. */
export const COMPUTE_TYPES: readonly ComputeType[] = ['ComputeInstance', 'AmlCompute'];

/** A compute, as the server returns it. */
export interface ComputeResource {
  id: string;
  name: string;
  type: 'Microsoft.MachineLearningServices/workspaces/computes';
  location: string;
  identity: {
    type: ComputeIdentityType;
    /** The system-assigned identity's object id, when it has one. */
    principalId?: string;
    tenantId: string;
    userAssignedIdentities?: Record<string, { principalId: string; clientId: string }>;
  };
  properties: {
    computeType: ComputeType;
    provisioningState: string;
    description: string;
    createdOn: string;
    modifiedOn: string;
    properties: {
      maxConcurrentRuns: number;
      nodes: { registered: number; online: number };
      runs: { queued: number; running: number };
    };
  };
}

/** Options of {@link Compute.create}. */
export interface ComputeCreateOptions {
  computeType: ComputeType;
  /** Default: `UserAssigned` when identities are given, else no identity. */
  identityType?: ComputeIdentityType;
  /** Identity resource IDs, or bare names of identities in the workspace's resource group. */
  userAssignedIdentities?: readonly string[];
  /** How many runs the compute runs at once. */
  maxConcurrentRuns?: number;
  description?: string;
  /** Default: the workspace's. */
  location?: string;
  tags?: Record<string, string>;
}

/** A node of a compute, as listed. */
export interface ComputeNode {
  nodeId: string;
  name: string;
  state: 'Online' | 'Offline';
  createdOn: string;
  lastSeenOn: string | null;
}

/** A node just registered or rotated: with its credential (`tsnd_…`), shown this once. */
export interface NodeRegistration extends ComputeNode {
  credential: string;
}

const seg = (name: string) => pathSegment(name, 'compute name');

/** The identity resource ID `value` names: itself when it is one, else a name in the workspace's resource group. */
export function identityResourceId(workspace: Workspace, value: string): string {
  if (value.startsWith('/')) return value;
  return userAssignedIdentityId(workspace.subscriptionId, workspace.resourceGroup, value);
}

/** The PUT body for `options`; TypeErrors for contradictions, before any request. */
function computeBody(workspace: Workspace, options: ComputeCreateOptions): Record<string, unknown> {
  if (!COMPUTE_TYPES.includes(options.computeType)) throw new TypeError(`The compute type must be one of ${COMPUTE_TYPES.join(', ')}.`);
  const ids = (options.userAssignedIdentities ?? []).map((v) => identityResourceId(workspace, v));
  const type = options.identityType ?? (ids.length > 0 ? 'UserAssigned' : undefined);
  if (type !== undefined && !COMPUTE_IDENTITY_TYPES.includes(type)) throw new TypeError(`The identity type must be one of ${COMPUTE_IDENTITY_TYPES.join(', ')}.`);
  const wantsUserAssigned = type === 'UserAssigned' || type === 'SystemAssigned,UserAssigned';
  if (wantsUserAssigned && ids.length === 0) throw new TypeError(`The identity type ${type} needs at least one user-assigned identity.`);
  if (!wantsUserAssigned && ids.length > 0) throw new TypeError(`User-assigned identities need the identity type UserAssigned or SystemAssigned,UserAssigned, not ${type}.`);
  const mcr = options.maxConcurrentRuns;
  if (mcr !== undefined && (!Number.isInteger(mcr) || mcr < 1)) throw new TypeError('maxConcurrentRuns must be a whole number from 1.');
  const body: Record<string, unknown> = {
    properties: {
      computeType: options.computeType,
      ...(options.description !== undefined ? { description: options.description } : {}),
      ...(mcr !== undefined ? { properties: { maxConcurrentRuns: mcr } } : {}),
    },
  };
  if (options.location !== undefined) body.location = options.location;
  if (options.tags !== undefined) body.tags = options.tags;
  if (type !== undefined) body.identity = { type, ...(ids.length > 0 ? { userAssignedIdentities: Object.fromEntries(ids.map((id) => [id, {}])) } : {}) };
  return body;
}

/**
 * A compute in a workspace.
 * @example
 * const cpu = await Compute.create(ws, 'cpu', { computeType: 'AmlCompute', userAssignedIdentities: ['trainer'] });
 * const { credential } = await cpu.registerNode({ name: 'box-1' });   // give it to `tessera node start`
 */
export class Compute {
  private constructor(
    readonly workspace: Workspace,
    private resource: ComputeResource,
  ) {}

  /** The compute's name. */
  get name(): string {
    return this.resource.name;
  }

  /** The compute's resource ID. */
  get id(): string {
    return this.resource.id;
  }

  /** Everything the server said of it when last loaded. */
  get properties(): ComputeResource {
    return this.resource;
  }

  /** Creates the compute `name`, or replaces its settings. */
  static async create(workspace: Workspace, name: string, options: ComputeCreateOptions): Promise<Compute> {
    const body = computeBody(workspace, options);
    return new Compute(workspace, await workspace.request<ComputeResource>('PUT', `/computes/${seg(name)}`, body));
  }

  /** The compute `name` (404 {@link TesseraApiError} when absent). */
  static async get(workspace: Workspace, name: string): Promise<Compute> {
    return new Compute(workspace, await workspace.request<ComputeResource>('GET', `/computes/${seg(name)}`));
  }

  /** The workspace's computes. */
  static async list(workspace: Workspace): Promise<Compute[]> {
    return (await workspace.request<{ value: ComputeResource[] }>('GET', '/computes')).value.map((r) => new Compute(workspace, r));
  }

  /** Reads the compute again (node and run counts change). */
  async refresh(): Promise<this> {
    this.resource = await this.workspace.request<ComputeResource>('GET', this.path(''));
    return this;
  }

  /** Deletes the compute; its queued and running runs are canceled. */
  async delete(): Promise<void> {
    await this.workspace.request('DELETE', this.path(''));
  }

  /** Registers a node; the answer carries its credential, which is never shown again. */
  registerNode(options: { name?: string } = {}): Promise<NodeRegistration> {
    return this.workspace.request<NodeRegistration>('POST', this.path('/registerNode'), options.name === undefined ? {} : { name: options.name });
  }

  /** The compute's nodes, with whether each is heard from. */
  async listNodes(): Promise<ComputeNode[]> {
    return (await this.workspace.request<{ value: ComputeNode[] }>('GET', this.path('/nodes'))).value;
  }

  /** Gives a node a new credential; the old one stops at once. */
  rotateNodeCredential(nodeId: string): Promise<NodeRegistration> {
    return this.workspace.request<NodeRegistration>('POST', this.path(`/nodes/${pathSegment(nodeId, 'node id')}/rotateCredential`));
  }

  /** Revokes a node: its credential stops at once and its runs become Failed. */
  async revokeNode(nodeId: string): Promise<void> {
    await this.workspace.request('DELETE', this.path(`/nodes/${pathSegment(nodeId, 'node id')}`));
  }

  /** The compute's view, for printing. */
  toJSON(): ComputeResource {
    return this.resource;
  }

  private path(rest: string): string {
    return `/computes/${seg(this.resource.name)}${rest}`;
  }
}
