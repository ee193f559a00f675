/**
 * End to end, as a new user meets Tessera: `tessera serve --tls-self-signed` as a real
 * process, the printed password and CA, `tessera login` and `account get-access-token`
 * as real processes trusting that CA, the token used on `/me` and verified against the
 * JWKS, a graceful stop, and a second start that prints no password.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import tls from 'node:tls';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { ServeProcess } from './helpers/serveProcess.js';
import { freePort } from './helpers/ports.js';
import { removeTempDirs, tempDir } from './helpers/tempDirs.js';
import { runNodeScript, tessera } from './helpers/cli.js';

let dataDir: string;
let port: number;
let url: string;
let serve: ServeProcess;
let adminPassword: string;
let tenantId: string;
let caFile: string;
const servers: ServeProcess[] = [];

/** GET over HTTPS trusting only `ca`; resolves with the parsed JSON body. */
function httpsGetJson(target: string, ca: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    https
      .get(target, { ca }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(JSON.parse(body)));
      })
      .on('error', reject);
  });
}

before(async () => {
  dataDir = tempDir('e2e-data');
  port = await freePort();
  url = `https://127.0.0.1:${port}`;
  serve = await ServeProcess.start(['--port', String(port), '--tls-self-signed', '--data', dataDir]);
  servers.push(serve);
});

after(async () => {
  for (const s of servers) await s.stop();
  removeTempDirs();
});

// A hang (a signal or an answer that never comes) fails the file instead of stalling the suite.
describe('a new user, end to end over HTTPS', { timeout: 180_000 }, () => {
  test('the first start prints the generated admin password, tenant, subscription and CA on stderr, once, in plain text', () => {
    adminPassword = serve.stderr.match(/admin password: +(\S+)/)![1]!;
    tenantId = serve.stderr.match(/tenant id: +(\S+)/)![1]!;
    caFile = serve.stderr.match(/^ {2}export NODE_EXTRA_CA_CERTS=(.+)$/m)![1]!;
    assert.match(serve.stderr, /admin username: +admin\n/);
    assert.match(serve.stderr, /tenant domain: +tessera\.local\n/);
    assert.match(serve.stderr, /subscription id: +[0-9a-f-]{36}\n/);
    assert.equal(caFile, path.join(dataDir, 'tls', 'ca.pem'));
    assert.ok(fs.existsSync(caFile));
    assert.match(serve.stderr, new RegExp(`Tessera is listening at ${url}\\n`));
    // Which isolation is in force, before anything is deployed.
    assert.match(serve.stderr, /^sandbox: bubblewrap \(--sandbox auto\), network none, limits by (cgroup v[12]|rlimits.*), ONNX in the server process$/m);
    assert.equal(serve.stderr.split(adminPassword).length, 2, 'the password appears exactly once');
    assert.ok(!serve.stdout.includes(adminPassword), 'the JSON log never holds the password');
    for (const line of serve.stdout.trim().split('\n')) JSON.parse(line);
  });

  test('login, get-access-token and GET /me work with NODE_EXTRA_CA_CERTS, and the token verifies against the JWKS', async () => {
    const env = { TESSERA_CONFIG_DIR: tempDir('e2e-config'), NODE_EXTRA_CA_CERTS: caFile };
    const login = await tessera(['login', '--server', url, '-u', 'admin', '-p', adminPassword], env);
    assert.equal(login.code, 0, login.stderr);
    const account = JSON.parse(login.stdout) as { objectId: string; tenantId: string; user: { name: string; type: string } };
    assert.equal(account.tenantId, tenantId);
    assert.deepEqual(account.user, { name: 'admin@tessera.local', type: 'user' });
    assert.equal(fs.statSync(path.join(env.TESSERA_CONFIG_DIR, 'session.json')).mode & 0o777, 0o600);

    const got = await tessera(['account', 'get-access-token'], env);
    assert.equal(got.code, 0, got.stderr);
    const { accessToken, expires_on: expiresOn } = JSON.parse(got.stdout) as { accessToken: string; expires_on: number };

    const me = await runNodeScript(
      "const r = await fetch(process.env.TESSERA_URL + '/me', { headers: { authorization: 'Bearer ' + process.env.TOKEN } });" +
        'process.stdout.write(JSON.stringify({ status: r.status, body: await r.json() }));',
      { NODE_EXTRA_CA_CERTS: caFile, TESSERA_URL: url, TOKEN: accessToken },
    );
    assert.equal(me.code, 0, me.stderr);
    const { status, body } = JSON.parse(me.stdout) as { status: number; body: { objectId: string; userName: string; tenantId: string } };
    assert.equal(status, 200);
    assert.deepEqual([body.objectId, body.userName, body.tenantId], [account.objectId, 'admin', tenantId]);

    const jwks = createLocalJWKSet((await httpsGetJson(`${url}/${tenantId}/discovery/v2.0/keys`, fs.readFileSync(caFile, 'utf8'))) as JSONWebKeySet);
    const { payload } = await jwtVerify(accessToken, jwks, { issuer: `${url}/${tenantId}/v2.0`, audience: 'api://tessera/management' });
    assert.equal(payload.oid, account.objectId);
    assert.ok(Math.abs(payload.exp! - expiresOn) <= 2, 'expires_on is the token\'s exp');
  });

  test('without the CA trusted, login fails with a clear TLS message and no password', async () => {
    const result = await tessera(['login', '--server', url, '-u', 'admin', '-p', adminPassword], { TESSERA_CONFIG_DIR: tempDir('e2e-config') });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^ERROR: The TLS certificate of https:\/\/127\.0\.0\.1:\d+ is not trusted \(\w+\)\. .*export NODE_EXTRA_CA_CERTS=/);
    assert.ok(!result.stderr.includes(adminPassword));
  });

  test('SIGTERM lets a request already in flight finish, then the server exits 0', async () => {
    const body = JSON.stringify({ username: 'admin', password: adminPassword });
    const socket = tls.connect({ host: '127.0.0.1', port, ca: fs.readFileSync(caFile, 'utf8') });
    await once(socket, 'secureConnect');
    // With Expect: 100-continue the server says when it has read the request's head, so
    // the signal comes only once the request is in flight, however slow the machine.
    const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
    let received = '';
    let headRead!: () => void;
    const inFlight = new Promise<void>((resolve) => (headRead = resolve));
    const response = new Promise<{ head: string; body: string }>((resolve) => {
      socket.on('data', (d: Buffer) => {
        received += d.toString();
        if (received.length < CONTINUE.length && CONTINUE.startsWith(received)) return; // the interim answer, still arriving
        headRead();
        const final = received.startsWith(CONTINUE) ? received.slice(CONTINUE.length) : received;
        const split = final.indexOf('\r\n\r\n');
        const length = Number(/content-length: *(\d+)/i.exec(final)?.[1] ?? NaN);
        if (split >= 0 && final.length - split - 4 >= length) resolve({ head: final.slice(0, split), body: final.slice(split + 4) });
      });
    });
    // The request's head and half its body arrive before the signal; the rest after it.
    socket.write(`POST /login HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n${body.slice(0, 12)}`);
    await inFlight;
    serve.signal('SIGTERM');
    await serve.waitForStderr(/SIGTERM: finishing the requests in flight/);
    await sleep(200);
    assert.ok(serve.running, 'the server waits for the request in flight');
    socket.write(body.slice(12));
    const { head, body: answer } = await response;
    assert.match(head, /^HTTP\/1\.1 200 /);
    assert.match(answer, /"access_token":"eyJ/);
    // A client done with the connection closes it. (The server itself leaves a kept-alive
    // connection open while stopping, so without this it would exit only after 72 s.)
    socket.end();
    assert.deepEqual(await serve.exited, { code: 0, signal: null });
  });

  test('a second start on the same data directory prints no password; SIGINT stops it with exit 0', async () => {
    const again = await ServeProcess.start(['--port', String(await freePort()), '--tls-self-signed', '--data', dataDir]);
    servers.push(again);
    assert.doesNotMatch(again.stderr, /password|First start/);
    assert.ok(!again.stderr.includes(adminPassword) && !again.stdout.includes(adminPassword));
    assert.match(again.stderr, /export NODE_EXTRA_CA_CERTS=/);
    again.signal('SIGINT');
    assert.deepEqual(await again.exited, { code: 0, signal: null });
  });
});
