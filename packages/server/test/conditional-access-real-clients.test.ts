/**
 * The real check, on both stores: @azure/identity's ClientSecretCredential (unmodified,
 * over HTTPS) is refused under a block policy for its address range and gets a token from
 * an excluded range. The server listens on 127.0.0.1; the client's socket is bound to
 * 127.0.0.1 or 127.0.0.2 (any 127/8 address is this host's), and the audit trail shows the
 * address the server saw.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { STORE_KINDS, ADMIN_PASSWORD, claimsOf, startTestServer, type TestServer } from './helpers.js';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'clients', 'conditionalAccessClient.js');
const CLI = '3c8a5a4e-0f7d-4b8e-9d3a-7e2b1c6f9a01';
const BASE = '/v1.0/identity/conditionalAccess';
type Json = Record<string, unknown>;

for (const kind of STORE_KINDS) {
  describe(`conditional access with real clients from two loopback addresses [${kind}]`, () => {
    let server: TestServer;
    let admin: string;
    let sp: { id: string; appId: string; secret: string };

    /** Node's fetch in a child that trusts the server's CA. */
    function callTls(pathname: string, body?: unknown, method = body === undefined ? 'GET' : 'POST'): Promise<{ status: number; body: Json }> {
      const code = `fetch(${JSON.stringify(server.url + pathname)}, {method:${JSON.stringify(method)},headers:{${body === undefined ? '' : "'content-type':'application/json',"}authorization:'Bearer ' + process.env.T},body:${body === undefined ? 'undefined' : JSON.stringify(JSON.stringify(body))}}).then(async r=>process.stdout.write(JSON.stringify({status:r.status,body:await r.json().catch(()=>({}))})))`;
      return new Promise((resolve, reject) => {
        execFile(process.execPath, ['-e', code], { env: { ...process.env, NODE_EXTRA_CA_CERTS: server.running.caFile, T: admin } }, (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout) as { status: number; body: Json })));
      });
    }

    function runClient(args: Json): Promise<{ token?: string; error?: string }> {
      return new Promise((resolve) => {
        execFile(
          process.execPath,
          [script],
          { env: { ...process.env, NODE_EXTRA_CA_CERTS: server.running.caFile, TESSERA_CLIENT_ARGS: JSON.stringify({ url: server.url, tenant: server.running.bootstrap.tenantId, ...args }) }, timeout: 60_000 },
          (_err, stdout) => resolve(JSON.parse(stdout.trim().split('\n').pop() || '{"error":"no output"}') as { token?: string; error?: string }),
        );
      });
    }

    const secretClient = (localAddress: string) => runClient({ mode: 'secret', clientId: sp.appId, secret: sp.secret, scope: 'https://management.azure.com/.default', localAddress });

    before(async () => {
      server = await startTestServer(kind, { config: { tlsSelfSigned: true } });
      admin = '';
      const pair = await new Promise<{ access_token: string }>((resolve, reject) => {
        execFile(process.execPath, ['-e', `fetch(${JSON.stringify(server.url + '/login')}, {method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify({username:'admin',password:${JSON.stringify(ADMIN_PASSWORD)}})}).then(r=>r.text()).then(t=>process.stdout.write(t))`], { env: { ...process.env, NODE_EXTRA_CA_CERTS: server.running.caFile } }, (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout) as { access_token: string })));
      });
      admin = pair.access_token;
      const created = await callTls('/v1.0/servicePrincipals', { displayName: 'ca-real-client' });
      const secret = await callTls(`/v1.0/servicePrincipals/${String(created.body.id)}/addPassword`, {});
      sp = { id: String(created.body.id), appId: String(created.body.appId), secret: String(secret.body.secretText) };
      const user = await callTls('/v1.0/users', { userName: 'ropc-ca', passwordProfile: { password: 'Resource-Owner-Pass-42' } });
      assert.equal(user.status, 201);
    });
    after(() => server.close());

    it('ClientSecretCredential is refused (AADSTS53003) from 127.0.0.1 under a block policy and works from the excluded 127.0.0.2', async () => {
      // Before any policy, both addresses get a token (held for reuse: a block must stop the reuse too).
      // The first is minted (and recorded, with the address the server saw), the second reused.
      assert.ok((await secretClient('127.0.0.2')).token);
      assert.ok((await secretClient('127.0.0.1')).token);
      const location = await callTls(`${BASE}/namedLocations`, { '@odata.type': '#microsoft.graph.ipNamedLocation', displayName: 'build agents', ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '127.0.0.2/32' }] });
      assert.equal(location.status, 201);
      const policy = await callTls(`${BASE}/policies`, {
        displayName: 'Automation only from build agents',
        state: 'enabled',
        conditions: {
          clientApplications: { includeServicePrincipals: [sp.id] },
          applications: { includeApplications: ['All'] },
          locations: { includeLocations: ['All'], excludeLocations: [String(location.body.id)] },
        },
        grantControls: { operator: 'OR', builtInControls: ['block'] },
      });
      assert.equal(policy.status, 201, JSON.stringify(policy.body));
      const refused = await secretClient('127.0.0.1');
      assert.equal(refused.token, undefined);
      assert.match(String(refused.error), /AADSTS53003/);
      assert.match(String(refused.error), /Automation only from build agents/);
      const allowed = await secretClient('127.0.0.2');
      assert.equal(allowed.error, undefined);
      assert.equal(claimsOf(allowed.token!).appid, sp.appId);
      // What the server saw: the audit trail records each grant's request.ip.
      const records = await callTls('/admin/auditRecords?category=SignIn&$top=20');
      const mine = (records.body.value as Json[]).filter((r) => (r.actor as Json).name === sp.appId);
      assert.ok(mine.some((r) => r.clientIp === '127.0.0.2' && r.result === 'Success'), JSON.stringify(mine));
      assert.ok(mine.some((r) => r.clientIp === '127.0.0.1' && r.reason === 'ConditionalAccessBlocked'), JSON.stringify(mine));
      // What-if agrees.
      const w1 = await callTls(`${BASE}/evaluate`, { servicePrincipal: sp.appId, ipAddress: '127.0.0.1', clientApp: 'clientCredentials' });
      const w2 = await callTls(`${BASE}/evaluate`, { servicePrincipal: sp.appId, ipAddress: '127.0.0.2', clientApp: 'clientCredentials' });
      assert.equal(w1.body.result, 'block');
      assert.equal(w2.body.result, 'allow');
      assert.equal((await callTls(`${BASE}/policies/${String(policy.body.id)}`, undefined, 'DELETE')).status, 204);
    });

    it('UsernamePasswordCredential under an MFA policy gets AADSTS50076 (a password grant cannot do MFA)', async () => {
      const policy = await callTls(`${BASE}/policies`, {
        displayName: 'MFA for everyone but admin',
        state: 'enabled',
        conditions: { users: { includeUsers: ['All'], excludeUsers: [String((await callTls('/v1.0/users/admin')).body.id)] }, applications: { includeApplications: ['All'] } },
        grantControls: { operator: 'OR', builtInControls: ['mfa'] },
      });
      assert.equal(policy.status, 201, JSON.stringify(policy.body));
      const out = await runClient({ mode: 'password', clientId: CLI, username: 'ropc-ca', password: 'Resource-Owner-Pass-42', scope: 'api://tessera/management/.default', localAddress: '127.0.0.1' });
      assert.equal(out.token, undefined);
      assert.match(String(out.error), /AADSTS50076/);
      assert.equal((await callTls(`${BASE}/policies/${String(policy.body.id)}`, undefined, 'DELETE')).status, 204);
      const again = await runClient({ mode: 'password', clientId: CLI, username: 'ropc-ca', password: 'Resource-Owner-Pass-42', scope: 'api://tessera/management/.default', localAddress: '127.0.0.1' });
      assert.ok(again.token, again.error);
    });
  });
}
