/**
 * The SDK's ServicePrincipalAuthentication (secret and certificate), fromEnv, and
 * TokenAuthentication against a live server: tokens cached per audience until shortly
 * before expiry (a second getToken makes no request), client assertions in the shape the
 * server checks, and errors that never quote a secret.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Audience,
  CliAuthentication,
  ServicePrincipalAuthentication,
  ServicePrincipals,
  TesseraApiError,
  TesseraClient,
  TokenAuthentication,
  createClientAssertion,
  loadClientCertificate,
  loginWithPassword,
  type AccessToken,
} from '@tessera/sdk';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/testServer.js';
import { removeTempDirs, tempDir } from './helpers/tempDirs.js';
import { makeCertificate, type TestCertificate } from './helpers/certificates.js';
import { claimsOf } from './helpers/tokens.js';
import { readCertificateArgument } from '../src/fileArguments.js';

let server: TestServer;
let tenantId: string;
let sps: ServicePrincipals;
/** A principal with a secret and a certificate. */
let appId: string;
let secret: string;
let cert: TestCertificate;

before(async () => {
  server = await startTestServer();
  tenantId = server.running.bootstrap.tenantId;
  const configDir = tempDir('sdk-config');
  await loginWithPassword({ server: server.url, username: 'admin', password: ADMIN_PASSWORD, configDir });
  sps = new ServicePrincipals(new TesseraClient(server.url, new CliAuthentication({ configDir })));
  const sp = await sps.create('sdk-automation');
  appId = sp.appId;
  secret = (await sps.addPassword(sp.id, { displayName: 'sdk' })).secretText;
  cert = makeCertificate('sdk-automation');
  await sps.addKey(sp.id, cert.certPem, 'sdk cert');
});

after(async () => {
  await server.close();
  removeTempDirs();
});

const tokenRequests = () => server.requests().filter((r) => r.path.endsWith('/oauth2/v2.0/token'));

describe('ServicePrincipalAuthentication with a secret', () => {
  test('gets a token for the principal; a second getToken makes no request; each audience is fetched once', async () => {
    const auth = new ServicePrincipalAuthentication({ server: server.url, tenantId, servicePrincipalId: appId, servicePrincipalPassword: secret });
    const before = tokenRequests().length;
    const first = await auth.getToken();
    assert.equal(claimsOf(first.token).aud, Audience.ControlPlane);
    assert.ok(first.expiresOn > Date.now() / 1000 + 3000);
    assert.equal((await auth.getToken()).token, first.token);
    assert.equal(tokenRequests().length, before + 1, 'the second getToken was served from the cache');
    const [a, b] = await Promise.all([auth.getToken(Audience.Workspace), auth.getToken(Audience.Workspace)]);
    assert.equal(a.token, b.token);
    assert.equal(claimsOf(a.token).aud, Audience.Workspace);
    assert.equal(tokenRequests().length, before + 2, 'concurrent callers share one request');
    const me = await new TesseraClient(server.url, auth).me();
    assert.deepEqual([me.principalType, me.clientId, me.displayName], ['ServicePrincipal', appId, 'sdk-automation']);
  });

  test('a token is renewed shortly before it expires', async () => {
    const clock = { now: Date.now() };
    const auth = new ServicePrincipalAuthentication({ server: server.url, tenantId, servicePrincipalId: appId, servicePrincipalPassword: secret, clock: () => clock.now });
    const first = await auth.getToken();
    clock.now = (first.expiresOn - 301) * 1000;
    assert.equal((await auth.getToken()).token, first.token, 'still cached 5 minutes and a second before expiry');
    clock.now = (first.expiresOn - 299) * 1000;
    const before = tokenRequests().length;
    await auth.getToken();
    assert.equal(tokenRequests().length, before + 1, 'renewed (the server may hand back the same token while it has over half its life left)');
  });

  test('a wrong secret is invalid_client (401), and the error never quotes the secret', async () => {
    const wrong = `${secret.slice(0, -4)}AAAA`;
    const auth = new ServicePrincipalAuthentication({ server: server.url, tenantId, servicePrincipalId: appId, servicePrincipalPassword: wrong });
    await assert.rejects(auth.getToken(), (err: unknown) => {
      assert.ok(err instanceof TesseraApiError);
      assert.deepEqual([err.status, err.code], [401, 'invalid_client']);
      assert.ok(!err.message.includes(wrong) && !err.stack!.includes(wrong));
      return true;
    });
  });

  test('fromEnv reads AML_SERVER_URL (or TESSERA_SERVER), AML_TENANT_ID, AML_PRINCIPAL_ID and AML_PRINCIPAL_PASS', async () => {
    const env = { AML_SERVER_URL: server.url, AML_TENANT_ID: tenantId, AML_PRINCIPAL_ID: appId, AML_PRINCIPAL_PASS: secret };
    const auth = ServicePrincipalAuthentication.fromEnv(env);
    assert.deepEqual([auth.server, auth.tenantId, auth.servicePrincipalId], [server.url, tenantId, appId]);
    assert.match((await auth.getToken()).token, /^eyJ/);
    const viaTessera = ServicePrincipalAuthentication.fromEnv({ TESSERA_SERVER: `${server.url}/`, AML_TENANT_ID: tenantId, AML_PRINCIPAL_ID: appId, AML_PRINCIPAL_PASS: secret });
    assert.equal(viaTessera.server, server.url);
    assert.throws(
      () => ServicePrincipalAuthentication.fromEnv({ AML_TENANT_ID: tenantId, AML_PRINCIPAL_PASS: secret }),
      (err: Error) => err.message === 'ServicePrincipalAuthentication.fromEnv: set AML_SERVER_URL (or TESSERA_SERVER), AML_PRINCIPAL_ID.' && !err.message.includes(secret),
    );
    // Options fill in what the environment lacks.
    const mixed = ServicePrincipalAuthentication.fromEnv({ AML_PRINCIPAL_PASS: secret }, { server: server.url, tenantId, servicePrincipalId: appId });
    assert.match((await mixed.getToken()).token, /^eyJ/);
  });

  test('the constructor says what is missing or contradictory', () => {
    const base = { server: server.url, tenantId, servicePrincipalId: appId };
    assert.throws(() => new ServicePrincipalAuthentication(base), /either servicePrincipalPassword or certificate \(exactly one\)/);
    assert.throws(() => new ServicePrincipalAuthentication({ ...base, servicePrincipalPassword: secret, certificate: cert.combinedPem }), /exactly one/);
    assert.throws(() => new ServicePrincipalAuthentication({ ...base, tenantId: '', servicePrincipalPassword: secret }), /needs tenantId/);
    assert.throws(() => new ServicePrincipalAuthentication({ ...base, server: 'ftp://x', servicePrincipalPassword: secret }), /must start with https:\/\//);
  });
});

describe('ServicePrincipalAuthentication with a certificate', () => {
  test('a client assertion: x5t#S256 of the DER, iss = sub = appId, aud = the token endpoint, a fresh jti, exp 10 minutes on', () => {
    const loaded = loadClientCertificate(cert.combinedPem);
    const audience = `${server.url}/${tenantId}/oauth2/v2.0/token`;
    const nowSec = Math.floor(Date.now() / 1000);
    const one = createClientAssertion(loaded, { clientId: appId, audience, nowSec });
    const two = createClientAssertion(loaded, { clientId: appId, audience, nowSec, algorithm: 'PS256' });
    const header = JSON.parse(Buffer.from(one.split('.')[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    assert.deepEqual(header, { alg: 'RS256', typ: 'JWT', 'x5t#S256': cert.thumbprintSha256 });
    assert.equal((JSON.parse(Buffer.from(two.split('.')[0]!, 'base64url').toString('utf8')) as { alg: string }).alg, 'PS256');
    const claims = claimsOf(one);
    assert.deepEqual([claims.iss, claims.sub, claims.aud, claims.iat, claims.nbf, claims.exp], [appId, appId, audience, nowSec, nowSec, nowSec + 600]);
    assert.notEqual(claims.jti, claimsOf(two).jti);
  });

  test('signs in with RS256 and PS256 (key before or after the certificate); tokens are cached like secrets', async () => {
    for (const [certificate, assertionAlgorithm] of [[cert.combinedPem, 'RS256'], [`${cert.keyPem}${cert.certPem}`, 'PS256']] as const) {
      const auth = new ServicePrincipalAuthentication({ server: server.url, tenantId, servicePrincipalId: appId, certificate, assertionAlgorithm });
      const before = tokenRequests().length;
      const token = await auth.getToken();
      assert.equal((await auth.getToken()).token, token.token);
      assert.equal(tokenRequests().length, before + 1);
      const me = await new TesseraClient(server.url, auth).me();
      assert.deepEqual([me.principalType, me.clientId], ['ServicePrincipal', appId], assertionAlgorithm);
    }
  });

  test('an unregistered certificate is invalid_client; a PEM without its key, or with another key, is refused up front', async () => {
    const stranger = makeCertificate('stranger');
    const auth = new ServicePrincipalAuthentication({ server: server.url, tenantId, servicePrincipalId: appId, certificate: stranger.combinedPem });
    await assert.rejects(auth.getToken(), (err: unknown) => err instanceof TesseraApiError && err.code === 'invalid_client' && err.status === 401);
    const base = { server: server.url, tenantId, servicePrincipalId: appId };
    assert.throws(() => new ServicePrincipalAuthentication({ ...base, certificate: cert.certPem }), /holds no private key/);
    assert.throws(() => new ServicePrincipalAuthentication({ ...base, certificate: cert.keyPem }), /holds no -----BEGIN CERTIFICATE----- block/);
    assert.throws(() => new ServicePrincipalAuthentication({ ...base, certificate: `${cert.certPem}${stranger.keyPem}` }), /does not belong to the PEM's certificate/);
    assert.throws(() => new ServicePrincipalAuthentication({ ...base, certificate: cert.combinedPem, assertionAlgorithm: 'ES256' }), /ES256 needs an EC/);
  });

  test('the CLI sends only the certificate block of a PEM that also holds the private key', () => {
    const sent = readCertificateArgument(cert.combinedPem);
    assert.equal(sent, `${cert.certPem.trimEnd()}\n`);
    assert.ok(!sent.includes('PRIVATE KEY'));
  });
});

describe('TokenAuthentication', () => {
  test('asks the function once per audience and caches until shortly before expiry', async () => {
    const sp = new ServicePrincipalAuthentication({ server: server.url, tenantId, servicePrincipalId: appId, servicePrincipalPassword: secret });
    const asked: string[] = [];
    const auth = new TokenAuthentication(async (audience) => {
      asked.push(audience);
      return sp.getToken(audience);
    });
    const client = new TesseraClient(server.url, auth);
    assert.equal((await client.me()).clientId, appId);
    await client.me();
    await auth.getToken(Audience.Workspace);
    await auth.getToken(Audience.AZUREML);
    await auth.getToken(Audience.ARM);
    assert.deepEqual(asked, [Audience.ControlPlane, Audience.Workspace], "azureml's Audience.ARM and Audience.AZUREML are the same audiences");
  });

  test('takes an AccessToken, a [token, expiresOn] pair or a bare JWT; renews near expiry; refuses anything else', async () => {
    const clock = { now: Date.UTC(2030, 0, 1) };
    const exp = clock.now / 1000 + 3600;
    const jwt = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.`;
    const answers: unknown[] = [{ token: 'a', expiresOn: exp }, ['b', exp], jwt];
    let calls = 0;
    const auth = new TokenAuthentication(() => answers[calls++] as AccessToken, { clock: () => clock.now });
    assert.deepEqual(await auth.getToken(), { token: 'a', expiresOn: exp });
    assert.deepEqual(await auth.getToken(), { token: 'a', expiresOn: exp });
    clock.now = (exp - 299) * 1000;
    assert.deepEqual(await auth.getToken(), { token: 'b', expiresOn: exp });
    assert.deepEqual(await auth.getToken('other'), { token: jwt, expiresOn: exp });
    assert.equal(calls, 3);

    for (const bad of ['not-a-jwt', { token: '', expiresOn: exp }, { token: 'x' }, null]) {
      const refusing = new TokenAuthentication(() => bad as AccessToken);
      await assert.rejects(refusing.getToken(), (err: Error) => err instanceof TypeError && !err.message.includes('not-a-jwt'));
    }
    assert.throws(() => new TokenAuthentication('nope' as unknown as () => AccessToken), TypeError);
  });
});
