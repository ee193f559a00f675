/**
 * Start-up and the server's surroundings: bootstrap once, restart on the same store,
 * the master key file, a path prefix in the public URL, HTTPS with a self-signed CA,
 * health and readiness, and graceful shutdown.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { STORE_KINDS, call, login, startTestServer } from './helpers.js';
import { ConfigError, resolveConfig } from '../src/index.js';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-life-'));
}

describe('configuration', () => {
  it('options win over TESSERA_* variables, which win over defaults', () => {
    const c = resolveConfig({ port: '6000' }, { TESSERA_PORT: '7000', TESSERA_HOST: '::1', TESSERA_DATA: '/tmp/x' });
    assert.equal(c.port, 6000);
    assert.equal(c.host, '::1');
    assert.equal(c.dataDir, '/tmp/x');
    const d = resolveConfig({}, {});
    assert.equal(d.port, 5080);
    assert.equal(d.host, '127.0.0.1');
    assert.equal(d.dataDir, path.resolve('.tessera'));
  });

  it('--trust-proxy takes true, a hop count, or addresses and CIDRs', () => {
    assert.equal(resolveConfig({}, {}).trustProxy, false);
    assert.equal(resolveConfig({ trustProxy: 'true' }, {}).trustProxy, true);
    assert.equal(resolveConfig({}, { TESSERA_TRUST_PROXY: '2' }).trustProxy, 2);
    assert.deepEqual(resolveConfig({ trustProxy: '10.0.0.1, 192.168.0.0/16,::1' }, {}).trustProxy, ['10.0.0.1', '192.168.0.0/16', '::1']);
  });

  it('app-token reuse is on unless TESSERA_APP_TOKEN_REUSE turns it off', () => {
    assert.equal(resolveConfig({}, {}).appTokenReuse, true);
    assert.equal(resolveConfig({}, { TESSERA_APP_TOKEN_REUSE: '0' }).appTokenReuse, false);
    assert.equal(resolveConfig({}, { TESSERA_APP_TOKEN_REUSE: 'off' }).appTokenReuse, false);
  });

  const bad: [string, () => unknown][] = [
    ['a port out of range', () => resolveConfig({ port: '70000' }, {})],
    ['a non-postgres database URL', () => resolveConfig({ database: 'mysql://x' }, {})],
    ['a TLS certificate without a key', () => resolveConfig({ tlsCert: 'c.pem' }, {})],
    ['self-signed together with a certificate', () => resolveConfig({ tlsCert: 'c.pem', tlsKey: 'k.pem', tlsSelfSigned: true }, {})],
    ['a public URL that is not a URL', () => resolveConfig({ publicUrl: 'not a url' }, {})],
    ['an unknown signing algorithm', () => resolveConfig({}, { TESSERA_SIGNING_ALG: 'HS256' })],
    ['a trusted proxy that is not an address', () => resolveConfig({ trustProxy: 'evil.example' }, {})],
    ['a model upload limit that is not a number', () => resolveConfig({}, { TESSERA_MODEL_UPLOAD_LIMIT: '1GB' })],
    ['a scoring body limit of zero', () => resolveConfig({}, { TESSERA_SCORING_BODY_LIMIT: '0' })],
    ['a negative scoring timeout', () => resolveConfig({}, { TESSERA_SCORING_TIMEOUT_MS: '-5' })],
    ['a fractional queue size', () => resolveConfig({}, { TESSERA_SCORING_QUEUE: '1.5' })],
    ['an absurdly long number', () => resolveConfig({}, { TESSERA_SCORING_QUEUE: '9'.repeat(40) })],
  ];
  for (const [what, make] of bad) {
    it(`refuses ${what} with a ConfigError`, () => {
      assert.throws(make, ConfigError);
    });
  }

  it('reads the model and scoring settings, with their defaults', () => {
    const defaults = resolveConfig({ data: '/tmp/tessera-config-check' }, {});
    assert.equal(defaults.modelDir, '/tmp/tessera-config-check/models');
    assert.deepEqual(defaults.scoring, {
      bodyLimit: 1024 ** 2,
      timeoutMs: 60_000,
      queueSize: 64,
      python: 'python3',
      runtimeDir: '/tmp/tessera-config-check/runtimes',
      initTimeoutMs: 120_000,
      sandbox: { mode: 'auto', network: 'none', tmpSizeMb: 256, maxProcesses: 256, maxOpenFiles: 1024, isolateOnnx: false, bwrap: 'bwrap' },
    });
    const set = resolveConfig({}, { TESSERA_MODEL_DIR: '/srv/models', TESSERA_MODEL_UPLOAD_LIMIT: '2048', TESSERA_SCORING_TIMEOUT_MS: '1500', TESSERA_PYTHON: '/usr/bin/python3' });
    assert.deepEqual([set.modelDir, set.modelUploadLimit, set.scoring.timeoutMs, set.scoring.python], ['/srv/models', 2048, 1500, '/usr/bin/python3']);
  });
});

for (const kind of STORE_KINDS) {
  describe(`lifecycle [${kind}]`, () => {
    it('bootstraps once: a restart on the same store keeps tenant, users and keys, and generates no password', async () => {
      const dataDir = tempDir();
      const first = await startTestServer(kind, { dataDir, env: { TESSERA_ADMIN_PASSWORD: '' } });
      try {
        const bootstrap = first.running.bootstrap;
        assert.equal(bootstrap.created, true);
        assert.ok(bootstrap.generatedAdminPassword && bootstrap.generatedAdminPassword.length >= 20);
        const pair = await login(first, 'admin', bootstrap.generatedAdminPassword);
        await first.running.close();
        const databaseUrl = first.running.services.config.databaseUrl;
        const second = await startTestServer(kind, { dataDir, databaseUrl, env: { TESSERA_ADMIN_PASSWORD: '' } });
        try {
          assert.equal(second.running.bootstrap.created, false);
          assert.equal(second.running.bootstrap.generatedAdminPassword, undefined);
          assert.equal(second.running.bootstrap.tenantId, bootstrap.tenantId);
          // Same port is not guaranteed, so the issuer differs: sign in again rather than reuse the token.
          assert.ok(await login(second, 'admin', bootstrap.generatedAdminPassword));
          assert.ok(pair.refresh_token);
        } finally {
          await second.running.close();
        }
      } finally {
        await first.close();
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    });

    it('the generated admin password never reaches the logs', async () => {
      const server = await startTestServer(kind, { env: { TESSERA_ADMIN_PASSWORD: '' } });
      try {
        const password = server.running.bootstrap.generatedAdminPassword!;
        await login(server, 'admin', password);
        assert.ok(!server.logs.join('\n').includes(password));
      } finally {
        await server.close();
      }
    });

    it('/health and /ready answer', async () => {
      const server = await startTestServer(kind);
      try {
        assert.deepEqual((await call(`${server.url}/health`)).body, { status: 'ok' });
        const ready = await call(`${server.url}/ready`);
        assert.equal(ready.status, 200);
        assert.equal(ready.body.store, kind);
      } finally {
        await server.close();
      }
    });
  });
}

describe('master key', () => {
  it('is created as a 0600 file in the data directory when TESSERA_MASTER_KEY is not set', async () => {
    const server = await startTestServer('sqlite');
    try {
      const file = path.join(server.dataDir, 'master.key');
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      assert.equal(fs.statSync(path.join(server.dataDir, 'tessera.db')).mode & 0o077, 0);
    } finally {
      await server.close();
    }
  });

  it('a server given the wrong master key refuses to start instead of signing with garbage', async () => {
    const dataDir = tempDir();
    const key = crypto.randomBytes(32).toString('base64');
    const first = await startTestServer('sqlite', { dataDir, env: { TESSERA_MASTER_KEY: key } });
    await first.running.close();
    await assert.rejects(startTestServer('sqlite', { dataDir, env: { TESSERA_MASTER_KEY: crypto.randomBytes(32).toString('hex') } }), /master key differs/);
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
});

describe('public URL with a path prefix', () => {
  let close: (() => Promise<void>) | undefined;
  after(() => close?.());

  it('serves every route under the prefix and puts it in the issuer', async () => {
    const port = 20000 + crypto.randomInt(20000);
    const server = await startTestServer('sqlite', { config: { port, publicUrl: `http://127.0.0.1:${port}/tessera` } });
    close = () => server.close();
    assert.equal(server.url, `http://127.0.0.1:${port}/tessera`);
    const discovery = await call(`${server.url}/organizations/v2.0/.well-known/openid-configuration`);
    assert.equal(discovery.body.issuer, `http://127.0.0.1:${port}/tessera/organizations/v2.0`);
    const pair = await login(server);
    assert.equal((await call(`${server.url}/me`, { token: pair.access_token })).status, 200);
    assert.equal((await call(`http://127.0.0.1:${port}/health`)).status, 404, 'nothing is served outside the prefix');
  });
});

describe('HTTPS with --tls-self-signed', () => {
  it('creates a CA and a certificate for the host; a client trusting the CA connects, one that does not is refused', async () => {
    const server = await startTestServer('sqlite', { config: { tlsSelfSigned: true } });
    try {
      assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const caFile = server.running.caFile!;
      assert.equal(caFile, path.join(server.dataDir, 'tls', 'ca.pem'));
      assert.equal(fs.statSync(path.join(server.dataDir, 'tls', 'server-key.pem')).mode & 0o777, 0o600);
      const get = (ca?: string) =>
        new Promise<number>((resolve, reject) => {
          https.get(`${server.url}/health`, ca ? { ca } : {}, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          }).on('error', reject);
        });
      assert.equal(await get(fs.readFileSync(caFile, 'utf8')), 200);
      await assert.rejects(get(), /self-signed|unable to verify|certificate/i);
      const cert = new crypto.X509Certificate(fs.readFileSync(path.join(server.dataDir, 'tls', 'server.pem')));
      assert.ok(cert.checkIP('127.0.0.1'));
      assert.ok(cert.checkHost('localhost'));
      assert.ok(cert.verify(new crypto.X509Certificate(fs.readFileSync(caFile)).publicKey));
    } finally {
      await server.close();
    }
  });
});

describe('graceful stop', () => {
  it('a request in flight when the server is asked to stop still completes; new connections are refused', async () => {
    const server = await startTestServer('sqlite');
    const port = Number(new URL(server.url).port);
    const body = JSON.stringify({ username: 'admin', password: 'Adm1n-pass-for-tests!' });
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    let response = '';
    socket.on('data', (d) => (response += d.toString()));
    const ended = new Promise((r) => socket.once('close', r));
    // A whole sign-in, held in its password check until the stop has been asked for (and a
    // new connection refused): the stop comes while its handler is busy, however slowly the
    // request got there.
    const hasher = server.running.services.hasher;
    const verify = hasher.verify.bind(hasher);
    let entered!: () => void;
    const inCheck = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const stopAsked = new Promise<void>((resolve) => (release = resolve));
    hasher.verify = async (hash, password) => {
      entered();
      await stopAsked;
      return verify(hash, password);
    };
    socket.write(`POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    await inCheck;
    const closing = server.close();
    await assert.rejects(fetch(`${server.url}/health`), 'no new connections while stopping');
    release();
    await closing;
    await ended;
    assert.match(response, /^HTTP\/1\.1 200 /);
    assert.match(response, /"access_token"/);
  });
});
