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
import { Client, InvalidCredentialsError, type SearchOptions, type Entry } from 'ldapts';
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
      const tlsOptions = { ...(this.ca ? { ca: this.ca } : {}), minVersion: 'TLSv1.2' as const };
      const client = new Client({ url, timeout: this.settings.timeoutMs, connectTimeout: this.settings.connectTimeoutMs, tlsOptions, strictDN: false });
      try {
        if (url.startsWith('ldap://') && this.settings.startTls) await client.startTLS(tlsOptions);
        else if (url.startsWith('ldaps://') || this.settings.insecure) await this.probe(client);
        this.preferred = index;
        return { client, url };
      } catch (err) {
        causes.push(`${url}: ${describe(err)}`);
        await client.unbind().catch(() => undefined);
      }
    }
    throw new DirectoryUnreachableError(this.settings.name, causes);
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

  private async acquire(): Promise<Pooled> {
    if (this.closed) throw new DirectoryUnreachableError(this.settings.name, ['the server is stopping']);
    const ready = this.idle.pop();
    if (ready && ready.client.isConnected) return ready;
    if (ready) {
      this.open--;
      await ready.client.unbind().catch(() => undefined);
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
      const p = await this.acquire();
      try {
        const { searchEntries } = await p.client.search(base, options);
        this.release(p, false);
        return searchEntries;
      } catch (err) {
        const broken = isConnectionFailure(err);
        this.release(p, broken);
        if (broken && attempt === 0) continue;
        if (broken) throw new DirectoryUnreachableError(this.settings.name, [`${p.url}: ${describe(err)}`]);
        throw err;
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
