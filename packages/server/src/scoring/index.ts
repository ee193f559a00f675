/**
 * The scoring part, built once: the in-memory directory of services, the deployment
 * supervisor (given the runtime factory: the one place runtimes are wired in), service
 * tokens, logs, key-use tracking, and the gateway the scoring routes call.
 */
import type { Clock } from '../clock.js';
import type { ScoringPolicy } from '../config.js';
import type { AccessControl } from '../access/assignments.js';
import type { PrincipalCache } from '../identity/principalCache.js';
import type { KeyRing } from '../tokens/keyRing.js';
import type { TokenVerifier } from '../tokens/verify.js';
import type { WebServices } from '../workspace/webServices.js';
import type { Sandbox } from '../sandbox/index.js';
import type { RuntimeFactory } from './runtimes/types.js';
import { Deployments } from './deployments.js';
import { ScoringGateway } from './gateway.js';
import { KeyUsage } from './keyUsage.js';
import { ServiceDirectory } from './serviceDirectory.js';
import { ServiceLogs } from './serviceLogs.js';
import { ServiceTokens } from './serviceTokens.js';

export interface ScoringDeps {
  policy: ScoringPolicy;
  clock: Clock;
  webServices: WebServices;
  keys: KeyRing;
  verifier: TokenVerifier;
  principals: PrincipalCache;
  access: AccessControl;
  issuerOf: (tenantId: string) => string;
  publicUrl: () => string;
  createRuntime: RuntimeFactory;
  /** Where entry scripts run: started with the scoring part, closed after every runtime stopped. */
  sandbox: Sandbox;
  onError: (err: unknown, what: string) => void;
}

export class Scoring {
  readonly logs: ServiceLogs;
  readonly tokens: ServiceTokens;
  readonly directory: ServiceDirectory;
  readonly deployments: Deployments;
  readonly keyUsage: KeyUsage;
  readonly gateway: ScoringGateway;
  readonly sandbox: Sandbox;

  constructor(deps: ScoringDeps) {
    this.sandbox = deps.sandbox;
    this.logs = new ServiceLogs(deps.clock);
    this.tokens = new ServiceTokens(deps.keys, deps.clock, deps.issuerOf);
    this.deployments = new Deployments(deps.webServices, deps.createRuntime, this.logs, deps.policy, deps.sandbox, deps.onError);
    this.directory = new ServiceDirectory(
      deps.webServices,
      (event) => this.deployments.onDirectoryEvent(event),
      (err) => deps.onError(err, 'refreshing the web service directory'),
    );
    this.keyUsage = new KeyUsage(deps.webServices, (err) => deps.onError(err, 'recording key use'));
    this.gateway = new ScoringGateway(this.directory, this.deployments, this.tokens, deps.verifier, deps.principals, deps.access, this.keyUsage, deps.clock, deps.publicUrl);
    // A change on this replica reaches the view before the management call answers; a
    // change of what runs deploys in the background.
    deps.webServices.setChangeListener(async (change) => {
      await this.directory.refresh(change.id);
      if (change.redeploy) void this.deployments.deploy(change.id).catch((err: unknown) => deps.onError(err, 'deploying a web service'));
    });
  }

  async start(): Promise<void> {
    await this.sandbox.start();
    await this.directory.start();
    this.keyUsage.start();
  }

  /** Stops polling and every runtime, and writes the last key uses. */
  async stop(): Promise<void> {
    this.directory.stop();
    await this.keyUsage.stop();
    await this.deployments.stopAll();
    await this.sandbox.close();
  }
}
