/**
 * Brute-force protection: a growing delay, then a lockout, per account name and per
 * source address; unknown names get exactly the same treatment; an admin can clear it.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STORE_KINDS, ADMIN_PASSWORD, TestClock, call, login, startTestServer, type JsonResponse, type TestServer } from './helpers.js';
import { DEFAULT_THROTTLE } from '../src/index.js';
import { addressKey } from '../src/identity/throttle.js';

// Delays of half a minute and more, waited out by moving the server's clock (a TestClock)
// rather than by sleeping: an attempt meant to come too soon comes too soon however slow
// the machine, and the waits cost no time. The windows and lockouts outlast every move.
const policy = {
  account: { delayAfter: 2, baseDelayMs: 30_000, maxDelayMs: 60_000, lockoutAfter: 4, lockoutMs: 3_600_000, windowMs: 3_600_000, maxInFlight: 1 },
  address: { delayAfter: 1000, baseDelayMs: 30_000, maxDelayMs: 60_000, lockoutAfter: 12, lockoutMs: 3_600_000, windowMs: 3_600_000, maxInFlight: 8 },
};

for (const kind of STORE_KINDS) {
  describe(`sign-in throttling [${kind}]`, () => {
    let server: TestServer;
    let admin: string;
    const clock = new TestClock();
    before(async () => {
      server = await startTestServer(kind, { config: { throttle: policy }, clock });
      admin = (await login(server)).access_token;
    });
    after(() => server.close());
    beforeEach(async () => {
      for (const row of await server.running.services.throttle.list()) await server.running.services.throttle.clear(row.key);
    });

    const attempt = (username: string, password = 'wrong password!') => call(`${server.url}/login`, { body: { username, password } });
    const summary = (r: JsonResponse) => ({ status: r.status, retryAfter: r.headers.get('retry-after') !== null, body: r.body });

    /** Drives one account name into lockout, recording every answer. */
    async function driveToLockout(username: string): Promise<ReturnType<typeof summary>[]> {
      const seen = [summary(await attempt(username)), summary(await attempt(username))];
      seen.push(summary(await attempt(username))); // delayed: too soon after the second failure
      clock.advance(35_000); // past the 30 s delay
      seen.push(summary(await attempt(username))); // third failure
      clock.advance(65_000); // past the doubled (60 s) delay
      seen.push(summary(await attempt(username))); // fourth failure: locks
      seen.push(summary(await attempt(username, ADMIN_PASSWORD))); // even the right password is refused now
      return seen;
    }

    it('failures past the threshold must wait (429 + Retry-After), then the account locks', async () => {
      const seen = await driveToLockout('admin');
      assert.deepEqual(seen.map((s) => s.status), [401, 401, 429, 401, 401, 400]);
      assert.equal(seen[2]!.retryAfter, true);
      assert.equal((seen[2]!.body.error as { code: string }).code, 'TooManyRequests');
      assert.equal((seen[5]!.body.error as { code: string }).code, 'AccountLocked');
      assert.equal(seen[5]!.retryAfter, true);
    });

    it('an unknown user name gets exactly the same answers as a real one', async () => {
      const known = await driveToLockout('admin');
      for (const row of await server.running.services.throttle.list()) await server.running.services.throttle.clear(row.key);
      const unknown = await driveToLockout('no-such-person');
      assert.deepEqual(unknown, known);
    });

    it('an administrator unlocks a locked account, and the right password then works', async () => {
      await driveToLockout('admin');
      const locked = await server.running.services.throttle.list();
      const adminId = (await call<{ objectId: string }>(`${server.url}/me`, { token: admin })).body.objectId;
      assert.ok(locked.some((l) => l.userId === adminId && l.lockedUntil !== null));
      const unlock = await call(`${server.url}/v1.0/users/admin/unlock`, { method: 'POST', token: admin });
      assert.equal(unlock.status, 204);
      assert.equal((await attempt('admin', ADMIN_PASSWORD)).status, 200);
    });

    it('every spelling of a name counts against one account: ADMIN, admin@domain and admin share the lockout', async () => {
      await driveToLockout('admin');
      for (const spelling of ['ADMIN', 'admin@tessera.local', 'Admin@TESSERA.local']) {
        const res = await attempt(spelling, ADMIN_PASSWORD);
        assert.equal(res.status, 400, spelling);
        assert.equal((res.body.error as { code: string }).code, 'AccountLocked');
      }
    });

    it('a burst of parallel guesses runs one password check at a time: the rest are turned away with 429', async () => {
      const burst = await Promise.all(Array.from({ length: 12 }, () => attempt('admin')));
      const statuses = burst.map((r) => r.status);
      assert.ok(statuses.filter((s) => s === 401).length <= 3, `at most a few checks ran: ${statuses.join(',')}`);
      assert.ok(statuses.filter((s) => s === 429).length >= 9, statuses.join(','));
      const rows = await server.running.services.throttle.list();
      const adminRow = rows.find((r) => r.userId !== null)!;
      assert.equal(adminRow.failures, statuses.filter((s) => s === 401).length, 'every check that ran was counted');
    });

    it('the lockout list never shows a name that matches no user (it may be a mistyped password)', async () => {
      await attempt('Hunter2-typed-in-the-wrong-box');
      const list = await call<{ value: { key: string; userId: string | null }[] }>(`${server.url}/admin/signInLockouts`, { token: admin });
      assert.ok(list.body.value.length > 0);
      assert.ok(!JSON.stringify(list.body).toLowerCase().includes('hunter2'));
      assert.ok(list.body.value.some((l) => /^account:[0-9a-f-]{36}:unknown-[A-Za-z0-9_-]{22}$/.test(l.key) && l.userId === null));
    });

    it('a successful sign-in clears the account count', async () => {
      await attempt('admin');
      await attempt('admin');
      assert.equal((await attempt('admin', ADMIN_PASSWORD)).status, 429, 'the delay holds even for the right password');
      clock.advance(35_000);
      assert.equal((await attempt('admin', ADMIN_PASSWORD)).status, 200);
      assert.equal((await attempt('admin')).status, 401);
      assert.equal((await attempt('admin')).status, 401, 'counting starts again: no delay after one failure');
    });

    it('many names from one address lock the address; an admin clears it through the API', async () => {
      for (let i = 0; i < policy.address.lockoutAfter; i++) assert.equal((await attempt(`spray-${i}`)).status, 401);
      const blocked = await attempt('admin', ADMIN_PASSWORD);
      assert.equal(blocked.status, 429);
      assert.ok(Number(blocked.headers.get('retry-after')) > 0);
      const list = await call<{ value: { key: string; lockedUntil: string | null }[] }>(`${server.url}/admin/signInLockouts`, { token: admin });
      const address = list.body.value.find((l) => l.key.startsWith('address:'))!;
      assert.ok(address.lockedUntil);
      const cleared = await fetch(`${server.url}/admin/signInLockouts?key=${encodeURIComponent(address.key)}`, { method: 'DELETE', headers: { authorization: `Bearer ${admin}` } });
      assert.equal(cleared.status, 204);
      assert.equal((await attempt('admin', ADMIN_PASSWORD)).status, 200);
      const again = await fetch(`${server.url}/admin/signInLockouts?key=${encodeURIComponent(address.key)}`, { method: 'DELETE', headers: { authorization: `Bearer ${admin}` } });
      assert.equal(again.status, 404);
      const bad = await fetch(`${server.url}/admin/signInLockouts?key=${encodeURIComponent("'; drop table users; --")}`, { method: 'DELETE', headers: { authorization: `Bearer ${admin}` } });
      assert.equal(bad.status, 400);
    });

    it('the OAuth password grant shares the same counters', async () => {
      const form = (password: string) =>
        fetch(`${server.url}/organizations/oauth2/v2.0/token`, {
          method: 'POST',
          body: new URLSearchParams({ grant_type: 'password', client_id: '04b07795-8ddb-461a-bbee-02f9e1bf7b46', username: 'admin', password, scope: 'openid' }),
        });
      assert.equal((await form('wrong-one')).status, 400);
      assert.equal((await attempt('admin')).status, 401);
      const third = await form('wrong-three');
      assert.equal(third.status, 429);
      assert.ok(third.headers.get('retry-after'));
      assert.equal(((await third.json()) as { error: string }).error, 'temporarily_unavailable');
    });
  });
}

describe('throttling behind a proxy', () => {
  const spoof = { 'x-forwarded-for': '203.0.113.9' };
  const failAndList = async (server: TestServer): Promise<string[]> => {
    await call(`${server.url}/login`, { body: { username: 'nobody-here', password: 'wrong password!' }, headers: spoof });
    return (await server.running.services.throttle.list()).map((l) => l.key).filter((k) => k.startsWith('address:'));
  };

  it('without --trust-proxy, X-Forwarded-For is ignored: the connecting address is counted', async () => {
    const server = await startTestServer('sqlite');
    try {
      assert.deepEqual(await failAndList(server), ['address:127.0.0.1']);
    } finally {
      await server.close();
    }
  });

  it('with --trust-proxy naming the proxy, the forwarded client address is counted', async () => {
    const server = await startTestServer('sqlite', { config: { trustProxy: ['127.0.0.1'] } });
    try {
      assert.deepEqual(await failAndList(server), ['address:203.0.113.9']);
    } finally {
      await server.close();
    }
  });
});

describe('throttle address keys', () => {
  it('IPv6 addresses count by their /64; IPv4-mapped addresses count as IPv4', () => {
    assert.equal(addressKey('2001:db8:1:2:3:4:5:6'), addressKey('2001:db8:1:2::9'));
    assert.equal(addressKey('2001:db8:1:2::9'), 'address:2001:db8:1:2::/64');
    assert.notEqual(addressKey('2001:db8:1:2::1'), addressKey('2001:db8:1:3::1'));
    assert.equal(addressKey('::ffff:192.0.2.7'), 'address:192.0.2.7');
    assert.equal(addressKey('::1'), 'address:0:0:0:0::/64');
    assert.equal(addressKey('127.0.0.1'), 'address:127.0.0.1');
  });
});

describe('throttle defaults', () => {
  it('delay after 3 account failures, lock after 10 for 15 minutes; addresses get more room', () => {
    assert.equal(DEFAULT_THROTTLE.account.delayAfter, 3);
    assert.equal(DEFAULT_THROTTLE.account.lockoutAfter, 10);
    assert.equal(DEFAULT_THROTTLE.account.lockoutMs, 15 * 60_000);
    assert.ok(DEFAULT_THROTTLE.address.lockoutAfter > DEFAULT_THROTTLE.account.lockoutAfter);
  });
});
