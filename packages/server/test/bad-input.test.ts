/**
 * Hostile and broken input: each gets a 4xx with a JSON error that names the problem,
 * never a 500 or a stack trace; and no password, token or key used in the run ever
 * appears in a log line.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { STORE_KINDS, ADMIN_PASSWORD, call, login, postForm, startTestServer, type JsonResponse, type TestServer } from './helpers.js';

/** Sends raw bytes and returns the raw response (for what fetch refuses to send). */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let out = '';
    socket.on('data', (d) => (out += d.toString('latin1')));
    socket.on('end', () => resolve(out));
    socket.on('error', (e) => (out ? resolve(out) : reject(e)));
    socket.write(text);
  });
}

function assertJsonError(res: JsonResponse, status: number, code?: RegExp): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  const error = res.body.error as { code: string; message: string } | undefined;
  assert.ok(error && typeof error.code === 'string' && typeof error.message === 'string', `JSON error expected, got ${JSON.stringify(res.body)}`);
  if (code) assert.match(error.code, code);
  assert.ok(!/at \w+ \(|node_modules|\.js:\d+/.test(error.message), 'no stack trace');
}

for (const kind of STORE_KINDS) {
  describe(`bad input [${kind}]`, () => {
    let server: TestServer;
    let admin: string;
    let refresh: string;
    const secretsUsed: string[] = [ADMIN_PASSWORD];
    before(async () => {
      server = await startTestServer(kind);
      const pair = await login(server);
      admin = pair.access_token;
      refresh = pair.refresh_token;
      secretsUsed.push(admin, refresh);
    });
    after(() => server.close());

    const port = () => Number(new URL(server.url).port);

    it('malformed JSON → 400 InvalidRequestContent', async () => {
      assertJsonError(await call(`${server.url}/login`, { body: '{"username": "admin", "password": ' }), 400, /InvalidRequestContent/);
    });

    it('an empty JSON body → 400', async () => {
      assertJsonError(await call(`${server.url}/login`, { body: '', headers: { 'content-type': 'application/json' }, method: 'POST' }), 400);
    });

    it('a JSON array or string where an object belongs → 400 InvalidParameter', async () => {
      assertJsonError(await call(`${server.url}/login`, { body: '["admin"]' }), 400, /InvalidParameter/);
      assertJsonError(await call(`${server.url}/login`, { body: '"admin"' }), 400, /InvalidParameter/);
    });

    it('a wrong content type → 415 UnsupportedMediaType', async () => {
      assertJsonError(await call(`${server.url}/login`, { body: 'username=admin&password=x', headers: { 'content-type': 'text/plain' } }), 415, /UnsupportedMediaType/);
      assertJsonError(await call(`${server.url}/login`, { body: '<login/>', headers: { 'content-type': 'application/xml' } }), 415);
    });

    it('a missing field → 400 naming it', async () => {
      const res = await call(`${server.url}/login`, { body: { username: 'admin' } });
      assertJsonError(res, 400, /InvalidParameter/);
      assert.match((res.body.error as { message: string }).message, /password/);
    });

    it('an unknown field → 400 (nothing is silently ignored)', async () => {
      assertJsonError(await call(`${server.url}/login`, { body: { username: 'admin', password: 'x', isAdmin: true } }), 400, /InvalidParameter/);
    });

    it('a duplicated JSON field → 400 naming it', async () => {
      const res = await call(`${server.url}/login`, { body: '{"username":"nobody","password":"x","username":"admin"}' });
      assertJsonError(res, 400, /InvalidRequestContent/);
      assert.match((res.body.error as { message: string }).message, /'username' appears more than once/);
    });

    it('a prototype-polluting key → 400', async () => {
      assertJsonError(await call(`${server.url}/v1.0/users`, { token: admin, body: '{"__proto__": {"isAdmin": true}, "userName": "x"}' }), 400, /InvalidRequestContent/);
    });

    it('deeply nested JSON → 400, not a stack overflow', async () => {
      assertJsonError(await call(`${server.url}/login`, { body: '['.repeat(5000) + ']'.repeat(5000) }), 400);
    });

    it('a wrongly typed field → 400', async () => {
      assertJsonError(await call(`${server.url}/login`, { body: { username: 42, password: ['x'] } }), 400, /InvalidParameter/);
      assertJsonError(await call(`${server.url}/v1.0/users/admin`, { method: 'PATCH', token: admin, body: { accountEnabled: 'false' } }), 400);
    });

    it('a 1 MB JSON body → 413 RequestEntityTooLarge', async () => {
      assertJsonError(await call(`${server.url}/login`, { body: { username: 'admin', password: 'x'.repeat(1024 * 1024) } }), 413, /RequestEntityTooLarge/);
      assertJsonError(await call(`${server.url}/v1.0/users`, { token: admin, body: { userName: 'big', displayName: 'y'.repeat(1024 * 1024), passwordProfile: { password: 'Long-Enough-Pass-1' } } }), 413);
    });

    it('64 KB of headers → 431 with a JSON body', async () => {
      const raw = await rawRequest(port(), `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
      assert.match(raw, /^HTTP\/1\.1 431 /);
      assert.match(raw, /"code":"RequestHeaderFieldsTooLarge"/);
    });

    it('garbage that is not HTTP → 400 with a JSON body', async () => {
      const raw = await rawRequest(port(), 'HELLO\x00WORLD\r\n\r\n');
      assert.match(raw, /^HTTP\/1\.1 400 /);
      assert.match(raw, /"code":"InvalidRequestContent"/);
    });

    const hostileNames = [
      ['control characters', 'ad\u0000min\u001b[31m'],
      ['newlines (log injection)', 'admin\n{"level":60,"msg":"forged"}'],
      ['long unicode', '\u{1F600}'.repeat(5000)],
      ['right-to-left override', 'ad\u202Emin'],
      ['SQL metacharacters', "admin' OR '1'='1' --"],
      ['a SQL statement', "x'; DROP TABLE users; --"],
      ['a path traversal', '../../../../etc/passwd'],
    ];
    for (const [what, name] of hostileNames) {
      it(`a username with ${what} is refused at creation with 400, and signing in with it is a plain 401/400`, async () => {
        const created = await call(`${server.url}/v1.0/users`, { token: admin, body: { userName: name, passwordProfile: { password: 'Perfectly-Fine-Pass-1' } } });
        assert.ok(created.status === 400 || created.status === 413, `${created.status} ${JSON.stringify(created.body)}`);
        const signin = await call(`${server.url}/login`, { body: { username: name, password: 'whatever it is' } });
        assert.ok([400, 401].includes(signin.status), `${signin.status}`);
        const lookup = await call(`${server.url}/v1.0/users/${encodeURIComponent(name)}`, { token: admin });
        // A URL longer than the header limit is refused by the HTTP parser itself (431).
        assert.ok([400, 404, 431].includes(lookup.status), `${lookup.status}`);
      });
    }

    it('the users table survived every SQL-looking input', async () => {
      const list = await call<{ value: { userName: string }[] }>(`${server.url}/v1.0/users`, { token: admin });
      assert.ok(list.body.value.some((u) => u.userName === 'admin'));
    });

    it('hostile display names are refused; unicode display names are kept', async () => {
      assertJsonError(await call(`${server.url}/v1.0/users`, { token: admin, body: { userName: 'ctl', displayName: 'Evil\u0007Bell', passwordProfile: { password: 'Perfectly-Fine-Pass-1' } } }), 400);
      const ok = await call<{ displayName: string }>(`${server.url}/v1.0/users`, { token: admin, body: { userName: 'zoe', displayName: 'Zoë Ñandú 山田', passwordProfile: { password: 'Perfectly-Fine-Pass-1' } } });
      assert.equal(ok.status, 201);
      assert.equal(ok.body.displayName, 'Zoë Ñandú 山田');
    });

    it('$top out of range or not a number → 400', async () => {
      assertJsonError(await call(`${server.url}/v1.0/users?$top=0`, { token: admin }), 400);
      assertJsonError(await call(`${server.url}/v1.0/users?$top=1;drop`, { token: admin }), 400);
    });

    it('an unknown route → 404 RouteNotFound, an unknown method → 404', async () => {
      assertJsonError(await call(`${server.url}/nothing/here`), 404, /RouteNotFound/);
      assertJsonError(await call(`${server.url}/me`, { method: 'PUT', body: {} }), 404);
    });

    it('an over-long refresh token and a hostile one are refused without a 500', async () => {
      assertJsonError(await call(`${server.url}/login/refreshToken`, { body: { refreshToken: 'x'.repeat(600) } }), 400);
      assertJsonError(await call(`${server.url}/login/refreshToken`, { body: { refreshToken: "tsrt_' OR 1=1 --" } }), 401);
      const dup = await fetch(`${server.url}/login/refreshToken?refreshToken=a&refreshToken=b`, { method: 'DELETE' });
      assert.equal(dup.status, 400);
    });

    it('a huge bearer token → 401, not a crash; one past the header limit → 431', async () => {
      assert.equal((await call(`${server.url}/me`, { token: 'a.' + 'b'.repeat(15_000) + '.c' })).status, 401);
      assert.equal((await call(`${server.url}/me`, { token: 'a.' + 'b'.repeat(70_000) + '.c' })).status, 431);
    });

    it('a form body with a duplicated parameter → 400 naming it', async () => {
      const res = await postForm(`${server.url}/organizations/oauth2/v2.0/token`, 'grant_type=password&grant_type=refresh_token');
      assert.equal(res.status, 400);
      assert.match(String(res.body.error_description), /'grant_type' appears more than once/);
    });

    it('no password, token or refresh token used in this run appears in any log line', async () => {
      // Exercise the paths that carry secrets, including failures and the refresh-token query string.
      await call(`${server.url}/login`, { body: { username: 'admin', password: 'Wrong-But-Secret-Guess-9' } });
      secretsUsed.push('Wrong-But-Secret-Guess-9');
      await fetch(`${server.url}/login/refreshToken?refreshToken=${encodeURIComponent(refresh)}`, { method: 'DELETE' });
      const fresh = await login(server);
      secretsUsed.push(fresh.access_token, fresh.refresh_token, 'Perfectly-Fine-Pass-1');
      await call(`${server.url}/me`, { token: fresh.access_token + 'x' });
      assert.ok(server.logs.length > 20, 'the run produced logs');
      const text = server.logs.join('\n');
      for (const secret of secretsUsed) assert.ok(!text.includes(secret), `a secret (${secret.slice(0, 6)}…) appeared in the logs`);
      assert.ok(!/tsrt_[A-Za-z0-9_-]{20}/.test(text), 'no refresh token in any form');
      assert.ok(!/eyJ[A-Za-z0-9_-]{20,}\.eyJ/.test(text), 'no JWT in any form');
      for (const line of server.logs) assert.doesNotThrow(() => JSON.parse(line), 'every log line is JSON');
      assert.ok(server.logs.some((l) => JSON.parse(l).requestId), 'log lines carry the request id');
      assert.ok(!server.logs.some((l) => JSON.parse(l).level >= 50), 'no error was logged: no input caused an unexpected failure');
    });
  });
}
