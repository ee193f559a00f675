/**
 * Azure ML's InteractiveLoginAuthentication for Tessera: use a session there already is,
 * else sign in in the browser once and keep that session for later runs.
 *
 * Which session, in order: with `force`, none (the browser, at the first token); else
 * this credential's own session (kept in `<config dir>/sdk/`, written by an earlier
 * browser sign-in of this class); else the `tessera` CLI's session (as Azure ML's reuses
 * az's); else the browser. A session is used only when it is for the asked server and
 * tenant. When the session in use turns out to be expired or revoked, the browser is
 * opened once more.
 */
import path from 'node:path';
import { AbstractAuthentication, type AuthenticationOptions } from './abstractAuthentication.js';
import type { AccessToken } from './audience.js';
import { loginWithBrowser, discover, type OpenBrowser } from './browserLogin.js';
import { CliAuthentication, type Account } from './cliAuthentication.js';
import { NotSignedInError } from './errors.js';
import { HttpClient } from './http.js';
import { normalizeServerUrl } from './serverUrl.js';
import { configDir as defaultConfigDir, readStoredSession, type StoredSession } from './session.js';

/** Options of {@link InteractiveLoginAuthentication}. */
export interface InteractiveLoginAuthenticationOptions extends AuthenticationOptions {
  /** The tenant (id or domain); default: the session's, or the server's default tenant. */
  tenantId?: string | undefined;
  /** Sign in in the browser even when there is a session. */
  force?: boolean | undefined;
  /** The server; default: the session's. Needed when there is no session. */
  server?: string | undefined;
  /** Opens the sign-in page; default `$BROWSER`, xdg-open or open. */
  openBrowser?: OpenBrowser | undefined;
  /** The CLI's config directory; default `TESSERA_CONFIG_DIR` or `~/.tessera`. This credential's own session is in its `sdk/`. */
  configDir?: string | undefined;
  /** How long the browser sign-in may take; default five minutes. */
  browserTimeoutMs?: number | undefined;
  /** How long each request may take; default 30 s. */
  requestTimeoutMs?: number | undefined;
}

/** Where {@link InteractiveLoginAuthentication} keeps its own session for the CLI config directory `dir`. */
export function interactiveSessionDir(dir: string): string {
  return path.join(dir, 'sdk');
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Authenticates as a person, interactively the first time.
 * @example
 * const auth = new InteractiveLoginAuthentication({ server: 'https://ml.example.com' });
 * const { token } = await auth.getToken(Audience.Workspace);   // the browser opens only if there is no session
 */
export class InteractiveLoginAuthentication extends AbstractAuthentication {
  /** The CLI's config directory. */
  readonly configDir: string;
  /** This credential's own session directory. */
  readonly sessionDir: string;
  private readonly options: InteractiveLoginAuthenticationOptions;
  private readonly server: string | undefined;
  private source: Promise<CliAuthentication> | undefined;
  private signedInHere = false;

  constructor(options: InteractiveLoginAuthenticationOptions = {}) {
    super(options);
    this.options = options;
    this.server = options.server === undefined ? undefined : normalizeServerUrl(options.server);
    this.configDir = defaultConfigDir(options.configDir);
    this.sessionDir = interactiveSessionDir(this.configDir);
  }

  /** Who the tokens are for (signing in first if needed). */
  async account(): Promise<Account> {
    return (await this.credential()).account();
  }

  protected async fetchToken(audience: string): Promise<AccessToken> {
    const credential = await this.credential();
    try {
      return await credential.getToken(audience);
    } catch (err) {
      // A session made by this instance's own sign-in is not retried: that would open the browser again and again.
      if (!(err instanceof NotSignedInError) || this.signedInHere) throw err;
      // The session found expired or was revoked: sign in again, once.
      const fresh = this.signIn(await readStoredSession(credential.configDir).catch(() => undefined));
      this.source = fresh;
      return (await fresh).getToken(audience);
    }
  }

  /** The session this instance uses, chosen (or made) once. */
  private credential(): Promise<CliAuthentication> {
    this.source ??= this.choose();
    const chosen = this.source;
    chosen.catch(() => {
      if (this.source === chosen) this.source = undefined; // a failed sign-in may be tried again
    });
    return chosen;
  }

  private async choose(): Promise<CliAuthentication> {
    const own = await readStoredSession(this.sessionDir).catch(() => undefined);
    const cli = await readStoredSession(this.configDir).catch(() => undefined);
    if (!this.options.force) {
      if (own && (await this.fits(own))) return this.over(this.sessionDir);
      if (cli && (await this.fits(cli))) return this.over(this.configDir);
    }
    return this.signIn(own ?? cli);
  }

  /** Whether `session` is for the asked server and tenant. */
  private async fits(session: StoredSession): Promise<boolean> {
    if (this.server !== undefined && session.server !== this.server) return false;
    const tenant = this.options.tenantId;
    if (tenant === undefined || tenant.toLowerCase() === session.tenantId.toLowerCase()) return true;
    if (GUID.test(tenant)) return false;
    // A domain: the server says which tenant it names.
    try {
      return (await discover(new HttpClient({ timeoutMs: this.options.requestTimeoutMs }), session.server, tenant)).tenant_id === session.tenantId;
    } catch {
      return false;
    }
  }

  /** Signs in in the browser and keeps the session in {@link sessionDir}. */
  private async signIn(previous: StoredSession | undefined): Promise<CliAuthentication> {
    const server = this.server ?? previous?.server;
    if (server === undefined) throw new NotSignedInError('InteractiveLoginAuthentication needs the server (server: …) when there is no session to take it from');
    await loginWithBrowser({
      server,
      tenant: this.options.tenantId ?? (previous && previous.server === server ? previous.tenantId : undefined),
      openBrowser: this.options.openBrowser,
      timeoutMs: this.options.browserTimeoutMs,
      requestTimeoutMs: this.options.requestTimeoutMs,
      configDir: this.sessionDir,
    });
    this.signedInHere = true;
    return this.over(this.sessionDir);
  }

  private over(dir: string): CliAuthentication {
    return new CliAuthentication({ configDir: dir, clock: this.clock, timeoutMs: this.options.requestTimeoutMs });
  }
}
