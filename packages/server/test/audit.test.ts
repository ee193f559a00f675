/**
 * The audit trail: management changes, refusals and sign-ins are recorded with who,
 * what, where and the outcome; reads that succeed are not; no secret is ever written
 * into a record, nor a sign-in name that matched no account.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { STORE_KINDS, ADMIN_PASSWORD, call, createServicePrincipal, createUser, login, postForm, startTestServer, type TestServer } from './helpers.js';

interface Record {
  category: string;
  operation: string;
  result: string;
  status: number;
  reason: string | null;
  actor: { id: string | null; name: string | null };
  target: string | null;
  requestId: string;
}

for (const kind of STORE_KINDS) {
  describe(`audit trail [${kind}]`, () => {
    let server: TestServer;
    let admin: string;
    const secrets: string[] = [ADMIN_PASSWORD];
    before(async () => {
      server = await startTestServer(kind);
      const pair = await login(server);
      admin = pair.access_token;
      secrets.push(pair.access_token, pair.refresh_token);
    });
    after(() => server.close());

    /**
     * The records. Each is written after its response: `landed` says which ones the caller
     * waits for (read again until it holds, for up to 30 s on a loaded machine); without it,
     * one short wait, for checks that something is absent.
     */
    async function records(query = '', landed?: (all: Record[]) => boolean): Promise<Record[]> {
      const deadline = Date.now() + 30_000;
      for (;;) {
        await sleep(50);
        const res = await call<{ value: Record[] }>(`${server.url}/admin/auditRecords${query}`, { token: admin });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        if (!landed || landed(res.body.value) || Date.now() > deadline) return res.body.value;
      }
    }
    /** Whether the records of every response in `responses` are in `all`. */
    const recorded = (...responses: { headers: Headers }[]) => (all: Record[]) => responses.every((res) => all.some((r) => r.requestId === res.headers.get('x-ms-request-id')));

    it('a management change is recorded with the action, the scope, the actor and the request id', async () => {
      const created = await call(`${server.url}/v1.0/users`, { token: admin, body: { userName: 'audited', passwordProfile: { password: 'Recorded-Person-Pass-1' } } });
      secrets.push('Recorded-Person-Pass-1');
      const record = (await records('?category=Management', recorded(created))).find((r) => r.requestId === created.headers.get('x-ms-request-id'));
      assert.ok(record, 'the create was recorded');
      assert.equal(record.operation, 'Tessera.Directory/users/write');
      assert.equal(record.target, '/');
      assert.equal(record.result, 'Success');
      assert.equal(record.status, 201);
      assert.equal(record.actor.name, 'admin');
    });

    it('a refusal is recorded as Denied, with the action and scope that were refused', async () => {
      await createUser(server, admin, 'snoop', 'Looking-Around-Pass-1');
      const token = (await login(server, 'snoop', 'Looking-Around-Pass-1')).access_token;
      secrets.push('Looking-Around-Pass-1', token);
      const refused = await call(`${server.url}/v1.0/users`, { token });
      assert.equal(refused.status, 403);
      const record = (await records('', recorded(refused))).find((r) => r.requestId === refused.headers.get('x-ms-request-id'));
      assert.ok(record);
      assert.equal(record.result, 'Denied');
      assert.equal(record.operation, 'Tessera.Directory/users/read');
      assert.equal(record.reason, 'AuthorizationFailed');
      assert.equal(record.actor.name, 'snoop');
    });

    it('successful reads are not recorded', async () => {
      const read = await call(`${server.url}/v1.0/users`, { token: admin });
      assert.ok(!(await records()).some((r) => r.requestId === read.headers.get('x-ms-request-id')));
    });

    it('sign-ins are recorded: success, a wrong password for a known account, and an unknown name without the name', async () => {
      const ok = await call(`${server.url}/login`, { body: { username: 'audited', password: 'Recorded-Person-Pass-1' } });
      const wrong = await call(`${server.url}/login`, { body: { username: 'audited', password: 'Not-Their-Password-9' } });
      const typo = await call(`${server.url}/login`, { body: { username: 'Hunter2-typed-as-a-name', password: 'whatever' } });
      secrets.push('Not-Their-Password-9', 'Hunter2-typed-as-a-name');
      const all = await records('?category=SignIn', recorded(ok, wrong, typo));
      const find = (res: { headers: Headers }) => all.find((r) => r.requestId === res.headers.get('x-ms-request-id'));
      assert.equal(find(ok)?.result, 'Success');
      assert.equal(find(ok)?.actor.name, 'audited');
      assert.equal(find(wrong)?.result, 'Failure');
      assert.equal(find(wrong)?.actor.name, 'audited', 'the attacked account is named');
      assert.equal(find(wrong)?.reason, 'AuthenticationFailed');
      assert.equal(find(typo)?.result, 'Failure');
      assert.equal(find(typo)?.actor.id, null, 'a name that matches no account is not recorded');
      assert.equal(find(typo)?.actor.name, null);
    });

    it('client-credentials sign-ins are recorded when a token is issued, not when it is reused; failures always', async () => {
      const sp = await createServicePrincipal(server, admin, 'audited-app');
      secrets.push(sp.secret);
      const form = { grant_type: 'client_credentials', client_id: sp.appId, client_secret: sp.secret, scope: 'api://tessera/management/.default' };
      const first = await postForm(`${server.url}/organizations/oauth2/v2.0/token`, form);
      const again = await postForm(`${server.url}/organizations/oauth2/v2.0/token`, form);
      const bad = await postForm(`${server.url}/organizations/oauth2/v2.0/token`, { ...form, client_secret: 'tscs_' + 'Z'.repeat(43) });
      secrets.push(String(first.body.access_token));
      // Waits for the two that must be recorded (the reused token's must not be).
      const all = await records('?category=SignIn', recorded(first, bad));
      const find = (res: { headers: Headers }) => all.find((r) => r.requestId === res.headers.get('x-ms-request-id'));
      assert.equal(find(first)?.operation, 'v2/client_credentials');
      assert.equal(find(first)?.actor.name, sp.appId);
      assert.equal(find(again), undefined, 'a reused token is not a new sign-in');
      assert.equal(find(bad)?.result, 'Failure');
      assert.equal(find(bad)?.reason, 'InvalidClient');
    });

    it('no password, secret or token used in this suite appears in any audit record', async () => {
      const rows = await server.running.services.store.db.selectFrom('audit_records').selectAll().execute();
      assert.ok(rows.length >= 8);
      const text = JSON.stringify(rows);
      for (const secret of secrets) assert.ok(!text.includes(secret), `a secret (${secret.slice(0, 6)}…) is in the audit trail`);
      assert.ok(!/tscs_|tsrt_|eyJ[A-Za-z0-9_-]{20}/.test(text));
    });

    it('filters: since, actorId, $top; bad filters are 400; a Reader may read the trail, a user without a role may not', async () => {
      assert.equal((await call(`${server.url}/admin/auditRecords?since=not-a-date`, { token: admin })).status, 400);
      assert.equal((await call(`${server.url}/admin/auditRecords?category=Everything`, { token: admin })).status, 400);
      assert.equal((await call(`${server.url}/admin/auditRecords?actorId=${encodeURIComponent("' or 1=1 --")}`, { token: admin })).status, 400);
      assert.equal((await call(`${server.url}/admin/auditRecords?$top=100000`, { token: admin })).status, 400);
      assert.equal((await records('?$top=2')).length, 2);
      assert.equal((await records(`?since=${new Date(Date.now() + 60_000).toISOString()}`)).length, 0);
      const me = await call<{ objectId: string }>(`${server.url}/me`, { token: admin });
      assert.ok((await records(`?actorId=${me.body.objectId}`)).every((r) => r.actor.id === me.body.objectId));
      const snoop = (await login(server, 'snoop', 'Looking-Around-Pass-1')).access_token;
      assert.equal((await call(`${server.url}/admin/auditRecords`, { token: snoop })).status, 403);
    });
  });
}
