// `node bench/profile.mjs`: CPU profile of Tessera's scoring path. Starts bench/server.mjs
// under `--cpu-prof`, deploys the scoring targets (as bench/scoring.mjs does), drives each
// with wrk for PROFILE_SECONDS (one target at a time; PROFILE_TARGETS, a regular
// expression, picks them by name: 'echo, no auth|echo, key'), stops the server and prints the functions with the most self time
// (main thread and worker threads apart). The .cpuprofile files stay in the printed
// directory for Chrome DevTools.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, spawnJsonChild } from './lib.mjs';
import { measure, tesseraTargets, wrk } from './scoring.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 5);
const TOP = Number(process.env.PROFILE_TOP ?? 40);
const PASSWORD = 'Bench-operator-secret-42';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-prof-'));

// PROFILE_CPU=0: no profiler, PROFILE_ROUNDS rounds per target (a quick before/after check).
const PROFILING = process.env.PROFILE_CPU !== '0';
const ROUNDS = Number(process.env.PROFILE_ROUNDS ?? 1);
const { child, url } = await spawnJsonChild(path.join(here, 'server.mjs'), { BENCH_ADMIN_PASSWORD: PASSWORD }, PROFILING ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []);
let targets;
try {
  targets = await tesseraTargets(url, child.pid, PASSWORD);
  const pattern = new RegExp(process.env.PROFILE_TARGETS ?? 'echo', 'i');
  targets = targets.filter((t) => pattern.test(t.name));
  for (const t of targets) wrk(t, 1);
  const cpu = new Map(targets.map((t) => [t.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of targets) {
      const r = await measure(t, SECONDS);
      cpu.get(t.name).push(r.serverCpuMsPerRequest);
      console.log(`${t.name.padEnd(36)} ${r.rate.toFixed(0).padStart(6)} /s  ${r.serverCpuMsPerRequest.toFixed(3)} CPU-ms/request${PROFILING ? ' (profiler on)' : ''}`);
    }
  }
  if (ROUNDS > 1) for (const [name, xs] of cpu) console.log(`median ${name.padEnd(36)} ${median(xs).toFixed(3)} CPU-ms/request`);
} finally {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Self time per function (name, file:line), summed over a profile's samples. */
function selfTimes(file) {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map();
  for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
  const totals = new Map();
  let all = 0;
  for (const [id, count] of counts) {
    const { functionName, url: u, lineNumber } = byId.get(id).callFrame;
    const key = `${functionName || '(anonymous)'}  ${u.replace(/^.*node_modules\//, '').replace(/^.*\/packages\//, '')}:${lineNumber + 1}`;
    totals.set(key, (totals.get(key) ?? 0) + count);
    all += count;
  }
  const byFile = new Map();
  for (const [key, count] of totals) {
    const file = key.split('  ')[1].replace(/:\d+$/, '').replace(/^(fastify|pino|find-my-way|avvio|light-my-request)\/.*$/, '$1/*').replace(/^node:.*$/, 'node:*');
    byFile.set(file, (byFile.get(file) ?? 0) + count);
  }
  return { all, rows: [...totals].sort((a, b) => b[1] - a[1]), files: [...byFile].sort((a, b) => b[1] - a[1]) };
}

for (const file of (PROFILING ? fs.readdirSync(dir) : []).filter((f) => f.endsWith('.cpuprofile'))) {
  const { all, rows, files } = selfTimes(path.join(dir, file));
  const idle = rows.find(([name]) => name.startsWith('(idle)'))?.[1] ?? 0;
  if (all - idle < 200) continue;
  console.log(`\n${file}: ${all} samples, ${all - idle} busy; self time by file:`);
  for (const [name, count] of files.slice(0, 15)) console.log(`${((100 * count) / all).toFixed(1).padStart(5)}%  ${name || '(native)'}`);
  console.log('by function:');
  for (const [name, count] of rows.slice(0, TOP)) console.log(`${((100 * count) / all).toFixed(1).padStart(5)}%  ${name}`);
}
if (PROFILING) console.log(`\nprofiles in ${dir}`);
else fs.rmSync(dir, { recursive: true, force: true });
