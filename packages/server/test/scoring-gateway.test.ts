/**
 * The scoring gateway: status codes for every failure, with the next request (to the same
 * service and to another) served after each; the queue's limit; an update that swaps code
 * with no failed request; and a second replica on the same PostgreSQL database.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { call, startTestServer, type TestServer } from './helpers.js';
import { errorOf, startArmServer, type ArmTestServer } from './arm-helpers.js';
import { JS_ECHO, deploy, keysOf, makeWorkspace, putService, score, scriptBody, type Workspace } from './web-service-helpers.js';
import { CHARS_PER_SERVICE, LINES_PER_SERVICE, MAX_LINE, ServiceLogs } from '../src/scoring/serviceLogs.js';
import { CUT_MARKER } from '../src/scoring/runtimes/lineSplitter.js';
import { DEFAULT_ANSWER_LIMIT } from '../src/scoring/runtimes/types.js';

const PY_FAILURES = `import json, os, time

def init():
    pass

def run(raw_data):
    data = json.loads(raw_data)
    what = data.get("do")
    if what == "throw":
        raise ValueError("cannot score that")
    if what == "hang":
        time.sleep(30)
    if what == "exit":
        os._exit(3)
    if what == "eat":
        hog = []
        while True:
            hog.append(bytearray(50 * 1024 * 1024))
    return {"ok": what}
`;

const JS_SLOW = `export async function run(input) { await new Promise((r) => setTimeout(r, 400)); return { slow: true }; }\n`;

describe('scoring gateway (sqlite)', () => {
  let server: ArmTestServer;
  let w: Workspace;

  before(async () => {
    server = await startArmServer('sqlite');
    w = await makeWorkspace(server);
    await deploy(w, 'bystander', scriptBody('score.mjs', JS_ECHO));
    // The timeout leaves room for a crashed Python worker to restart under a loaded CI
    // machine: the request after each failure waits for it within its own timeout.
    await deploy(w, 'failures', scriptBody('score.py', PY_FAILURES, { scoringTimeoutMs: 5000, memoryGb: 0.25 }));
  });
  after(async () => {
    await server.close();
  });

  const healthyAfter = async () => {
    const again = await score(server.url, 'failures', { do: 'fine' });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.deepEqual(again.body, { ok: 'fine' });
    assert.equal((await score(server.url, 'bystander', { b: 1 })).status, 200);
  };

  it('a script that raises on the input is a 400 with its message', async () => {
    const res = await score(server.url, 'failures', { do: 'throw' });
    assert.equal(res.status, 400);
    assert.match(errorOf(res.body).message, /cannot score that/);
    await healthyAfter();
  });

  it('a script that hangs is a 504 after the service timeout', async () => {
    const res = await score(server.url, 'failures', { do: 'hang' });
    assert.equal(res.status, 504);
    assert.equal(errorOf(res.body).code, 'GatewayTimeout');
    await healthyAfter();
  });

  it('a worker that exits is a 502; it restarts', async () => {
    const res = await score(server.url, 'failures', { do: 'exit' });
    assert.equal(res.status, 502);
    assert.equal(errorOf(res.body).code, 'BadGateway');
    await healthyAfter();
  });

  it('a worker that eats memory past its limit is a 502; it restarts', async () => {
    const res = await score(server.url, 'failures', { do: 'eat' });
    assert.equal(res.status, 502, JSON.stringify(res.body));
    await healthyAfter();
  });

  it('a line without end is cut in the logs, an answer past the answer limit is a 502; the server carries on', async () => {
    const chatty = `import json, sys
def run(raw):
    what = json.loads(raw).get("do")
    if what == "flood":
        for _ in range(3):
            sys.stdout.write("x" * (1 << 20))
        print(" end")
        return "done"
    if what == "huge":
        return "z" * (${DEFAULT_ANSWER_LIMIT} + 1)
    return {"length": len(raw)}
`;
    await deploy(w, 'chatty', scriptBody('score.py', chatty, { memoryGb: 0.5 }));
    const flood = await score(server.url, 'chatty', { do: 'flood' });
    assert.equal(flood.status, 200, JSON.stringify(flood.body));
    assert.equal(flood.body, 'done');
    const huge = await score(server.url, 'chatty', { do: 'huge' });
    assert.equal(huge.status, 502, JSON.stringify(huge.body).slice(0, 300));
    assert.equal(errorOf(huge.body).code, 'BadGateway');
    assert.match(errorOf(huge.body).message, new RegExp(`the answer was larger than ${DEFAULT_ANSWER_LIMIT} bytes`));
    const again = await score(server.url, 'chatty', { do: 'fine' });
    assert.deepEqual([again.status, again.body], [200, { length: 13 }]);
    const logs = await call<{ content: string }>(w.url('/onlineEndpoints/chatty/getLogs'), { method: 'POST', token: w.admin });
    assert.equal(logs.status, 200);
    const lines = logs.body.content.split('\n');
    assert.ok(lines.some((l) => l.endsWith(`[stdout] ${'x'.repeat(16 * 1024)}${CUT_MARKER}`)), 'the cut line');
    for (const line of lines) assert.ok(line.length <= MAX_LINE + 40, `a ${line.length}-character log line`);
    await healthyAfter();
  });

  it('unknown service 404; body over the limit 413; a body that is not JSON 400', async () => {
    assert.equal((await score(server.url, 'no-such-service', {})).status, 404);
    assert.equal((await score(server.url, 'x'.repeat(300), {})).status, 404);
    const big = await score(server.url, 'bystander', { blob: 'y'.repeat(1024 * 1024 + 10) });
    assert.equal(big.status, 413);
    assert.equal(errorOf(big.body).code, 'RequestEntityTooLarge');
    for (const body of ['{not json', '', 'undefined']) {
      const res = await call(`${server.url}/api/v1/service/bystander/score`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      assert.equal(res.status, 400, body);
      assert.equal(errorOf(res.body).code, 'InvalidRequestContent');
    }
    const text = await call(`${server.url}/api/v1/service/bystander/score`, { method: 'POST', body: '{"plain": "text"}', headers: { 'content-type': 'text/plain' } });
    assert.equal(text.status, 200);
    await healthyAfter();
  });

  it('the swagger document describes the service, behind the same auth', async () => {
    const doc = await call(`${server.url}/api/v1/service/bystander/swagger.json`);
    assert.equal(doc.status, 200);
    assert.equal(doc.body.openapi, '3.0.3');
    assert.ok((doc.body.paths as Record<string, unknown>)['/score']);
    await deploy(w, 'keyed-doc', scriptBody('score.mjs', JS_ECHO, { target: 'cluster' }));
    assert.equal((await call(`${server.url}/api/v1/service/keyed-doc/swagger.json`)).status, 401);
    const keys = await keysOf(w, 'keyed-doc');
    assert.equal((await call(`${server.url}/api/v1/service/keyed-doc/swagger.json`, { token: keys.primaryKey })).status, 200);
  });

  it('a full queue is a 503 with Retry-After (1 replica, 1 waiting, 3 at once)', async () => {
    await deploy(w, 'slow', scriptBody('score.mjs', JS_SLOW, { replicas: 1, maxQueueSize: 1 }));
    const results = await Promise.all([0, 1, 2].map(() => score(server.url, 'slow', {})));
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 503]);
    const busy = results.find((r) => r.status === 503)!;
    assert.equal(busy.headers.get('retry-after'), '1');
    assert.equal(errorOf(busy.body).code, 'ServiceUnavailable');
    assert.equal((await score(server.url, 'slow', {})).status, 200);
  });

  it('an update swaps the code with no failed request in between', async () => {
    await deploy(w, 'swapper', scriptBody('score.mjs', JS_ECHO, { replicas: 2 }));
    let stop = false;
    const seen: number[] = [];
    const failures: string[] = [];
    const load = (async () => {
      while (!stop) {
        const res = await score(server.url, 'swapper', { n: 1 });
        if (res.status !== 200) failures.push(`${res.status} ${JSON.stringify(res.body)}`);
        else seen.push((res.body as { version: number }).version);
      }
    })();
    await sleep(100);
    const v2 = JS_ECHO.replace('version: 1', 'version: 2');
    const put = await putService(w, 'swapper', scriptBody('score.mjs', v2, { replicas: 2 }));
    assert.equal(put.status, 200);
    assert.equal((put.body.properties as Record<string, unknown>).state, 'Transitioning');
    const deadline = Date.now() + 30_000;
    while (!seen.includes(2) && Date.now() < deadline) await sleep(20);
    await sleep(100);
    stop = true;
    await load;
    assert.deepEqual(failures, []);
    assert.ok(seen.includes(1) && seen.includes(2));
    // Once version 2 answers, version 1 never does again.
    assert.ok(!seen.slice(seen.indexOf(2)).includes(1));
  });

  it('hostile names and credentials never crash the gateway', async () => {
    for (const name of ['%00', '..%2F..', 'A'.repeat(60), 'bystander%20']) {
      const res = await call(`${server.url}/api/v1/service/${name}/score`, { method: 'POST', body: {} });
      assert.ok(res.status === 404 || res.status === 400, `${name}: ${res.status}`);
    }
    for (const auth of ['Bearer', 'Bearer ' + 'a'.repeat(20_000), 'Bearer a.b.c', 'bearer tssk_x']) {
      const res = await call(`${server.url}/api/v1/service/keyed-doc/score`, { method: 'POST', body: {}, headers: { authorization: auth } });
      assert.ok(res.status === 401 || res.status === 431, `${auth.slice(0, 20)}: ${res.status}`);
    }
  });
});

describe('process guard', () => {
  it('an unhandled promise rejection is logged (type and message), and the server keeps serving', async () => {
    // In a child process: node:test fails whichever test an unhandled rejection happens in.
    const script = `
import { startTestServer } from ${JSON.stringify(new URL('./helpers.js', import.meta.url).href)};
const server = await startTestServer('sqlite');
void Promise.reject(new TypeError('a rejection nobody handles'));
await new Promise((r) => setTimeout(r, 200));
const res = await fetch(server.url + '/api/v1/service/none/score', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
console.log(JSON.stringify({ status: res.status, logged: server.logs.filter((l) => l.includes('unhandled promise rejection')).map((l) => JSON.parse(l)) }));
await server.close();
`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 60_000 });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { status: number; logged: { level: number; rejection: { type: string; message: string } }[] };
    assert.equal(result.status, 404);
    assert.equal(result.logged.length, 1);
    assert.equal(result.logged[0]!.level, 50);
    assert.deepEqual([result.logged[0]!.rejection.type, result.logged[0]!.rejection.message], ['TypeError', 'a rejection nobody handles']);
  });
});

describe('service logs', () => {
  const clock = { now: () => Date.UTC(2024, 0, 1) };
  const stamp = '2024-01-01T00:00:00.000Z [stdout] ';

  it('keeps a cut copy of an over-long line, marked', () => {
    const logs = new ServiceLogs(clock);
    logs.append('s', 'stdout', `${'a'.repeat(5 * 1024 * 1024)}tail`);
    assert.equal(logs.read('s'), `${stamp}${'a'.repeat(16 * 1024)}${CUT_MARKER}\n`);
  });

  it('holds at most 1 MiB of text per service, dropping the oldest lines first', () => {
    const logs = new ServiceLogs(clock);
    const line = (i: number) => `${String(i).padStart(6, '0')}${'b'.repeat(MAX_LINE - 6)}`;
    for (let i = 0; i < 1000; i++) logs.append('s', 'stdout', line(i));
    logs.append('other', 'system', 'a neighbour');
    const kept = logs.read('s').split('\n').filter(Boolean);
    const perLine = stamp.length + MAX_LINE;
    assert.equal(kept.length, Math.floor(CHARS_PER_SERVICE / perLine));
    assert.ok(kept.join('').length <= CHARS_PER_SERVICE);
    assert.deepEqual(logs.usage('s'), { lines: kept.length, chars: kept.length * perLine });
    assert.equal(kept.at(-1), `${stamp}${line(999)}`);
    assert.equal(kept[0], `${stamp}${line(1000 - kept.length)}`);
    assert.equal(logs.read('s', 2), `${stamp}${line(998)}\n${stamp}${line(999)}\n`);
    assert.equal(logs.read('other'), '2024-01-01T00:00:00.000Z [system] a neighbour\n');
  });

  it('holds at most 2,000 short lines per service, oldest first out', () => {
    const logs = new ServiceLogs(clock);
    for (let i = 0; i < 2500; i++) logs.append('s', 'stdout', `line ${i}`);
    const kept = logs.read('s').split('\n').filter(Boolean);
    assert.equal(kept.length, LINES_PER_SERVICE);
    assert.equal(kept[0], `${stamp}line 500`);
    assert.equal(kept.at(-1), `${stamp}line 2499`);
  });
});

describe('scoring across two replicas sharing PostgreSQL', () => {
  let a: TestServer;
  let b: TestServer;
  const env = { TESSERA_MASTER_KEY: crypto.randomBytes(32).toString('base64') };

  before(async () => {
    a = await startTestServer('postgres', { env });
    b = await startTestServer('postgres', { env, databaseUrl: a.running.services.config.databaseUrl });
  });
  after(async () => {
    await b.running.close();
    await a.close();
  });

  it('a service deployed on one replica scores on the other, which sees a regenerated key within seconds', async () => {
    const armA: ArmTestServer = { url: a.url, services: a.running.services, tenantId: a.running.bootstrap.tenantId, subscriptionId: a.running.bootstrap.subscriptionId, logs: a.logs, server: a, close: () => a.close() };
    const w = await makeWorkspace(armA);
    await deploy(w, 'roaming', scriptBody('score.mjs', JS_ECHO, { target: 'cluster' }));
    const keys = await keysOf(w, 'roaming');
    const poll = async (credential: string, want: number) => {
      const deadline = Date.now() + 30_000;
      let status = 0;
      while (Date.now() < deadline) {
        status = (await score(b.url, 'roaming', { r: 1 }, credential)).status;
        if (status === want) return status;
        await sleep(50);
      }
      return status;
    };
    assert.equal(await poll(keys.primaryKey, 200), 200);
    const regen = await call<{ key: string }>(w.url('/onlineEndpoints/roaming/regenerateKeys'), { method: 'POST', token: w.admin, body: { keyType: 'Primary' } });
    assert.equal(regen.status, 200);
    assert.equal(await poll(keys.primaryKey, 401), 401);
    assert.equal(await poll(regen.body.key, 200), 200);
    assert.equal((await score(b.url, 'roaming', { r: 1 }, keys.secondaryKey)).status, 200);
    // Deleted on A: B answers 404 within a second or so.
    assert.equal((await call(w.url('/onlineEndpoints/roaming'), { method: 'DELETE', token: w.admin })).status, 200);
    assert.equal(await poll(keys.secondaryKey, 404), 404);
  });
});
