/**
 * The sandbox's settings: `--sandbox required|auto|off` (what happens when bubblewrap
 * cannot run, and what the service view shows as `isolation`), `--sandbox-network
 * none|loopback|all` (what a script can reach), and refused values.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, resolveConfig } from '../src/config.js';
import { call } from './helpers.js';
import { uploadVersion } from './model-helpers.js';
import { linearRegressionModel } from './onnx/buildModel.js';
import { startArmServer, type ArmTestServer } from './arm-helpers.js';
import { deploy, makeWorkspace, putService, score, scriptBody, waitForState, type Workspace, PY_ECHO } from './web-service-helpers.js';

/** Tries its own loopback (a listener it makes) and the server's port; says what happened. */
const NETWORK_PROBE = `import json, socket

def run(raw):
    req = json.loads(raw)
    out = {}
    try:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        socket.create_connection(listener.getsockname(), timeout=2).close()
        out["own"] = "connected"
    except OSError as error:
        out["own"] = type(error).__name__
    try:
        socket.create_connection(("127.0.0.1", req["port"]), timeout=2).close()
        out["server"] = "connected"
    except OSError as error:
        out["server"] = type(error).__name__
    return out
`;

const WHERE = 'import os\n\ndef run(raw):\n    return {"cwd": os.getcwd(), "uid": os.getuid()}\n';

interface Started {
  server: ArmTestServer;
  w: Workspace;
}

async function start(env: Record<string, string>): Promise<Started> {
  const server = await startArmServer('sqlite', { env });
  return { server, w: await makeWorkspace(server) };
}

async function isolationOf(w: Workspace, name: string): Promise<unknown> {
  const res = await call(w.url(`/onlineEndpoints/${name}`), { token: w.admin });
  return (res.body.properties as Record<string, unknown>).isolation;
}

describe('--sandbox', () => {
  const started: Started[] = [];
  after(async () => {
    for (const s of started) await s.server.close();
  });

  it('required, where bubblewrap cannot run: the deployment fails saying why, and the view says unavailable', async () => {
    const s = await start({ TESSERA_SANDBOX: 'required', TESSERA_BWRAP: '/nonexistent/bwrap' });
    started.push(s);
    const put = await putService(s.w, 'needs-sandbox', scriptBody('score.py', PY_ECHO));
    assert.equal(put.status, 201, JSON.stringify(put.body));
    const failed = await waitForState(s.w, 'needs-sandbox', 'Failed');
    assert.match(String((failed.properties as Record<string, unknown>).error), /the sandbox is required \(--sandbox required\) but cannot be made: bubblewrap is not installed/);
    assert.equal(await isolationOf(s.w, 'needs-sandbox'), 'unavailable');
    assert.ok(s.server.logs.some((l) => /REQUIRED BUT UNAVAILABLE/.test(l) && /"level":40/.test(l)), 'the server warns at start');
  });

  it('auto, where bubblewrap cannot run: scripts run as plain processes, the view says process, the log warns', async () => {
    const s = await start({ TESSERA_SANDBOX: 'auto', TESSERA_BWRAP: '/nonexistent/bwrap' });
    started.push(s);
    await deploy(s.w, 'fallback', scriptBody('score.py', WHERE));
    assert.equal(await isolationOf(s.w, 'fallback'), 'process');
    const res = await score(s.server.url, 'fallback', {});
    assert.equal(res.status, 200);
    assert.notEqual((res.body as { cwd: string }).cwd, '/var/azureml-app');
    assert.ok(s.server.logs.some((l) => /sandbox: UNAVAILABLE \(--sandbox auto\)/.test(l) && /"level":40/.test(l)), 'a warning in the log');
  });

  it("off: plain processes, as the server's user, and no warning", async () => {
    const s = await start({ TESSERA_SANDBOX: 'off' });
    started.push(s);
    await deploy(s.w, 'plain', scriptBody('score.py', WHERE));
    assert.equal(await isolationOf(s.w, 'plain'), 'process');
    const res = await score(s.server.url, 'plain', {});
    assert.equal((res.body as { uid: number }).uid, process.getuid!());
    assert.ok(!s.server.logs.some((l) => /"level":40/.test(l) && /sandbox/.test(l)));
  });

  it('auto, where bubblewrap runs: sandboxed', async () => {
    const s = await start({});
    started.push(s);
    await deploy(s.w, 'boxed', scriptBody('score.py', WHERE));
    assert.equal(await isolationOf(s.w, 'boxed'), 'sandbox');
    assert.deepEqual((await score(s.server.url, 'boxed', {})).body, { cwd: '/var/azureml-app', uid: 1000 });
  });
});

describe('--isolate-onnx', () => {
  const started: Started[] = [];
  after(async () => {
    for (const s of started) await s.server.close();
  });

  /** Deploys the linear model as an ONNX service and checks its answer; returns its isolation. */
  async function onnxService(s: Started): Promise<unknown> {
    const model = linearRegressionModel({ weights: [[1], [2], [3]], bias: [0.5] });
    const up = await uploadVersion(s.w.url('/models/linear/versions/1'), s.w.admin, [{ path: 'model.onnx', content: Buffer.from(model) }]);
    assert.equal(up.status, 201, JSON.stringify(up.body));
    await deploy(s.w, 'onnx-svc', { properties: { models: ['linear'] } });
    const scored = await score(s.server.url, 'onnx-svc', { inputs: { X: [[1, 1, 1]] } });
    assert.deepEqual(scored.body, { outputs: { Y: [[6.5]] } });
    const refused = await score(s.server.url, 'onnx-svc', { inputs: { X: [[1, 1]] } });
    assert.equal(refused.status, 400, 'a wrong shape is the caller\'s error, isolated or not');
    return isolationOf(s.w, 'onnx-svc');
  }

  it('unset: ONNX runs in the server process and the view says in-process', async () => {
    const s = await start({ TESSERA_SANDBOX: 'required' });
    started.push(s);
    assert.equal(await onnxService(s), 'in-process');
    assert.ok(s.server.logs.some((l) => /ONNX in the server process/.test(l)));
  });

  it('set: ONNX runs in sandboxed worker processes and the view says sandbox', async () => {
    const s = await start({ TESSERA_SANDBOX: 'required', TESSERA_ISOLATE_ONNX: 'true' });
    started.push(s);
    assert.equal(await onnxService(s), 'sandbox');
    assert.ok(s.server.logs.some((l) => /ONNX sandboxed too/.test(l)));
  });
});

describe('--sandbox-network', () => {
  for (const [network, expected] of [
    ['none', { own: 'OSError', server: 'OSError' }],
    ['loopback', { own: 'connected', server: 'ConnectionRefusedError' }],
    ['all', { own: 'connected', server: 'connected' }],
  ] as const) {
    describe(network, () => {
      let s: Started;
      before(async () => {
        s = await start({ TESSERA_SANDBOX: 'required', TESSERA_SANDBOX_NETWORK: network });
        await deploy(s.w, 'net-probe', scriptBody('score.py', NETWORK_PROBE));
      });
      after(() => s.server.close());

      it(`${network === 'none' ? 'no socket but AF_UNIX' : network === 'loopback' ? "its own loopback, never the host's" : "the host's network"}`, async () => {
        const res = await score(s.server.url, 'net-probe', { port: Number(new URL(s.server.url).port) });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.deepEqual(res.body, expected);
      });
    });
  }
});

describe('sandbox settings that are refused', () => {
  it('unknown modes and networks, bad sizes and a relative cgroup path are configuration errors naming the setting', () => {
    const cases: [Record<string, string>, Record<string, unknown>, RegExp][] = [
      [{}, { sandbox: 'maybe' }, /^--sandbox must be one of required, auto, off, not 'maybe'/],
      [{ TESSERA_SANDBOX: 'ON' }, {}, /^--sandbox must be one of/],
      [{ TESSERA_SANDBOX_NETWORK: '<script>alert(1)</script>' }, {}, /^--sandbox-network must be one of none, loopback, all, not '<script>/],
      [{ TESSERA_SANDBOX_TMP_MB: '-1' }, {}, /^TESSERA_SANDBOX_TMP_MB must be a positive whole number/],
      [{ TESSERA_SANDBOX_MAX_PROCESSES: '0' }, {}, /^TESSERA_SANDBOX_MAX_PROCESSES must be a positive whole number/],
      [{ TESSERA_SANDBOX_MAX_OPEN_FILES: '1e9' }, {}, /^TESSERA_SANDBOX_MAX_OPEN_FILES must be a positive whole number/],
      [{ TESSERA_INIT_TIMEOUT_SEC: 'soon' }, {}, /^TESSERA_INIT_TIMEOUT_SEC must be a positive whole number/],
      [{ TESSERA_SANDBOX_CGROUP: 'tessera.slice' }, {}, /^TESSERA_SANDBOX_CGROUP must be an absolute path/],
      [{ TESSERA_SANDBOX_NETWORK: 'x'.repeat(100_000) }, {}, /^--sandbox-network must be one of none, loopback, all, not 'x{40}'$/],
    ];
    for (const [env, options, message] of cases) {
      assert.throws(() => resolveConfig(options, env), (error: unknown) => error instanceof ConfigError && message.test(error.message), JSON.stringify(env).slice(0, 80));
    }
    const policy = resolveConfig({ sandbox: 'off', sandboxNetwork: 'loopback', isolateOnnx: true }, {}).scoring.sandbox;
    assert.deepEqual([policy.mode, policy.network, policy.isolateOnnx], ['off', 'loopback', true]);
  });
});
