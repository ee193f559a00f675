// Scoring throughput and latency (issue 4). In one run, side by side, with the same load
// generator (wrk, CONCURRENCY keep-alive connections, the same JSON body):
//   - Tessera, an echo entry script (JavaScript) and a small ONNX model, each deployed with
//     no auth, key auth, service-token auth and access-token (aad) auth;
//   - a plain node:http server that checks a key and echoes (the limit);
//   - a Flask app under gunicorn that checks a key and echoes (the usual self-hosted
//     scoring server), from Debian's python3-flask and gunicorn.
// Rounds alternate between the targets (each round starting at the next one) so that drift
// on the shared machine hits all alike;
// figures are medians. Goals: key ≥ 0.95x no auth, token ≥ 0.9x no auth, Tessera ≥ 5x Flask.
// BENCH_SCORING_TARGETS=echo,node (comma-separated words) keeps only the targets whose
// names contain one of them (ratios then cover what is left).
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cpuMsOf, median, spawnJsonChild } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const CONCURRENCY = 8;
const API = 'api-version=2023-10-01';
const BODY = Buffer.from(JSON.stringify({ data: [[5.1, 3.5, 1.4], [6.2, 2.9, 4.3]] }));
const ONNX_BODY = Buffer.from(JSON.stringify({ inputs: { X: [[5.1, 3.5, 1.4], [6.2, 2.9, 4.3]] } }));
const ECHO_SCRIPT = 'export function init() {}\nexport function run(input) { return input; }\n';

/**
 * Runs wrk (Debian's wrk: a C load generator, so that on two cores the generator takes as
 * little CPU as it can from the server it measures) against `t` for `seconds`.
 */
export function wrk(t, seconds, connections = CONCURRENCY) {
  const bodyFile = path.join(os.tmpdir(), `tessera-bench-body-${process.pid}-${t.bodyName}.json`);
  fs.writeFileSync(bodyFile, t.body);
  const out = execFileSync('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '-s', path.join(here, 'wrk-post.lua'), t.url], {
    env: { ...process.env, BENCH_BODY_FILE: bodyFile, BENCH_AUTHORIZATION: t.authorization ?? '' },
    encoding: 'utf8',
  });
  const line = out.split('\n').find((l) => l.startsWith('{"requests"'));
  if (!line) throw new Error(`wrk printed no result for ${t.name}: ${out}`);
  const r = JSON.parse(line);
  if (r.errors > 0) throw new Error(`${t.name}: ${r.errors} of ${r.requests} requests failed under load`);
  return { rate: r.requests / r.seconds, p50: r.p50, p99: r.p99, count: r.requests };
}

/** One request, to check a target answers 200 before it is measured. */
async function probe(t) {
  const headers = { 'content-type': 'application/json' };
  if (t.authorization) headers.authorization = t.authorization;
  const res = await fetch(t.url, { method: 'POST', headers, body: t.body });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${t.name} answered ${res.status}: ${text.slice(0, 300)}`);
  return text;
}

function target(name, url, pids, body, authorization) {
  return { name, url, pids, body, bodyName: body === ONNX_BODY ? 'onnx' : 'echo', authorization };
}

export async function call(url, { method = 'GET', token, body, form = false } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined && !(body instanceof FormData)) headers['content-type'] = form ? 'application/x-www-form-urlencoded' : 'application/json';
  const payload = body === undefined || body instanceof FormData ? body : form ? new URLSearchParams(body).toString() : JSON.stringify(body);
  const res = await fetch(url, { method, headers, body: payload });
  const text = await res.text();
  if (res.status < 200 || res.status > 299) throw new Error(`${method} ${url} answered ${res.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** Deploys the echo script and the ONNX model under every auth mode; returns the targets. */
export async function tesseraTargets(url, pid, adminPassword) {
  const { access_token: token } = await call(`${url}/login`, { method: 'POST', body: { username: 'admin', password: adminPassword } });
  const subs = await call(`${url}/subscriptions?${API}`, { token });
  const ws = `/subscriptions/${subs.value[0].subscriptionId}/resourceGroups/bench/providers/Microsoft.MachineLearningServices/workspaces/bench`;
  await call(`${url}/subscriptions/${subs.value[0].subscriptionId}/resourceGroups/bench?${API}`, { method: 'PUT', token, body: { location: 'local' } });
  await call(`${url}${ws}?${API}`, { method: 'PUT', token, body: { location: 'local', properties: {} } });

  // The model is built here, as the tests build it: Y = X·W + B, X float[N,3].
  const { linearRegressionModel } = await import(pathToFileURL(path.join(here, '../packages/server/dist/test/onnx/buildModel.js')).href);
  const form = new FormData();
  form.append('file', new Blob([linearRegressionModel({ weights: [[0.5, -1], [0.25, 2], [1, 0]], bias: [0.1, -0.2] })]), 'model.onnx');
  await call(`${url}${ws}/models/linear/versions/1?${API}`, { method: 'PUT', token, body: form });

  const modes = [
    ['no auth', { target: 'instance', authMode: 'none' }],
    ['key', { target: 'cluster', authMode: 'key' }],
    ['service token', { target: 'cluster', authMode: 'token' }],
    ['access token', { target: 'cluster', authMode: 'aad' }],
  ];
  const kinds = [
    ['echo', { entryScript: { fileName: 'score.mjs', content: ECHO_SCRIPT } }, BODY],
    ['onnx', { models: ['linear:1'] }, ONNX_BODY],
  ];
  const { access_token: aadToken } = await call(`${url}/organizations/oauth2/v2.0/token`, {
    method: 'POST',
    form: true,
    body: { grant_type: 'password', client_id: '3c8a5a4e-0f7d-4b8e-9d3a-7e2b1c6f9a01', username: 'admin', password: adminPassword, scope: 'api://tessera/workspace/.default' },
  });
  const targets = [];
  for (const [kind, properties, body] of kinds) {
    for (const [mode, auth] of modes) {
      const name = `${kind}-${auth.authMode}`;
      await call(`${url}${ws}/onlineEndpoints/${name}?${API}`, { method: 'PUT', token, body: { properties: { ...properties, ...auth, replicas: 1 } } });
      let service;
      for (let i = 0; i < 600; i++) {
        service = await call(`${url}${ws}/onlineEndpoints/${name}?${API}`, { token });
        if (service.properties.state !== 'Transitioning') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      if (service.properties.state !== 'Healthy') throw new Error(`${name} did not deploy: ${JSON.stringify(service.properties)}`);
      let credential;
      if (auth.authMode === 'key') credential = (await call(`${url}${ws}/onlineEndpoints/${name}/listKeys?${API}`, { method: 'POST', token })).primaryKey;
      if (auth.authMode === 'token') credential = (await call(`${url}${ws}/onlineEndpoints/${name}/token?${API}`, { method: 'POST', token })).accessToken;
      if (auth.authMode === 'aad') credential = aadToken;
      targets.push({ ...target(`Tessera ${kind}, ${mode}`, service.properties.scoringUri, [pid], body, credential && `Bearer ${credential}`), kind, mode });
    }
  }
  return targets;
}

/** gunicorn's master and its workers: the CPU of all of them is the server's. */
function processTree(pid) {
  try {
    const children = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
    return [pid, ...children];
  } catch {
    return [pid];
  }
}

async function startFlask(key) {
  const gunicorn = '/usr/bin/gunicorn';
  if (!fs.existsSync(gunicorn)) throw new Error('gunicorn is not installed: apt-get install gunicorn python3-flask (Debian) to run the scoring comparison');
  const port = 20000 + crypto.randomInt(20000);
  const workers = os.availableParallelism();
  const child = spawn(gunicorn, ['--workers', String(workers), '--bind', `127.0.0.1:${port}`, '--chdir', here, '--log-level', 'warning', 'flask_echo:app'], {
    env: { ...process.env, BENCH_KEY: key },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}/score`;
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{}' });
      if (res.status === 200) return { child, url, workers };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGTERM');
  throw new Error('gunicorn did not start');
}

export async function measure(t, seconds) {
  const pids = t.pids.flatMap(processTree);
  const cpu0 = pids.reduce((s, p) => s + cpuMsOf(p), 0);
  const t0 = performance.now();
  const run = wrk(t, seconds);
  const wallMs = performance.now() - t0;
  const cpuMs = pids.reduce((s, p) => s + cpuMsOf(p), 0) - cpu0;
  return { ...run, serverCpuMsPerRequest: cpuMs / run.count, serverCores: cpuMs / wallMs };
}

/** Prints the scoring rows and ratios. */
export function printScoring(scoring) {
  const row = (label, figures) => console.log(`${label.padEnd(62)}${figures}`);
  const fmt = (n) => (n >= 100 ? n.toFixed(0) : n.toFixed(2));
  console.log(`\nscoring, ${scoring.concurrency} connections (wrk)${' '.repeat(34)}requests/s    p50 ms   p99 ms   server CPU-ms/request   cores busy`);
  for (const r of scoring.rows) row(`  ${r.name}`, `${fmt(r.perSec).padStart(9)}   ${fmt(r.p50Ms).padStart(7)}  ${fmt(r.p99Ms).padStart(7)}   ${r.serverCpuMsPerRequest.toFixed(3).padStart(8)}                ${fmt(r.serverCores)}`);
  console.log(`\nscoring ratios${' '.repeat(45)}requests/s   server CPU per request (reference / target)`);
  for (const [label, ratio] of Object.entries(scoring.ratios)) row(`  ${label}`, `${fmt(ratio).padStart(6)}x      ${fmt(scoring.cpuRatios[label]).padStart(6)}x`);
}

/** Measures everything against a running Tessera (bench/server.mjs) at `tesseraUrl`. */
export async function measureScoring({ tesseraUrl, tesseraPid, adminPassword, seconds, rounds }) {
  const key = crypto.randomBytes(32).toString('base64url');
  const node = await spawnJsonChild(path.join(here, 'echoServer.mjs'), { BENCH_KEY: key });
  const flask = await startFlask(key);
  try {
    const targets = [
      ...(await tesseraTargets(tesseraUrl, tesseraPid, adminPassword)),
      target('node:http echo, key', node.url, [node.child.pid], BODY, `Bearer ${key}`),
      target(`Flask/gunicorn echo, key (${flask.workers} workers)`, flask.url, [flask.child.pid], BODY, `Bearer ${key}`),
    ];
    const filter = process.env.BENCH_SCORING_TARGETS;
    if (filter) {
      const words = filter.split(',').map((w) => w.trim().toLowerCase());
      for (let i = targets.length - 1; i >= 0; i--) if (!words.some((w) => targets[i].name.toLowerCase().includes(w))) targets.splice(i, 1);
    }
    for (const t of targets) {
      // Each target must really do the work: echo what was sent, or run the model.
      const answer = JSON.parse(await probe(t));
      const expected = t.bodyName === 'echo' ? JSON.stringify(JSON.parse(t.body)) : undefined;
      if (expected !== undefined && JSON.stringify(answer) !== expected) throw new Error(`${t.name} did not echo the body: ${JSON.stringify(answer)}`);
      if (t.bodyName === 'onnx' && !Array.isArray(answer?.outputs?.Y)) throw new Error(`${t.name} gave no outputs.Y: ${JSON.stringify(answer)}`);
    }
    // Warm up: JIT, connection setup, caches.
    for (const t of targets) wrk(t, 1);
    const runs = Object.fromEntries(targets.map((t) => [t.name, []]));
    // Each round starts one target further along, so that no target always runs first
    // (just after the heaviest one, or on a machine that just got busier).
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < targets.length; i++) {
        const t = targets[(i + round) % targets.length];
        runs[t.name].push(await measure(t, seconds));
      }
    }
    const med = (name, field) => median(runs[name].map((r) => r[field]));
    const rows = targets.map((t) => ({
      name: t.name,
      perSec: med(t.name, 'rate'),
      p50Ms: med(t.name, 'p50'),
      p99Ms: med(t.name, 'p99'),
      serverCpuMsPerRequest: med(t.name, 'serverCpuMsPerRequest'),
      serverCores: med(t.name, 'serverCores'),
    }));
    const flaskName = targets.find((t) => t.name.startsWith('Flask'))?.name ?? '';
    const row = (name) => rows.find((r) => r.name === name);
    // Throughput ratios (higher is better) and server-CPU ratios (CPU-ms/request of the
    // reference over the target's: higher is better, and least sensitive to a noisy machine).
    const ratios = {};
    const cpuRatios = {};
    const compare = (label, name, reference) => {
      if (!row(name) || !row(reference)) return;
      ratios[label] = row(name).perSec / row(reference).perSec;
      cpuRatios[label] = row(reference).serverCpuMsPerRequest / row(name).serverCpuMsPerRequest;
    };
    for (const kind of ['echo', 'onnx']) {
      const none = `Tessera ${kind}, no auth`;
      compare(`${kind}: key / no auth (goal >= 0.95)`, `Tessera ${kind}, key`, none);
      compare(`${kind}: service token / no auth (goal >= 0.9)`, `Tessera ${kind}, service token`, none);
      compare(`${kind}: access token / no auth (goal >= 0.9)`, `Tessera ${kind}, access token`, none);
    }
    compare('echo with key: Tessera / Flask+gunicorn (goal >= 5)', 'Tessera echo, key', flaskName);
    compare('onnx with key: Tessera / Flask+gunicorn echo', 'Tessera onnx, key', flaskName);
    compare('echo with key: Tessera / node:http', 'Tessera echo, key', 'node:http echo, key');
    compare('node:http / Flask+gunicorn (the ceiling of the 5x goal)', 'node:http echo, key', flaskName);
    return { concurrency: CONCURRENCY, rows, ratios, cpuRatios };
  } finally {
    node.child.kill('SIGTERM');
    flask.child.kill('SIGTERM');
  }
}
