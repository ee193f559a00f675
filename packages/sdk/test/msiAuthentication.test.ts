/**
 * MsiAuthentication against a loopback identity endpoint: the two request shapes
 * @azure/identity uses (IDENTITY_ENDPOINT + X-IDENTITY-HEADER, MSI_ENDPOINT + Metadata and
 * secret), the identity selectors, the answer's forms, and clear refusals that never
 * quote the secret.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { MsiAuthentication } from '../src/msiAuthentication.js';
import { ManagedIdentityError } from '../src/errors.js';

const IDENTITY_HEADER = 'hdr-7f3c9a1e5b2d4c6a';
const MSI_SECRET = 'msi-2b9e4d1a7c3f5e8b';
interface Seen {
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
}
let seen: Seen[] = [];
let answer: (req: Seen) => { status: number; body: unknown } = () => ({ status: 200, body: {} });
let base: string;

const server = http.createServer((req, res) => {
  const url = new URL(req.url!, 'http://127.0.0.1');
  const s: Seen = { path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers };
  seen.push(s);
  const { status, body } = answer(s);
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
});

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});
beforeEach(() => {
  seen = [];
});

const expiry = () => Math.floor(Date.now() / 1000) + 3600;
/** An endpoint that checks its header as the node's does. */
function identityEndpoint(req: Seen) {
  if (req.headers['x-identity-header'] !== IDENTITY_HEADER) return { status: 401, body: { error: 'unauthorized_client', error_description: 'The X-IDENTITY-HEADER is missing or wrong.' } };
  return { status: 200, body: { access_token: `token-for-${req.query.resource}`, expires_on: String(expiry()), resource: req.query.resource, token_type: 'Bearer', client_id: 'cid-1' } };
}

describe('MsiAuthentication, IDENTITY_ENDPOINT form', () => {
  const env = () => ({ IDENTITY_ENDPOINT: `${base}/msi/token`, IDENTITY_HEADER, MSI_ENDPOINT: `${base}/legacy`, MSI_SECRET });

  test('sends api-version 2019-08-01, the resource without /.default, and X-IDENTITY-HEADER; takes a string expires_on', async () => {
    answer = identityEndpoint;
    const auth = new MsiAuthentication({ env: env() });
    const token = await auth.getToken('api://tessera/management/.default');
    assert.equal(token.token, 'token-for-api://tessera/management');
    assert.equal(typeof token.expiresOn, 'number');
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.path, '/msi/token');
    assert.deepEqual(seen[0]!.query, { 'api-version': '2019-08-01', resource: 'api://tessera/management' });
    assert.equal(seen[0]!.headers['x-identity-header'], IDENTITY_HEADER);
    assert.equal(seen[0]!.headers.secret, undefined, 'the MSI form is not used when IDENTITY_ENDPOINT is set');
  });

  test('a cached token is reused; the environment is read at each request', async () => {
    answer = identityEndpoint;
    const e = env();
    const auth = new MsiAuthentication({ env: e });
    await auth.getToken('api://tessera/workspace');
    await auth.getToken('api://tessera/workspace');
    assert.equal(seen.length, 1);
    e.IDENTITY_HEADER = 'changed-header';
    await assert.rejects(auth.getToken('api://tessera/management'), (err) => err instanceof ManagedIdentityError && err.status === 401);
  });

  for (const [option, param] of [
    [{ clientId: 'cid-9' }, 'client_id'],
    [{ objectId: 'oid-9' }, 'object_id'],
    [{ identityConfig: { type: 'mi_res_id', value: '/subscriptions/s/resourceGroups/ml/providers/Microsoft.ManagedIdentity/userAssignedIdentities/trainer' } }, 'mi_res_id'],
    [{ identityConfig: { type: 'client_id', value: 'cid-8' } }, 'client_id'],
  ] as const) {
    test(`names the identity with ${param} (${Object.keys(option)[0]})`, async () => {
      answer = identityEndpoint;
      await new MsiAuthentication({ ...option, env: env() }).getToken('api://tessera/management');
      const value = 'identityConfig' in option ? option.identityConfig.value : Object.values(option)[0];
      assert.equal(seen[0]!.query[param], value);
    });
  }

  test('a 400 or 401 is a ManagedIdentityError with the endpoint\'s message and never the header value', async () => {
    answer = (req) => ({ status: 400, body: { error: 'invalid_request', error_description: `unknown identity; you sent ${req.headers['x-identity-header']}` } });
    await assert.rejects(new MsiAuthentication({ clientId: 'nope', env: env() }).getToken('api://tessera/management'), (err) => {
      assert.ok(err instanceof ManagedIdentityError);
      assert.equal(err.code, 'IdentityRefused');
      assert.equal(err.status, 400);
      assert.match(err.message, /unknown identity/);
      assert.ok(!err.message.includes(IDENTITY_HEADER));
      return true;
    });
    answer = identityEndpoint;
    await assert.rejects(new MsiAuthentication({ env: { ...env(), IDENTITY_HEADER: 'not-the-header' } }).getToken('api://tessera/management'), /HTTP 401.*X-IDENTITY-HEADER is missing or wrong/);
  });

  test('an answer without a token or a numeric expiry is InvalidResponse', async () => {
    answer = () => ({ status: 200, body: { expires_on: '123' } });
    await assert.rejects(new MsiAuthentication({ env: env() }).getToken('r'), (e) => e instanceof ManagedIdentityError && e.code === 'InvalidResponse' && /no access_token|without an access_token/.test(e.message));
    answer = () => ({ status: 200, body: { access_token: 'x', expires_on: 'tomorrow' } });
    await assert.rejects(new MsiAuthentication({ env: env() }).getToken('r'), /without a numeric expires_on/);
  });
});

describe('MsiAuthentication, MSI_ENDPOINT form', () => {
  const env = () => ({ MSI_ENDPOINT: `${base}/legacy`, MSI_SECRET });

  test('sends api-version 2017-09-01, clientid, Metadata: true and secret; takes a numeric expires_on', async () => {
    answer = (req) =>
      req.headers.secret === MSI_SECRET && req.headers.metadata === 'true'
        ? { status: 200, body: { access_token: 'legacy-token', expires_on: expiry(), resource: req.query.resource, token_type: 'Bearer' } }
        : { status: 401, body: { error: 'unauthorized' } };
    const token = await new MsiAuthentication({ clientId: 'cid-2', env: env() }).getToken('api://tessera/workspace');
    assert.equal(token.token, 'legacy-token');
    assert.deepEqual(seen[0]!.query, { 'api-version': '2017-09-01', resource: 'api://tessera/workspace', clientid: 'cid-2' });
    assert.equal(seen[0]!.headers['x-identity-header'], undefined);
  });

  test('an object id cannot be asked for in this form', async () => {
    await assert.rejects(new MsiAuthentication({ objectId: 'oid', env: env() }).getToken('r'), /names an identity by client id only/);
    assert.equal(seen.length, 0);
  });
});

describe('MsiAuthentication refusals', () => {
  test('without an endpoint: NoIdentityEndpoint, not running on Tessera compute', async () => {
    await assert.rejects(new MsiAuthentication({ env: {} }).getToken(), (e) => e instanceof ManagedIdentityError && e.code === 'NoIdentityEndpoint' && /Not running on Tessera compute with a managed identity/.test(e.message));
    await assert.rejects(new MsiAuthentication({ env: { IDENTITY_ENDPOINT: `${base}/x` } }).getToken(), /neither IDENTITY_ENDPOINT with IDENTITY_HEADER/);
  });

  test('an endpoint that is not a URL is refused without quoting the header', async () => {
    await assert.rejects(new MsiAuthentication({ env: { IDENTITY_ENDPOINT: 'not a url', IDENTITY_HEADER } }).getToken(), (e) => e instanceof ManagedIdentityError && !e.message.includes(IDENTITY_HEADER));
  });

  test('two ways of naming the identity, or an empty one, are refused at construction', () => {
    assert.throws(() => new MsiAuthentication({ clientId: 'a', objectId: 'b' }), /takes one of clientId, objectId and identityConfig/);
    assert.throws(() => new MsiAuthentication({ clientId: ' ' }), /non-empty string/);
    assert.throws(() => new MsiAuthentication({ identityConfig: { type: 'name' as 'client_id', value: 'x' } }), /identityConfig.type must be/);
  });
});
