/**
 * The `tessera ad …` and `tessera keys …` commands against a live server: each command's
 * effect, in JSON (the default), `-o table` and `-o tsv`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Group, GroupMember, SignInLockout, SigningKeyInfo, User } from '@tessera/sdk';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/testServer.js';
import { removeTempDirs, tempDir } from './helpers/tempDirs.js';
import { tessera, tesseraJson } from './helpers/cli.js';
import { postJson } from './helpers/tokens.js';

let server: TestServer;
let env: Record<string, string>;

before(async () => {
  server = await startTestServer();
  env = { TESSERA_CONFIG_DIR: tempDir('config') };
  await tesseraJson(['login', '--server', server.url, '-u', 'admin', '-p', ADMIN_PASSWORD], env);
});

after(async () => {
  await server.close();
  removeTempDirs();
});

describe('tessera ad user', () => {
  test('create, show, update, disable, set-password, unlock and delete a user, printing JSON', async () => {
    const created = await tesseraJson<User>(
      ['ad', 'user', 'create', '--user-name', 'ada', '--password', 'Analytical-engine-1843', '--display-name', 'Ada Lovelace', '--email', 'ada@example.com'],
      env,
    );
    assert.equal(created.userName, 'ada');
    assert.equal(created.displayName, 'Ada Lovelace');
    assert.equal(created.mail, 'ada@example.com');
    assert.equal(created.accountEnabled, true);

    const shown = await tesseraJson<User>(['ad', 'user', 'show', '--id', 'ada'], env);
    assert.equal(shown.id, created.id);

    const updated = await tesseraJson<User>(['ad', 'user', 'update', '--id', created.id, '--display-name', 'Countess of Lovelace', '--email', '', '--account-enabled', 'false'], env);
    assert.equal(updated.displayName, 'Countess of Lovelace');
    assert.equal(updated.mail, null);
    assert.equal(updated.accountEnabled, false);
    assert.equal((await tesseraJson<User>(['ad', 'user', 'update', '--id', 'ada', '--account-enabled', 'true'], env)).accountEnabled, true);
    assert.equal((await tesseraJson<User>(['ad', 'user', 'disable', '--id', 'ada'], env)).accountEnabled, false);
    await tesseraJson(['ad', 'user', 'update', '--id', 'ada', '--account-enabled', 'true'], env);

    const setPassword = await tessera(['ad', 'user', 'set-password', '--id', 'ada', '--password', 'Difference-engine-1822'], env);
    assert.equal(setPassword.code, 0, setPassword.stderr);
    assert.equal((await postJson(server.url, '/login', { username: 'ada', password: 'Analytical-engine-1843' })).status, 401, 'the old password no longer works');
    assert.equal((await postJson(server.url, '/login', { username: 'ada', password: 'Difference-engine-1822' })).status, 200, 'the new password works');

    const unlock = await tessera(['ad', 'user', 'unlock', '--id', 'ada'], env);
    assert.deepEqual([unlock.code, unlock.stdout], [0, ''], unlock.stderr);

    const deleted = await tessera(['ad', 'user', 'delete', '--id', 'ada'], env);
    assert.deepEqual([deleted.code, deleted.stdout], [0, ''], deleted.stderr);
    const gone = await tessera(['ad', 'user', 'show', '--id', 'ada'], env);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /^ERROR: \(ResourceNotFound\) /);
  });

  test('list honours --top', async () => {
    await tesseraJson(['ad', 'user', 'create', '--user-name', 'grace', '--password', 'Compiler-pioneer-1952', '--disabled'], env);
    const all = await tesseraJson<User[]>(['ad', 'user', 'list'], env);
    assert.ok(all.length >= 2);
    assert.equal(all.find((u) => u.userName === 'grace')?.accountEnabled, false, '--disabled creates a disabled account');
    assert.equal((await tesseraJson<User[]>(['ad', 'user', 'list', '--top', '1'], env)).length, 1);
  });

  test('a server-side refusal exits 1 with the code and message, and no password', async () => {
    const weak = await tessera(['ad', 'user', 'create', '--user-name', 'weakling', '--password', 'password'], env);
    assert.equal(weak.code, 1);
    assert.match(weak.stderr, /^ERROR: \(PasswordPolicyViolation\) The password must have at least 12 characters/);
    assert.doesNotMatch(weak.stderr, /password'|"password"|\n\s+at /);
  });
});

describe('output formats', () => {
  test("-o table prints a header, a rule and one aligned row per user, in az's columns", async () => {
    const users = await tesseraJson<User[]>(['ad', 'user', 'list'], env);
    const { code, stdout } = await tessera(['ad', 'user', 'list', '-o', 'table'], env);
    assert.equal(code, 0);
    const lines = stdout.trimEnd().split('\n');
    assert.equal(lines.length, 2 + users.length);
    assert.match(lines[0]!, /^DisplayName\s+UserPrincipalName\s+Id\s+AccountEnabled$/);
    assert.match(lines[1]!, /^-+( {2}-+)+$/);
    const column = lines[0]!.indexOf('UserPrincipalName');
    for (const [i, user] of users.entries()) {
      assert.ok(lines[i + 2]!.startsWith(user.displayName));
      assert.equal(lines[i + 2]!.slice(column).split(' ')[0], user.userPrincipalName, 'values line up under their header');
    }
  });

  test('-o tsv prints tab-separated values without a header', async () => {
    const admin = await tesseraJson<User>(['ad', 'user', 'show', '--id', 'admin'], env);
    const { code, stdout } = await tessera(['ad', 'user', 'show', '--id', 'admin', '-o', 'tsv'], env);
    assert.equal(code, 0);
    assert.equal(
      stdout,
      // A local user: Member, source local, and no on-premises fields (empty, as az prints null).
      [admin.id, 'admin', admin.userPrincipalName, 'Administrator', '', 'true', admin.createdDateTime, admin.lastPasswordChangeDateTime, 'Member', 'local', '', '', '', ''].join('\t') + '\n',
    );
  });

  test('--query is JMESPath on the printed JSON: filters and multiselects; a bad query is a usage error (exit 2)', async () => {
    const filtered = await tessera(['ad', 'user', 'list', '--query', "[?userName=='admin'].{name: userName, source: source}", '-o', 'tsv'], env);
    assert.equal(filtered.code, 0, filtered.stderr);
    assert.equal(filtered.stdout, 'admin\tlocal\n');
    const counted = await tessera(['ad', 'user', 'list', '--query', 'length(@)'], env);
    assert.match(counted.stdout, /^\d+\n$/);
    const yaml = await tessera(['ad', 'user', 'show', '--id', 'admin', '-o', 'yaml', '--query', '{user: userName, enabled: accountEnabled}'], env);
    assert.equal(yaml.stdout, 'user: admin\nenabled: true\n');
    assert.equal((await tessera(['ad', 'user', 'show', '--id', 'admin', '-o', 'none'], env)).stdout, '');
    const bad = await tessera(['ad', 'user', 'list', '--query', '[?userName=='], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not a valid JMESPath expression/);
    const wrongType = await tessera(['ad', 'user', 'list', '--query', 'length(`5`)'], env);
    assert.equal(wrongType.code, 2);
    assert.match(wrongType.stderr, /^ERROR: --query cannot be applied/);
  });

  test('--output goes before or after the command alike', async () => {
    const before = await tessera(['-o', 'tsv', 'account', 'show'], env);
    const afterwards = await tessera(['account', 'show', '--output', 'tsv'], env);
    assert.equal(before.stdout, afterwards.stdout);
    // The account's scalar fields: environmentName, homeTenantId, id, isDefault, name, state, tenantId, server, objectId.
    assert.equal(before.stdout.split('\t').length, 9);
  });
});

describe('tessera ad group', () => {
  test('create, show, add and remove members, list, delete', async () => {
    const member = await tesseraJson<User>(['ad', 'user', 'create', '--user-name', 'alan', '--password', 'Bletchley-park-1939'], env);
    const group = await tesseraJson<Group>(['ad', 'group', 'create', '--display-name', 'ml-team', '--description', 'Model builders'], env);
    assert.equal(group.displayName, 'ml-team');
    assert.equal(group.description, 'Model builders');
    assert.equal((await tesseraJson<Group>(['ad', 'group', 'show', '--group', 'ml-team'], env)).id, group.id, 'a group is found by display name');

    const add = await tessera(['ad', 'group', 'member', 'add', '--group', 'ml-team', '--member-id', member.id], env);
    assert.deepEqual([add.code, add.stdout], [0, ''], add.stderr);
    const members = await tesseraJson<GroupMember[]>(['ad', 'group', 'member', 'list', '--group', group.id], env);
    assert.deepEqual(members, [{ id: member.id, displayName: member.displayName, userName: 'alan' }]);

    const remove = await tessera(['ad', 'group', 'member', 'remove', '--group', group.id, '--member-id', member.id], env);
    assert.equal(remove.code, 0, remove.stderr);
    assert.deepEqual(await tesseraJson(['ad', 'group', 'member', 'list', '--group', group.id], env), []);

    assert.ok((await tesseraJson<Group[]>(['ad', 'group', 'list'], env)).some((g) => g.id === group.id));
    assert.equal((await tessera(['ad', 'group', 'delete', '--group', group.id], env)).code, 0);
    assert.ok(!(await tesseraJson<Group[]>(['ad', 'group', 'list'], env)).some((g) => g.id === group.id));
  });
});

describe('tessera keys and tessera ad lockout', () => {
  test('keys rotate makes a new current key and retires the old one', async () => {
    const [before] = await tesseraJson<SigningKeyInfo[]>(['keys', 'list'], env);
    const rotated = await tesseraJson<SigningKeyInfo>(['keys', 'rotate', '--alg', 'RS256'], env);
    assert.equal(rotated.alg, 'RS256');
    assert.equal(rotated.status, 'current');
    const keys = await tesseraJson<SigningKeyInfo[]>(['keys', 'list'], env);
    assert.equal(keys[0]!.kid, rotated.kid);
    assert.equal(keys.find((k) => k.kid === before!.kid)?.status, 'retired');
    assert.equal((await tessera(['keys', 'rotate', '--alg', 'HS256'], env)).code, 2, 'an unknown algorithm is a usage error');
  });

  test('audit list shows the changes and sign-ins, newest first, with --category and --top', async () => {
    const records = await tesseraJson<{ category: string; operation: string; result: string }[]>(['audit', 'list', '--category', 'Management', '--top', '5'], env);
    assert.ok(records.length > 0 && records.length <= 5);
    assert.ok(records.every((r) => r.category === 'Management'));
    assert.ok(records.some((r) => r.operation === 'Tessera.Tokens/signingKeys/rotate/action'), JSON.stringify(records));
    const bad = await tessera(['audit', 'list', '--top', '0'], env);
    assert.equal(bad.code, 2);
  });

  test('lockout list shows failed sign-ins; clear removes them', async () => {
    assert.equal((await postJson(server.url, '/login', { username: 'mallory', password: 'Not-the-password-0' })).status, 401);
    const listed = await tesseraJson<SignInLockout[]>(['ad', 'lockout', 'list'], env);
    // A name that matches no user is listed under a keyed hash, never as typed.
    const entry = listed.find((l) => /^account:[0-9a-f-]{36}:unknown-/.test(l.key));
    assert.equal(entry?.failures, 1);
    assert.ok(!JSON.stringify(listed).includes('mallory'));
    const clear = await tessera(['ad', 'lockout', 'clear', '--key', entry.key], env);
    assert.deepEqual([clear.code, clear.stdout], [0, ''], clear.stderr);
    assert.ok(!(await tesseraJson<SignInLockout[]>(['ad', 'lockout', 'list'], env)).some((l) => l.key === entry.key));
  });
});
