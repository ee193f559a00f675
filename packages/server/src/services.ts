/**
 * The server's parts, built once from the configuration and the store and handed to the
 * HTTP layer. Nothing here knows about HTTP.
 */
import type { ServerConfig } from './config.js';
import type { Store } from './store/db.js';
import { systemClock, type Clock } from './clock.js';
import { MasterKey } from './crypto/masterKey.js';
import { KeyRing } from './tokens/keyRing.js';
import { TokenMinter } from './tokens/accessTokens.js';
import { TokenVerifier } from './tokens/verify.js';
import { PasswordHasher } from './identity/passwords.js';
import { PrincipalCache } from './identity/principalCache.js';
import { Users } from './identity/users.js';
import { ServicePrincipals } from './identity/servicePrincipals.js';
import { Applications } from './identity/applications.js';
import { Groups } from './identity/groups.js';
import { SigninThrottle } from './identity/throttle.js';
import { PasswordSignIn } from './identity/signIn.js';
import { AccessControl } from './access/assignments.js';
import { createWorkspaceServices, type WorkspaceServices } from './workspace/index.js';
import { Tenants } from './oauth/tenants.js';
import { RefreshTokens } from './oauth/refreshTokens.js';
import { AppTokenCache } from './oauth/appTokenCache.js';
import { AuthorizationCodes } from './oauth/authorizationCodes.js';
import { DeviceCodes } from './oauth/deviceCodes.js';
import { BrowserSessions } from './oauth/browserSessions.js';
import { Interactions } from './oauth/interaction.js';
import { AuditLog } from './audit/auditLog.js';
import { Scoring } from './scoring/index.js';
import { createRuntime } from './scoring/runtimes/index.js';
import { Sandbox } from './sandbox/index.js';
import type { RuntimeFactory } from './scoring/runtimes/types.js';
import { createComputeServices, type ComputeServices } from './compute/index.js';
import { BuiltInNode } from './compute/node/builtInNode.js';
import { Directories } from './ldap/index.js';
import { Mfa } from './mfa/mfa.js';
import { ConditionalAccess } from './conditionalAccess/evaluate.js';

/** The public base URL, known once the server listens (the port may be chosen then). */
export class PublicUrl {
  private value: string | undefined;

  set(url: string): void {
    this.value = url.replace(/\/+$/, '');
  }

  /** e.g. `https://127.0.0.1:5080` or `https://ml.example.com/tessera`. */
  get base(): string {
    if (this.value === undefined) throw new Error('the public URL is not known before the server listens');
    return this.value;
  }

  /** The path part, for mounting routes under a prefix: '' or '/tessera'. */
  get pathPrefix(): string {
    return new URL(this.base).pathname.replace(/\/+$/, '');
  }

  /** The issuer of a tenant's access tokens. */
  issuer(tenantId: string): string {
    return this.issuerAsWritten(tenantId);
  }

  /** The issuer for a tenant as a request wrote it (discovery and id tokens keep the client's spelling). */
  issuerAsWritten(tenant: string): string {
    return `${this.tenantBase(tenant)}/v2.0`;
  }

  /** The base of a tenant's endpoints: `{public URL}/{tenant}`. */
  tenantBase(tenant: string): string {
    return `${this.base}/${tenant}`;
  }
}

export interface Services {
  config: ServerConfig;
  store: Store;
  clock: Clock;
  publicUrl: PublicUrl;
  tenants: Tenants;
  keys: KeyRing;
  minter: TokenMinter;
  verifier: TokenVerifier;
  hasher: PasswordHasher;
  principals: PrincipalCache;
  users: Users;
  servicePrincipals: ServicePrincipals;
  /** Registered applications (clients with redirect URIs). */
  applications: Applications;
  groups: Groups;
  throttle: SigninThrottle;
  signIn: PasswordSignIn;
  access: AccessControl;
  workspace: WorkspaceServices;
  refreshTokens: RefreshTokens;
  appTokens: AppTokenCache;
  /** Interactive sign-in: authorization codes, device codes, browser sessions, sealed page state. */
  authorizationCodes: AuthorizationCodes;
  deviceCodes: DeviceCodes;
  browserSessions: BrowserSessions;
  interactions: Interactions;
  audit: AuditLog;
  /** Web services' scoring: directory, deployments, gateway, service tokens, logs. */
  scoring: Scoring;
  /** Identities, computes, nodes and runs. */
  compute: ComputeServices;
  /** The node in the server's process (--local-node), when on. */
  builtInNode: BuiltInNode | undefined;
  /** Conditional-access policies, named locations, and the one evaluation every token path calls. */
  conditionalAccess: ConditionalAccess;
  /** Multi-factor authentication: TOTP authenticators and recovery codes. */
  mfa: Mfa;
  /** LDAP / Active Directory directories as an identity source. */
  directories: Directories;
}

/** Builds the parts; call {@link startServices} before serving. */
export function createServices(
  config: ServerConfig,
  store: Store,
  clock: Clock = systemClock,
  onAuditError: (err: unknown) => void = () => undefined,
  onError: (err: unknown, what: string) => void = () => undefined,
  runtimeFactory: RuntimeFactory = createRuntime,
): Services {
  const publicUrl = new PublicUrl();
  const master = MasterKey.load(config.masterKey, config.dataDir);
  // Access and id tokens live at most this long; a retired key stays published for it.
  const keys = new KeyRing(store, master, clock, config.accessTokenLifetimeSec * 1000);
  const issuerOf = (tenantId: string) => publicUrl.issuer(tenantId);
  const tenants = new Tenants(store);
  const hasher = new PasswordHasher(config.argon2);
  const principals = new PrincipalCache(store, clock);
  const refreshTokens = new RefreshTokens(store, clock);
  const access = new AccessControl(store, clock);
  const interactive = config.interactive;
  const browserSessions = new BrowserSessions(store, clock, { idleMs: interactive.sessionIdleSec * 1000, maxMs: interactive.sessionMaxSec * 1000 });
  // A changed password, a disable or a delete ends every session: refresh-token chains and browser sessions.
  const endSessions = async (id: string) => {
    await refreshTokens.revokeUser(id);
    await browserSessions.revokeUser(id);
  };
  const users = new Users(store, hasher, clock, principals, endSessions, (id) => tenants.domainOf(id));
  const appTokens = new AppTokenCache(clock, config.accessTokenLifetimeSec);
  const audit = new AuditLog(store, clock, onAuditError);
  const conditionalAccess = new ConditionalAccess({ store, clock, access, audit, excludeBuiltInAdmin: config.caExcludeAdmin });
  const throttle = new SigninThrottle(store, clock, config.throttle, master.derive('throttle-names'));
  const verifier = new TokenVerifier(keys, clock, issuerOf);
  const servicePrincipals = new ServicePrincipals(store, clock, principals, (id) => appTokens.forget(id));
  const workspace = createWorkspaceServices(store, clock, access, config, master);
  workspace.webServices.setErrorLog((serviceId, detail) => onError(new Error(`service ${serviceId}: ${detail}`), 'a deployment'));
  // Quota refusals and overrides name a principal as authorization refusals do: a user's name, an application's id.
  workspace.quotas.setPrincipalNames(async (id) => {
    const principal = await principals.get(id);
    return principal.exists ? principal.clientName : undefined;
  });
  const minter = new TokenMinter(keys, clock, issuerOf);
  // Memberships changed (a group edited here, or a directory user's groups refreshed): cached decisions go.
  const membershipChanged = () => {
    access.invalidate();
    conditionalAccess.forgetMemberships();
  };
  const directories = new Directories(config.directory, {
    store,
    clock,
    master,
    changes: { membershipChanged, principalChanged: (id) => principals.invalidate(id) },
    endSessions,
    onError,
  });
  const compute = createComputeServices({
    store,
    clock,
    policy: config.compute,
    resourceGroups: workspace.resourceGroups,
    servicePrincipals,
    principals,
    minter,
    publicUrl: () => publicUrl.base,
    accessTokenLifetimeSec: config.accessTokenLifetimeSec,
  });
  workspace.afterScopeRemoved.push(() => compute.computes.forgetOrphanedIdentities());
  const sandbox = new Sandbox(config.scoring.sandbox, config.scoring.runtimeDir);
  const scoring = new Scoring({
    policy: config.scoring,
    sandbox,
    clock,
    webServices: workspace.webServices,
    keys,
    verifier,
    principals,
    access,
    issuerOf,
    publicUrl: () => publicUrl.base,
    createRuntime: runtimeFactory,
    onError,
  });
  return {
    config,
    store,
    clock,
    publicUrl,
    tenants,
    keys,
    minter,
    verifier,
    hasher,
    principals,
    users,
    servicePrincipals,
    applications: new Applications(store, clock, servicePrincipals),
    groups: new Groups(store, clock, membershipChanged),
    throttle,
    signIn: new PasswordSignIn(users, throttle, directories),
    access,
    workspace,
    refreshTokens,
    appTokens,
    authorizationCodes: new AuthorizationCodes(store, clock, interactive.authorizationCodeSec * 1000, (chainId) => refreshTokens.revokeChain(chainId)),
    deviceCodes: new DeviceCodes(store, clock, interactive.deviceCodeSec * 1000, interactive.deviceCodeIntervalSec),
    browserSessions,
    interactions: new Interactions(master, clock, interactive.pageSec * 1000),
    audit,
    conditionalAccess,
    scoring,
    compute,
    builtInNode: config.compute.localNode
      ? new BuiltInNode({ service: compute.nodeService, runs: compute.runs, sandbox, policy: config.compute, python: config.scoring.python, onError: (err) => onError(err, 'the built-in node') })
      : undefined,
    mfa: new Mfa(store, clock, master, throttle, endSessions),
    directories,
  };
}

/** Hourly removal of sign-in state that can no longer be used. */
const sweepers = new WeakMap<Services, NodeJS.Timeout>();

async function sweepSignInState(services: Services): Promise<void> {
  await services.authorizationCodes.sweep();
  await services.deviceCodes.sweep();
  await services.browserSessions.sweep();
}

export async function startServices(services: Services): Promise<void> {
  await services.tenants.load();
  services.conditionalAccess.useMfa((userId) => services.mfa.isEnrolled(userId));
  await services.keys.start();
  services.refreshTokens.start();
  const sweeper = setInterval(() => void sweepSignInState(services).catch(() => undefined), 3600_000);
  sweeper.unref();
  sweepers.set(services, sweeper);
  services.audit.start();
  await services.scoring.start();
  await services.compute.runs.failOrphansOfBuiltIn();
  const runSweeper = setInterval(() => void services.compute.runs.sweep().catch(() => undefined), 5000);
  runSweeper.unref();
  runSweepers.set(services, runSweeper);
  await services.builtInNode?.start();
  await services.directories.start();
}

const runSweepers = new WeakMap<Services, NodeJS.Timeout>();

/** Stops background work; the runtimes stop before the store closes. */
export async function stopServices(services: Services): Promise<void> {
  services.keys.stop();
  services.refreshTokens.stop();
  clearInterval(sweepers.get(services));
  services.audit.stop();
  clearInterval(runSweepers.get(services));
  await services.builtInNode?.stop();
  await services.scoring.stop();
  await services.directories.stop();
}
