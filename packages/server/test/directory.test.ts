/**
 * Users and groups (Graph-shaped admin API): lifecycle, password policy, who may do it,
 * and that disabling or deleting an account stops its access tokens on the next request.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STORE_KINDS, call, createUser, login, startTestServer, type TestServer } from './helpers.js';

interface User {
  id: string;
  userName: string;
  userPrincipalName: string;
  displayName: string;
  mail: string | null;
  accountEnabled: boolean;
}

for (const kind of STORE_KINDS) {
  describe(`directory [${kind}]`, () => {
    let server: TestServer;
    let admin: string;
    before(async () => {
      server = await startTestServer(kind);
      admin = (await login(server)).access_token;
    });
    after(() => server.close());

    const users = (path = '') => `${server.url}/v1.0/users${path}`;

    describe('users', () => {
      it('creates a user (201) in Graph shape, lists it and shows it by id and by name', async () => {
        const created = await call<User>(users(), { token: admin, body: { userName: 'Ada', displayName: 'Ada Lovelace', mail: 'ada@example.com', passwordProfile: { password: 'Analytical-Engine-1843' } } });
        assert.equal(created.status, 201);
        assert.equal(created.body.userName, 'ada');
        assert.equal(created.body.userPrincipalName, 'ada@tessera.local');
        assert.equal(created.body.accountEnabled, true);
        assert.ok(!JSON.stringify(created.body).includes('Analytical'), 'the password is never echoed');
        const list = await call<{ value: User[] }>(users(), { token: admin });
        assert.ok(list.body.value.some((u) => u.id === created.body.id));
        assert.equal((await call<User>(users(`/${created.body.id}`), { token: admin })).body.displayName, 'Ada Lovelace');
        assert.equal((await call<User>(users('/ADA'), { token: admin })).body.id, created.body.id);
        assert.equal((await call<User>(users('/ada@tessera.local'), { token: admin })).body.id, created.body.id);
        const signedIn = await login(server, 'ada', 'Analytical-Engine-1843');
        const me = await call<{ userName: string }>(`${server.url}/me`, { token: signedIn.access_token });
        assert.equal(me.body.userName, 'ada');
      });

      it('accepts userPrincipalName in the tenant domain and refuses another domain', async () => {
        const ok = await call<User>(users(), { token: admin, body: { userPrincipalName: 'alan@tessera.local', passwordProfile: { password: 'Turing-Machine-1936' } } });
        assert.equal(ok.status, 201);
        assert.equal(ok.body.userName, 'alan');
        const bad = await call(users(), { token: admin, body: { userPrincipalName: 'eve@evil.example', passwordProfile: { password: 'Turing-Machine-1936' } } });
        assert.equal(bad.status, 400);
      });

      it('a duplicate user name is a 409 Conflict, whatever its case', async () => {
        const res = await call(users(), { token: admin, body: { userName: 'ADA', passwordProfile: { password: 'Analytical-Engine-1843' } } });
        assert.equal(res.status, 409);
        assert.equal((res.body.error as { code: string }).code, 'Conflict');
      });

      const weak: [string, string][] = [
        ['shorter than 12 characters', 'Sh0rt-pass'],
        ['in the list of common passwords', 'qazwsxedcrfv'],
        ['a common password with digits appended', 'password12345678'],
        ['containing the user name', 'my-name-is-weakling-ok'],
      ];
      for (const [why, password] of weak) {
        it(`refuses a password ${why} with PasswordPolicyViolation`, async () => {
          const res = await call(users(), { token: admin, body: { userName: 'weakling', passwordProfile: { password } } });
          assert.equal(res.status, 400);
          assert.equal((res.body.error as { code: string }).code, 'PasswordPolicyViolation');
          assert.ok(!JSON.stringify(res.body).includes(password));
        });
      }

      it('updates display name and mail; PATCH with nothing to change is a 400', async () => {
        const res = await call<User>(users('/ada'), { method: 'PATCH', token: admin, body: { displayName: 'Countess of Lovelace', mail: null } });
        assert.equal(res.status, 200);
        assert.equal(res.body.displayName, 'Countess of Lovelace');
        assert.equal(res.body.mail, null);
        assert.equal((await call(users('/ada'), { method: 'PATCH', token: admin, body: {} })).status, 400);
      });

      it("disabling a user stops that user's access token on the next request", async () => {
        const id = await createUser(server, admin, 'linus', 'Kernel-Hacker-1991');
        const token = (await login(server, 'linus', 'Kernel-Hacker-1991')).access_token;
        assert.equal((await call(`${server.url}/me`, { token })).status, 200);
        const disabled = await call<User>(users(`/${id}`), { method: 'PATCH', token: admin, body: { accountEnabled: false } });
        assert.equal(disabled.body.accountEnabled, false);
        const refused = await call(`${server.url}/me`, { token });
        assert.equal(refused.status, 401);
        assert.match(refused.headers.get('www-authenticate') ?? '', /disabled or deleted/);
        await call(users(`/${id}`), { method: 'PATCH', token: admin, body: { accountEnabled: true } });
        assert.equal((await call(`${server.url}/me`, { token })).status, 200, 're-enabling restores the unexpired token');
      });

      it("deleting a user stops that user's access token on the next request and frees the name", async () => {
        await createUser(server, admin, 'temp', 'Short-Lived-Person-2024');
        const token = (await login(server, 'temp', 'Short-Lived-Person-2024')).access_token;
        assert.equal((await call(users('/temp'), { method: 'DELETE', token: admin })).status, 204);
        assert.equal((await call(`${server.url}/me`, { token })).status, 401);
        assert.equal((await call(users('/temp'), { token: admin })).status, 404);
        await createUser(server, admin, 'temp', 'Short-Lived-Person-2025');
      });

      it('an administrator cannot disable or delete their own account', async () => {
        assert.equal((await call(users('/admin'), { method: 'PATCH', token: admin, body: { accountEnabled: false } })).status, 409);
        assert.equal((await call(users('/admin'), { method: 'DELETE', token: admin })).status, 409);
      });

      it('set password: the new one signs in, the old one does not', async () => {
        await createUser(server, admin, 'barbara', 'Liskov-Substitution-87');
        const res = await call(users('/barbara'), { method: 'PATCH', token: admin, body: { passwordProfile: { password: 'Abstract-Data-Types-74' } } });
        assert.equal(res.status, 200);
        assert.ok(await login(server, 'barbara', 'Abstract-Data-Types-74'));
        assert.equal((await call(`${server.url}/login`, { body: { username: 'barbara', password: 'Liskov-Substitution-87' } })).status, 401);
      });

      it('a user changes their own password with the current one', async () => {
        await createUser(server, admin, 'donald', 'Art-Of-Programming-1968');
        const token = (await login(server, 'donald', 'Art-Of-Programming-1968')).access_token;
        const wrong = await call(`${server.url}/v1.0/me/changePassword`, { token, body: { currentPassword: 'not it at all', newPassword: 'TeX-Typesetting-1978' } });
        assert.equal(wrong.status, 401);
        const ok = await call(`${server.url}/v1.0/me/changePassword`, { token, body: { currentPassword: 'Art-Of-Programming-1968', newPassword: 'TeX-Typesetting-1978' } });
        assert.equal(ok.status, 204);
        assert.ok(await login(server, 'donald', 'TeX-Typesetting-1978'));
      });

      it('unknown users are 404 ResourceNotFound', async () => {
        const res = await call(users('/00000000-0000-0000-0000-000000000000'), { token: admin });
        assert.equal(res.status, 404);
        assert.equal((res.body.error as { code: string }).code, 'ResourceNotFound');
      });
    });

    describe('groups', () => {
      it('create, show, add and remove members, list members, delete', async () => {
        const ada = (await call<User>(users('/ada'), { token: admin })).body;
        const created = await call<{ id: string; displayName: string }>(`${server.url}/v1.0/groups`, { token: admin, body: { displayName: 'Data Scientists', description: 'People who train models' } });
        assert.equal(created.status, 201);
        const gid = created.body.id;
        assert.equal((await call(`${server.url}/v1.0/groups/data scientists`, { token: admin })).body.id, gid);
        const add = await call(`${server.url}/v1.0/groups/${gid}/members/$ref`, { token: admin, body: { '@odata.id': `${server.url}/v1.0/directoryObjects/${ada.id}` } });
        assert.equal(add.status, 204);
        assert.equal((await call(`${server.url}/v1.0/groups/${gid}/members/$ref`, { token: admin, body: { id: ada.id } })).status, 204, 'adding twice is harmless');
        const members = await call<{ value: { id: string }[] }>(`${server.url}/v1.0/groups/${gid}/members`, { token: admin });
        assert.deepEqual(members.body.value.map((m) => m.id), [ada.id]);
        assert.equal((await call(`${server.url}/v1.0/groups/${gid}/members/${ada.id}/$ref`, { method: 'DELETE', token: admin })).status, 204);
        assert.equal((await call(`${server.url}/v1.0/groups/${gid}/members/${ada.id}/$ref`, { method: 'DELETE', token: admin })).status, 404);
        assert.equal((await call(`${server.url}/v1.0/groups`, { token: admin, body: { displayName: 'DATA SCIENTISTS' } })).status, 409);
        assert.equal((await call(`${server.url}/v1.0/groups/${gid}`, { method: 'DELETE', token: admin })).status, 204);
        assert.equal((await call(`${server.url}/v1.0/groups/${gid}`, { token: admin })).status, 404);
      });

      it('adding an unknown object id or a malformed reference is a clear error', async () => {
        const gid = (await call<{ id: string }>(`${server.url}/v1.0/groups`, { token: admin, body: { displayName: 'Reviewers' } })).body.id;
        assert.equal((await call(`${server.url}/v1.0/groups/${gid}/members/$ref`, { token: admin, body: { id: '00000000-0000-0000-0000-000000000000' } })).status, 404);
        assert.equal((await call(`${server.url}/v1.0/groups/${gid}/members/$ref`, { token: admin, body: { '@odata.id': 'javascript:alert(1)' } })).status, 400);
      });

      it("a group's role assignment reaches its members and stops when they leave", async () => {
        const uid = await createUser(server, admin, 'reader', 'Reads-A-Lot-Of-Books');
        const gid = (await call<{ id: string }>(`${server.url}/v1.0/groups`, { token: admin, body: { displayName: 'Directory Readers' } })).body.id;
        await server.running.services.access.assign({ tenantId: server.running.bootstrap.tenantId, principalId: gid, principalType: 'Group', roleDefinitionId: 'acdd72a7-3385-48ef-bd42-f606fba81ae7', scope: '/', createdBy: null });
        const token = (await login(server, 'reader', 'Reads-A-Lot-Of-Books')).access_token;
        assert.equal((await call(users(), { token })).status, 403);
        await call(`${server.url}/v1.0/groups/${gid}/members/$ref`, { token: admin, body: { id: uid } });
        assert.equal((await call(users(), { token })).status, 200, 'Reader through the group may list users');
        assert.equal((await call(users(), { token, body: { userName: 'x', passwordProfile: { password: 'Some-Long-Password-1' } } })).status, 403, 'but not create them');
        await call(`${server.url}/v1.0/groups/${gid}/members/${uid}/$ref`, { method: 'DELETE', token: admin });
        assert.equal((await call(users(), { token })).status, 403, 'leaving the group takes effect on the next request');
      });
    });

    describe('authorization', () => {
      it('a user without a role gets 403 AuthorizationFailed naming the action and scope on every admin endpoint', async () => {
        await createUser(server, admin, 'plain', 'Just-An-Ordinary-User-1');
        const token = (await login(server, 'plain', 'Just-An-Ordinary-User-1')).access_token;
        const attempts: [string, string, unknown?][] = [
          ['GET', '/v1.0/users'],
          ['POST', '/v1.0/users', { userName: 'sneaky', passwordProfile: { password: 'Sneaky-Sneaky-Pass-1' } }],
          ['PATCH', '/v1.0/users/admin', { accountEnabled: false }],
          ['DELETE', '/v1.0/users/admin'],
          ['POST', '/v1.0/users/admin/unlock'],
          ['GET', '/v1.0/groups'],
          ['POST', '/v1.0/groups', { displayName: 'Mine' }],
          ['GET', '/admin/signingKeys'],
          ['POST', '/admin/signingKeys/rotate', {}],
          ['GET', '/admin/signInLockouts'],
        ];
        for (const [method, path, body] of attempts) {
          const res = await call(`${server.url}${path}`, { method, token, body });
          assert.equal(res.status, 403, `${method} ${path}`);
          const error = res.body.error as { code: string; message: string };
          assert.equal(error.code, 'AuthorizationFailed');
          assert.match(error.message, /^The client 'plain' with object id '[0-9a-f-]{36}' does not have authorization to perform action '[A-Za-z./]+' over scope '\/'/);
        }
        assert.equal((await call(`${server.url}/me`, { token })).status, 200, 'but may see itself');
        assert.equal((await call(`${server.url}/v1.0/me`, { token })).status, 200);
      });
    });
  });
}
