/**
 * Microsoft's own client libraries and a certified OpenID Connect client, unmodified,
 * over HTTPS with a self-signed CA trusted through NODE_EXTRA_CA_CERTS: each gets a token
 * from Tessera, and each token is then used to call a Tessera API.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN_PASSWORD, claimsOf, makeClientCertificate, startTestServer, type ServicePrincipalWithSecret, type TestServer } from './helpers.js';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'clients', 'realClient.js');
const AZURE_CLI = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';

describe('real clients over HTTPS', () => {
  let server: TestServer;
  let admin: string;
  let sp: ServicePrincipalWithSecret;
  let certificatePem: string;

  before(async () => {
    server = await startTestServer('sqlite', { config: { tlsSelfSigned: true } });
    // The admin signs in over HTTPS too; Node's fetch in this process needs the CA as well.
    const pair = await new Promise<{ access_token: string }>((resolve, reject) => {
      execFile(process.execPath, ['-e', `fetch(${JSON.stringify(server.url + '/login')}, {method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify({username:'admin',password:${JSON.stringify(ADMIN_PASSWORD)}})}).then(r=>r.text()).then(t=>process.stdout.write(t))`], { env: { ...process.env, NODE_EXTRA_CA_CERTS: server.running.caFile } }, (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout))));
    });
    admin = pair.access_token;
    const created = await callTls('/v1.0/servicePrincipals', { displayName: 'real-clients' });
    const secret = await callTls(`/v1.0/servicePrincipals/${String(created.body.id)}/addPassword`, {});
    sp = { id: String(created.body.id), appId: String(created.body.appId), secret: String(secret.body.secretText), keyId: String(secret.body.keyId) };
    const cert = makeClientCertificate('real-clients');
    certificatePem = cert.certPem + cert.keyPem;
    const added = await callTls(`/v1.0/servicePrincipals/${sp.id}/addKey`, { keyCredential: { key: cert.certPem } });
    assert.equal(added.status, 200);
    await createUserTls('ropc-user', 'Resource-Owner-Pass-42');
  });
  after(() => server.close());

  /** Calls the server from a child process that trusts the CA (this process does not). */
  function callTls(pathname: string, body?: unknown, token = admin): Promise<{ status: number; body: Record<string, unknown> }> {
    const code = `fetch(${JSON.stringify(server.url + pathname)}, {method:${JSON.stringify(body === undefined ? 'GET' : 'POST')},headers:{'content-type':'application/json',authorization:'Bearer ' + process.env.T},body:${body === undefined ? 'undefined' : JSON.stringify(JSON.stringify(body))}}).then(async r=>process.stdout.write(JSON.stringify({status:r.status,body:await r.json().catch(()=>({}))})))`;
    return new Promise((resolve, reject) => {
      execFile(process.execPath, ['-e', code], { env: { ...process.env, NODE_EXTRA_CA_CERTS: server.running.caFile, T: token } }, (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout))));
    });
  }

  async function createUserTls(userName: string, password: string): Promise<void> {
    const res = await callTls('/v1.0/users', { userName, passwordProfile: { password } });
    assert.equal(res.status, 201);
  }

  function runClient(args: Record<string, unknown>): Promise<{ token?: string; error?: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, [script], { env: { ...process.env, NODE_EXTRA_CA_CERTS: server.running.caFile, TESSERA_CLIENT_ARGS: JSON.stringify({ url: server.url, ...args }) }, timeout: 60_000 }, (_err, stdout) => {
        resolve(JSON.parse(stdout.trim().split('\n').pop() || '{"error":"no output"}'));
      });
    });
  }

  async function assertUsable(token: string | undefined, kind: 'app' | 'user'): Promise<void> {
    assert.ok(token, 'a token came back');
    assert.equal(claimsOf(token).idtyp, kind);
    const me = await callTls('/me', undefined, token);
    assert.equal(me.status, 200, JSON.stringify(me.body));
  }

  const tenant = () => server.running.bootstrap.tenantId;
  const scope = 'api://tessera/management/.default';

  it('@azure/identity ClientSecretCredential', async () => {
    const out = await runClient({ mode: 'identity-secret', tenant: tenant(), clientId: sp.appId, secret: sp.secret, scope: 'https://management.azure.com/.default' });
    assert.equal(out.error, undefined);
    await assertUsable(out.token, 'app');
  });

  it('@azure/identity ClientCertificateCredential (client assertion)', async () => {
    const out = await runClient({ mode: 'identity-certificate', tenant: tenant(), clientId: sp.appId, certificatePem, scope });
    assert.equal(out.error, undefined);
    await assertUsable(out.token, 'app');
  });

  it('@azure/identity UsernamePasswordCredential (password grant)', async () => {
    const out = await runClient({ mode: 'identity-password', tenant: 'organizations', clientId: AZURE_CLI, username: 'ropc-user', password: 'Resource-Owner-Pass-42', scope });
    assert.equal(out.error, undefined);
    await assertUsable(out.token, 'user');
  });

  it('@azure/msal-node ConfidentialClientApplication, and its cache serves the second call', async () => {
    const out = await runClient({ mode: 'msal-confidential', tenant: tenant(), clientId: sp.appId, secret: sp.secret, scope });
    assert.equal(out.error, undefined);
    await assertUsable(out.token, 'app');
  });

  it('@azure/msal-node PublicClientApplication: password grant, then a silent refresh', async () => {
    const out = await runClient({ mode: 'msal-password', tenant: 'tessera.local', clientId: AZURE_CLI, username: 'ropc-user@tessera.local', password: 'Resource-Owner-Pass-42', scope });
    assert.equal(out.error, undefined);
    await assertUsable(out.token, 'user');
  });

  it('openid-client 6: discovery + clientCredentialsGrant (client_secret_post)', async () => {
    const out = await runClient({ mode: 'openid-client', tenant: tenant(), clientId: sp.appId, secret: sp.secret, scope });
    assert.equal(out.error, undefined);
    await assertUsable(out.token, 'app');
  });

  it('openid-client 6: HTTP Basic client authentication, issuer given as the domain alias', async () => {
    const out = await runClient({ mode: 'openid-client-basic', tenant: 'tessera.local', clientId: sp.appId, secret: sp.secret, scope });
    assert.equal(out.error, undefined);
    await assertUsable(out.token, 'app');
  });

  it('a wrong secret fails in the client library with invalid_client, and no secret is echoed', async () => {
    const wrong = `tscs_${crypto.randomBytes(32).toString('base64url')}`;
    const out = await runClient({ mode: 'identity-secret', tenant: tenant(), clientId: sp.appId, secret: wrong, scope });
    assert.ok(out.error && /invalid_client|AADSTS7000215/.test(out.error), out.error);
    assert.ok(!out.error!.includes(wrong));
  });
});
