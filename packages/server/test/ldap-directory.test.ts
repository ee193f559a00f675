/**
 * Directory users, as Machine Learning Server had them, against a real OpenLDAP slapd
 * (test/ldap/slapd.ts) over LDAPS with a test CA, on both stores: sign-in by uid and by
 * mail on every password path, groups (nested too) → role assignments → access, removal
 * from a group → denied after the next refresh, a renamed account keeping its object id,
 * a directory that stops (a clear 503; the local admin still signs in; the refresh token
 * is not spent), throttling that never relays more failed binds than the lockout allows,
 * `directory test|sync`, and hostile names (RFC 4515 filter injection, DN injection,
 * NUL, an empty password, very long names, thousands of groups).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Change, Attribute } from 'ldapts';
import { STORE_KINDS, ADMIN_PASSWORD, call, claimsOf, login, postForm, startTestServer, type TestServer } from './helpers.js';
import { SERVICE_DN, SERVICE_PASSWORD, SUFFIX, startSlapd, type Slapd } from './ldap/slapd.js';
import { TESSERA_CLI_CLIENT_ID } from '../src/index.js';
import { DirectoryConnections } from '../src/ldap/connection.js';
import { DEFAULT_THROTTLE } from '../src/config.js';

const READER_ROLE = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const PEOPLE = `ou=people,${SUFFIX}`;
const GROUPS = `ou=groups,${SUFFIX}`;
const MANY_GROUPS = 2000;

const person = (uid: string, cn: string, password: string, mail = `${uid}@example.test`) => ({
  dn: `uid=${uid},${PEOPLE}`,
  attributes: { objectClass: ['inetOrgPerson'], uid, cn, sn: cn.split(' ').pop()!, mail, userPassword: password },
});
const group = (cn: string, members: string[]) => ({ dn: `cn=${cn},${GROUPS}`, attributes: { objectClass: ['groupOfNames'], cn, member: members } });

const PASSWORDS = { alice: 'Alice-directory-pw-1', bob: 'Bob-directory-pw-1', carol: 'Carol-directory-pw-1', zoe: 'Zoë-directory-pw-1', many: 'Many-directory-pw-1', dave: 'Dave-directory-pw-1' };

function fixture() {
  const dn = (uid: string) => `uid=${uid},${PEOPLE}`;
  return [
    person('alice', 'Alice Archer', PASSWORDS.alice),
    person('bob', 'Bob Builder', PASSWORDS.bob),
    person('carol', 'Carol Clark', PASSWORDS.carol),
    person('dave', 'Dave Doe', PASSWORDS.dave),
    // A unicode name (NFC in the directory), and a name that looks like filter syntax in a display name.
    { dn: `uid=zoë,${PEOPLE}`, attributes: { objectClass: ['inetOrgPerson'], uid: 'zoë', cn: 'Zoë Ünïcødé <b>', sn: 'Ünïcødé', mail: 'zoe@example.test', userPassword: PASSWORDS.zoe } },
    person('many', 'Many Groups', PASSWORDS.many),
    group('ml-team', [dn('alice'), dn('carol')]),
    // Nested: bob is in ml-interns, which is a member of ml-team.
    group('ml-interns', [dn('bob')]),
    ...Array.from({ length: MANY_GROUPS }, (_, i) => group(`bulk-${String(i).padStart(4, '0')}`, [dn('many')])),
  ];
}

for (const kind of STORE_KINDS) {
  describe(`directory users over LDAPS [${kind}]`, () => {
    let slapd: Slapd;
    let server: TestServer;
    let admin: string;
    const binds = { count: 0 };
    const original = DirectoryConnections.prototype.checkPassword;

    before(async () => {
      slapd = await startSlapd({ entries: fixture() });
      // ml-interns ⊂ ml-team: added after both exist.
      await slapd.modify(`cn=ml-team,${GROUPS}`, [new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [`cn=ml-interns,${GROUPS}`] }) })]);
      // Counts the binds Tessera relays to the directory (the lockout test reads it).
      DirectoryConnections.prototype.checkPassword = function (this: DirectoryConnections, dn: string, password: string) {
        binds.count++;
        return original.call(this, dn, password);
      };
      server = await startTestServer(kind, {
        env: {
          TESSERA_LDAP_NAME: 'corp',
          // A dead first URL: fail-over to the live one.
          TESSERA_LDAP_URL: `ldaps://127.0.0.1:1 ${slapd.ldapsUrl}`,
          TESSERA_LDAP_CA_FILE: slapd.caFile,
          TESSERA_LDAP_BIND_DN: SERVICE_DN,
          TESSERA_LDAP_BIND_PASSWORD: SERVICE_PASSWORD,
          TESSERA_LDAP_SEARCH_BASE: SUFFIX,
          TESSERA_LDAP_SEARCH_FILTER: '(&(objectClass=inetOrgPerson)(|(uid={0})(mail={0})))',
          TESSERA_LDAP_GROUP_SEARCH_BASE: GROUPS,
          TESSERA_LDAP_SYNC_INTERVAL_SEC: '0',
        },
        config: { throttle: { account: { ...DEFAULT_THROTTLE.account, delayAfter: 1000, lockoutAfter: 5 }, address: { ...DEFAULT_THROTTLE.address, delayAfter: 1000, lockoutAfter: 1000, maxInFlight: 64 } } },
      });
      admin = (await login(server)).access_token;
    });
    after(async () => {
      DirectoryConnections.prototype.checkPassword = original;
      await server?.close();
      await slapd?.close();
    });

    const passwordGrant = (username: string, password: string) =>
      postForm<{ access_token: string; refresh_token: string; error?: string; error_description?: string; error_codes?: number[] }>(`${server.url}/organizations/oauth2/v2.0/token`, {
        grant_type: 'password',
        client_id: TESSERA_CLI_CLIENT_ID,
        username,
        password,
        scope: 'api://tessera/management/.default offline_access',
      });
    const refresh = (refreshToken: string) =>
      postForm<{ access_token: string; refresh_token: string; error?: string; error_description?: string }>(`${server.url}/organizations/oauth2/v2.0/token`, {
        grant_type: 'refresh_token',
        client_id: TESSERA_CLI_CLIENT_ID,
        refresh_token: refreshToken,
      });
    const listUsers = (token: string) => call(`${server.url}/v1.0/users`, { token });
    const groupId = async (name: string) => (await call<{ id: string }>(`${server.url}/v1.0/groups/${encodeURIComponent(name)}`, { token: admin })).body.id;

    it('signs in by uid through /login and by mail through the password grant; the user becomes a Tessera principal of source ldap:corp', async () => {
      const byUid = await login(server, 'alice', PASSWORDS.alice);
      const byMail = await passwordGrant('ALICE@example.test', PASSWORDS.alice);
      assert.equal(byMail.status, 200, JSON.stringify(byMail.body));
      const [a, b] = [claimsOf(byUid.access_token), claimsOf(byMail.body.access_token)];
      assert.equal(a.oid, b.oid, 'one principal, whichever name was typed');
      assert.equal(a.name, 'Alice Archer');
      const shown = await call<Record<string, unknown>>(`${server.url}/v1.0/users/${String(a.oid)}`, { token: admin });
      assert.equal(shown.body.source, 'ldap:corp');
      assert.equal(shown.body.userName, 'alice');
      assert.equal(shown.body.mail, 'alice@example.test');
      assert.equal(shown.body.onPremisesSyncEnabled, true);
      assert.equal(shown.body.onPremisesDistinguishedName, `uid=alice,${PEOPLE}`);
      assert.match(String(shown.body.onPremisesImmutableId), /^[0-9a-f-]{36}$/);
      assert.equal(shown.body.lastPasswordChangeDateTime, null, 'no password is kept for a directory user');
      const row = await server.running.services.users.byId(String(a.oid));
      assert.equal(row?.password_hash, null);
      const local = await call<{ value: Array<{ userName: string; source: string }> }>(`${server.url}/v1.0/users`, { token: admin });
      assert.deepEqual(local.body.value.find((u) => u.userName === 'admin')?.source, 'local');
    });

    it('a wrong password, an unknown name and a password for another account are the same refusal', async () => {
      for (const [name, password] of [['alice', 'not-her-password'], ['nobody-here', PASSWORDS.alice], ['bob', PASSWORDS.alice]] as const) {
        const res = await passwordGrant(name, password);
        assert.equal(res.status, 400, name);
        assert.equal(res.body.error, 'invalid_grant');
        assert.deepEqual(res.body.error_codes, [50126]);
        assert.match(String(res.body.error_description), /^AADSTS50126: Invalid username or password\./);
      }
    });

    it("groups become Tessera groups; a role assigned to one (nested membership included) gives its members access", async () => {
      const alice = (await login(server, 'alice', PASSWORDS.alice)).access_token;
      assert.equal((await listUsers(alice)).status, 403, 'no role yet');
      const team = await call<{ id: string; source: string; onPremisesSyncEnabled: boolean }>(`${server.url}/v1.0/groups/ml-team`, { token: admin });
      assert.equal(team.status, 200);
      assert.equal(team.body.source, 'ldap:corp');
      await server.running.services.access.assign({ tenantId: server.running.bootstrap.tenantId, principalId: team.body.id, principalType: 'Group', roleDefinitionId: READER_ROLE, scope: '/', createdBy: null });
      assert.equal((await listUsers(alice)).status, 200, 'Reader through ml-team');
      // bob is in ml-interns only, which is itself a member of ml-team.
      const bob = (await login(server, 'bob', PASSWORDS.bob)).access_token;
      assert.equal((await listUsers(bob)).status, 200, 'Reader through the nested group');
      const members = await call<{ value: Array<{ userName: string }> }>(`${server.url}/v1.0/groups/ml-interns/members`, { token: admin });
      assert.deepEqual(members.body.value.map((m) => m.userName), ['bob']);
    });

    it('membership of a directory group is read-only here, and so are a directory user\'s name and password', async () => {
      const team = await groupId('ml-team');
      const adminId = String(claimsOf(admin).oid);
      const add = await call<{ error: { code: string; message: string } }>(`${server.url}/v1.0/groups/${team}/members/$ref`, { token: admin, body: { id: adminId } });
      assert.equal(add.status, 409);
      assert.equal(add.body.error.code, 'DirectoryManaged');
      assert.match(add.body.error.message, /comes from the directory 'corp'/);
      const alice = await call<{ id: string }>(`${server.url}/v1.0/users/alice`, { token: admin });
      const patch = await call<{ error: { code: string } }>(`${server.url}/v1.0/users/${alice.body.id}`, { method: 'PATCH', token: admin, body: { passwordProfile: { password: 'A-New-Local-Password-1' } } });
      assert.equal(patch.status, 409);
      assert.equal(patch.body.error.code, 'DirectoryManaged');
    });

    it('removed from the group in the directory, a user keeps access only until the next token refresh', async () => {
      const carolPair = await passwordGrant('carol', PASSWORDS.carol);
      assert.equal(carolPair.status, 200);
      assert.equal((await listUsers(carolPair.body.access_token)).status, 200, 'carol is in ml-team');
      await slapd.modify(`cn=ml-team,${GROUPS}`, [new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [`uid=carol,${PEOPLE}`] }) })]);
      const refreshed = await refresh(carolPair.body.refresh_token);
      assert.equal(refreshed.status, 200);
      assert.equal((await listUsers(refreshed.body.access_token)).status, 403, 'the refresh read her groups again');
      assert.equal((await listUsers(carolPair.body.access_token)).status, 403, 'memberships are read per request: the old token loses it too');
    });

    it('a renamed account keeps its object id, and with it its role assignments', async () => {
      const before = claimsOf((await login(server, 'dave', PASSWORDS.dave)).access_token);
      await server.running.services.access.assign({ tenantId: server.running.bootstrap.tenantId, principalId: String(before.oid), principalType: 'User', roleDefinitionId: READER_ROLE, scope: '/', createdBy: null });
      await slapd.asRoot((c) => c.modifyDN(`uid=dave,${PEOPLE}`, 'uid=david'));
      assert.equal((await passwordGrant('dave', PASSWORDS.dave)).status, 400, 'the old name is gone');
      const renamed = await login(server, 'david', PASSWORDS.dave);
      const after = claimsOf(renamed.access_token);
      assert.equal(after.oid, before.oid);
      assert.equal(after.preferred_username, 'david@tessera.local');
      assert.equal((await listUsers(renamed.access_token)).status, 200, 'the assignment to the object id still applies');
    });

    it('a unicode name signs in, typed composed or decomposed; markup in a display name stays text', async () => {
      const composed = await login(server, 'zoë', PASSWORDS.zoe);
      const decomposed = await passwordGrant('zoe\u0308', PASSWORDS.zoe);
      assert.equal(decomposed.status, 200, JSON.stringify(decomposed.body));
      assert.equal(claimsOf(composed.access_token).oid, claimsOf(decomposed.body.access_token).oid);
      assert.equal(claimsOf(composed.access_token).name, 'Zoë Ünïcødé <b>');
    });

    it('filter and DN injection in the name finds nothing: each is the ordinary refusal, never a match or a 5xx', async () => {
      const hostile = ['*', '*)(uid=*', ')(|(uid=*', 'alice)(|(objectClass=*', 'al*', 'alice\\', '\\2a', 'alice\u0000', `uid=alice,${PEOPLE}`, 'alice,ou=people', 'cn=admin', '(uid=alice)', '*)(userPassword=*'];
      for (const name of hostile) {
        const res = await passwordGrant(name, PASSWORDS.alice);
        assert.equal(res.status, 400, JSON.stringify(name));
        assert.deepEqual(res.body.error_codes, [50126], JSON.stringify(name));
        const mlServer = await call(`${server.url}/login`, { body: { username: name, password: PASSWORDS.alice } });
        assert.equal(mlServer.status, 401, JSON.stringify(name));
      }
    });

    it('an empty password never counts: the grant refuses it, and the directory is never sent an unauthenticated bind', async () => {
      const res = await passwordGrant('alice', '');
      assert.equal(res.status, 400);
      const before = binds.count;
      await assert.rejects(
        server.running.services.signIn.signIn({ tenantId: server.running.bootstrap.tenantId, username: 'bob', password: '', address: '127.0.0.9' }),
        (err: Error & { code?: string }) => err.code === 'AuthenticationFailed',
      );
      const connections = new DirectoryConnections((await server.running.services.directories.list())[0]!.settings as never);
      assert.equal(await connections.checkPassword(`uid=bob,${PEOPLE}`, ''), false);
      await connections.close();
      assert.ok(binds.count - before <= 2);
    });

    it('very long names are refused like any unknown name', async () => {
      for (const length of [257, 10_000]) {
        const name = 'a'.repeat(length);
        const res = await call(`${server.url}/login`, { body: { username: name, password: 'whatever-it-is' } });
        assert.ok(res.status === 400 || res.status === 401, `${length}: ${res.status}`);
      }
      const grant = await passwordGrant('b'.repeat(300), 'whatever-it-is');
      assert.equal(grant.status, 400);
    });

    it('an account in thousands of groups signs in with all of them', async () => {
      const token = (await login(server, 'many', PASSWORDS.many)).access_token;
      const oid = String(claimsOf(token).oid);
      const rows = await server.running.services.store.db
        .selectFrom('group_members')
        .innerJoin('groups', 'groups.id', 'group_members.group_id')
        .select('groups.display_name')
        .where('group_members.member_id', '=', oid)
        .execute();
      assert.equal(rows.length, MANY_GROUPS);
      // Signing in again changes nothing (no duplicates).
      await login(server, 'many', PASSWORDS.many);
      const again = await server.running.services.store.db.selectFrom('group_members').select('group_id').where('member_id', '=', oid).execute();
      assert.equal(again.length, MANY_GROUPS);
    });

    it('failed sign-ins lock the account after the limit, and no further password reaches the directory', async () => {
      const before = binds.count;
      const results: number[] = [];
      for (let i = 0; i < 9; i++) results.push((await passwordGrant('carol', `wrong-${i}`)).status);
      assert.equal(binds.count - before, 5, 'exactly lockoutAfter binds were relayed');
      const locked = await passwordGrant('carol', PASSWORDS.carol);
      assert.equal(locked.status, 400);
      assert.match(String(locked.body.error_description), /locked/i);
      assert.equal(binds.count - before, 5, 'not even the right password is relayed while locked');
      // Typing the mail instead of the uid counts against the same account.
      assert.equal((await passwordGrant('carol@example.test', PASSWORDS.carol)).status, 400);
      assert.equal(binds.count - before, 5);
    });

    it('directory test shows what an account would get, never a password; sync disables an account the directory lost', async () => {
      const test = await call<{ value: Array<Record<string, unknown>> }>(`${server.url}/admin/directories/test`, { token: admin, body: { userName: 'alice' } });
      assert.equal(test.status, 200);
      const [result] = test.body.value;
      assert.equal(result!.directory, 'corp');
      assert.equal(result!.found, true);
      assert.equal((result!.account as { dn: string }).dn, `uid=alice,${PEOPLE}`);
      assert.deepEqual(result!.groups, ['ml-team']);
      assert.equal(result!.url, slapd.ldapsUrl, 'the URL that answered');
      assert.doesNotMatch(JSON.stringify(test.body), new RegExp(`${PASSWORDS.alice}|${SERVICE_PASSWORD}|userPassword`));
      const missing = await call<{ value: Array<{ found: boolean }> }>(`${server.url}/admin/directories/test`, { token: admin, body: { userName: '*' } });
      assert.deepEqual(missing.body.value.map((r) => r.found), [false]);
      assert.equal((await call(`${server.url}/admin/directories/test`, { token: admin, body: {} })).status, 400);
      assert.equal((await call(`${server.url}/admin/directories/test`, { token: admin, body: { userName: 'a', directory: '<script>' } })).status, 400);
      const listed = await call<{ value: Array<{ settings: Record<string, unknown>; origin: string }> }>(`${server.url}/admin/directories`, { token: admin });
      assert.equal(listed.body.value[0]!.settings.bindPasswordSet, true);
      assert.equal(listed.body.value[0]!.origin, 'static');
      assert.doesNotMatch(JSON.stringify(listed.body), new RegExp(SERVICE_PASSWORD));

      const zoe = await call<{ id: string }>(`${server.url}/v1.0/users/zoë`, { token: admin });
      await slapd.asRoot((c) => c.del(`uid=zoë,${PEOPLE}`));
      const sync = await call<{ directories: Array<{ name: string; disabled: number; users: number }> }>(`${server.url}/admin/directories/sync`, { method: 'POST', token: admin, body: {} });
      assert.equal(sync.status, 200);
      assert.equal(sync.body.directories[0]!.disabled, 1);
      const shown = await call<{ accountEnabled: boolean }>(`${server.url}/v1.0/users/${zoe.body.id}`, { token: admin });
      assert.equal(shown.body.accountEnabled, false);
    });

    it('a directory that stops answers a clear 503; the local admin still signs in; a refresh token survives the outage', async () => {
      const pair = await passwordGrant('alice', PASSWORDS.alice);
      assert.equal(pair.status, 200);
      await slapd.stop();
      try {
        const down = await call<{ error?: unknown }>(`${server.url}/login`, { body: { username: 'alice', password: PASSWORDS.alice } });
        assert.equal(down.status, 503);
        assert.match(JSON.stringify(down.body), /directory 'corp' is not answering/);
        const grant = await passwordGrant('alice', PASSWORDS.alice);
        assert.equal(grant.status, 503);
        assert.equal(grant.body.error, 'temporarily_unavailable');
        assert.doesNotMatch(JSON.stringify(grant.body), new RegExp(SERVICE_PASSWORD));
        assert.equal((await login(server, 'admin', ADMIN_PASSWORD)).token_type, 'Bearer', 'the local admin never needs the directory');
        const refreshDown = await refresh(pair.body.refresh_token);
        assert.equal(refreshDown.status, 503);
      } finally {
        await slapd.start();
      }
      const refreshed = await refresh(pair.body.refresh_token);
      assert.equal(refreshed.status, 200, 'the outage did not spend the token');
      assert.equal((await login(server, 'alice', PASSWORDS.alice)).token_type, 'Bearer', 'and sign-in works again once it is back');
    });
  });
}
