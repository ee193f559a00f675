/**
 * The run token, as azureml's AzureMLTokenAuthentication: the one token a submitted run
 * gets (AZUREML_RUN_TOKEN), good for that run alone and for every audience, until its
 * expiry. {@link AzureMLTokenAuthentication.create} keeps one instance per run scope
 * (subscription, resource group, workspace, experiment, run id), so every part of a run's
 * code that asks shares it, and a newer token given to any of them reaches all.
 */
import { AbstractAuthentication, type AuthenticationOptions } from './abstractAuthentication.js';
import type { AccessToken } from './audience.js';
import { RunError } from './errors.js';
import { normalizeServerUrl } from './serverUrl.js';
import { unverifiedClaims } from './userSession.js';

/** Where a run's token acts: its workspace, experiment and run. */
export interface RunScope {
  subscriptionId: string;
  resourceGroupName: string;
  workspaceName: string;
  experimentName: string;
  runId: string;
}

/** The variables a submitted run sees (docs/compute-and-runs.md, "What a run sees"). */
export const RUN_ENV = {
  runId: 'AZUREML_RUN_ID',
  token: 'AZUREML_RUN_TOKEN',
  tokenExpiry: 'AZUREML_RUN_TOKEN_EXPIRY',
  server: 'AZUREML_SERVICE_ENDPOINT',
  subscriptionId: 'AZUREML_ARM_SUBSCRIPTION',
  resourceGroupName: 'AZUREML_ARM_RESOURCEGROUP',
  workspaceName: 'AZUREML_ARM_WORKSPACE_NAME',
  experimentName: 'AZUREML_ARM_PROJECT_NAME',
} as const;

/** An expiry as a Date, epoch seconds, or an ISO 8601 string. */
export type ExpiryTime = Date | number | string;

/** Epoch seconds of `expiry`; a TypeError when it is none of the accepted forms. */
function epochSeconds(expiry: ExpiryTime): number {
  const ms = expiry instanceof Date ? expiry.getTime() : typeof expiry === 'number' ? expiry * 1000 : Date.parse(expiry);
  if (!Number.isFinite(ms)) throw new TypeError('The run token expiry must be a Date, epoch seconds or an ISO 8601 date-time.');
  return Math.floor(ms / 1000);
}

function required(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`AzureMLTokenAuthentication needs ${what}.`);
  return value;
}

/** The instances {@link AzureMLTokenAuthentication.create} handed out, by run scope. */
const registry = new Map<string, AzureMLTokenAuthentication>();

function registryKey(scope: RunScope): string {
  return JSON.stringify([scope.subscriptionId, scope.resourceGroupName, scope.workspaceName, scope.experimentName, scope.runId]);
}

/**
 * Authenticates as a run with its run token.
 * @example
 * // Inside a submitted run:
 * const auth = AzureMLTokenAuthentication.fromEnvironment();
 * const { token } = await auth.getToken();   // the run token, for any audience
 */
export class AzureMLTokenAuthentication extends AbstractAuthentication {
  /** The server's base URL (the run's AZUREML_SERVICE_ENDPOINT). */
  readonly server: string;
  readonly scope: Readonly<RunScope>;
  private token: string;
  private expiresOn: number;

  constructor(azureMlAccessToken: string, expiryTimeUtc: ExpiryTime, host: string, scope: RunScope, options: AuthenticationOptions = {}) {
    super(options);
    this.token = required(azureMlAccessToken, 'the run token');
    this.expiresOn = epochSeconds(expiryTimeUtc);
    this.server = normalizeServerUrl(required(host, 'the server URL (host)'));
    this.scope = Object.freeze({
      subscriptionId: required(scope.subscriptionId, 'the subscription id'),
      resourceGroupName: required(scope.resourceGroupName, 'the resource group name'),
      workspaceName: required(scope.workspaceName, 'the workspace name'),
      experimentName: required(scope.experimentName, 'the experiment name'),
      runId: required(scope.runId, 'the run id'),
    });
  }

  /**
   * The instance registered for this run scope, made (and registered) on first use; a
   * later call for the same scope returns the same object, taking the token given when it
   * expires later than the one held. Azure ML SDK v1's signature.
   * @example
   * const a = AzureMLTokenAuthentication.create(token, expiry, server, sub, 'ml', 'ws1', 'mnist', runId);
   * AzureMLTokenAuthentication.create(newer, later, server, sub, 'ml', 'ws1', 'mnist', runId) === a;   // true
   */
  static create(
    azureMlAccessToken: string,
    expiryTimeUtc: ExpiryTime,
    host: string,
    subscriptionId: string,
    resourceGroupName: string,
    workspaceName: string,
    experimentName: string,
    runId: string,
    options: AuthenticationOptions = {},
  ): AzureMLTokenAuthentication {
    const scope: RunScope = { subscriptionId, resourceGroupName, workspaceName, experimentName, runId };
    const key = registryKey(scope);
    const existing = registry.get(key);
    if (existing) {
      existing.updateToken(azureMlAccessToken, expiryTimeUtc);
      return existing;
    }
    const made = new AzureMLTokenAuthentication(azureMlAccessToken, expiryTimeUtc, host, scope, options);
    registry.set(key, made);
    return made;
  }

  /**
   * The registered instance for the run whose environment `env` is (default
   * `process.env`); a {@link RunError} `NotInRun` naming the variables that are missing.
   * The expiry is AZUREML_RUN_TOKEN_EXPIRY, else the token's own `exp`.
   */
  static fromEnvironment(env: NodeJS.ProcessEnv = process.env): AzureMLTokenAuthentication {
    const missing = Object.entries(RUN_ENV)
      .filter(([field, name]) => field !== 'tokenExpiry' && (env[name] === undefined || env[name] === ''))
      .map(([, name]) => name);
    if (missing.length > 0) throw new RunError('NotInRun', `Not inside a submitted run: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set.`);
    const token = env[RUN_ENV.token]!;
    const expiryText = env[RUN_ENV.tokenExpiry];
    let expiry: number;
    if (expiryText !== undefined && expiryText !== '') {
      if (!/^\d{1,12}$/.test(expiryText)) throw new RunError('NotInRun', `${RUN_ENV.tokenExpiry} must be epoch seconds.`);
      expiry = Number(expiryText);
    } else {
      const exp = unverifiedClaims(token).exp;
      if (typeof exp !== 'number') throw new RunError('NotInRun', `${RUN_ENV.tokenExpiry} is not set and the run token carries no expiry.`);
      expiry = exp;
    }
    return AzureMLTokenAuthentication.create(
      token,
      expiry,
      env[RUN_ENV.server]!,
      env[RUN_ENV.subscriptionId]!,
      env[RUN_ENV.resourceGroupName]!,
      env[RUN_ENV.workspaceName]!,
      env[RUN_ENV.experimentName]!,
      env[RUN_ENV.runId]!,
    );
  }

  /** When the run token stops working. */
  get expiryTimeUtc(): Date {
    return new Date(this.expiresOn * 1000);
  }

  /** Takes `token` when it expires later than the one held (a run's token may be renewed); returns whether it did. */
  updateToken(token: string, expiryTimeUtc: ExpiryTime): boolean {
    const expiresOn = epochSeconds(expiryTimeUtc);
    if (expiresOn <= this.expiresOn) return false;
    this.token = required(token, 'the run token');
    this.expiresOn = expiresOn;
    this.clearCache();
    return true;
  }

  protected async fetchToken(): Promise<AccessToken> {
    if (this.clock() >= this.expiresOn * 1000) {
      throw new RunError('RunTokenExpired', `The run token of ${this.scope.runId} expired at ${this.expiryTimeUtc.toISOString()} (a run token lasts while its run is queued or running).`, this.scope.runId);
    }
    return { token: this.token, expiresOn: this.expiresOn };
  }
}

/** azureml's other name for {@link AzureMLTokenAuthentication}. */
export const RunTokenAuthentication = AzureMLTokenAuthentication;
/** azureml's other name for {@link AzureMLTokenAuthentication}. */
export type RunTokenAuthentication = AzureMLTokenAuthentication;
