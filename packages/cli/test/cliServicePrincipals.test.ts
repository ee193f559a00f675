/**
 * `tessera ad sp …` against a live server: create-for-rbac's two output shapes and that
 * the printed secret signs in; show, list, delete; credential reset (with and without
 * --append, secrets and certificates), list and delete; bad input. No secret is ever
 * echoed in an error.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { KeyCredential, Me, PasswordCredential, ServicePrincipal } from '@tessera/sdk';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/testServer.js';
import { removeTempDirs, tempDir } from './helpers/tempDirs.js';
import { tessera, tesseraJson } from './helpers/cli.js';
import { postToken } from './helpers/tokens.js';
import { makeCertificate } from './helpers/certificates.js';

interface AzShape {
  appId: string;
  displayName: string;
  password: string;
  tenant: string;
}

interface ResetOutput {
  appId: string;
  password: string;
  tenant: string;
  keyId: string;
  endDateTime: string;
}

let server: TestServer;
let env: Record<string, string>;
let tenantId: string;

before(async () => {
  server = await startTestServer();
  tenantId = server.running.bootstrap.tenantId;
  env = { TESSERA_CONFIG_DIR: tempDir('config') };
  await tesseraJson(['login', '--server', server.url, '-u', 'admin', '-p', ADMIN_PASSWORD], env);
});

after(async () => {
  await server.close();
  removeTempDirs();
});

/** The client-credentials grant with `secret`; the HTTP status and, on success, the token. */
async function signIn(appId: string, secret: string): Promise<{ status: number; token?: string; error?: unknown }> {
  const result = await postToken(server.url, tenantId, { grant_type: 'client_credentials', client_id: appId, client_secret: secret, scope: 'api://tessera/management/.default' });
  return { status: result.status, token: result.body.access_token as string | undefined, error: result.body.error };
}

async function me(token: string): Promise<{ status: number; body: Me }> {
  const response = await fetch(`${server.url}/me`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as Me };
}

describe('tessera ad sp create-for-rbac', () => {
  test("prints az's shape {appId, displayName, password, tenant}; the secret gets a token that calls /me", async () => {
    const result = await tessera(['ad', 'sp', 'create-for-rbac', '--name', 'ci-deployer'], env);
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout) as AzShape;
    assert.deepEqual(Object.keys(out), ['appId', 'displayName', 'password', 'tenant']);
    assert.equal(out.displayName, 'ci-deployer');
    assert.equal(out.tenant, tenantId);
    assert.match(out.password, /^tscs_/);
    assert.match(result.stderr, /credentials that you must protect/);
    assert.ok(!result.stderr.includes(out.password), 'the secret goes to stdout only');

    const signedIn = await signIn(out.appId, out.password);
    assert.equal(signedIn.status, 200);
    const who = await me(signedIn.token!);
    assert.equal(who.status, 200);
    assert.deepEqual([who.body.principalType, who.body.clientId, who.body.displayName, who.body.tenantId], ['ServicePrincipal', out.appId, 'ci-deployer', tenantId]);

    const shown = await tesseraJson<ServicePrincipal>(['ad', 'sp', 'show', '--id', out.appId], env);
    assert.equal(shown.passwordCredentials.length, 1);
    assert.equal(shown.passwordCredentials[0]!.hint, out.password.slice(5, 8), 'the hint is the first characters after the prefix');
    assert.ok(!JSON.stringify(shown).includes(out.password), 'show never prints the secret');
  });

  test('--years sets the expiry; --query password -o tsv prints the bare secret', async () => {
    const result = await tessera(['ad', 'sp', 'create-for-rbac', '--name', 'two-year-sp', '--years', '2', '--query', 'password', '-o', 'tsv'], env);
    assert.equal(result.code, 0, result.stderr);
    const secret = result.stdout.trimEnd();
    assert.match(secret, /^tscs_[A-Za-z0-9_-]+$/);
    const shown = await tesseraJson<ServicePrincipal>(['ad', 'sp', 'show', '--id', 'two-year-sp'], env);
    const years = (Date.parse(shown.passwordCredentials[0]!.endDateTime) - Date.now()) / (365.25 * 24 * 3600_000);
    assert.ok(years > 1.99 && years < 2.01, `${years} years`);
    assert.equal((await signIn(shown.appId, secret)).status, 200);
  });

  test("running it again with the same name reuses the principal and replaces its secret, as az does", async () => {
    const first = await tesseraJson<AzShape>(['ad', 'sp', 'create-for-rbac', '--name', 'rerun-sp'], env);
    const again = await tessera(['ad', 'sp', 'create-for-rbac', '--name', 'rerun-sp'], env);
    assert.equal(again.code, 0, again.stderr);
    const second = JSON.parse(again.stdout) as AzShape;
    assert.equal(second.appId, first.appId);
    assert.match(again.stderr, /Found an existing service principal named 'rerun-sp'/);
    assert.equal((await signIn(first.appId, first.password)).status, 401, 'the old secret stops working');
    assert.equal((await signIn(second.appId, second.password)).status, 200);
    assert.equal((await tesseraJson<PasswordCredential[]>(['ad', 'sp', 'credential', 'list', '--id', 'rerun-sp'], env)).length, 1);
  });
});

describe('tessera ad sp show, list, delete', () => {
  test('show by object id, appId or name; list filters by display name; -o table and tsv; delete ends sign-ins', async () => {
    const created = await tesseraJson<AzShape>(['ad', 'sp', 'create-for-rbac', '--name', 'listed-sp'], env);
    const byName = await tesseraJson<ServicePrincipal>(['ad', 'sp', 'show', '--id', 'LISTED-SP'], env);
    assert.equal(byName.appId, created.appId);
    assert.equal((await tesseraJson<ServicePrincipal>(['ad', 'sp', 'show', '--id', byName.id], env)).appId, created.appId);

    const listed = await tesseraJson<ServicePrincipal[]>(['ad', 'sp', 'list', '--display-name', 'listed'], env);
    assert.deepEqual(listed.map((p) => p.displayName), ['listed-sp']);
    const table = await tessera(['ad', 'sp', 'list', '--display-name', 'listed', '-o', 'table'], env);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^DisplayName\s+AppId\s+Id\s+Type$/);
    assert.ok(lines[2]!.startsWith('listed-sp') && lines[2]!.includes(created.appId) && lines[2]!.includes(byName.id));
    const tsv = await tessera(['ad', 'sp', 'show', '--id', 'listed-sp', '-o', 'tsv'], env);
    assert.equal(tsv.stdout, [byName.id, created.appId, 'listed-sp', 'true', 'Application', byName.createdDateTime].join('\t') + '\n');
    assert.equal((await tessera(['ad', 'sp', 'list', '--query', '[].appId', '-o', 'tsv'], env)).stdout.split('\n').filter(Boolean).length >= 1, true);

    const deleted = await tessera(['ad', 'sp', 'delete', '--id', 'listed-sp'], env);
    assert.deepEqual([deleted.code, deleted.stdout], [0, ''], deleted.stderr);
    const gone = await tessera(['ad', 'sp', 'show', '--id', created.appId], env);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /^ERROR: \(ResourceNotFound\) /);
    assert.equal((await signIn(created.appId, created.password)).status, 401);
  });
});

describe('tessera ad sp credential', () => {
  test('reset without --append replaces the secret; with --append both work; list shows hints, never secrets; delete ends one', async () => {
    const sp = await tesseraJson<AzShape>(['ad', 'sp', 'create-for-rbac', '--name', 'rotating-sp'], env);
    const reset = await tessera(['ad', 'sp', 'credential', 'reset', '--id', sp.appId], env);
    assert.equal(reset.code, 0, reset.stderr);
    const second = JSON.parse(reset.stdout) as ResetOutput;
    assert.deepEqual([second.appId, second.tenant], [sp.appId, tenantId]);
    assert.equal((await signIn(sp.appId, sp.password)).status, 401, 'without --append the old secret stops working');
    assert.equal((await signIn(sp.appId, second.password)).status, 200);

    const third = await tesseraJson<ResetOutput>(['ad', 'sp', 'credential', 'reset', '--id', 'rotating-sp', '--append', '--display-name', 'nightly', '--end-date', new Date(Date.now() + 30 * 86400_000).toISOString()], env);
    assert.equal((await signIn(sp.appId, second.password)).status, 200, 'with --append the other secret still works');
    assert.equal((await signIn(sp.appId, third.password)).status, 200);

    const listed = await tesseraJson<PasswordCredential[]>(['ad', 'sp', 'credential', 'list', '--id', sp.appId], env);
    assert.deepEqual(listed.map((c) => c.keyId).sort(), [second.keyId, third.keyId].sort());
    assert.deepEqual(new Set(listed.map((c) => c.hint)), new Set([second.password.slice(5, 8), third.password.slice(5, 8)]));
    assert.equal(listed.find((c) => c.keyId === third.keyId)?.displayName, 'nightly');
    const listText = JSON.stringify(listed);
    assert.ok(!listText.includes(second.password) && !listText.includes(third.password));
    const table = await tessera(['ad', 'sp', 'credential', 'list', '--id', sp.appId, '-o', 'table'], env);
    assert.match(table.stdout.split('\n')[0]!, /^KeyId\s+DisplayName\s+Hint\s+StartDateTime\s+EndDateTime$/);

    const deleted = await tessera(['ad', 'sp', 'credential', 'delete', '--id', sp.appId, '--key-id', second.keyId], env);
    assert.deepEqual([deleted.code, deleted.stdout], [0, ''], deleted.stderr);
    assert.equal((await signIn(sp.appId, second.password)).status, 401, 'a deleted secret stops working');
    assert.equal((await signIn(sp.appId, third.password)).status, 200);
    const again = await tessera(['ad', 'sp', 'credential', 'delete', '--id', sp.appId, '--key-id', second.keyId], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^ERROR: \(ResourceNotFound\) /);
  });

  test('a certificate: reset --cert @file registers only the certificate; the SDK signs in with it; --cert-file without --append replaces it', async () => {
    const sp = await tesseraJson<AzShape>(['ad', 'sp', 'create-for-rbac', '--name', 'cert-sp'], env);
    const dir = tempDir('certs');
    const first = makeCertificate('first');
    const pemFile = path.join(dir, 'sp.pem');
    fs.writeFileSync(pemFile, first.combinedPem, { mode: 0o600 });

    const added = await tessera(['ad', 'sp', 'credential', 'reset', '--id', 'cert-sp', '--cert', `@${pemFile}`], env);
    assert.equal(added.code, 0, added.stderr);
    const key = JSON.parse(added.stdout) as { appId: string; keyId: string; customKeyIdentifier: string };
    assert.equal(key.customKeyIdentifier, first.thumbprintSha1Hex);
    assert.ok(!added.stdout.includes('PRIVATE KEY'));
    assert.equal((await signIn(sp.appId, sp.password)).status, 200, 'a certificate reset leaves the secrets alone');

    const certs = await tesseraJson<KeyCredential[]>(['ad', 'sp', 'credential', 'list', '--id', 'cert-sp', '--cert'], env);
    assert.deepEqual(certs.map((c) => [c.keyId, c.type, c.usage]), [[key.keyId, 'AsymmetricX509Cert', 'Verify']]);

    const { ServicePrincipalAuthentication, TesseraClient } = await import('@tessera/sdk');
    for (const assertionAlgorithm of ['RS256', 'PS256'] as const) {
      const auth = new ServicePrincipalAuthentication({ server: server.url, tenantId, servicePrincipalId: sp.appId, certificate: first.combinedPem, assertionAlgorithm });
      const who = await new TesseraClient(server.url, auth).me();
      assert.deepEqual([who.principalType, who.clientId], ['ServicePrincipal', sp.appId], assertionAlgorithm);
    }

    // Replace it with a DER file, given by --cert-file.
    const second = makeCertificate('second');
    const derFile = path.join(dir, 'second.der');
    fs.writeFileSync(derFile, new crypto.X509Certificate(second.certPem).raw);
    const replaced = await tesseraJson<{ keyId: string; customKeyIdentifier: string }>(['ad', 'sp', 'credential', 'reset', '--id', sp.appId, '--cert-file', derFile], env);
    assert.equal(replaced.customKeyIdentifier, second.thumbprintSha1Hex);
    const after = await tesseraJson<KeyCredential[]>(['ad', 'sp', 'credential', 'list', '--id', sp.appId, '--cert'], env);
    assert.deepEqual(after.map((c) => c.keyId), [replaced.keyId], 'without --append the old certificate is removed');
    const stale = new ServicePrincipalAuthentication({ server: server.url, tenantId, servicePrincipalId: sp.appId, certificate: first.combinedPem });
    await assert.rejects(stale.getToken(), (err: Error & { code?: string }) => err.code === 'invalid_client');
    const fresh = new ServicePrincipalAuthentication({ server: server.url, tenantId, servicePrincipalId: sp.appId, certificate: `${second.keyPem}${second.certPem}` });
    assert.match((await fresh.getToken()).token, /^eyJ/);

    // --append keeps both; delete finds a certificate by its key id.
    const third = makeCertificate('third');
    fs.writeFileSync(pemFile, third.certPem);
    const appended = await tesseraJson<{ keyId: string }>(['ad', 'sp', 'credential', 'reset', '--id', sp.appId, '--cert', `@${pemFile}`, '--append'], env);
    assert.equal((await tesseraJson<KeyCredential[]>(['ad', 'sp', 'credential', 'list', '--id', sp.appId, '--cert'], env)).length, 2);
    const deleted = await tessera(['ad', 'sp', 'credential', 'delete', '--id', sp.appId, '--key-id', appended.keyId], env);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.deepEqual((await tesseraJson<KeyCredential[]>(['ad', 'sp', 'credential', 'list', '--id', sp.appId, '--cert'], env)).map((c) => c.keyId), [replaced.keyId]);
  });
});

describe('bad input', () => {
  test('missing or malformed options are usage errors (exit 2) and create nothing', async () => {
    const before = (await tesseraJson<ServicePrincipal[]>(['ad', 'sp', 'list'], env)).length;
    const cases: [string[], RegExp][] = [
      [['ad', 'sp', 'create-for-rbac'], /required option '-n, --name <name>' not specified/],
      [['ad', 'sp', 'create-for-rbac', '--name', 'x1', '--role', 'Reader'], /give both --role and --scopes/],
      [['ad', 'sp', 'create-for-rbac', '--name', 'x2', '--scopes', '/subscriptions/abc'], /give both --role and --scopes/],
      [['ad', 'sp', 'create-for-rbac', '--name', 'x3', '--role', 'Reader', '--scopes', 'subscriptions/abc'], /--scopes <scopes>' argument 'subscriptions\/abc' is invalid. It must be '\/' or a resource ID/],
      [['ad', 'sp', 'create-for-rbac', '--name', 'x4', '--years', 'many'], /It must be a whole number of years/],
      [['ad', 'sp', 'show'], /required option '--id <id>' not specified/],
      [['ad', 'sp', 'credential', 'reset', '--id', 'ci-deployer', '--cert', '@/nonexistent/sp.pem'], /^ERROR: --cert: cannot read the file '\/nonexistent\/sp.pem' \(ENOENT\)\.$/m],
      [['ad', 'sp', 'credential', 'reset', '--id', 'ci-deployer', '--cert', 'not a certificate'], /--cert: the value is not a certificate/],
      [['ad', 'sp', 'credential', 'reset', '--id', 'ci-deployer', '--cert', 'x', '--cert-file', 'y'], /give --cert or --cert-file, not both/],
      [['ad', 'sp', 'credential', 'reset', '--id', 'ci-deployer', '--years', '1', '--end-date', '2030-01-01'], /give --years or --end-date, not both/],
      [['ad', 'sp', 'credential', 'delete', '--id', 'ci-deployer', '--key-id', 'k1'], /It must be a GUID/],
      [['ad', 'sp', 'list', '--query', 'a..b'], /not a valid JMESPath expression/],
    ];
    for (const [args, message] of cases) {
      const result = await tessera(args, env);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message, args.join(' '));
      assert.equal(result.stdout, '');
    }
    assert.equal((await tesseraJson<ServicePrincipal[]>(['ad', 'sp', 'list'], env)).length, before);
  });

  test('server refusals exit 1 with the server\'s code and never echo a secret', async () => {
    const sp = await tesseraJson<AzShape>(['ad', 'sp', 'create-for-rbac', '--name', 'refusals-sp'], env);
    const tooLong = await tessera(['ad', 'sp', 'credential', 'reset', '--id', sp.appId, '--years', '3'], env);
    assert.equal(tooLong.code, 1);
    assert.match(tooLong.stderr, /^ERROR: \(InvalidParameter\) A credential may live at most 2 years\.$/m);
    assert.equal((await signIn(sp.appId, sp.password)).status, 200, 'a refused reset removes nothing');

    const unknown = await tessera(['ad', 'sp', 'credential', 'reset', '--id', 'no-such-sp'], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^ERROR: \(ResourceNotFound\) No service principal has that id/);

    const expired = makeCertificate('expired', { expired: true });
    const refusedCert = await tessera(['ad', 'sp', 'credential', 'reset', '--id', sp.appId, '--cert', expired.certPem], env);
    assert.equal(refusedCert.code, 1);
    assert.match(refusedCert.stderr, /^ERROR: \(InvalidParameter\) The certificate has expired\.$/m);

    for (const result of [tooLong, unknown, refusedCert]) {
      assert.ok(!result.stderr.includes(sp.password) && !/tscs_/.test(result.stderr), 'no secret in an error');
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    }
  });
});
