/**
 * The sandbox, end to end over real HTTP with real bubblewrap: a hostile score.py and a
 * hostile score.mjs try to read the master key, the database, another service's model
 * and the server's environment, reach the server's port and PostgreSQL, ptrace the
 * server, fork-bomb, allocate 20 GB, fill /tmp, spin in init() and run(), write into
 * their own code, and leave a daemon behind. Each attempt fails cleanly (an answer saying
 * it failed, or a 5xx of that service only, or its deployment Failed with the reason);
 * a bystander service keeps serving throughout, and the server's memory stays bounded.
 *
 * The server runs with `--sandbox required`: where bubblewrap cannot make the sandbox
 * these tests fail, they never pass unsandboxed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { call } from './helpers.js';
import { startArmServer, type ArmTestServer } from './arm-helpers.js';
import { filesUnder, uploadVersion } from './model-helpers.js';
import { HOSTILE_MJS, HOSTILE_PY, SPIN_IN_INIT_MJS, SPIN_IN_INIT_PY } from './sandbox-scripts.js';
import { deploy, makeWorkspace, putService, score, scriptBody, waitForState, type Workspace } from './web-service-helpers.js';

const CANARY = `env-canary-${crypto.randomBytes(8).toString('hex')}`;
const MODEL_CANARY = `model-canary-${crypto.randomBytes(8).toString('hex')}`;
const BYSTANDER = `import json, os\n\ndef init():\n    global secret\n    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "secret.txt")) as f:\n        secret = f.read()\n\ndef run(raw):\n    return {"echo": json.loads(raw), "model": len(secret)}\n`;

/** The processes on the host whose command line is exactly `argv`. */
function hostProcesses(argv: string[]): number[] {
  const wanted = `${argv.join('\0')}\0`;
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'latin1') === wanted) found.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

async function eventually(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function postgresPort(): number {
  const url = process.env.TESSERA_TEST_PG_URL;
  if (!url) throw new Error('TESSERA_TEST_PG_URL is not set: run the suite with `npm test`, which starts PostgreSQL.');
  return Number(new URL(url).port || 5432);
}

type Attempt = { ok: boolean; value?: unknown; error?: string };

describe('the sandbox contains hostile entry scripts', () => {
  let server: ArmTestServer;
  let w: Workspace;
  let dataDir: string;
  let modelFile: string;
  let serverPort: number;

  const bystanderServes = async () => {
    const res = await score(server.url, 'bystander', { still: 'here' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, { echo: { still: 'here' }, model: MODEL_CANARY.length });
  };

  before(async () => {
    process.env.TESSERA_SANDBOX_TEST_CANARY = CANARY;
    // Every worker here (and every restart) must finish init() within the init timeout: short,
    // as the init() that spins waits it out, but with room for a loaded machine.
    server = await startArmServer('sqlite', { env: { TESSERA_SANDBOX: 'required', TESSERA_SANDBOX_TMP_MB: '16', TESSERA_INIT_TIMEOUT_SEC: '6' } });
    dataDir = server.server.dataDir;
    serverPort = Number(new URL(server.url).port);
    w = await makeWorkspace(server);
    const up = await uploadVersion(w.url('/models/secrets/versions/1'), w.admin, [{ path: 'secret.txt', content: MODEL_CANARY }]);
    assert.equal(up.status, 201, JSON.stringify(up.body));
    await deploy(w, 'bystander', scriptBody('score.py', BYSTANDER, { models: ['secrets:1'] }));
    const stored = filesUnder(path.join(dataDir, 'models')).find((f) => f.startsWith('trees') && f.endsWith('secret.txt'));
    assert.ok(stored, 'the model is laid out on the host');
    modelFile = path.join(dataDir, 'models', stored);
    const limits = { memoryGb: 0.5, scoringTimeoutMs: 5000 };
    await deploy(w, 'hostile-py', scriptBody('score.py', HOSTILE_PY, limits));
    await deploy(w, 'hostile-js', scriptBody('score.mjs', HOSTILE_MJS, limits));
  });
  after(async () => {
    delete process.env.TESSERA_SANDBOX_TEST_CANARY;
    await server?.close();
  });

  for (const [runtime, name] of [['python', 'hostile-py'], ['javascript', 'hostile-js']] as const) {
    const attack = async (body: Record<string, unknown>) => {
      const res = await score(server.url, name, body);
      return res;
    };
    const attempt = async (body: Record<string, unknown>): Promise<Attempt> => {
      const res = await attack(body);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body as Attempt;
    };

    describe(`a ${runtime} entry script`, () => {
      it('runs as an unprivileged user in its own view: the app directory, /usr, /tmp, and no server environment', async () => {
        const view = await call(w.url(`/onlineEndpoints/${name}`), { token: w.admin });
        assert.equal((view.body.properties as Record<string, unknown>).isolation, 'sandbox');
        const res = await attack({ mode: 'whoami' });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const who = res.body as { uid: number; cwd: string; hostname: string; root: string[]; env: string[] };
        assert.equal(who.uid, 1000);
        assert.equal(who.cwd, '/var/azureml-app');
        assert.equal(who.hostname, 'tessera-sandbox');
        // /root may hold the interpreter's own installation (pyenv); nothing else of the host.
        assert.ok(!who.root.includes('home') && !who.root.includes('work') && !who.root.includes('srv'), `the root shows only the runtime: ${who.root.join(' ')}`);
        assert.ok(!who.env.includes('TESSERA_SANDBOX_TEST_CANARY') && !who.env.includes('TESSERA_TEST_PG_URL'), 'no variable of the server passes in');
      });

      it("cannot read the master key, the database, the data directory or another service's model", async () => {
        for (const target of [path.join(dataDir, 'master.key'), path.join(dataDir, 'tessera.db'), modelFile, '/var/azureml-app/azureml-models/secrets/1/secret.txt']) {
          const result = await attempt({ mode: 'read', path: target });
          assert.equal(result.ok, false, `${target} must not be readable: ${JSON.stringify(result)}`);
          assert.match(result.error!, /ENOENT|FileNotFoundError/);
        }
        assert.equal(fs.readFileSync(modelFile, 'utf8'), MODEL_CANARY, 'the model is there on the host');
        await bystanderServes();
      });

      it("cannot read the server's environment through /proc, nor see the server's process", async () => {
        const res = await attack({ mode: 'environ' });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const seen = res.body as { self: string; init: string; pids: string[] };
        assert.ok(!seen.self.includes(CANARY) && !seen.init.includes(CANARY), 'the canary stays in the server');
        assert.ok(!seen.pids.includes(String(process.pid)), 'the server is not in its PID namespace');
        assert.ok(seen.pids.length < 30, `only its own processes: ${seen.pids.join(' ')}`);
        if (runtime === 'javascript') {
          const signal = await attempt({ mode: 'signal', pid: process.pid });
          assert.equal(signal.ok, false);
          assert.match(signal.error!, /ESRCH/);
        }
      });

      it("cannot connect to the server's port or to PostgreSQL", async () => {
        for (const port of [serverPort, postgresPort()]) {
          const result = await attempt({ mode: 'connect', port });
          assert.equal(result.ok, false, `127.0.0.1:${port} must be unreachable`);
          assert.match(result.error!, /EAFNOSUPPORT|Address family not supported/);
        }
      });

      it('a fork bomb is capped and fails only its own request; the bystander keeps serving', async () => {
        const res = await attack({ mode: 'forkbomb' });
        if (res.status === 200) {
          const body = res.body as { forked?: number; processes?: number };
          const count = body.forked ?? body.processes ?? Infinity;
          assert.ok(count <= 256, `at most pids.max processes: ${JSON.stringify(body)}`);
        } else assert.ok(res.status >= 500, JSON.stringify(res.body));
        await bystanderServes();
      });

      it('allocating 20 GB kills only its own worker (502 out of memory), which is replaced', async () => {
        const before = process.memoryUsage().rss;
        const res = await attack({ mode: 'memory' });
        assert.equal(res.status, 502, JSON.stringify(res.body));
        assert.match(JSON.stringify(res.body), /ran out of memory \(limit 512 MiB\)/);
        await bystanderServes();
        assert.equal((await attack({ mode: 'whoami' })).status, 200, 'the worker was replaced');
        assert.ok(process.memoryUsage().rss - before < 256 * 1024 ** 2, "the server's own memory did not take the allocation");
      });

      it('writing 10 GB to /tmp stops at its cap with an error', async () => {
        const res = await attack({ mode: 'fill-tmp' });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        const body = res.body as { written: number; error?: string };
        assert.ok(body.written <= 16 * 1024 ** 2, `at most the 16 MiB tmpfs: ${body.written}`);
        assert.match(body.error ?? '', /ENOSPC|EFBIG|No space left|File too large/);
      });

      it('spinning forever in run() is a 504 of that request; the worker is replaced and the next answers', async () => {
        const res = await attack({ mode: 'spin' });
        assert.equal(res.status, 504, JSON.stringify(res.body));
        await bystanderServes();
        assert.equal((await attack({ mode: 'whoami' })).status, 200);
      });

      it('a daemon it leaves behind dies when the service is deleted', async () => {
        const service = `${name}-daemon`;
        await deploy(w, service, scriptBody(runtime === 'python' ? 'score.py' : 'score.mjs', runtime === 'python' ? HOSTILE_PY : HOSTILE_MJS));
        const marker = String(70_000 + crypto.randomInt(20_000));
        const started = await score(server.url, service, { mode: 'daemon', marker });
        assert.equal(started.status, 200, JSON.stringify(started.body));
        await eventually(() => hostProcesses(['/bin/sleep', marker]).length + hostProcesses(['sleep', marker]).length > 0, 'the daemon to run');
        const deleted = await call(w.url(`/onlineEndpoints/${service}`), { method: 'DELETE', token: w.admin });
        assert.equal(deleted.status, 200);
        await eventually(() => hostProcesses(['/bin/sleep', marker]).length + hostProcesses(['sleep', marker]).length === 0, 'the daemon to be gone');
      });
    });
  }

  it('ptrace and new namespaces are refused by the seccomp filter (EPERM)', async () => {
    const traced = await score(server.url, 'hostile-py', { mode: 'ptrace', pid: process.pid });
    assert.deepEqual(traced.body, { rc: -1, errno: 1 });
    const unshared = await score(server.url, 'hostile-py', { mode: 'unshare' });
    assert.deepEqual(unshared.body, { rc: -1, errno: 1 });
  });

  it('its own code and models are read-only', async () => {
    const result = (await score(server.url, 'hostile-py', { mode: 'write', path: '/var/azureml-app/score.py' })).body as Attempt;
    assert.equal(result.ok, false);
    assert.match(result.error!, /Read-only file system/);
  });

  it('spinning forever in init() fails the deployment with the reason; the others keep serving', async () => {
    for (const [file, script] of [['score.py', SPIN_IN_INIT_PY], ['score.mjs', SPIN_IN_INIT_MJS]] as const) {
      const service = `spin-init-${file.endsWith('.py') ? 'py' : 'js'}`;
      const put = await putService(w, service, scriptBody(file, script));
      assert.equal(put.status, 201, JSON.stringify(put.body));
      const failed = await waitForState(w, service, 'Failed');
      assert.match(String((failed.properties as Record<string, unknown>).error), /init\(\) did not finish within 6000 ms/);
    }
    await bystanderServes();
  });
});
