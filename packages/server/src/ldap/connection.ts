/**
 * Connections to one directory: every connection is encrypted (LDAPS, or StartTLS
 * before anything else is sent) unless the settings say `insecure`; URLs are tried in
 * order, starting from the last one that answered (fail-over); searches share a small
 * pool of connections bound as the service account; a user's password is checked on a
 * connection of its own that is closed right after, so no connection ever carries a
 * user's identity into a later search. Every operation has a time limit, so a slow
 * directory costs a sign-in its timeout, never the event loop.
 */
import fs from 'node:fs';
import net from 'node:net';
import type tls from 'node:tls';
import { Client, InvalidCredentialsError, ResultCodeError, type SearchOptions, type Entry } from 'ldapts';
import { TesseraError } from '../errors.js';
import type { DirectorySettings } from './settings.js';

/** No URL of the directory answered (refused, timed out, TLS failed). */
export class DirectoryUnreachableError extends Error {
  constructor(
    readonly directory: string,
    readonly causes: string[],
  ) {
    super(`The directory '${directory}' did not answer: ${causes.join('; ')}`);
    this.name = 'DirectoryUnreachableError';
  }
}

interface Pooled {
  client: Client;
  url: string;
  /** Set when the socket closed (the directory went away): never handed out again. */
  closed: boolean;
}

/**
 * Watches the client's socket for its end. ldapts notices a closed plain or LDAPS socket,
 * but after StartTLS it keeps listening on the socket it upgraded, so a directory that
 * went away would only show as an operation's timeout; the socket is reached through the
 * client's (untyped) field for that reason alone.
 */
function watchClose(pooled: Pooled): void {
  const socket = (pooled.client as unknown as { socket?: NodeJS.EventEmitter }).socket;
  socket?.once('close', () => {
    pooled.closed = true;
  });
}

/** Whether an error means the connection, rather than the request, failed. */
function isConnectionFailure(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== undefined && /^(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|ERR_TLS_|ERR_SSL_|DEPTH_ZERO|UNABLE_TO|SELF_SIGNED|CERT_|ERR_SOCKET)/.test(code)) return true;
  return /timeout|timed out|connection (closed|reset|refused)|socket|not connected|ECONN|certificate|TLS|closed/i.test(err.message);
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  return (code ? `${code}: ` : '') + err.message.slice(0, 200);
}

export class DirectoryConnections {
  private readonly idle: Pooled[] = [];
  private readonly waiters: Array<(p: Pooled | undefined) => void> = [];
  private open = 0;
  /** Index of the URL that last answered: new connections try it first. */
  private preferred = 0;
  private readonly ca: Buffer | undefined;
  private closed = false;

  constructor(private readonly settings: DirectorySettings) {
    this.ca = settings.caFile !== undefined ? fs.readFileSync(settings.caFile) : undefined;
  }

  /** Connects (with fail-over) and, when the settings ask, upgrades with StartTLS. */
  private async connect(): Promise<Pooled> {
    const { urls } = this.settings;
    const causes: string[] = [];
    for (let i = 0; i < urls.length; i++) {
      const index = (this.preferred + i) % urls.length;
      const url = urls[index]!;
      const tlsOptions = this.tlsOptionsFor(url);
      const secure = url.startsWith('ldaps://');
      // ldapts opens TLS at once whenever tlsOptions are given: an ldap:// URL gets them only at StartTLS.
      const client = new Client({ url, timeout: this.settings.timeoutMs, connectTimeout: this.settings.connectTimeoutMs, ...(secure ? { tlsOptions } : {}), strictDN: false });
      try {
        if (!secure && this.settings.startTls) await client.startTLS(tlsOptions);
        else if (url.startsWith('ldaps://') || this.settings.insecure) await this.probe(client);
        this.preferred = index;
        const pooled: Pooled = { client, url, closed: false };
        watchClose(pooled);
        return pooled;
      } catch (err) {
        causes.push(`${url}: ${describe(err)}`);
        await client.unbind().catch(() => undefined);
      }
    }
    throw new DirectoryUnreachableError(this.settings.name, causes);
  }

  /**
   * TLS options for one URL: the CA, TLS 1.2 at least, and the host the certificate must
   * name (StartTLS upgrades a socket, and Node would otherwise check it against 'localhost').
   */
  private tlsOptionsFor(url: string): tls.ConnectionOptions {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return { ...(this.ca ? { ca: this.ca } : {}), minVersion: 'TLSv1.2', host, ...(net.isIP(host) === 0 ? { servername: host } : {}) };
  }

  /** Opens the connection at once (ldapts connects lazily), so an unreachable URL fails over here. */
  private async probe(client: Client): Promise<void> {
    // A base-scope read of the root DSE: allowed anonymously by every directory.
    await client.search('', { scope: 'base', filter: '(objectClass=*)', attributes: ['1.1'], sizeLimit: 1 });
  }

  private async serviceConnection(): Promise<Pooled> {
    const pooled = await this.connect();
    try {
      if (this.settings.bindDn !== undefined) await pooled.client.bind(this.settings.bindDn, this.settings.bindPassword);
      return pooled;
    } catch (err) {
      await pooled.client.unbind().catch(() => undefined);
      throw err;
    }
  }

  /** What the directory said no to, as a DirectoryError naming the setting to look at (never a value). */
  private refusal(err: unknown): unknown {
    if (err instanceof InvalidCredentialsError) return new TesseraError('DirectoryError', `The directory '${this.settings.name}' refused the service account's bind: check bindDn and its password.`);
    if (err instanceof ResultCodeError) return new TesseraError('DirectoryError', `The directory '${this.settings.name}' refused the search (${err.constructor.name.replace(/Error$/, '')}): check searchBase, the filters and the service account's rights.`);
    return err;
  }

  private async acquire(): Promise<Pooled> {
    if (this.closed) throw new DirectoryUnreachableError(this.settings.name, ['the server is stopping']);
    const ready = this.idle.pop();
    if (ready && !ready.closed && ready.client.isConnected) return ready;
    if (ready) {
      // Not awaited: an unbind on a socket that is gone waits for the operation timeout.
      this.open--;
      void ready.client.unbind().catch(() => undefined);
    }
    if (this.open < this.settings.poolSize) {
      this.open++;
      try {
        return await this.serviceConnection();
      } catch (err) {
        this.open--;
        this.wakeOne();
        throw err;
      }
    }
    const handed = await new Promise<Pooled | undefined>((resolve) => this.waiters.push(resolve));
    return handed ?? this.acquire();
  }

  private release(p: Pooled, broken: boolean): void {
    if (broken || this.closed) {
      this.open--;
      void p.client.unbind().catch(() => undefined);
      this.wakeOne();
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) waiter(p);
    else this.idle.push(p);
  }

  private drainIdle(): void {
    for (const p of this.idle.splice(0)) this.release(p, true);
  }

  /** A waiter is told to open its own connection (a slot was freed). */
  private wakeOne(): void {
    this.waiters.shift()?.(undefined);
  }

  /**
   * Searches as the service account. A connection that failed is dropped and the search
   * tried once more on a new one (which fails over to the next URL).
   */
  async search(base: string, options: SearchOptions): Promise<Entry[]> {
    for (let attempt = 0; ; attempt++) {
      const p = await this.acquire().catch((err: unknown) => {
        throw err instanceof DirectoryUnreachableError ? err : this.refusal(err);
      });
      try {
        const { searchEntries } = await p.client.search(base, options);
        this.release(p, false);
        return searchEntries;
      } catch (err) {
        const broken = p.closed || isConnectionFailure(err);
        this.release(p, broken);
        // The others were opened to the same server: they are likely gone too.
        if (broken) this.drainIdle();
        if (broken && attempt === 0) continue;
        if (broken) throw new DirectoryUnreachableError(this.settings.name, [`${p.url}: ${describe(err)}`]);
        throw this.refusal(err);
      }
    }
  }

  /**
   * Whether `password` is the password of `dn`, by binding as it on a connection of its
   * own. An empty password is never sent: to LDAP it is an unauthenticated bind, which
   * succeeds without proving anything (RFC 4513 §5.1.2).
   */
  async checkPassword(dn: string, password: string): Promise<boolean> {
    if (password === '' || dn === '') return false;
    const p = await this.connect();
    try {
      await p.client.bind(dn, password);
      return true;
    } catch (err) {
      if (err instanceof InvalidCredentialsError) return false;
      if (isConnectionFailure(err)) throw new DirectoryUnreachableError(this.settings.name, [`${p.url}: ${describe(err)}`]);
      throw err;
    } finally {
      await p.client.unbind().catch(() => undefined);
    }
  }

  /** The URL new connections try first (the last that answered). */
  get currentUrl(): string {
    return this.settings.urls[this.preferred]!;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w(undefined);
    await Promise.all(this.idle.splice(0).map((p) => p.client.unbind().catch(() => undefined)));
    this.open = 0;
  }
}
