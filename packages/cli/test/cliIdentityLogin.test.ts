/**
 * `tessera login --identity` against a stand-in for a node's identity endpoint (the
 * shapes of docs/compute-and-runs.md): the session it keeps (no secret in it), `account
 * show` as az shows an identity, a fresh token fetched when the cached one nears expiry,
 * and clear refusals (no endpoint, a refused header, no server, combined forms).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { removeTempDirs, tempDir } from './helpers/tempDirs.js';
import { tessera, tesseraJson } from './helpers/cli.js';

const HEADER = 'run-secret-4b8d2f6a9c1e3b5d';
const TENANT = '6f1c2b7e-0c1d-4e5f-8a9b-0c1d2e3f4a5b';
const DEFAULT_CLIENT = '11111111-2222-4333-8444-555555555555';
const USER_CLIENT = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
const OID = { [DEFAULT_CLIENT]: '0d0d0d0d-0000-4000-8000-000000000001', [USER_CLIENT]: '0d0d0d0d-0000-4000-8000-000000000002' };
let lifetimeSec = 3600;
let asked: { clientId: string | undefined; resource: string | undefined }[] = [];
let endpoint: string;

function fakeJwt(claims: Record<string, unknown>): string {
  return `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
}

const identityServer = http.createServer((req, res) => {
  const url = new URL(req.url!, 'http://127.0.0.1');
  const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  if (req.headers['x-identity-header'] !== HEADER) return send(401, { error: 'invalid_request', error_description: 'The X-IDENTITY-HEADER is missing or wrong.' });
  const clientId = url.searchParams.get('client_id') ?? DEFAULT_CLIENT;
  asked.push({ clientId: url.searchParams.get('client_id') ?? undefined, resource: url.searchParams.get('resource') ?? undefined });
  if (!(clientId in OID)) return send(400, { error: 'invalid_request', error_description: 'The compute has no identity with that client id.' });
  const exp = Math.floor(Date.now() / 1000) + lifetimeSec;
  send(200, { access_token: fakeJwt({ tid: TENANT, oid: OID[clientId as keyof typeof OID], appid: clientId, exp, n: asked.length }), expires_on: String(exp), resource: url.searchParams.get('resource'), token_type: 'Bearer', client_id: clientId });
});

before(async () => {
  await new Promise<void>((resolve) => identityServer.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(identityServer.address() as AddressInfo).port}/msi/token`;
});
after(() => {
  identityServer.closeAllConnections();
  identityServer.close();
  removeTempDirs();
});
beforeEach(() => {
  asked = [];
  lifetimeSec = 3600;
});

/** The environment of a run on a compute with an identity. */
function runEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { TESSERA_CONFIG_DIR: path.join(tempDir('config'), 'tessera'), IDENTITY_ENDPOINT: endpoint, IDENTITY_HEADER: HEADER, AZUREML_SERVICE_ENDPOINT: 'http://127.0.0.1:5999/', ...extra };
}

describe('tessera login --identity', () => {
  test("signs in as the compute's default identity; account show shows it as az does; the session holds no secret", async () => {
    const env = runEnv();
    const account = await tesseraJson(['login', '--identity'], env);
    // No server answers at 127.0.0.1:5999, so no subscription is known: az shows the tenant-level account then.
    assert.deepEqual(account, {
      environmentName: 'Tessera',
      homeTenantId: TENANT,
      id: TENANT,
      isDefault: true,
      managedByTenants: [],
      name: 'N/A(tenant level account)',
      state: 'Enabled',
      tenantId: TENANT,
      user: { name: 'systemAssignedIdentity', type: 'servicePrincipal', assignedIdentityInfo: 'MSI' },
      server: 'http://127.0.0.1:5999',
      objectId: OID[DEFAULT_CLIENT],
    });
    assert.deepEqual(await tesseraJson(['account', 'show'], env), account);
    assert.deepEqual(asked, [{ clientId: undefined, resource: 'api://tessera/management' }]);
    const sessionText = fs.readFileSync(path.join(env.TESSERA_CONFIG_DIR, 'session.json'), 'utf8');
    assert.ok(!sessionText.includes(HEADER), 'the header value is not stored');
    assert.equal(JSON.parse(sessionText).kind, 'identity');
    assert.equal(fs.statSync(path.join(env.TESSERA_CONFIG_DIR, 'session.json')).mode & 0o777, 0o600);
  });

  test('--username names a user-assigned identity by client id, and --server wins over AZUREML_SERVICE_ENDPOINT', async () => {
    const env = runEnv();
    const account = await tesseraJson(['login', '--identity', '--username', USER_CLIENT, '--server', 'https://ml.example.test'], env);
    assert.deepEqual(account.user, { name: 'userAssignedIdentity', type: 'servicePrincipal', assignedIdentityInfo: `MSIClient-${USER_CLIENT}` });
    assert.equal(account.server, 'https://ml.example.test');
    assert.deepEqual(asked, [{ clientId: USER_CLIENT, resource: 'api://tessera/management' }]);
  });

  test('a cached token is reused; one near expiry is fetched again from the endpoint', async () => {
    const env = runEnv();
    await tesseraJson(['login', '--identity'], env);
    const first = await tesseraJson<{ accessToken: string }>(['account', 'get-access-token'], env);
    assert.equal(asked.length, 1, 'the token from login is reused');
    lifetimeSec = 120; // shorter than the renewal margin: every use asks again
    await tesseraJson(['account', 'get-access-token', '--resource', 'api://tessera/workspace'], env);
    assert.equal(asked.length, 2);
    assert.equal(asked[1]!.resource, 'api://tessera/workspace');
    const again = await tesseraJson<{ accessToken: string }>(['account', 'get-access-token', '--resource', 'api://tessera/workspace'], env);
    assert.equal(asked.length, 3, 'a token with under five minutes left is renewed');
    assert.notEqual(again.accessToken, first.accessToken);
  });

  test('refusals are clear, exit non-zero, and never quote the header value', async () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['login', '--identity'], { TESSERA_CONFIG_DIR: tempDir('c'), AZUREML_SERVICE_ENDPOINT: 'http://127.0.0.1:5999' }, /Not running on Tessera compute with a managed identity/],
      [['login', '--identity'], runEnv({ IDENTITY_HEADER: 'wrong-header-value' }), /refused the token request \(HTTP 401.*X-IDENTITY-HEADER is missing or wrong/],
      [['login', '--identity', '-u', 'ffffffff-ffff-4fff-8fff-ffffffffffff'], runEnv(), /HTTP 400.*no identity with that client id/],
      [['login', '--identity'], runEnv({ AZUREML_SERVICE_ENDPOINT: '' }), /The server is unknown/],
      [['login', '--identity', '--service-principal'], runEnv(), /--service-principal and --identity cannot be combined/],
      [['login', '--identity', '-p', 'x'], runEnv(), /--identity takes no password/],
    ];
    for (const [args, env, message] of cases) {
      const result = await tessera(args, env);
      assert.notEqual(result.code, 0, args.join(' '));
      assert.match(result.stderr, message);
      assert.match(result.stderr, /^ERROR: /);
      assert.ok(!result.stderr.includes(HEADER) && !result.stderr.includes('    at '), 'no secret, no stack trace');
    }
  });

  test('the endpoint forgotten after login: using the session says so clearly', async () => {
    const env = runEnv();
    await tesseraJson(['login', '--identity'], env);
    lifetimeSec = 60;
    await tesseraJson(['account', 'get-access-token', '--resource', 'api://tessera/workspace'], env);
    const { IDENTITY_ENDPOINT: _e, IDENTITY_HEADER: _h, ...outside } = env;
    const result = await tessera(['account', 'get-access-token', '--resource', 'api://tessera/workspace'], outside);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Not running on Tessera compute with a managed identity/);
  });
});
