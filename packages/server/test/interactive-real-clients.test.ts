/**
 * Microsoft's client libraries and a certified OpenID Connect client, unmodified, signing
 * a user in interactively over HTTPS: in a browser (authorization code + PKCE) and with a
 * device code. "The user" is scripts/test-browser.mjs driving Chromium, opened the way each
 * library opens a browser (see clients/interactiveClient.ts). Every token that comes back
 * must then work on Tessera's API, and every id token must be the client's and the
 * issuer's. SQLite only: interactive-sign-in.test.ts covers both stores at the protocol level.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN_PASSWORD, claimsOf, startTestServer, type TestServer } from './helpers.js';
import { CLI_CLIENT } from './interactive-helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const script = path.join(here, 'clients', 'interactiveClient.js');
const browserScript = path.resolve(here, '../../../../scripts/test-browser.mjs');
const AZURE_CLI = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';
const USER = 'grace';
const PASSWORD = 'Compiler-Pioneer-1952';
const SCOPE = 'api://tessera/management/.default';

interface Output {
  token?: string;
  idToken?: string;
  authorizeUrl?: string;
  fromCache?: boolean;
  nonce?: string;
  claims?: Record<string, unknown>;
  error?: string;
}

describe('interactive sign-in with real clients over HTTPS (sqlite)', () => {
  let server: TestServer;
  let admin: string;
  let userId: string;
  /** A registered public client with a loopback redirect, for openid-client. */
  let appId: string;

  /** This process calls the HTTPS server trusting its CA. */
  function tls(pathname: string, init: { body?: unknown; token?: string } = {}): Promise<{ status: number; body: Record<string, unknown> }> {
    const body = init.body === undefined ? undefined : JSON.stringify(init.body);
    return new Promise((resolve, reject) => {
      const req = https.request(
        `${server.url}${pathname}`,
        {
          method: body === undefined ? 'GET' : 'POST',
          ca: fs.readFileSync(server.running.caFile!),
          headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: Record<string, unknown> = {};
            try {
              parsed = JSON.parse(text) as Record<string, unknown>;
            } catch {
              parsed = { raw: text };
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  before(async () => {
    server = await startTestServer('sqlite', { config: { tlsSelfSigned: true }, env: { TESSERA_DEVICE_CODE_INTERVAL_SEC: '1' } });
    const pair = await tls('/login', { body: { username: 'admin', password: ADMIN_PASSWORD } });
    assert.equal(pair.status, 200);
    admin = String(pair.body.access_token);
    const user = await tls('/v1.0/users', { token: admin, body: { userName: USER, passwordProfile: { password: PASSWORD }, displayName: 'Grace Hopper' } });
    assert.equal(user.status, 201, JSON.stringify(user.body));
    userId = String(user.body.id);
    const app = await tls('/v1.0/applications', { token: admin, body: { displayName: 'Notebook (openid-client)', publicClient: { redirectUris: ['http://127.0.0.1/'] }, isFallbackPublicClient: true } });
    assert.equal(app.status, 201, JSON.stringify(app.body));
    appId = String(app.body.appId);
  });
  after(() => server.close());

  function runClient(args: { mode: string; tenant: string; clientId: string; scope: string }): Promise<Output> {
    const full = { url: server.url, username: USER, password: PASSWORD, browserScript, tag: `interactive-${args.mode}`, ...args };
    return new Promise((resolve) => {
      execFile(process.execPath, [script], { env: { ...process.env, NODE_EXTRA_CA_CERTS: server.running.caFile, TESSERA_CLIENT_ARGS: JSON.stringify(full) }, timeout: 180_000 }, (err, stdout, stderr) => {
        const line = stdout.trim().split('\n').pop();
        resolve(line ? (JSON.parse(line) as Output) : { error: `no output (${err?.message ?? ''}): ${stderr.slice(-2000)}` });
      });
    });
  }

  const discoveredIssuer = async (tenant: string) => {
    const doc = await tls(`/${tenant}/v2.0/.well-known/openid-configuration`);
    assert.equal(doc.status, 200);
    return String(doc.body.issuer);
  };

  /** The access token is the user's, for the asked resource, and works on the API. */
  async function assertUsable(out: Output, clientId: string): Promise<void> {
    assert.equal(out.error, undefined, out.error);
    assert.ok(out.token, 'an access token came back');
    const claims = claimsOf(out.token);
    assert.equal(claims.idtyp, 'user');
    assert.equal(claims.oid, userId);
    assert.equal(claims.appid ?? claims.azp, clientId);
    const me = await tls('/me', { token: out.token });
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal(me.body.objectId, userId);
    assert.equal(me.body.principalType, 'User');
    assert.equal(me.body.clientId, clientId);
  }

  /** The id token is for this client, from the discovered issuer, with the nonce sent (if any). */
  async function assertIdToken(out: Output, clientId: string, tenant: string, nonce: string | undefined): Promise<void> {
    assert.ok(out.idToken, 'an id token came back');
    const id = claimsOf(out.idToken);
    assert.equal(id.aud, clientId);
    assert.equal(id.iss, await discoveredIssuer(tenant));
    assert.equal(id.oid, userId);
    assert.equal(id.sub !== undefined && id.sub !== '', true);
    assert.equal(id.preferred_username, `${USER}@tessera.local`);
    assert.equal(id.nonce, nonce);
  }

  const nonceOf = (authorizeUrl: string | undefined) => {
    assert.ok(authorizeUrl, 'the library sent the browser somewhere');
    return new URL(authorizeUrl).searchParams.get('nonce') ?? undefined;
  };

  it('@azure/msal-node acquireTokenInteractive (openBrowser → Chromium, form_post), then acquireTokenSilent from its cache', async () => {
    const out = await runClient({ mode: 'msal-interactive', tenant: 'organizations', clientId: AZURE_CLI, scope: SCOPE });
    await assertUsable(out, AZURE_CLI);
    const asked = new URL(out.authorizeUrl!);
    assert.equal(asked.searchParams.get('response_mode'), 'form_post');
    assert.equal(asked.searchParams.get('code_challenge_method'), 'S256');
    assert.match(asked.searchParams.get('redirect_uri') ?? '', /^http:\/\/localhost:\d+$/);
    const nonce = nonceOf(out.authorizeUrl);
    assert.ok(nonce, 'msal sent the nonce it was given');
    assert.equal(nonce, out.nonce);
    await assertIdToken(out, AZURE_CLI, 'organizations', nonce);
    assert.equal(out.fromCache, true);
  });

  it('@azure/msal-node acquireTokenByDeviceCode (the code approved in Chromium), then acquireTokenSilent from its cache', async () => {
    const out = await runClient({ mode: 'msal-device-code', tenant: 'tessera.local', clientId: CLI_CLIENT, scope: SCOPE });
    await assertUsable(out, CLI_CLIENT);
    await assertIdToken(out, CLI_CLIENT, 'tessera.local', undefined);
    assert.equal(out.fromCache, true);
  });

  it('@azure/identity DeviceCodeCredential (userPromptCallback → Chromium); the second getToken comes from its cache', async () => {
    const out = await runClient({ mode: 'identity-device-code', tenant: server.running.bootstrap.tenantId, clientId: CLI_CLIENT, scope: SCOPE });
    await assertUsable(out, CLI_CLIENT);
    assert.equal(out.fromCache, true);
  });

  it('@azure/identity InteractiveBrowserCredential (open → xdg-open → $BROWSER → Chromium); the second getToken comes from its cache', async () => {
    const out = await runClient({ mode: 'identity-interactive', tenant: server.running.bootstrap.tenantId, clientId: AZURE_CLI, scope: SCOPE });
    await assertUsable(out, AZURE_CLI);
    const asked = new URL(out.authorizeUrl!);
    assert.equal(asked.pathname, `/${server.running.bootstrap.tenantId}/oauth2/v2.0/authorize`);
    assert.equal(asked.searchParams.get('prompt'), 'select_account');
    assert.equal(out.fromCache, true);
  });

  it('openid-client 6: authorization code + PKCE with state and nonce, a registered loopback redirect', async () => {
    const tenant = server.running.bootstrap.tenantId;
    const out = await runClient({ mode: 'openid-client-code', tenant, clientId: appId, scope: `openid profile offline_access ${SCOPE}` });
    await assertUsable(out, appId);
    assert.ok(out.nonce);
    assert.equal(nonceOf(out.authorizeUrl), out.nonce);
    await assertIdToken(out, appId, tenant, out.nonce);
    assert.equal(out.claims?.nonce, out.nonce, 'openid-client read and checked the same nonce');
    assert.equal(out.claims?.iss, await discoveredIssuer(tenant));
  });

  it('openid-client 6: device authorization grant (initiateDeviceAuthorization + pollDeviceAuthorizationGrant)', async () => {
    const tenant = server.running.bootstrap.tenantId;
    const out = await runClient({ mode: 'openid-client-device', tenant, clientId: appId, scope: `openid profile offline_access ${SCOPE}` });
    await assertUsable(out, appId);
    await assertIdToken(out, appId, tenant, undefined);
    assert.equal(out.claims?.aud, appId);
  });
});
