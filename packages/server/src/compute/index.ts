/**
 * The compute part: user-assigned identities, computes, their nodes, runs (with their
 * files and tokens), the server's end of the node protocol, and the built-in node. Built
 * once by {@link createComputeServices}; docs/compute-and-runs.md is its reference.
 */
import path from 'node:path';
import type { Store } from '../store/db.js';
import type { Clock } from '../clock.js';
import type { ServicePrincipals } from '../identity/servicePrincipals.js';
import type { PrincipalCache } from '../identity/principalCache.js';
import type { ResourceGroups } from '../workspace/resourceGroups.js';
import type { TokenMinter } from '../tokens/accessTokens.js';
import { UserAssignedIdentities } from './identities.js';
import { Computes } from './computes.js';
import { ComputeNodes } from './nodes.js';
import { Runs } from './runs.js';
import { RunFiles } from './runFiles.js';
import { NodeService } from './nodeService.js';

/** The compute settings of `tessera serve`. */
export interface ComputePolicy {
  /** Run jobs of computes without registered nodes in the server's process (--local-node). */
  localNode: boolean;
  /** A node unheard of this long is Offline and its runs fail (TESSERA_NODE_TIMEOUT_SEC, default 30). */
  nodeTimeoutSec: number;
  /** A run token never outlives this, counted from submission (TESSERA_RUN_TOKEN_LIFETIME_SEC, default 2 days). */
  runTokenLifetimeSec: number;
  /** Runs' code and artifacts (TESSERA_RUN_DIR; shared by replicas). */
  runDir: string;
  /** Largest job code, bytes (TESSERA_RUN_CODE_LIMIT, 16 MiB). */
  codeLimit: number;
  /** Largest artifact, bytes (TESSERA_RUN_ARTIFACT_LIMIT, 256 MiB). */
  artifactLimit: number;
  /** Runs the built-in node runs at once (TESSERA_LOCAL_NODE_CAPACITY, default 2). */
  localNodeCapacity: number;
  /** Named host directories jobs may use as `environmentId` (TESSERA_NODE_ENVIRONMENTS=name=/dir,…). */
  environments: Record<string, string>;
}

export function defaultComputePolicy(dataDir: string): ComputePolicy {
  return { localNode: true, nodeTimeoutSec: 30, runTokenLifetimeSec: 2 * 24 * 3600, runDir: path.join(dataDir, 'runs'), codeLimit: 16 * 1024 * 1024, artifactLimit: 256 * 1024 * 1024, localNodeCapacity: 2, environments: {} };
}

export interface ComputeServices {
  identities: UserAssignedIdentities;
  computes: Computes;
  nodes: ComputeNodes;
  runs: Runs;
  nodeService: NodeService;
}

export interface ComputeDependencies {
  store: Store;
  clock: Clock;
  policy: ComputePolicy;
  resourceGroups: ResourceGroups;
  servicePrincipals: ServicePrincipals;
  principals: PrincipalCache;
  minter: TokenMinter;
  publicUrl: () => string;
  accessTokenLifetimeSec: number;
}

export function createComputeServices(deps: ComputeDependencies): ComputeServices {
  const { store, clock, policy } = deps;
  const identities = new UserAssignedIdentities(store, clock, deps.resourceGroups, deps.servicePrincipals);
  const computes = new Computes(store, clock, deps.servicePrincipals, identities);
  const nodes = new ComputeNodes(store, clock, policy.nodeTimeoutSec * 1000);
  const runs = new Runs(store, clock, new RunFiles(policy.runDir, policy.codeLimit, policy.artifactLimit), policy.nodeTimeoutSec * 1000);
  const nodeService = new NodeService(store, clock, computes, runs, deps.minter, deps.principals, deps.publicUrl, {
    runTokenLifetimeSec: policy.runTokenLifetimeSec,
    accessTokenLifetimeSec: deps.accessTokenLifetimeSec,
  });
  return { identities, computes, nodes, runs, nodeService };
}
