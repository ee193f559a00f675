/**
 * Runs one real client library's interactive sign-in against a Tessera server, as a
 * user's program would, in its own process (so NODE_EXTRA_CA_CERTS applies): the
 * library opens "the user's browser" the way it always does (msal-node's openBrowser
 * hook, @azure/identity's `open` package → xdg-open → $BROWSER, a device-code prompt
 * callback), and that browser is scripts/test-browser.mjs driving Chromium. Prints one
 * JSON line: {"token", "idToken", "authorizeUrl", "fromCache", …} or {"error"}.
 * Arguments arrive as JSON in TESSERA_CLIENT_ARGS.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DeviceCodeCredential, InteractiveBrowserCredential } from '@azure/identity';
import { PublicClientApplication } from '@azure/msal-node';
import * as oidc from 'openid-client';

interface Args {
  mode: string;
  url: string;
  tenant: string;
  clientId: string;
  scope: string;
  username: string;
  password: string;
  /** scripts/test-browser.mjs */
  browserScript: string;
  /** File-name prefix of the screenshots. */
  tag: string;
}

interface Output {
  token?: string;
  idToken?: string;
  /** The URL the library sent the browser to (its query shows what it asked). */
  authorizeUrl?: string;
  /** Whether a second call was answered from the library's cache (the same token). */
  fromCache?: boolean;
  /** For openid-client: the nonce it sent and checked. */
  nonce?: string;
  /** openid-client's reading of the id token, after its own checks. */
  claims?: Record<string, unknown>;
  error?: string;
}

const args = JSON.parse(process.env.TESSERA_CLIENT_ARGS ?? '{}') as Args;
const host = new URL(args.url).host;

/** The environment under which the test browser signs in as the test's user. */
function browserEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { TESSERA_TEST_BROWSER_USER: args.username, TESSERA_TEST_BROWSER_PASSWORD: args.password, TESSERA_TEST_BROWSER_TAG: args.tag, ...extra };
}

/** Opens the test browser at `url` as a program would; resolves when it is done. */
function runBrowser(url: string, userCode?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [args.browserScript, url], { env: { ...process.env, ...browserEnv(userCode ? { TESSERA_TEST_BROWSER_USER_CODE: userCode } : {}) }, timeout: 90_000 }, (err, _stdout, stderr) =>
      err ? reject(new Error(`the browser failed: ${stderr.trim() || err.message}`)) : resolve(),
    );
  });
}

/**
 * Waits for the file the browser writes when it is done (it runs detached under xdg-open).
 * 90 s: Chromium's start and the sign-in pages take tens of seconds on a loaded CI machine;
 * the test's own limit on this client is 180 s.
 */
async function browserResult(file: string, timeoutMs = 90_000): Promise<{ ok: boolean; url: string; error?: string }> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (fs.existsSync(file)) {
      const text = fs.readFileSync(file, 'utf8');
      if (text.endsWith('\n')) return JSON.parse(text) as { ok: boolean; url: string; error?: string };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the browser opened through $BROWSER never reported back');
}

function msalApp(): PublicClientApplication {
  return new PublicClientApplication({ auth: { clientId: args.clientId, authority: `${args.url}/${args.tenant}`, knownAuthorities: [host] } });
}

/** A second, silent call must be served from MSAL's cache: the same token, no request. */
async function silentFromCache(app: PublicClientApplication, accessToken: string): Promise<boolean> {
  const [account] = await app.getTokenCache().getAllAccounts();
  if (!account) throw new Error('msal cached no account');
  const silent = await app.acquireTokenSilent({ account, scopes: [args.scope] });
  if (!silent.fromCache || silent.accessToken !== accessToken) throw new Error(`msal did not answer from its cache (fromCache=${String(silent.fromCache)})`);
  return true;
}

/** openid-client against the tenant's discovery document, as a public client (no secret). */
function oidcConfig(): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(`${args.url}/${args.tenant}/v2.0`), args.clientId, undefined, oidc.None());
}

/** A loopback redirect URI and the next request that reaches it. */
async function loopback(): Promise<{ redirectUri: string; next: Promise<URL>; close(): void }> {
  let deliver!: (u: URL) => void;
  const next = new Promise<URL>((resolve) => (deliver = resolve));
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    if (url.pathname !== '/') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>Signed in</title><main><h1>You are signed in</h1></main>');
    deliver(url);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    redirectUri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    next,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

async function run(): Promise<Output> {
  switch (args.mode) {
    case 'msal-interactive': {
      const app = msalApp();
      let authorizeUrl = '';
      // msal-node sends a nonce only when given one (and then checks the id token's).
      const nonce = crypto.randomUUID();
      const result = await app.acquireTokenInteractive({
        scopes: [args.scope],
        nonce,
        openBrowser: async (url) => {
          authorizeUrl = url;
          await runBrowser(url);
        },
        successTemplate: '<h1>Signed in</h1>',
        errorTemplate: '<h1>Error: {error}</h1>',
      });
      return { token: result.accessToken, idToken: result.idToken, authorizeUrl, nonce, fromCache: await silentFromCache(app, result.accessToken) };
    }
    case 'msal-device-code': {
      const app = msalApp();
      let browser: Promise<void> = Promise.reject(new Error('msal never asked for the code to be entered'));
      browser.catch(() => undefined);
      const result = await app.acquireTokenByDeviceCode({
        scopes: [args.scope],
        deviceCodeCallback: (response) => {
          browser = runBrowser(response.verificationUri, response.userCode);
          browser.catch(() => undefined);
        },
      });
      await browser;
      if (!result) throw new Error('msal returned no result');
      return { token: result.accessToken, idToken: result.idToken, fromCache: await silentFromCache(app, result.accessToken) };
    }
    case 'identity-device-code': {
      let browser: Promise<void> | undefined;
      const credential = new DeviceCodeCredential({
        tenantId: args.tenant,
        clientId: args.clientId,
        authorityHost: args.url,
        disableInstanceDiscovery: true,
        userPromptCallback: (info) => {
          browser = runBrowser(info.verificationUri, info.userCode);
          browser.catch(() => undefined);
        },
      });
      const first = await credential.getToken(args.scope);
      if (!browser) throw new Error('the credential never asked for the code to be entered');
      await browser;
      const second = await credential.getToken(args.scope);
      return { token: first.token, fromCache: second.token === first.token };
    }
    case 'identity-interactive': {
      // @azure/identity opens the browser with the `open` package, which on Linux runs its
      // bundled xdg-open, which (outside a desktop session) runs $BROWSER with the URL.
      const resultFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-browser-')), 'result.json');
      for (const name of ['DISPLAY', 'WAYLAND_DISPLAY', 'XDG_CURRENT_DESKTOP', 'DESKTOP_SESSION', 'KDE_FULL_SESSION', 'GNOME_DESKTOP_SESSION_ID', 'MATE_DESKTOP_SESSION_ID']) delete process.env[name];
      process.env.BROWSER = `${process.execPath} ${args.browserScript}`;
      Object.assign(process.env, browserEnv({ TESSERA_TEST_BROWSER_RESULT: resultFile }));
      const credential = new InteractiveBrowserCredential({ tenantId: args.tenant, clientId: args.clientId, authorityHost: args.url, disableInstanceDiscovery: true });
      const first = await Promise.race([
        credential.getToken(args.scope),
        // If the browser gives up, say why instead of waiting for the credential's timeout.
        browserResult(resultFile, 90_000).then((r) => (r.ok ? new Promise<never>(() => undefined) : Promise.reject(new Error(`the browser failed: ${r.error ?? '?'}`)))),
      ]);
      const browser = await browserResult(resultFile);
      if (!browser.ok) throw new Error(`the browser failed: ${browser.error ?? '?'}`);
      const second = await credential.getToken(args.scope);
      return { token: first.token, authorizeUrl: browser.url, fromCache: second.token === first.token };
    }
    case 'openid-client-code': {
      const config = await oidcConfig();
      const redirect = await loopback();
      try {
        const verifier = oidc.randomPKCECodeVerifier();
        const state = oidc.randomState();
        const nonce = oidc.randomNonce();
        const url = oidc.buildAuthorizationUrl(config, {
          redirect_uri: redirect.redirectUri,
          scope: args.scope,
          code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
          state,
          nonce,
        });
        const [callback] = await Promise.all([redirect.next, runBrowser(url.href)]);
        const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
        return { token: tokens.access_token, idToken: tokens.id_token, authorizeUrl: url.href, nonce, claims: { ...tokens.claims() } };
      } finally {
        redirect.close();
      }
    }
    case 'openid-client-device': {
      const config = await oidcConfig();
      const response = await oidc.initiateDeviceAuthorization(config, { scope: args.scope });
      const browser = runBrowser(response.verification_uri, response.user_code);
      browser.catch(() => undefined);
      const tokens = await oidc.pollDeviceAuthorizationGrant(config, response);
      await browser;
      return { token: tokens.access_token, idToken: tokens.id_token, claims: { ...tokens.claims() } };
    }
    default:
      throw new Error(`unknown mode ${args.mode}`);
  }
}

run().then(
  (out) => {
    process.stdout.write(JSON.stringify(out) + '\n');
    // MSAL's loopback listener or a poll timer must not keep the process alive.
    process.exit(0);
  },
  (err: unknown) => {
    process.stdout.write(JSON.stringify({ error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }) + '\n');
    process.exit(1);
  },
);
