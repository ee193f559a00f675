/**
 * Where and how a web service runs, as Azure ML SDK v1's `AciWebservice.deploy_configuration`
 * and `AksWebservice.deploy_configuration` had it (camelCased): an instance target
 * (Azure Container Instances: key auth off by default, no token auth) or a cluster target
 * (AKS: key auth on by default, token auth available). The auth rules are the server's:
 * what it refuses (key and token together, token on an instance) surfaces as its 400.
 */

/** The auth modes of a web service. */
export type ServiceAuthMode = 'key' | 'token' | 'aad' | 'none';

/** The deployment half of a web service's PUT body. */
export interface DeploymentConfiguration {
  target: 'instance' | 'cluster';
  /** Key auth (Azure's `auth_enabled`). */
  authEnabled?: boolean;
  /** Service-token auth (Azure's `token_auth_enabled`; clusters only). */
  tokenAuthEnabled?: boolean;
  /** Access-token auth: a Tessera access token whose principal may score the service. */
  aad?: boolean;
  cpuCores?: number;
  memoryGb?: number;
  /** Workers per server replica, 1–8. */
  replicas?: number;
  scoringTimeoutMs?: number;
  maxQueueSize?: number;
  description?: string;
  tags?: Record<string, string>;
}

/** Options of {@link InstanceWebservice.deployConfiguration}. */
export type InstanceDeploymentOptions = Omit<DeploymentConfiguration, 'target'>;

/** Options of {@link ClusterWebservice.deployConfiguration}. */
export type ClusterDeploymentOptions = Omit<DeploymentConfiguration, 'target'>;

/** The properties a deployment configuration contributes to the PUT body. */
export function deploymentProperties(config: DeploymentConfiguration): Record<string, unknown> {
  const props: Record<string, unknown> = { target: config.target };
  if (config.aad === true) props.authMode = 'aad';
  if (config.authEnabled !== undefined) props.authEnabled = config.authEnabled;
  if (config.tokenAuthEnabled !== undefined) props.tokenAuthEnabled = config.tokenAuthEnabled;
  for (const key of ['cpuCores', 'memoryGb', 'replicas', 'scoringTimeoutMs', 'maxQueueSize', 'description'] as const) {
    if (config[key] !== undefined) props[key] = config[key];
  }
  return props;
}

/** A web service on an instance target (Azure Container Instances' counterpart). */
export const InstanceWebservice = {
  /**
   * @example InstanceWebservice.deployConfiguration({ cpuCores: 1, memoryGb: 1, authEnabled: true })
   */
  deployConfiguration(options: InstanceDeploymentOptions = {}): DeploymentConfiguration {
    return { ...options, target: 'instance' };
  },
} as const;

/** A web service on a cluster target (AKS's counterpart). */
export const ClusterWebservice = {
  /**
   * @example ClusterWebservice.deployConfiguration({ authEnabled: false, tokenAuthEnabled: true, replicas: 2 })
   */
  deployConfiguration(options: ClusterDeploymentOptions = {}): DeploymentConfiguration {
    return { ...options, target: 'cluster' };
  },
} as const;
