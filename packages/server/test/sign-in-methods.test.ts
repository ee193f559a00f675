/**
 * How a sign-in was made travels with it: tokens carry `amr` and the `acr` it implies,
 * a refresh keeps the chain's methods (never more), and a stored value is read
 * strictly (an unknown method is dropped, never trusted).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STORE_KINDS, ADMIN_PASSWORD, claimsOf, postForm, startTestServer, type TestServer } from './helpers.js';
import { TESSERA_CLI_CLIENT_ID } from '../src/index.js';
import { acrOf, formatAmr, parseAmr } from '../src/identity/authMethods.js';

interface TokenBody {
  access_token: string;
  refresh_token: string;
  id_token: string;
}

describe('sign-in methods: the stored form', () => {
  it('is written in one order, each method once, and read strictly', () => {
    assert.equal(formatAmr(['otp', 'pwd', 'mfa', 'pwd']), 'pwd mfa otp');
    assert.deepEqual(parseAmr('pwd mfa otp'), ['pwd', 'mfa', 'otp']);
    assert.deepEqual(parseAmr('pwd root <script>'), ['pwd']);
    assert.deepEqual(parseAmr(''), ['pwd']);
    assert.deepEqual(parseAmr(null), ['pwd']);
    assert.equal(acrOf(['pwd']), '1');
    assert.equal(acrOf(['pwd', 'mfa', 'rc']), '2');
  });
});

for (const kind of STORE_KINDS) {
  describe(`sign-in methods in tokens [${kind}]`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(kind);
    });
    after(() => server.close());

    const token = (params: Record<string, string>) => postForm<TokenBody>(`${server.url}/organizations/oauth2/v2.0/token`, { client_id: TESSERA_CLI_CLIENT_ID, ...params });

    it('a password grant gives amr ["pwd"] and acr "1" in the access and id tokens', async () => {
      const res = await token({ grant_type: 'password', username: 'admin', password: ADMIN_PASSWORD, scope: 'api://tessera/management/.default openid offline_access' });
      assert.equal(res.status, 200);
      for (const jwt of [res.body.access_token, res.body.id_token]) {
        assert.deepEqual(claimsOf(jwt).amr, ['pwd']);
        assert.equal(claimsOf(jwt).acr, '1');
      }
      const refreshed = await token({ grant_type: 'refresh_token', refresh_token: res.body.refresh_token, scope: 'api://tessera/management/.default' });
      assert.equal(refreshed.status, 200);
      assert.deepEqual(claimsOf(refreshed.body.access_token).amr, ['pwd']);
    });

    it('a refresh keeps the methods its chain began with, and the refresh request cannot add any', async () => {
      const { services, bootstrap } = server.running;
      const admin = await services.users.find(bootstrap.tenantId, 'admin');
      const issued = await services.refreshTokens.issue({ tenantId: bootstrap.tenantId, userId: admin!.id, clientId: TESSERA_CLI_CLIENT_ID, scope: 'api://tessera/management/.default', amr: ['pwd', 'mfa', 'otp'] });
      const refreshed = await token({ grant_type: 'refresh_token', refresh_token: issued, scope: 'api://tessera/management/.default', amr: 'pwd' });
      assert.equal(refreshed.status, 200);
      const claims = claimsOf(refreshed.body.access_token);
      assert.deepEqual(claims.amr, ['pwd', 'mfa', 'otp']);
      assert.equal(claims.acr, '2');
      // And the rotated token carries it on.
      const again = await token({ grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token });
      assert.deepEqual(claimsOf(again.body.access_token).amr, ['pwd', 'mfa', 'otp']);
    });

    it('service principal tokens carry no amr or acr', async () => {
      const { services, bootstrap } = server.running;
      const sp = await services.minter.accessToken({ subject: { tenantId: bootstrap.tenantId, objectId: 'x', kind: 'app', name: 'app' }, resource: 'api://tessera/management', clientId: 'c', lifetimeSec: 60 });
      assert.equal(claimsOf(sp.token).amr, undefined);
      assert.equal(claimsOf(sp.token).acr, undefined);
    });
  });
}
