/**
 * Server configuration: command-line options over `TESSERA_*` environment variables
 * over defaults. One place turns both into a validated {@link ServerConfig}.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DirectorySettingsError, directoriesFromFile, directoryFromEnv, type DirectoryPolicy } from './ldap/settings.js';
import { DEFAULT_SANDBOX, SANDBOX_MODES, SANDBOX_NETWORKS, type SandboxPolicy } from './sandbox/policy.js';
import { defaultComputePolicy, type ComputePolicy } from './compute/index.js';
import { DEFAULT_QUOTA_LIMITS, GIB, QUOTA_MAXIMUM, type QuotaLimits, type QuotaPolicy } from './workspace/quotaLimits.js';

export type SigningAlg = 'ES256' | 'RS256';

/** Password hashing cost (argon2id). Defaults follow OWASP's second recommended set. */
export interface Argon2Params {
  memoryCost: number; // KiB
  timeCost: number;
  parallelism: number;
}

/** Brute-force policy: per key (an account name or a source address). */
export interface ThrottleRule {
  /** Failures before each further attempt must wait. */
  delayAfter: number;
  /** First wait, doubled with each further failure, capped at maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Failures that lock the key for lockoutMs. */
  lockoutAfter: number;
  lockoutMs: number;
  /** Failures older than this are forgotten. */
  windowMs: number;
  /** Password checks this key may have running at once on one replica; more get 429 at once. */
  maxInFlight: number;
}

export interface ThrottlePolicy {
  account: ThrottleRule;
  address: ThrottleRule;
}

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  /** postgres://… to use PostgreSQL; absent for the embedded SQLite store. */
  databaseUrl: string | undefined;
  /** The URL clients use; defaults to the scheme, host and port the server listens on. */
  publicUrl: string | undefined;
  tlsCertFile: string | undefined;
  tlsKeyFile: string | undefined;
  tlsSelfSigned: boolean;
  adminPassword: string | undefined;
  /** 32 bytes as base64 or hex; absent to use (or create) `master.key` in the data directory. */
  masterKey: string | undefined;
  tenantDomain: string;
  signingAlg: SigningAlg;
  logLevel: string;
  accessTokenLifetimeSec: number;
  argon2: Argon2Params;
  throttle: ThrottlePolicy;
  /** Largest accepted request body, in bytes. */
  bodyLimit: number;
  /**
   * Which proxies' X-Forwarded-For to believe (Fastify's trustProxy): false, true, a hop
   * count, or addresses/CIDRs. Behind a load balancer, per-address throttling needs it.
   */
  trustProxy: boolean | number | string[];
  /**
   * Client credentials: give a principal asking again for the same resource the token it
   * already has while more than half its life remains (TESSERA_APP_TOKEN_REUSE=0 mints
   * every time).
   */
  appTokenReuse: boolean;
  /**
   * TESSERA_CA_EXCLUDE_ADMIN=1: the built-in `admin` account is outside every
   * conditional-access policy, so a bad policy cannot lock everyone out.
   */
  caExcludeAdmin: boolean;
  /** Where registered models are kept, content-addressed (a directory several replicas may share). */
  modelDir: string;
  /** Largest model upload (all files of one version together), in bytes. */
  modelUploadLimit: number;
  scoring: ScoringPolicy;
  /**
   * The workspace resource ID Machine Learning Server's publishing API puts its services in
   * (TESSERA_MLSERVER_WORKSPACE); absent: group `mlserver`, workspace `mlserver` in the
   * bootstrap subscription. Created on first publish if missing.
   */
  mlServerWorkspace: string | undefined;
  interactive: InteractiveSignInPolicy;
  /**
   * Default limits on web services, workers, memory and model storage, per workspace
   * (TESSERA_QUOTA_*) and per principal (TESSERA_QUOTA_PRINCIPAL_*, else the workspace's);
   * administrators override them in the store (`/admin/quotas`).
   */
  quotas: QuotaPolicy;
  /** Computes, nodes and runs (the built-in node, node timeout, run tokens, run files). */
  compute: ComputePolicy;
  /** LDAP / Active Directory directories users sign in with (TESSERA_LDAP_*, --ldap-*, the config file's `directories`). */
  directory: DirectoryPolicy;
}

/** Lifetimes of browser sign-in and device-code sign-in. */
export interface InteractiveSignInPolicy {
  /** A browser session ends after this long unused (TESSERA_BROWSER_SESSION_IDLE_SEC, default 8 h)… */
  sessionIdleSec: number;
  /** …and at the latest this long after its sign-in (TESSERA_BROWSER_SESSION_MAX_SEC, default 24 h). */
  sessionMaxSec: number;
  /** An authorization code must be redeemed within this (at most 60 s, as the issue and RFC 6749 advise: 60). */
  authorizationCodeSec: number;
  /** A device code waits this long for approval (TESSERA_DEVICE_CODE_LIFETIME_SEC, default 900, Entra's). */
  deviceCodeSec: number;
  /** Seconds a device-code client waits between polls (TESSERA_DEVICE_CODE_INTERVAL_SEC, default 5). */
  deviceCodeIntervalSec: number;
  /** How long a sign-in page stays usable once shown (10 minutes). */
  pageSec: number;
}

/** Limits of the scoring gateway and its runtimes (per service unless a service sets its own). */
export interface ScoringPolicy {
  /** Largest scoring request body, in bytes. */
  bodyLimit: number;
  /** How long one scoring request may run before it is answered 504. */
  timeoutMs: number;
  /** Requests that may wait per service replica beyond those running; more get 503. */
  queueSize: number;
  /** The Python that runs `score.py` entry scripts. */
  python: string;
  /** Where deployed services' scripts and model links are laid out for their runtimes. */
  runtimeDir: string;
  /** How long a worker's `init()` may take before the deployment fails (TESSERA_INIT_TIMEOUT_SEC, default 120). */
  initTimeoutMs: number;
  /** How entry scripts (and ONNX models, if asked) are isolated from the server. */
  sandbox: SandboxPolicy;
}

/** Options as the `serve` command receives them (all optional strings or flags). */
export interface ServeOptions {
  port?: string | number;
  host?: string;
  data?: string;
  database?: string;
  publicUrl?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsSelfSigned?: boolean;
  logLevel?: string;
  trustProxy?: string;
  /** --sandbox required|auto|off */
  sandbox?: string;
  /** --sandbox-network none|loopback|all */
  sandboxNetwork?: string;
  /** --isolate-onnx */
  isolateOnnx?: boolean;
  /** --local-node on|off */
  localNode?: string;
  /** --config FILE: a JSON file (today: `directories`, `localAccounts`). */
  config?: string;
  /** --ldap-url, --ldap-bind-dn, --ldap-search-base, --ldap-search-filter, --ldap-ca-file, --ldap-start-tls, --ldap-insecure */
  ldapUrl?: string;
  ldapBindDn?: string;
  ldapSearchBase?: string;
  ldapSearchFilter?: string;
  ldapCaFile?: string;
  ldapStartTls?: boolean;
  ldapInsecure?: boolean;
  /** --local-accounts all|admin */
  localAccounts?: string;
}

export const DEFAULT_ARGON2: Argon2Params = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

export const DEFAULT_THROTTLE: ThrottlePolicy = {
  account: { delayAfter: 3, baseDelayMs: 1000, maxDelayMs: 30_000, lockoutAfter: 10, lockoutMs: 15 * 60_000, windowMs: 15 * 60_000, maxInFlight: 1 },
  address: { delayAfter: 20, baseDelayMs: 1000, maxDelayMs: 30_000, lockoutAfter: 100, lockoutMs: 15 * 60_000, windowMs: 15 * 60_000, maxInFlight: 8 },
};

/** A workspace resource ID (names are checked when it is first used). */
export const ML_SERVER_WORKSPACE = /^\/subscriptions\/[0-9A-Fa-f-]{36}\/resourceGroups\/[^/]{1,90}\/providers\/Microsoft\.MachineLearningServices\/workspaces\/[^/]{1,64}$/i;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function envFlag(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|on)$/i.test(value);
}

function parseTrustProxy(value: string | undefined): boolean | number | string[] {
  if (value === undefined || value === '' || /^(false|no|0|off)$/i.test(value)) return false;
  if (/^(true|yes|on)$/i.test(value)) return true;
  if (/^\d{1,2}$/.test(value)) return Number(value);
  const list = value.split(',').map((v) => v.trim()).filter(Boolean);
  for (const entry of list) {
    if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(entry)) throw new ConfigError(`--trust-proxy takes true, a hop count, or addresses/CIDRs separated by commas; '${entry}' is none of these`);
  }
  return list;
}

/** A positive whole number from the environment (bytes, milliseconds or a count), or the default. */
function parseSize(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d{1,15}$/.test(value) || Number(value) < 1) throw new ConfigError(`${name} must be a positive whole number, not '${value}'`);
  return Number(value);
}

function parsePort(value: string | number): number {
  const port = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`port must be a whole number from 0 to 65535, not '${value}'`);
  return port;
}

/** One of `allowed`, from an option or the environment, or the default. */
function parseChoice<T extends string>(value: string | undefined, name: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined || value === '') return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, not '${value.slice(0, 40)}'`);
  return value as T;
}

/** A quota from the environment: a whole number from 0, or `unlimited`; the fallback when unset. */
function parseQuota(value: string | undefined, name: string, scale: number, max: number, fallback: number | null): number | null {
  if (value === undefined || value === '') return fallback;
  if (/^unlimited$/i.test(value)) return null;
  if (!/^\d{1,15}$/.test(value) || Number(value) * scale > max) throw new ConfigError(`${name} must be a whole number from 0 to ${Math.floor(max / scale)}, or 'unlimited', not '${value.slice(0, 40)}'`);
  return Number(value) * scale;
}

/** One scope kind's defaults: `TESSERA_QUOTA_{prefix}SERVICES`, `…WORKERS`, `…MEMORY_GB`, `…MODEL_STORAGE_GB`. */
function quotaLimits(env: NodeJS.ProcessEnv, prefix: string, fallback: QuotaLimits): QuotaLimits {
  const name = (what: string) => `TESSERA_QUOTA_${prefix}${what}`;
  return {
    services: parseQuota(env[name('SERVICES')], name('SERVICES'), 1, QUOTA_MAXIMUM.services, fallback.services),
    workers: parseQuota(env[name('WORKERS')], name('WORKERS'), 1, QUOTA_MAXIMUM.workers, fallback.workers),
    memoryGb: parseQuota(env[name('MEMORY_GB')], name('MEMORY_GB'), 1, QUOTA_MAXIMUM.memoryGb, fallback.memoryGb),
    modelStorageBytes: parseQuota(env[name('MODEL_STORAGE_GB')], name('MODEL_STORAGE_GB'), GIB, QUOTA_MAXIMUM.modelStorageBytes, fallback.modelStorageBytes),
  };
}

/** Per workspace from TESSERA_QUOTA_*; per principal from TESSERA_QUOTA_PRINCIPAL_*, each defaulting to the workspace's. */
function quotaPolicy(env: NodeJS.ProcessEnv): QuotaPolicy {
  const workspace = quotaLimits(env, '', DEFAULT_QUOTA_LIMITS);
  return { workspace, principal: quotaLimits(env, 'PRINCIPAL_', workspace) };
}

function sandboxPolicy(options: ServeOptions, env: NodeJS.ProcessEnv): SandboxPolicy {
  const policy: SandboxPolicy = {
    mode: parseChoice(options.sandbox ?? env.TESSERA_SANDBOX, '--sandbox', SANDBOX_MODES, DEFAULT_SANDBOX.mode),
    network: parseChoice(options.sandboxNetwork ?? env.TESSERA_SANDBOX_NETWORK, '--sandbox-network', SANDBOX_NETWORKS, DEFAULT_SANDBOX.network),
    tmpSizeMb: parseSize(env.TESSERA_SANDBOX_TMP_MB, 'TESSERA_SANDBOX_TMP_MB', DEFAULT_SANDBOX.tmpSizeMb),
    maxProcesses: parseSize(env.TESSERA_SANDBOX_MAX_PROCESSES, 'TESSERA_SANDBOX_MAX_PROCESSES', DEFAULT_SANDBOX.maxProcesses),
    maxOpenFiles: parseSize(env.TESSERA_SANDBOX_MAX_OPEN_FILES, 'TESSERA_SANDBOX_MAX_OPEN_FILES', DEFAULT_SANDBOX.maxOpenFiles),
    isolateOnnx: options.isolateOnnx ?? envFlag(env.TESSERA_ISOLATE_ONNX),
    bwrap: env.TESSERA_BWRAP || DEFAULT_SANDBOX.bwrap,
  };
  if (env.TESSERA_SANDBOX_CGROUP) {
    if (!path.isAbsolute(env.TESSERA_SANDBOX_CGROUP)) throw new ConfigError('TESSERA_SANDBOX_CGROUP must be an absolute path (a cgroup v2 directory delegated to the server)');
    policy.cgroup = env.TESSERA_SANDBOX_CGROUP;
  }
  return policy;
}

/** `name=/dir,name2=/dir2`: the environments jobs may name. */
export function parseEnvironments(value: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!value) return out;
  for (const entry of value.split(',').map((e) => e.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    const name = entry.slice(0, eq);
    const dir = entry.slice(eq + 1);
    if (eq < 1 || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name) || !path.isAbsolute(dir)) throw new ConfigError(`TESSERA_NODE_ENVIRONMENTS takes name=/absolute/dir pairs separated by commas; '${entry.slice(0, 60)}' is not one`);
    out[name] = dir;
  }
  return out;
}

/** The config file (--config, TESSERA_CONFIG_FILE): JSON with the settings that do not fit a flag. */
function readConfigFile(file: string | undefined): Record<string, unknown> {
  if (file === undefined || file === '') return {};
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(`--config: ${file} cannot be read`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`--config: ${file} is not valid JSON (${(err as Error).message.slice(0, 200)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(`--config: ${file} must hold a JSON object`);
  const known = new Set(['directories', 'localAccounts']);
  const unknown = Object.keys(parsed).filter((k) => !known.has(k));
  if (unknown.length > 0) throw new ConfigError(`--config: ${file} has unknown settings: ${unknown.slice(0, 5).join(', ')} (known: ${[...known].join(', ')})`);
  return parsed as Record<string, unknown>;
}

function directoryPolicy(options: ServeOptions, env: NodeJS.ProcessEnv): DirectoryPolicy {
  const file = options.config ?? env.TESSERA_CONFIG_FILE;
  const fromFile = readConfigFile(file);
  // Flags win over the environment for the one directory TESSERA_LDAP_* describes.
  const merged = {
    ...env,
    ...(options.ldapUrl !== undefined ? { TESSERA_LDAP_URL: options.ldapUrl } : {}),
    ...(options.ldapBindDn !== undefined ? { TESSERA_LDAP_BIND_DN: options.ldapBindDn } : {}),
    ...(options.ldapSearchBase !== undefined ? { TESSERA_LDAP_SEARCH_BASE: options.ldapSearchBase } : {}),
    ...(options.ldapSearchFilter !== undefined ? { TESSERA_LDAP_SEARCH_FILTER: options.ldapSearchFilter } : {}),
    ...(options.ldapCaFile !== undefined ? { TESSERA_LDAP_CA_FILE: options.ldapCaFile } : {}),
    ...(options.ldapStartTls ? { TESSERA_LDAP_STARTTLS: '1' } : {}),
    ...(options.ldapInsecure ? { TESSERA_LDAP_INSECURE: '1' } : {}),
  };
  try {
    const directories = [...(directoryFromEnv(merged) ? [directoryFromEnv(merged)!] : []), ...directoriesFromFile(fromFile.directories, file ?? '')];
    const names = directories.map((d) => d.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined) throw new ConfigError(`two directories are named '${twice}' (TESSERA_LDAP_NAME or the config file's name tells them apart)`);
    const localAccounts = options.localAccounts ?? env.TESSERA_LOCAL_ACCOUNTS ?? (typeof fromFile.localAccounts === 'string' ? fromFile.localAccounts : undefined) ?? 'all';
    if (localAccounts !== 'all' && localAccounts !== 'admin') throw new ConfigError('--local-accounts (TESSERA_LOCAL_ACCOUNTS) must be all or admin');
    return { directories, localAccounts };
  } catch (err) {
    if (err instanceof DirectorySettingsError) throw new ConfigError(err.message);
    throw err;
  }
}

function computePolicy(options: ServeOptions, env: NodeJS.ProcessEnv, dataDir: string): ComputePolicy {
  const defaults = defaultComputePolicy(dataDir);
  return {
    localNode: parseChoice(options.localNode ?? env.TESSERA_LOCAL_NODE, '--local-node', ['on', 'off'], 'on') === 'on',
    nodeTimeoutSec: parseSize(env.TESSERA_NODE_TIMEOUT_SEC, 'TESSERA_NODE_TIMEOUT_SEC', defaults.nodeTimeoutSec),
    runTokenLifetimeSec: parseSize(env.TESSERA_RUN_TOKEN_LIFETIME_SEC, 'TESSERA_RUN_TOKEN_LIFETIME_SEC', defaults.runTokenLifetimeSec),
    runDir: path.resolve(env.TESSERA_RUN_DIR ?? defaults.runDir),
    codeLimit: parseSize(env.TESSERA_RUN_CODE_LIMIT, 'TESSERA_RUN_CODE_LIMIT', defaults.codeLimit),
    artifactLimit: parseSize(env.TESSERA_RUN_ARTIFACT_LIMIT, 'TESSERA_RUN_ARTIFACT_LIMIT', defaults.artifactLimit),
    localNodeCapacity: parseSize(env.TESSERA_LOCAL_NODE_CAPACITY, 'TESSERA_LOCAL_NODE_CAPACITY', defaults.localNodeCapacity),
    environments: parseEnvironments(env.TESSERA_NODE_ENVIRONMENTS),
  };
}

/**
 * Builds the configuration from `serve` options and the environment.
 * @example resolveConfig({ port: '8443', tlsSelfSigned: true }, process.env)
 */
export function resolveConfig(options: ServeOptions = {}, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const dataDir = path.resolve(options.data ?? env.TESSERA_DATA ?? '.tessera');
  const databaseUrl = options.database ?? env.TESSERA_DATABASE;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('--database must be a postgres:// URL (leave it out for the embedded SQLite store)');
  }
  const tlsCertFile = options.tlsCert ?? env.TESSERA_TLS_CERT;
  const tlsKeyFile = options.tlsKey ?? env.TESSERA_TLS_KEY;
  if ((tlsCertFile === undefined) !== (tlsKeyFile === undefined)) throw new ConfigError('--tls-cert and --tls-key go together');
  const tlsSelfSigned = options.tlsSelfSigned ?? envFlag(env.TESSERA_TLS_SELF_SIGNED);
  if (tlsSelfSigned && tlsCertFile) throw new ConfigError('--tls-self-signed and --tls-cert exclude each other');
  const publicUrl = options.publicUrl ?? env.TESSERA_PUBLIC_URL;
  if (publicUrl !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(publicUrl);
    } catch {
      throw new ConfigError(`--public-url is not a URL: '${publicUrl}'`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError('--public-url must be http:// or https://');
    if (parsed.search || parsed.hash) throw new ConfigError('--public-url may not have a query or fragment');
  }
  const signingAlg = (env.TESSERA_SIGNING_ALG ?? 'ES256').toUpperCase();
  if (signingAlg !== 'ES256' && signingAlg !== 'RS256') throw new ConfigError('TESSERA_SIGNING_ALG must be ES256 or RS256');
  const tenantDomain = (env.TESSERA_TENANT_DOMAIN ?? 'tessera.local').toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/.test(tenantDomain)) {
    throw new ConfigError('TESSERA_TENANT_DOMAIN must be a domain name such as contoso.local');
  }
  const mlServerWorkspace = env.TESSERA_MLSERVER_WORKSPACE || undefined;
  if (mlServerWorkspace !== undefined && !ML_SERVER_WORKSPACE.test(mlServerWorkspace)) {
    throw new ConfigError('TESSERA_MLSERVER_WORKSPACE must be a workspace resource ID: /subscriptions/{id}/resourceGroups/{group}/providers/Microsoft.MachineLearningServices/workspaces/{name}');
  }
  return {
    host: options.host ?? env.TESSERA_HOST ?? '127.0.0.1',
    port: parsePort(options.port ?? env.TESSERA_PORT ?? 5080),
    dataDir,
    databaseUrl,
    publicUrl: publicUrl?.replace(/\/+$/, ''),
    tlsCertFile,
    tlsKeyFile,
    tlsSelfSigned,
    adminPassword: env.TESSERA_ADMIN_PASSWORD || undefined,
    masterKey: env.TESSERA_MASTER_KEY || undefined,
    tenantDomain,
    signingAlg,
    logLevel: options.logLevel ?? env.TESSERA_LOG_LEVEL ?? 'info',
    accessTokenLifetimeSec: 3599,
    argon2: { ...DEFAULT_ARGON2 },
    throttle: { account: { ...DEFAULT_THROTTLE.account }, address: { ...DEFAULT_THROTTLE.address } },
    bodyLimit: 64 * 1024,
    trustProxy: parseTrustProxy(options.trustProxy ?? env.TESSERA_TRUST_PROXY),
    appTokenReuse: !/^(0|false|no|off)$/i.test(env.TESSERA_APP_TOKEN_REUSE ?? ''),
    caExcludeAdmin: parseCaExcludeAdmin(env.TESSERA_CA_EXCLUDE_ADMIN),
    modelDir: path.resolve(env.TESSERA_MODEL_DIR ?? path.join(dataDir, 'models')),
    modelUploadLimit: parseSize(env.TESSERA_MODEL_UPLOAD_LIMIT, 'TESSERA_MODEL_UPLOAD_LIMIT', 1024 ** 3),
    scoring: {
      bodyLimit: parseSize(env.TESSERA_SCORING_BODY_LIMIT, 'TESSERA_SCORING_BODY_LIMIT', 1024 ** 2),
      timeoutMs: parseSize(env.TESSERA_SCORING_TIMEOUT_MS, 'TESSERA_SCORING_TIMEOUT_MS', 60_000),
      queueSize: parseSize(env.TESSERA_SCORING_QUEUE, 'TESSERA_SCORING_QUEUE', 64),
      python: env.TESSERA_PYTHON || 'python3',
      runtimeDir: path.join(dataDir, 'runtimes'),
      initTimeoutMs: parseSize(env.TESSERA_INIT_TIMEOUT_SEC, 'TESSERA_INIT_TIMEOUT_SEC', 120) * 1000,
      sandbox: sandboxPolicy(options, env),
    },
    mlServerWorkspace,
    interactive: {
      sessionIdleSec: parseSize(env.TESSERA_BROWSER_SESSION_IDLE_SEC, 'TESSERA_BROWSER_SESSION_IDLE_SEC', 8 * 3600),
      sessionMaxSec: parseSize(env.TESSERA_BROWSER_SESSION_MAX_SEC, 'TESSERA_BROWSER_SESSION_MAX_SEC', 24 * 3600),
      authorizationCodeSec: 60,
      deviceCodeSec: parseSize(env.TESSERA_DEVICE_CODE_LIFETIME_SEC, 'TESSERA_DEVICE_CODE_LIFETIME_SEC', 900),
      deviceCodeIntervalSec: parseSize(env.TESSERA_DEVICE_CODE_INTERVAL_SEC, 'TESSERA_DEVICE_CODE_INTERVAL_SEC', 5),
      pageSec: 600,
    },
    quotas: quotaPolicy(env),
    compute: computePolicy(options, env, dataDir),
    directory: directoryPolicy(options, env),
  };
}

/** TESSERA_CA_EXCLUDE_ADMIN: 1/true/yes/on or 0/false/no/off (default off). */
function parseCaExcludeAdmin(value: string | undefined): boolean {
  if (value === undefined || value === '') return false;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigError('TESSERA_CA_EXCLUDE_ADMIN must be 1 or 0 (true/false, yes/no, on/off)');
}
