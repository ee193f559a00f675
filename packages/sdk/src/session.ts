/**
 * The CLI session file, shared by the `tessera` command and {@link CliAuthentication}:
 * `~/.tessera/session.json` (`TESSERA_CONFIG_DIR` moves the directory). The directory is
 * created 0700, the file is 0600 and always replaced whole (temp file + rename), so a
 * reader never sees half a session.
 */
import crypto from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { NotSignedInError } from './errors.js';

/** An access token kept in the session for reuse. */
export interface CachedAccessToken {
  accessToken: string;
  /** Epoch seconds. */
  expiresOn: number;
}

/** A subscription as the session remembers it (what `tessera account list` shows without asking the server). */
export interface KnownSubscription {
  id: string;
  name: string;
  state: string;
  tenantId: string;
}

/** What `tessera login` stores for a user (every sign-in but `--service-principal`). */
export interface Session {
  /** Absent in sessions written before service-principal sessions existed: a user's session. */
  kind?: 'user';
  /** The server's base URL, without a trailing slash. */
  server: string;
  tenantId: string;
  username: string;
  objectId: string;
  /** The public client the refresh token was issued to. */
  clientId: string;
  refreshToken: string;
  /** Access tokens by resource URI (as asked for). */
  tokens: Record<string, CachedAccessToken>;
  /** The subscription `tessera account set` chose; absent: the first enabled one the account sees. */
  subscriptionId?: string;
  /** The subscriptions the account could see when last asked (login, `account list --refresh`); absent: not asked yet. */
  subscriptions?: KnownSubscription[];
}

/**
 * What `tessera login --service-principal` stores: the principal's credential (the secret
 * itself, as az keeps it, in this 0600 file; or the path of the PEM file holding the
 * certificate and its key, which is not copied) and the access tokens it got. There is no
 * refresh token: a new token is asked for with the credential.
 */
export interface ServicePrincipalSession {
  kind: 'servicePrincipal';
  server: string;
  tenantId: string;
  /** The application (client) id. */
  appId: string;
  /** The service principal's object id. */
  objectId: string;
  /** A client secret (`tscs_…`); exactly one of `secret` and `certificateFile`. */
  secret?: string;
  /** Absolute path of a PEM holding the registered certificate and its private key. */
  certificateFile?: string;
  tokens: Record<string, CachedAccessToken>;
  /** As {@link Session.subscriptionId}. */
  subscriptionId?: string;
  /** As {@link Session.subscriptions}. */
  subscriptions?: KnownSubscription[];
}

/**
 * What `tessera login --identity` stores, inside a job on a compute with a managed
 * identity: who the identity is and the tokens it got. No secret: a new token is asked of
 * the node's identity endpoint, whose header value is read from the environment each time.
 */
export interface IdentitySession {
  kind: 'identity';
  server: string;
  tenantId: string;
  /** The identity's client (application) id. */
  clientId: string;
  /** The identity's object (principal) id. */
  objectId: string;
  /** The client id asked for (`--username`); absent: the compute's default identity. */
  requestedClientId?: string;
  tokens: Record<string, CachedAccessToken>;
  /** As {@link Session.subscriptionId}. */
  subscriptionId?: string;
  /** As {@link Session.subscriptions}. */
  subscriptions?: KnownSubscription[];
}

/** Any session file: a user's, a service principal's, or a managed identity's. */
export type StoredSession = Session | ServicePrincipalSession | IdentitySession;

const SESSION_FILE = 'session.json';

/** The session directory: `explicit`, else `TESSERA_CONFIG_DIR`, else `~/.tessera`. */
export function configDir(explicit?: string): string {
  return path.resolve(explicit ?? process.env.TESSERA_CONFIG_DIR ?? path.join(os.homedir(), '.tessera'));
}

/** The session file's path in `dir`. */
export function sessionPath(dir: string): string {
  return path.join(dir, SESSION_FILE);
}

/** Creates `dir` (0700) if it does not exist; an existing directory is left as it is. */
export async function ensureConfigDir(dir: string): Promise<void> {
  const created = await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode passes through the umask; make the directory exactly 0700.
  if (created !== undefined) await fs.chmod(dir, 0o700);
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function isKnownSubscription(value: unknown): value is KnownSubscription {
  const s = value as Partial<KnownSubscription> | null;
  return s !== null && typeof s === 'object' && typeof s.id === 'string' && GUID.test(s.id) && typeof s.name === 'string' && typeof s.state === 'string' && typeof s.tenantId === 'string';
}

function isString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function validTokens(value: unknown): Record<string, CachedAccessToken> {
  const tokens: Record<string, CachedAccessToken> = {};
  for (const [resource, t] of Object.entries(value as Record<string, Partial<CachedAccessToken>>)) {
    if (t && isString(t.accessToken) && typeof t.expiresOn === 'number') tokens[resource] = { accessToken: t.accessToken, expiresOn: t.expiresOn };
  }
  return tokens;
}

/** Checks a parsed session file's shape; throws a {@link NotSignedInError} naming the file when it is damaged. */
function validSession(value: unknown, file: string): StoredSession {
  const damaged = () => new NotSignedInError(`the session file ${file} is damaged: run tessera login`);
  if (value === null || typeof value !== 'object') throw damaged();
  const common = value as Partial<StoredSession>;
  if (!isString(common.server) || !isString(common.tenantId) || typeof common.tokens !== 'object' || common.tokens === null) throw damaged();
  if (common.subscriptionId !== undefined && !(typeof common.subscriptionId === 'string' && GUID.test(common.subscriptionId))) throw damaged();
  if (common.subscriptions !== undefined && !(Array.isArray(common.subscriptions) && common.subscriptions.every(isKnownSubscription))) throw damaged();
  if (common.kind === 'servicePrincipal') {
    const sp = value as Partial<ServicePrincipalSession>;
    const hasSecret = sp.secret !== undefined;
    const hasCertificate = sp.certificateFile !== undefined;
    const credentialOk = hasSecret !== hasCertificate && (hasSecret ? isString(sp.secret) : isString(sp.certificateFile));
    if (!isString(sp.appId) || !isString(sp.objectId) || !credentialOk) throw damaged();
    return { ...(sp as ServicePrincipalSession), tokens: validTokens(sp.tokens) };
  }
  if (common.kind === 'identity') {
    const id = value as Partial<IdentitySession>;
    if (!isString(id.clientId) || !isString(id.objectId) || (id.requestedClientId !== undefined && !isString(id.requestedClientId))) throw damaged();
    return { ...(id as IdentitySession), tokens: validTokens(id.tokens) };
  }
  const s = value as Partial<Session>;
  const fieldsOk = (s.kind === undefined || s.kind === 'user') && isString(s.username) && isString(s.objectId) && isString(s.clientId) && isString(s.refreshToken);
  if (!fieldsOk) throw damaged();
  return { ...(s as Session), tokens: validTokens(s.tokens) };
}

/**
 * As ssh refuses a private key others can read, a session file that is not the caller's
 * own, or that its group or others may read or write, is not used: it holds a refresh
 * token or a secret, and a file another account can write could point the CLI at a
 * server of its choosing. (POSIX only: Windows has no such mode bits.)
 */
function refuseUnprotected(stat: { mode: number; uid: number }, file: string, toRevoke: boolean): void {
  if (process.platform === 'win32') return;
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) {
    throw new NotSignedInError(`the session file ${file} belongs to another user (uid ${stat.uid}), so it is ignored: sign in with tessera login`);
  }
  const mode = stat.mode & 0o777;
  // Read only to revoke it: a token others could read is revoked, not left valid; one others could write is not trusted even for that.
  const refused = toRevoke ? 0o022 : 0o077;
  if ((mode & refused) !== 0) {
    throw new NotSignedInError(`the session file ${file} is not protected: its permissions are ${mode.toString(8).padStart(4, '0')}, and it must not be readable or writable by others. It is ignored: run chmod 600 ${file}, or tessera login again`);
  }
}

/** How a session file is read. */
export interface ReadSessionOptions {
  /**
   * Read to revoke it (a new sign-in replacing it, or logout): a file others may read is
   * still read, so its exposed refresh token can be revoked; one others may write is not.
   */
  toRevoke?: boolean;
}

/** The session in `dir` (a user's, a service principal's or a managed identity's), or undefined when there is none. */
export async function readStoredSession(dir: string, options: ReadSessionOptions = {}): Promise<StoredSession | undefined> {
  const file = sessionPath(dir);
  let handle: FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new NotSignedInError(`the session file ${file} cannot be read (${code ?? 'unreadable'})`);
  }
  let text: string;
  try {
    // Checked on the open file, not the path: nothing can swap the file in between.
    refuseUnprotected(await handle.stat(), file, options.toRevoke === true);
    text = await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new NotSignedInError(`the session file ${file} is damaged: run tessera login`);
  }
  return validSession(parsed, file);
}

/**
 * The user session in `dir`, or undefined when there is none. A service principal's
 * session is not a user's: it throws a {@link NotSignedInError} (use {@link readStoredSession}).
 */
export async function readSession(dir: string, options: ReadSessionOptions = {}): Promise<Session | undefined> {
  const session = await readStoredSession(dir, options);
  if (session?.kind === 'servicePrincipal') {
    throw new NotSignedInError(`the session in ${sessionPath(dir)} is a service principal's (tessera login --service-principal), not a user's`);
  }
  if (session?.kind === 'identity') {
    throw new NotSignedInError(`the session in ${sessionPath(dir)} is a managed identity's (tessera login --identity), not a user's`);
  }
  return session;
}

/** Replaces the session in `dir` atomically, mode 0600. */
export async function writeSession(dir: string, session: StoredSession): Promise<void> {
  await ensureConfigDir(dir);
  await writePrivateFile(sessionPath(dir), `${JSON.stringify(session, null, 2)}\n`);
}

/**
 * Replaces `file` with `text`, mode 0600 from the start: a temporary file in the same
 * folder, synced and renamed over the target, so it is never readable by others, not
 * even for a moment, and never half-written.
 */
export async function writePrivateFile(file: string, text: string): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`);
  const handle = await fs.open(temp, 'wx', 0o600);
  try {
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, file);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
}

/** Deletes the session in `dir`; returns whether there was one. */
export async function removeSession(dir: string): Promise<boolean> {
  try {
    await fs.unlink(sessionPath(dir));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
