/**
 * AbstractAuthentication: per-audience caching, renewal ahead of expiry, and one fetch
 * shared by concurrent callers. A fake credential and a movable clock, no server.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AbstractAuthentication } from '../src/abstractAuthentication.js';
import { Audience, type AccessToken } from '../src/audience.js';

/** Hands out numbered tokens of a given lifetime, or what a test makes it return. */
class FakeAuthentication extends AbstractAuthentication {
  calls: string[] = [];
  next: (() => Promise<AccessToken>) | undefined;

  constructor(
    private readonly clockRef: { now: number },
    private readonly lifetimeSec = 3600,
  ) {
    super({ clock: () => clockRef.now });
  }

  protected fetchToken(audience: string): Promise<AccessToken> {
    this.calls.push(audience);
    if (this.next) return this.next();
    return Promise.resolve({ token: `token-${this.calls.length}`, expiresOn: Math.floor(this.clockRef.now / 1000) + this.lifetimeSec });
  }
}

const T0 = Date.UTC(2030, 0, 1);

describe('AbstractAuthentication', () => {
  test('a token is reused until 5 minutes before it expires, then renewed', async () => {
    const clock = { now: T0 };
    const auth = new FakeAuthentication(clock);
    assert.equal((await auth.getToken()).token, 'token-1');
    clock.now = T0 + (3600 - 301) * 1000;
    assert.equal((await auth.getToken()).token, 'token-1');
    clock.now = T0 + (3600 - 299) * 1000;
    assert.equal((await auth.getToken()).token, 'token-2');
    assert.deepEqual(auth.calls, [Audience.ControlPlane, Audience.ControlPlane], 'the default audience is the control plane');
  });

  test('a short-lived token is renewed at half its lifetime', async () => {
    const clock = { now: T0 };
    const auth = new FakeAuthentication(clock, 120);
    await auth.getToken();
    clock.now = T0 + 59_000;
    assert.equal((await auth.getToken()).token, 'token-1');
    clock.now = T0 + 61_000;
    assert.equal((await auth.getToken()).token, 'token-2');
  });

  test('each audience has its own cached token', async () => {
    const auth = new FakeAuthentication({ now: T0 });
    const control = await auth.getToken(Audience.ControlPlane);
    const workspace = await auth.getToken(Audience.Workspace);
    assert.notEqual(control.token, workspace.token);
    assert.equal((await auth.getToken(Audience.Workspace)).token, workspace.token);
    assert.deepEqual(auth.calls, [Audience.ControlPlane, Audience.Workspace]);
  });

  test('concurrent callers share one fetch', async () => {
    const auth = new FakeAuthentication({ now: T0 });
    let release!: (token: AccessToken) => void;
    auth.next = () => new Promise((resolve) => (release = resolve));
    const callers = Array.from({ length: 5 }, () => auth.getToken());
    await new Promise((r) => setImmediate(r));
    assert.equal(auth.calls.length, 1);
    release({ token: 'shared', expiresOn: T0 / 1000 + 3600 });
    assert.deepEqual((await Promise.all(callers)).map((t) => t.token), ['shared', 'shared', 'shared', 'shared', 'shared']);
  });

  test('a failed fetch fails every waiting caller, is not cached, and the next call tries again', async () => {
    const auth = new FakeAuthentication({ now: T0 });
    auth.next = () => Promise.reject(new Error('server down'));
    const results = await Promise.allSettled([auth.getToken(), auth.getToken()]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
    assert.equal(auth.calls.length, 1);
    auth.next = undefined;
    assert.equal((await auth.getToken()).token, 'token-2');
  });

  test('a fetch that throws synchronously still rejects, and does not wedge the audience', async () => {
    const auth = new FakeAuthentication({ now: T0 });
    auth.next = () => {
      throw new Error('bad configuration');
    };
    await assert.rejects(auth.getToken(), /bad configuration/);
    auth.next = undefined;
    assert.equal((await auth.getToken()).token, 'token-2');
  });

  test('clearCache makes the next call fetch', async () => {
    const auth = new FakeAuthentication({ now: T0 });
    await auth.getToken();
    auth.clearCache();
    assert.equal((await auth.getToken()).token, 'token-2');
  });
});
