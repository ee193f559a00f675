/**
 * Where the server, subscription, resource group and workspace a command uses come from,
 * in one order for every command: an explicit flag, else the environment
 * (`TESSERA_SERVER`, `TESSERA_SUBSCRIPTION`, `TESSERA_RESOURCE_GROUP`,
 * `TESSERA_WORKSPACE_NAME`), else the nearest `config.json` (for `ml` commands), else the
 * session (`tessera login`, `tessera account set`). `--verbose` says where each came from;
 * when the config file and the session disagree, a warning names both, once.
 */
import path from 'node:path';
import { AccountProfile, findWorkspaceConfig, normalizeServerUrl, readWorkspaceConfig, SUBSCRIPTION_ENV, type Account, type WorkspaceConfigFile } from '@tessera/sdk';
import { info, warnOnce } from './log.js';
import { UsageError } from './usageError.js';

/** The environment variables, by setting. */
export const SETTING_ENV = {
  server: 'TESSERA_SERVER',
  subscription: SUBSCRIPTION_ENV,
  resourceGroup: 'TESSERA_RESOURCE_GROUP',
  workspaceName: 'TESSERA_WORKSPACE_NAME',
} as const;

/** A setting's value and where it came from, for `--verbose` and for messages. */
export interface Setting {
  value: string;
  from: string;
}

function fromEnv(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** Compares server URLs as the same server when they normalize alike. */
function sameServer(a: string, b: string): boolean {
  try {
    return normalizeServerUrl(a) === normalizeServerUrl(b);
  } catch {
    return a === b;
  }
}

/** `TESSERA_SERVER` checked as a URL; a bad one is a usage error naming the variable. */
function serverFromEnv(): string | undefined {
  const raw = fromEnv(SETTING_ENV.server);
  if (raw === undefined) return undefined;
  try {
    return normalizeServerUrl(raw);
  } catch (err) {
    throw new UsageError(`${SETTING_ENV.server} is not a server URL: ${(err as Error).message}`);
  }
}

/**
 * The server a signed-in command talks to: `TESSERA_SERVER`, else `configServer` (an ml
 * command's config.json), else the session's. Tokens always come from the session's
 * server, so a different one is warned about (a config file's is first checked to be the
 * same server under another name: see confirmSameServer).
 */
export function serverFor(account: Account, config?: { url: string; file: string }): Setting {
  const env = serverFromEnv();
  const chosen: Setting =
    env !== undefined ? { value: env, from: SETTING_ENV.server } : config !== undefined ? { value: normalizeServerUrl(config.url), from: config.file } : { value: account.server, from: 'the session' };
  if (chosen.from !== 'the session' && !sameServer(chosen.value, account.server)) {
    warnOnce(
      'server',
      `${chosen.from} names the server ${chosen.value}, but the session is signed in to ${account.server}: using ${chosen.value}` +
        (chosen.from === SETTING_ENV.server ? '.' : ` (a config file wins over the session; set ${SETTING_ENV.server} or edit the file to choose, or sign in there with tessera login --server).`),
    );
  }
  info(`Server ${chosen.value} (from ${chosen.from})`);
  return chosen;
}

/** The flags every `ml` command takes to name its workspace. */
export interface WorkspaceFlags {
  workspaceName?: string;
  resourceGroup?: string;
  subscription?: string;
}

/** A workspace named by flags, environment, config.json and session, each field on its own. */
export interface WorkspaceSettings {
  workspaceName: Setting;
  resourceGroup: Setting;
  subscriptionId: Setting;
  server: Setting;
  tenantId?: string;
}

/**
 * Resolves the workspace an `ml` command works in. The config file is read only when the
 * workspace or the resource group is left open (so an unreadable one never stands in the
 * way of a command that names both); with both named, the subscription comes from
 * --subscription, the environment or the session, never from a file.
 */
export async function workspaceSettings(flags: WorkspaceFlags, profile: AccountProfile, cwd = process.cwd()): Promise<WorkspaceSettings> {
  const workspaceName = named(flags.workspaceName, '-w/--workspace-name', SETTING_ENV.workspaceName);
  const resourceGroup = named(flags.resourceGroup, '-g/--resource-group', SETTING_ENV.resourceGroup);
  const account = await profile.auth.account();

  let config: Partial<WorkspaceConfigFile> = {};
  let file = '';
  if (workspaceName === undefined || resourceGroup === undefined) {
    try {
      file = await findWorkspaceConfig(cwd);
    } catch (err) {
      throw new UsageError(`${(err as Error).message} Or name the workspace with -w/--workspace-name and -g/--resource-group (or ${SETTING_ENV.workspaceName} and ${SETTING_ENV.resourceGroup}).`);
    }
    config = await readWorkspaceConfig(file);
    file = path.relative(cwd, file) || file;
  }
  const fromFile = (field: 'workspace_name' | 'resource_group', flagName: string): Setting => {
    const value = config[field];
    if (value === undefined) throw new UsageError(`${file} has no '${field}': add it, or give ${flagName}.`);
    return { value, from: file };
  };
  if (config.server_url !== undefined && serverFromEnv() === undefined) await confirmSameServer(config.server_url, file, account);
  const settings: WorkspaceSettings = {
    workspaceName: workspaceName ?? fromFile('workspace_name', '-w/--workspace-name'),
    resourceGroup: resourceGroup ?? fromFile('resource_group', '-g/--resource-group'),
    subscriptionId: await subscriptionSetting(named(flags.subscription, '--subscription', SETTING_ENV.subscription), config.subscription_id, file, profile),
    server: serverFor(account, config.server_url !== undefined ? { url: config.server_url, file } : undefined),
    tenantId: config.tenant_id,
  };
  if (config.tenant_id !== undefined && config.tenant_id.toLowerCase() !== account.tenantId.toLowerCase()) {
    warnOnce('tenant', `${file} names the tenant ${config.tenant_id}, but the session is signed in to the tenant ${account.tenantId}.`);
  }
  info(`Workspace ${settings.workspaceName.value} (from ${settings.workspaceName.from}), resource group ${settings.resourceGroup.value} (from ${settings.resourceGroup.from})`);
  return settings;
}

/**
 * A config file is found from the current directory upwards, so it may come with a clone
 * of someone else's project: before the session's tokens go to the server it names, that
 * server must be the session's under another name (its OpenID issuer is the same).
 * Otherwise the command stops, naming both, and nothing is sent with a token.
 */
async function confirmSameServer(url: string, file: string, account: Account): Promise<void> {
  let named: string;
  try {
    named = normalizeServerUrl(url);
  } catch (err) {
    throw new UsageError(`${file}: 'server_url' is not a server URL: ${(err as Error).message}`);
  }
  if (sameServer(named, account.server)) return;
  const [theirs, ours] = await Promise.all([issuerOf(named, account.tenantId), issuerOf(account.server, account.tenantId)]);
  if (theirs.issuer !== undefined && theirs.issuer === ours.issuer) return;
  const why = theirs.issuer === undefined ? `it could not be asked who it is (${theirs.error ?? 'no issuer'})` : 'it is another server (its token issuer differs)';
  throw new UsageError(
    `${file} names the server ${named}, but the session is signed in to ${account.server}, and ${why}: the session's tokens are not sent there. ` +
      `Sign in there with tessera login --server ${named}, or correct 'server_url' in ${file}.`,
  );
}

/** The OpenID issuer a server names for `tenant` (no credentials sent), or why it could not be had. */
async function issuerOf(server: string, tenant: string): Promise<{ issuer?: string; error?: string }> {
  try {
    const response = await fetch(`${server}/${encodeURIComponent(tenant)}/v2.0/.well-known/openid-configuration`, { redirect: 'error', signal: AbortSignal.timeout(10_000) });
    // A server that does not know the session's tenant is another server.
    if (response.status === 400 || response.status === 404) return { error: `it does not know the session's tenant: HTTP ${response.status}` };
    if (!response.ok) return { error: `HTTP ${response.status}` };
    const issuer = ((await response.json()) as { issuer?: unknown }).issuer;
    return typeof issuer === 'string' ? { issuer } : { error: 'no issuer' };
  } catch (err) {
    const cause = (err as { cause?: { code?: unknown } }).cause?.code;
    return { error: typeof cause === 'string' ? cause : (err as Error).name };
  }
}

/** A flag's value, else the environment's, with where it came from; undefined for neither. */
function named(flag: string | undefined, flagName: string, envName: string): Setting | undefined {
  if (flag !== undefined) return { value: flag, from: flagName };
  const env = fromEnv(envName);
  return env === undefined ? undefined : { value: env, from: envName };
}

/** The subscription: flag or environment (an id or a name), else config.json, else the session's choice or default. */
async function subscriptionSetting(given: Setting | undefined, fromFile: string | undefined, file: string, profile: AccountProfile): Promise<Setting> {
  let setting: Setting;
  if (given !== undefined) {
    setting = { value: (await profile.resolve(given.value)).subscriptionId, from: given.from };
  } else if (fromFile !== undefined) {
    const chosen = await profile.selected();
    if (chosen !== undefined && chosen !== fromFile.toLowerCase()) {
      warnOnce('subscription', `${file} names the subscription ${fromFile}, but tessera account set chose ${chosen}: using ${fromFile} (a config file wins over the session).`);
    }
    setting = { value: fromFile, from: file };
  } else {
    setting = { value: (await profile.resolve(undefined)).subscriptionId, from: 'the session' };
  }
  info(`Subscription ${setting.value} (from ${setting.from})`);
  return setting;
}
