/**
 * `tessera ad app …` against a live server: create with both kinds of redirect URIs,
 * list, show, update, credential reset (az's `{appId, password, tenant}`, a secret that
 * gets a client-credentials token) and delete; usage errors exit 2 and change nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Application, ServicePrincipal } from '@tessera/sdk';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/testServer.js';
import { removeTempDirs, tempDir } from './helpers/tempDirs.js';
import { tessera, tesseraJson } from './helpers/cli.js';
import { postToken } from './helpers/tokens.js';

interface ResetOutput {
  appId: string;
  password: string;
  tenant: string;
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

/** The client-credentials grant with `secret`: the HTTP status. */
async function signIn(appId: string, secret: string): Promise<number> {
  const result = await postToken(server.url, tenantId, { grant_type: 'client_credentials', client_id: appId, client_secret: secret, scope: 'api://tessera/management/.default' });
  return result.status;
}

describe('tessera ad app create, list, show, update, delete', () => {
  test("create takes both kinds of redirect URIs (space-separated or several values) and prints Graph's application; its service principal has the same appId", async () => {
    const result = await tessera(
      [
        'ad', 'app', 'create', '--display-name', 'notebook-app',
        '--public-client-redirect-uris', 'http://localhost', 'msal0f8fad5b://auth',
        '--web-redirect-uris', 'https://notebook.example.com/cb http://127.0.0.1:8400/cb',
        '--is-fallback-public-client', 'true',
      ],
      env,
    );
    assert.equal(result.code, 0, result.stderr);
    const app = JSON.parse(result.stdout) as Application;
    assert.equal(app.displayName, 'notebook-app');
    assert.deepEqual(app.publicClient.redirectUris, ['http://localhost', 'msal0f8fad5b://auth']);
    assert.deepEqual(app.web.redirectUris, ['https://notebook.example.com/cb', 'http://127.0.0.1:8400/cb']);
    assert.equal(app.isFallbackPublicClient, true);
    assert.equal(app.signInAudience, 'AzureADMyOrg');
    assert.equal(result.stdout, `${JSON.stringify(app, null, 2)}\n`, 'printed as az prints JSON');

    const sp = await tesseraJson<ServicePrincipal>(['ad', 'sp', 'show', '--id', app.appId], env);
    assert.deepEqual([sp.id, sp.displayName], [app.servicePrincipalId, 'notebook-app']);
  });

  test('list shows them (--top limits, --display-name filters); show finds one by object id, appId or name', async () => {
    const app = await tesseraJson<Application>(['ad', 'app', 'create', '--display-name', 'listed-app'], env);
    await tesseraJson<Application>(['ad', 'app', 'create', '--display-name', 'listed-app-2'], env);
    const all = await tesseraJson<Application[]>(['ad', 'app', 'list'], env);
    assert.ok(all.some((a) => a.id === app.id));
    assert.equal((await tesseraJson<Application[]>(['ad', 'app', 'list', '--top', '1'], env)).length, 1);
    assert.deepEqual((await tesseraJson<Application[]>(['ad', 'app', 'list', '--display-name', 'LISTED-APP'], env)).map((a) => a.displayName).sort(), ['listed-app', 'listed-app-2']);
    for (const id of [app.id, app.appId, 'Listed-App']) assert.deepEqual(await tesseraJson<Application>(['ad', 'app', 'show', '--id', id], env), app, id);
    const appIds = await tessera(['ad', 'app', 'list', '--query', '[].appId', '-o', 'tsv'], env);
    assert.ok(appIds.stdout.split('\n').includes(app.appId));
  });

  test('update renames (the service principal too), replaces redirect URIs ("" clears a list) and sets public client flows', async () => {
    const app = await tesseraJson<Application>(['ad', 'app', 'create', '--display-name', 'update-me', '--web-redirect-uris', 'https://a.example/cb'], env);
    const updated = await tesseraJson<Application>(
      ['ad', 'app', 'update', '--id', app.appId, '--display-name', 'updated', '--public-client-redirect-uris', 'http://localhost/cb', '--web-redirect-uris', '', '--is-fallback-public-client', 'true'],
      env,
    );
    assert.deepEqual(
      [updated.id, updated.displayName, updated.publicClient.redirectUris, updated.web.redirectUris, updated.isFallbackPublicClient],
      [app.id, 'updated', ['http://localhost/cb'], [], true],
    );
    assert.equal((await tesseraJson<ServicePrincipal>(['ad', 'sp', 'show', '--id', app.appId], env)).displayName, 'updated');
    const off = await tesseraJson<Application>(['ad', 'app', 'update', '--id', 'updated', '--is-fallback-public-client', 'false'], env);
    assert.deepEqual([off.isFallbackPublicClient, off.publicClient.redirectUris], [false, ['http://localhost/cb']], 'fields not given stay');
  });

  test('delete prints nothing and removes the application and its service principal', async () => {
    const app = await tesseraJson<Application>(['ad', 'app', 'create', '--display-name', 'delete-me'], env);
    const secret = await tesseraJson<ResetOutput>(['ad', 'app', 'credential', 'reset', '--id', app.id], env);
    const deleted = await tessera(['ad', 'app', 'delete', '--id', 'delete-me'], env);
    assert.deepEqual([deleted.code, deleted.stdout], [0, ''], deleted.stderr);
    const gone = await tessera(['ad', 'app', 'show', '--id', app.appId], env);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /^ERROR: \(ResourceNotFound\) /);
    assert.equal((await tessera(['ad', 'sp', 'show', '--id', app.appId], env)).code, 1, 'the service principal went with it');
    assert.equal(await signIn(app.appId, secret.password), 401);
  });
});

describe('tessera ad app credential reset', () => {
  test("prints az's {appId, password, tenant} once, with the warning on stderr; the password gets a client-credentials token; without --append it replaces the others", async () => {
    const app = await tesseraJson<Application>(['ad', 'app', 'create', '--display-name', 'ci-app'], env);
    const reset = await tessera(['ad', 'app', 'credential', 'reset', '--id', 'ci-app', '--display-name', 'pipeline', '--years', '2'], env);
    assert.equal(reset.code, 0, reset.stderr);
    const first = JSON.parse(reset.stdout) as ResetOutput;
    assert.deepEqual(Object.keys(first), ['appId', 'password', 'tenant']);
    assert.deepEqual([first.appId, first.tenant], [app.appId, tenantId]);
    assert.match(first.password, /^tscs_/);
    assert.match(reset.stderr, /credentials that you must protect/);
    assert.ok(!reset.stderr.includes(first.password), 'the secret goes to stdout only');
    assert.equal(await signIn(app.appId, first.password), 200);

    const sp = await tesseraJson<ServicePrincipal>(['ad', 'sp', 'show', '--id', app.appId], env);
    assert.deepEqual(sp.passwordCredentials.map((c) => c.displayName), ['pipeline']);
    const years = (Date.parse(sp.passwordCredentials[0]!.endDateTime) - Date.now()) / (365.25 * 24 * 3600_000);
    assert.ok(years > 1.99 && years < 2.01, `${years} years`);

    const appended = await tesseraJson<ResetOutput>(['ad', 'app', 'credential', 'reset', '--id', app.appId, '--append'], env);
    assert.equal(await signIn(app.appId, first.password), 200, 'with --append the other secret still works');
    assert.equal(await signIn(app.appId, appended.password), 200);

    const replaced = await tesseraJson<ResetOutput>(['ad', 'app', 'credential', 'reset', '--id', app.id], env);
    assert.equal(await signIn(app.appId, first.password), 401, 'without --append the old secrets stop working');
    assert.equal(await signIn(app.appId, appended.password), 401);
    assert.equal(await signIn(app.appId, replaced.password), 200);

    const bare = await tessera(['ad', 'app', 'credential', 'reset', '--id', app.id, '--query', 'password', '-o', 'tsv'], env);
    assert.match(bare.stdout, /^tscs_[A-Za-z0-9_-]+\n$/, '--query password -o tsv prints the bare secret');
  });
});

describe('bad input', () => {
  test('missing or malformed options are usage errors (exit 2) and change nothing', async () => {
    const app = await tesseraJson<Application>(['ad', 'app', 'create', '--display-name', 'usage-app'], env);
    const before = await tesseraJson<Application[]>(['ad', 'app', 'list'], env);
    const cases: [string[], RegExp][] = [
      [['ad', 'app', 'create'], /required option '--display-name <name>' not specified/],
      [['ad', 'app', 'show'], /required option '--id <id>' not specified/],
      [['ad', 'app', 'update', '--display-name', 'x'], /required option '--id <id>' not specified/],
      [['ad', 'app', 'delete'], /required option '--id <id>' not specified/],
      [['ad', 'app', 'credential', 'reset'], /required option '--id <id>' not specified/],
      [['ad', 'app', 'create', '--display-name', 'x1', '--is-fallback-public-client', 'yes'], /--is-fallback-public-client <bool>' argument 'yes' is invalid. It must be 'true' or 'false'/],
      [['ad', 'app', 'update', '--id', 'usage-app', '--is-fallback-public-client', 'TRUE'], /It must be 'true' or 'false'/],
      [['ad', 'app', 'update', '--id', 'usage-app'], /give at least one of --display-name/],
      [['ad', 'app', 'list', '--top', '0'], /It must be a whole number from 1 to 999/],
      [['ad', 'app', 'credential', 'reset', '--id', 'usage-app', '--years', 'many'], /It must be a whole number of years/],
      [['ad', 'app', 'credential', 'reset', '--id', 'usage-app', '--years', '1', '--end-date', '2030-01-01'], /give --years or --end-date, not both/],
    ];
    for (const [args, message] of cases) {
      const result = await tessera(args, env);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message, args.join(' '));
      assert.equal(result.stdout, '');
    }
    assert.deepEqual(await tesseraJson<Application[]>(['ad', 'app', 'list'], env), before);
    assert.deepEqual((await tesseraJson<ServicePrincipal>(['ad', 'sp', 'show', '--id', app.appId], env)).passwordCredentials, [], 'no secret was added');
  });

  test("the server's refusals exit 1 with its code: a refused redirect URI, a taken name, an unknown id", async () => {
    const cases: [string[], RegExp][] = [
      [['ad', 'app', 'create', '--display-name', 'evil-app', '--web-redirect-uris', 'http://evil.example/cb'], /^ERROR: \(InvalidParameter\) The redirect URI is not acceptable: http is allowed only on loopback/m],
      [['ad', 'app', 'create', '--display-name', 'evil-app', '--public-client-redirect-uris', 'javascript:alert(1)'], /^ERROR: \(InvalidParameter\) The redirect URI is not acceptable/m],
      [['ad', 'app', 'create', '--display-name', 'evil-app', '--web-redirect-uris', 'https://*.example.com/cb'], /wildcards are not allowed/],
      [['ad', 'app', 'create', '--display-name', 'notebook-app'], /^ERROR: \(Conflict\) /m],
      [['ad', 'app', 'show', '--id', 'no-such-app'], /^ERROR: \(ResourceNotFound\) No application has that id/m],
      [['ad', 'app', 'credential', 'reset', '--id', 'no-such-app'], /^ERROR: \(ResourceNotFound\) /m],
    ];
    for (const [args, message] of cases) {
      const result = await tessera(args, env);
      assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message, args.join(' '));
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    }
    assert.equal((await tessera(['ad', 'app', 'show', '--id', 'evil-app'], env)).code, 1, 'nothing was registered');
  });
});
