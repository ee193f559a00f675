// The sandbox's cost (issue 10). Two servers in one run, side by side: one with
// `--sandbox required` (bubblewrap, seccomp, cgroup or rlimit caps), one with
// `--sandbox off` (plain child processes). On each, echo entry scripts in Python and in
// JavaScript (one worker each) are loaded with wrk; rounds alternate between the four
// targets, figures are medians. Also deployment cold start: PUT to Healthy, per runtime.
// Goal: scoring with the sandbox on >= 0.9x off. ONNX too: the sandboxed server also has
// `--isolate-onnx` (one sandboxed worker process), the other runs it in its own process:
// what isolating ONNX costs against the default.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cpuMsOf, fmt, median, spawnJsonChild } from './lib.mjs';
import { call, wrk } from './scoring.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const API = 'api-version=2023-10-01';
const BODY = Buffer.from(JSON.stringify({ data: [[5.1, 3.5, 1.4], [6.2, 2.9, 4.3]] }));
const SCRIPTS = {
  python: { fileName: 'score.py', content: 'def init():\n    pass\n\ndef run(raw):\n    return raw\n' },
  javascript: { fileName: 'score.mjs', content: 'export function init() {}\nexport function run(input) { return input; }\n' },
};
const ONNX_BODY = Buffer.from(JSON.stringify({ inputs: { X: [[5.1, 3.5, 1.4], [6.2, 2.9, 4.3]] } }));
const COLD_STARTS = 3;
const ONNX_NAMES = { required: 'onnx, isolated (sandbox)', off: 'onnx, in the server process' };

/** Uploads the tests' linear model (Y = X·W + B, X float[N,3]) as linear:1. */
async function uploadLinearModel(url, { token, ws }) {
  const { linearRegressionModel } = await import(pathToFileURL(path.join(here, '../packages/server/dist/test/onnx/buildModel.js')).href);
  const form = new FormData();
  form.append('file', new Blob([linearRegressionModel({ weights: [[0.5, -1], [0.25, 2], [1, 0]], bias: [0.1, -0.2] })]), 'model.onnx');
  await call(`${url}${ws}/models/linear/versions/1?${API}`, { method: 'PUT', token, body: form });
}

/** A process and all its descendants (the sandbox nests sh → bwrap → bwrap → the worker). */
function processTree(pid) {
  const all = [pid];
  for (let i = 0; i < all.length; i++) {
    try {
      all.push(...execFileSync('pgrep', ['-P', String(all[i])], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number));
    } catch {
      // No children.
    }
  }
  return all;
}

async function workspaceOf(url, password) {
  const { access_token: token } = await call(`${url}/login`, { method: 'POST', body: { username: 'admin', password } });
  const subs = await call(`${url}/subscriptions?${API}`, { token });
  const sub = subs.value[0].subscriptionId;
  const ws = `/subscriptions/${sub}/resourceGroups/bench/providers/Microsoft.MachineLearningServices/workspaces/bench`;
  await call(`${url}/subscriptions/${sub}/resourceGroups/bench?${API}`, { method: 'PUT', token, body: { location: 'local' } });
  await call(`${url}${ws}?${API}`, { method: 'PUT', token, body: { location: 'local', properties: {} } });
  return { token, ws };
}

/** PUTs a service and waits until it is Healthy; resolves with the time that took (ms) and its view. */
async function deploy(url, { token, ws }, name, script) {
  const t0 = performance.now();
  const what = script === 'onnx' ? { models: ['linear:1'] } : { entryScript: script };
  await call(`${url}${ws}/onlineEndpoints/${name}?${API}`, { method: 'PUT', token, body: { properties: { ...what, authMode: 'none', replicas: 1 } } });
  for (;;) {
    const service = await call(`${url}${ws}/onlineEndpoints/${name}?${API}`, { token });
    if (service.properties.state === 'Healthy') return { ms: performance.now() - t0, service };
    if (service.properties.state !== 'Transitioning') throw new Error(`${name} did not deploy: ${JSON.stringify(service.properties)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function measureSandbox({ adminPassword, seconds, rounds }) {
  const servers = {};
  try {
    for (const mode of ['required', 'off']) {
      servers[mode] = await spawnJsonChild(path.join(here, 'server.mjs'), { BENCH_ADMIN_PASSWORD: adminPassword, TESSERA_SANDBOX: mode, TESSERA_ISOLATE_ONNX: mode === 'required' ? 'true' : 'false' });
    }
    const targets = [];
    const coldStarts = {};
    for (const [mode, server] of Object.entries(servers)) {
      const workspace = await workspaceOf(server.url, adminPassword);
      for (const [runtime, script] of Object.entries(SCRIPTS)) {
        const { service } = await deploy(server.url, workspace, `echo-${runtime}`, script);
        const expected = mode === 'off' ? 'process' : 'sandbox';
        if (service.properties.isolation !== expected) throw new Error(`echo-${runtime} runs as ${service.properties.isolation}, not ${expected}`);
        targets.push({ name: `${runtime}, sandbox ${mode === 'off' ? 'off' : 'on'}`, url: service.properties.scoringUri, body: BODY, bodyName: `sandbox-${runtime}`, pid: server.child.pid });
      }
      await uploadLinearModel(server.url, workspace);
      const { service } = await deploy(server.url, workspace, 'linear-onnx', 'onnx');
      const expected = mode === 'off' ? 'in-process' : 'sandbox';
      if (service.properties.isolation !== expected) throw new Error(`linear-onnx runs as ${service.properties.isolation}, not ${expected}`);
      targets.push({ name: ONNX_NAMES[mode], url: service.properties.scoringUri, body: ONNX_BODY, bodyName: 'sandbox-onnx', pid: server.child.pid });
    }
    // Cold starts: fresh services, alternating between the servers.
    for (let i = 0; i < COLD_STARTS; i++) {
      for (const [mode, server] of Object.entries(servers)) {
        const workspace = await workspaceOf(server.url, adminPassword);
        for (const [runtime, script] of Object.entries(SCRIPTS)) {
          const label = `${runtime}, sandbox ${mode === 'off' ? 'off' : 'on'}`;
          (coldStarts[label] ??= []).push((await deploy(server.url, workspace, `cold-${runtime}-${i}`, script)).ms);
        }
        (coldStarts[ONNX_NAMES[mode]] ??= []).push((await deploy(server.url, workspace, `cold-onnx-${i}`, 'onnx')).ms);
      }
    }
    for (const t of targets) wrk(t, 1);
    const runs = Object.fromEntries(targets.map((t) => [t.name, []]));
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < targets.length; i++) {
        const t = targets[(i + round) % targets.length];
        const pids = processTree(t.pid);
        const cpu0 = pids.reduce((s, p) => s + cpuMsOf(p), 0);
        const run = wrk(t, seconds);
        const cpuMs = processTree(t.pid).reduce((s, p) => s + cpuMsOf(p), 0) - cpu0;
        runs[t.name].push({ ...run, cpuMsPerRequest: cpuMs / run.count });
      }
    }
    const rows = targets.map((t) => ({
      name: t.name,
      perSec: median(runs[t.name].map((r) => r.rate)),
      p50Ms: median(runs[t.name].map((r) => r.p50)),
      p99Ms: median(runs[t.name].map((r) => r.p99)),
      cpuMsPerRequest: median(runs[t.name].map((r) => r.cpuMsPerRequest)),
      coldStartMs: median(coldStarts[t.name]),
    }));
    const row = (name) => rows.find((r) => r.name === name);
    const ratios = {};
    for (const runtime of Object.keys(SCRIPTS)) {
      const on = row(`${runtime}, sandbox on`);
      const off = row(`${runtime}, sandbox off`);
      ratios[`${runtime}: requests/s on / off (goal >= 0.9)`] = on.perSec / off.perSec;
      ratios[`${runtime}: cold start on / off`] = on.coldStartMs / off.coldStartMs;
    }
    const isolated = row(ONNX_NAMES.required);
    const inProcess = row(ONNX_NAMES.off);
    ratios['onnx: requests/s isolated / in process'] = isolated.perSec / inProcess.perSec;
    ratios['onnx: cold start isolated / in process'] = isolated.coldStartMs / inProcess.coldStartMs;
    return { rows, ratios };
  } finally {
    for (const server of Object.values(servers)) server.child.kill('SIGTERM');
  }
}

export function printSandbox(result) {
  const line = (label, figures) => console.log(`${label.padEnd(50)}${figures}`);
  console.log(`\nsandbox: echo scripts and a linear ONNX model, one worker, 8 connections (wrk)   requests/s   p50 ms   p99 ms   CPU-ms/request (server + workers)   cold start ms`);
  for (const r of result.rows) line(`  ${r.name}`, `${fmt(r.perSec).padStart(10)}   ${fmt(r.p50Ms).padStart(6)}   ${fmt(r.p99Ms).padStart(6)}   ${r.cpuMsPerRequest.toFixed(3).padStart(8)}                            ${fmt(r.coldStartMs).padStart(6)}`);
  for (const [label, ratio] of Object.entries(result.ratios)) line(`  ${label}`, `${fmt(ratio)}x`);
}
