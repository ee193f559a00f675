/**
 * `tessera directory list|show|set|delete|test|sync` against a live server: a directory
 * set with its password from a file (never from the settings, never printed), listed
 * without it, a test against a directory that is down failing clearly (exit 1, the
 * directory named), and usage errors (exit 2) for settings and files that cannot be used.
 * Sign-in against a real slapd is the server suite's (ldap-directory.test.ts).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/testServer.js';
import { removeTempDirs, tempDir } from './helpers/tempDirs.js';
import { tessera, tesseraJson } from './helpers/cli.js';

const BIND_PASSWORD = 'cli-bind-secret-never-shown';
let server: TestServer;
let env: Record<string, string>;
let dir: string;

before(async () => {
  server = await startTestServer();
  env = { TESSERA_CONFIG_DIR: tempDir('config') };
  dir = tempDir('directory');
  await tesseraJson(['login', '--server', server.url, '-u', 'admin', '-p', ADMIN_PASSWORD], env);
});

after(async () => {
  await server.close();
  removeTempDirs();
});

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text, { mode: 0o600 });
  return p;
}

describe('tessera directory', () => {
  // Port 1 on loopback: nothing listens, so the directory is down from the start.
  const settings = { urls: ['ldaps://127.0.0.1:1'], bindDn: 'cn=svc,dc=example,dc=test', searchBase: 'dc=example,dc=test', connectTimeoutMs: 500 };

  test('set takes the password from a file; list and show never print it', async () => {
    const made = await tesseraJson<{ settings: { name: string; bindPasswordSet: boolean }; origin: string }>(
      ['directory', 'set', '--name', 'corp', '--settings', `@${file('corp.json', JSON.stringify(settings))}`, '--bind-password-file', file('pw', `${BIND_PASSWORD}\n`)],
      env,
    );
    assert.deepEqual([made.settings.name, made.settings.bindPasswordSet, made.origin], ['corp', true, 'api']);
    const listed = await tessera(['directory', 'list'], env);
    const shown = await tessera(['directory', 'show', '--name', 'corp'], env);
    for (const out of [listed, shown]) {
      assert.equal(out.code, 0, out.stderr);
      assert.doesNotMatch(out.stdout + out.stderr, new RegExp(BIND_PASSWORD));
    }
    assert.match(shown.stdout, /"bindPasswordSet": true/);
  });

  test('test and sync against a directory that is down fail clearly, naming it', async () => {
    const tested = await tessera(['directory', 'test', '--user', 'alice'], env);
    assert.equal(tested.code, 1);
    assert.match(tested.stderr, /^ERROR: \(DirectoryUnavailable\) The directory 'corp' is not answering/);
    assert.doesNotMatch(tested.stderr, new RegExp(BIND_PASSWORD));
    const synced = await tesseraJson<{ directories: Array<{ name: string; users: number }> }>(['directory', 'sync'], env);
    assert.deepEqual(synced.directories.map((d) => [d.name, d.users]), [['corp', 0]]);
  });

  test('usage errors exit 2: a password in the settings, unreadable or empty files, JSON that is not an object', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['directory', 'set', '--name', 'x', '--settings', JSON.stringify({ ...settings, bindPassword: 'inline' })], /put the service account password in a file/],
      [['directory', 'set', '--name', 'x', '--settings', JSON.stringify(settings), '--bind-password-file', path.join(dir, 'missing')], /cannot read the file/],
      [['directory', 'set', '--name', 'x', '--settings', JSON.stringify(settings), '--bind-password-file', file('empty', '')], /is empty/],
      [['directory', 'set', '--name', 'x', '--settings', '["ldaps://x"]'], /give a JSON object/],
      [['directory', 'set', '--name', 'x', '--settings', '{not json'], /not valid JSON/],
      [['directory', 'test'], /required option '--user/],
    ];
    for (const [args, message] of cases) {
      const result = await tessera(args, env);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });

  test('the server refuses bad settings and names (exit 1, 400 messages), and delete removes it', async () => {
    const badUrl = await tessera(['directory', 'set', '--name', 'corp', '--settings', JSON.stringify({ ...settings, urls: ['ldap://127.0.0.1:1'] })], env);
    assert.equal(badUrl.code, 1);
    assert.match(badUrl.stderr, /plain LDAP/);
    const badName = await tessera(['directory', 'show', '--name', '<b>x</b>'], env);
    assert.equal(badName.code, 1);
    assert.equal((await tessera(['directory', 'delete', '--name', 'corp'], env)).code, 0);
    const gone = await tessera(['directory', 'show', '--name', 'corp'], env);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /\(ResourceNotFound\)/);
  });
});
