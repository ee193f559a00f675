/**
 * Signing in in a browser: the authorization-code flow with PKCE (RFC 7636) for a native
 * app (RFC 8252). A one-shot HTTP listener on 127.0.0.1 and a free port receives the
 * redirect; the browser is opened at the tenant's authorization endpoint; the redirect's
 * `state` must be this sign-in's (anything else is answered and ignored) and its `iss`
 * the server's issuer (RFC 9207); the code is redeemed with the PKCE verifier. The
 * browser is answered with a short fixed page that never repeats what the request
 * carried.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Audience, TESSERA_CLI_CLIENT_ID } from './audience.js';
import type { Account } from './cliAuthentication.js';
import { configDir } from './session.js';
import { TesseraApiError, TesseraConnectionError } from './errors.js';
import { HttpClient } from './http.js';
import { normalizeServerUrl } from './serverUrl.js';
import { InteractiveSignInError, printable } from './signInError.js';
import { openSystemBrowser } from './systemBrowser.js';
import { tokenUrl, type TokenResponse } from './tokenEndpoint.js';
import { storeSession, unverifiedClaims, userSessionFrom } from './userSession.js';

/** How long the browser sign-in may take by default: five minutes. */
export const BROWSER_SIGN_IN_TIMEOUT_MS = 5 * 60_000;

/** Opens a URL in "the user's browser"; a rejection (or throw) means it could not, and the URL is printed instead. */
export type OpenBrowser = (url: string) => unknown;

/** What {@link loginWithBrowser} needs. */
export interface BrowserLoginOptions {
  /** The server's base URL. */
  server: string;
  /** Tenant id or domain; default `organizations` (the server's default tenant). */
  tenant?: string | undefined;
  /** Default: {@link openSystemBrowser} (`$BROWSER`, xdg-open, open). */
  openBrowser?: OpenBrowser | undefined;
  /** Called with the URL when `openBrowser` fails; default: printed to stderr. Waiting goes on either way. */
  onBrowserUnavailable?: ((url: string, error: unknown) => void) | undefined;
  /** How long to wait for the browser's redirect; default {@link BROWSER_SIGN_IN_TIMEOUT_MS}. */
  timeoutMs?: number | undefined;
  /** How long each request to the server may take (HttpClientOptions.timeoutMs); default 30 s. */
  requestTimeoutMs?: number | undefined;
  /** Where to keep the session; default `TESSERA_CONFIG_DIR` or `~/.tessera`. */
  configDir?: string | undefined;
  /** Prefills the user name on the sign-in page. */
  loginHint?: string | undefined;
  /** OpenID Connect `prompt`; default `select_account`. */
  prompt?: 'login' | 'select_account' | 'consent' | undefined;
}

/** A finished user sign-in: the server and the token response. */
export interface UserSignIn {
  server: string;
  response: TokenResponse;
}

/** The parts of the tenant's OpenID configuration this flow uses. */
interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  authorization_response_iss_parameter_supported?: boolean;
}

const random = () => crypto.randomBytes(32).toString('base64url');

/** The tenant's OpenID configuration. */
export async function discover(client: HttpClient, server: string, tenant: string): Promise<Discovery & { tenant_id?: string }> {
  const doc = await client.send<Partial<Discovery> & { tenant_id?: unknown } | undefined>({ method: 'GET', url: `${server}/${encodeURIComponent(tenant)}/v2.0/.well-known/openid-configuration` });
  if (!doc || typeof doc.issuer !== 'string' || typeof doc.authorization_endpoint !== 'string' || !/^https?:\/\//.test(doc.authorization_endpoint)) {
    throw new TesseraConnectionError('InvalidResponse', 'The OpenID configuration has no issuer or authorization endpoint: is that a Tessera server?');
  }
  return {
    issuer: doc.issuer,
    authorization_endpoint: doc.authorization_endpoint,
    authorization_response_iss_parameter_supported: doc.authorization_response_iss_parameter_supported === true,
    tenant_id: typeof doc.tenant_id === 'string' ? doc.tenant_id : undefined,
  };
}

/** A short page for the browser: fixed text only, escaped anyway, no scripts, nothing loaded. */
function page(title: string, text: string): string {
  const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1><p>${escape(text)}</p></body></html>\n`;
}

function answer(res: http.ServerResponse, status: number, title: string, text: string): void {
  const body = page(title, text);
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
    connection: 'close',
  });
  res.end(body);
}

/** The redirect that belongs to this sign-in, and a way to answer the browser that sent it. */
interface Callback {
  params: URLSearchParams;
  respond(ok: boolean, text: string): void;
}

/** A listener on 127.0.0.1 (any free port) that waits for the redirect carrying `state`. */
class LoopbackListener {
  private readonly server = http.createServer((req, res) => this.handle(req, res));
  private settle: { resolve(c: Callback): void; reject(e: Error): void } | undefined;
  private accepted = false;
  port = 0;

  constructor(private readonly state: string) {}

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', (err: NodeJS.ErrnoException) => reject(new InteractiveSignInError('ListenerFailed', `Cannot listen on 127.0.0.1 for the browser's redirect (${err.code ?? err.message}).`)));
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Resolves with the first redirect that carries this sign-in's state. */
  next(): Promise<Callback> {
    return new Promise((resolve, reject) => (this.settle = { resolve, reject }));
  }

  fail(err: Error): void {
    this.settle?.reject(err);
  }

  /** Stops listening; the last answer (sent with `connection: close`) is still delivered. */
  close(): void {
    this.server.close();
    this.server.closeIdleConnections();
    setTimeout(() => this.server.closeAllConnections(), 1_000).unref();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET' || url.pathname !== '/') {
      answer(res, 404, 'Not found', 'This address only receives the sign-in of a tessera command.');
      return;
    }
    const params = url.searchParams;
    const stateOk = params.getAll('state').length === 1 && timingSafeEqual(params.get('state')!, this.state);
    if (!stateOk) {
      // Not this sign-in's answer (a forged or stale redirect): say so and keep waiting for the real one.
      answer(res, 400, 'Sign-in response ignored', 'This response does not belong to the sign-in the tessera command started, so it was ignored.');
      return;
    }
    if (this.accepted) {
      answer(res, 409, 'Sign-in already received', 'This sign-in has already been received. You can close this window.');
      return;
    }
    this.accepted = true;
    this.settle?.resolve({
      params,
      respond: (ok, text) => answer(res, ok ? 200 : 400, ok ? 'Sign-in finished' : 'Sign-in failed', text),
    });
  }
}

function timingSafeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

/** Redeems an authorization code (with its PKCE verifier) at the token endpoint. */
async function redeemCode(client: HttpClient, input: { server: string; tenant: string; code: string; redirectUri: string; verifier: string; clientId: string }): Promise<TokenResponse> {
  const form = { grant_type: 'authorization_code', client_id: input.clientId, code: input.code, redirect_uri: input.redirectUri, code_verifier: input.verifier };
  const response = await client.send<TokenResponse | undefined>({ method: 'POST', url: tokenUrl(input.server, input.tenant), form });
  if (!response || typeof response.access_token !== 'string' || typeof response.expires_in !== 'number') {
    throw new TesseraConnectionError('InvalidResponse', 'The token endpoint answered without an access token and its lifetime.');
  }
  return response;
}

/** The default when the browser cannot be opened: the URL on stderr, for the user to open by hand. */
function printUrl(url: string, error: unknown): void {
  const why = error instanceof Error ? error.message : String(error);
  process.stderr.write(`Could not open a web browser (${printable(why, 200)}). To sign in, open this page in a browser on this machine:\n  ${url}\n`);
}

/**
 * Runs the browser sign-in and returns the token response, without storing anything.
 * @example const { response } = await signInWithBrowser({ server: 'https://127.0.0.1:5080' })
 */
export async function signInWithBrowser(options: BrowserLoginOptions): Promise<UserSignIn> {
  const server = normalizeServerUrl(options.server);
  const tenant = options.tenant ?? 'organizations';
  const timeoutMs = options.timeoutMs ?? BROWSER_SIGN_IN_TIMEOUT_MS;
  const client = new HttpClient({ timeoutMs: options.requestTimeoutMs });
  const discovery = await discover(client, server, tenant);
  const state = random();
  const nonce = random();
  const verifier = random();
  const listener = new LoopbackListener(state);
  await listener.listen();
  const timer = setTimeout(
    () =>
      listener.fail(
        new InteractiveSignInError('Timeout', `The sign-in in the browser did not finish within ${Math.round(timeoutMs / 1000)} s. Try again, or sign in with a code on another device (tessera login --use-device-code).`),
      ),
    timeoutMs,
  );
  try {
    const redirectUri = `http://127.0.0.1:${listener.port}/`;
    const url = new URL(discovery.authorization_endpoint);
    const query: Record<string, string> = {
      client_id: TESSERA_CLI_CLIENT_ID,
      response_type: 'code',
      redirect_uri: redirectUri,
      response_mode: 'query',
      scope: `${Audience.ControlPlane}/.default openid profile offline_access`,
      state,
      nonce,
      code_challenge: crypto.createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      prompt: options.prompt ?? 'select_account',
    };
    if (options.loginHint) query.login_hint = options.loginHint;
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);

    const callback = listener.next();
    const open = options.openBrowser ?? ((u: string) => openSystemBrowser(u));
    const unavailable = options.onBrowserUnavailable ?? printUrl;
    let finished = false;
    // The browser may keep running (or fail) long after the redirect: only an early failure matters.
    Promise.resolve()
      .then(() => open(url.href))
      .catch((err: unknown) => {
        if (!finished) unavailable(url.href, err);
      });
    const { params, respond } = await callback;
    finished = true;

    const iss = params.get('iss');
    if ((iss !== null || discovery.authorization_response_iss_parameter_supported) && iss !== discovery.issuer) {
      respond(false, 'The response came from another issuer than the server the tessera command signs in to. Nothing was signed in.');
      throw new InteractiveSignInError('IssuerMismatch', `The sign-in response names another issuer than ${discovery.issuer}: refused (RFC 9207). Nothing was signed in.`);
    }
    const error = params.get('error');
    if (error !== null) {
      respond(false, 'The server did not sign you in. The terminal shows why.');
      const description = params.get('error_description');
      throw new TesseraApiError({ status: 400, code: printable(error, 64), message: description ? printable(description) : 'The sign-in was not completed.' });
    }
    const code = params.get('code');
    if (!code) {
      respond(false, 'The response carried no authorization code. Nothing was signed in.');
      throw new TesseraConnectionError('InvalidResponse', 'The sign-in response carried neither a code nor an error.');
    }
    let response: TokenResponse;
    try {
      response = await redeemCode(client, { server, tenant, code, redirectUri, verifier, clientId: TESSERA_CLI_CLIENT_ID });
      if (response.id_token !== undefined && unverifiedClaims(response.id_token).nonce !== nonce) {
        throw new InteractiveSignInError('NonceMismatch', 'The id token does not answer this sign-in (its nonce differs): refused. Nothing was signed in.');
      }
    } catch (err) {
      respond(false, 'The code could not be redeemed. The terminal shows why.');
      throw err;
    }
    respond(true, 'You are signed in. You can close this window and return to the terminal.');
    return { server, response };
  } finally {
    clearTimeout(timer);
    listener.close();
  }
}

/**
 * Signs in in a browser and keeps the session as {@link loginWithPassword} does (the same
 * file, the same account); a session it replaces is revoked.
 * @example await loginWithBrowser({ server: 'https://127.0.0.1:5080' })
 */
export async function loginWithBrowser(options: BrowserLoginOptions): Promise<Account> {
  const { server, response } = await signInWithBrowser(options);
  return storeSession(configDir(options.configDir), userSessionFrom(server, response), new HttpClient({ timeoutMs: options.requestTimeoutMs }));
}
