// `node bench/profile.mjs`: CPU profile of Tessera's scoring path. Starts bench/server.mjs
// under `--cpu-prof`, deploys the scoring targets (as bench/scoring.mjs does), drives each
// with wrk for PROFILE_SECONDS (one target at a time, BENCH_SCORING_TARGETS filters them
// as in scoring.mjs), stops the server and prints the functions with the most self time
// (main thread and worker threads apart). The .cpuprofile files stay in the printed
// directory for Chrome DevTools.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnJsonChild } from './lib.mjs';
import { measure, tesseraTargets } from './scoring.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const SECONDS = Number(process.env.PROFILE_SECONDS ?? 5);
const TOP = Number(process.env.PROFILE_TOP ?? 40);
const PASSWORD = 'Bench-operator-secret-42';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-prof-'));

const { child, url } = await spawnJsonChild(path.join(here, 'server.mjs'), {
  BENCH_ADMIN_PASSWORD: PASSWORD,
  NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${dir}`,
});
let targets;
try {
  targets = await tesseraTargets(url, child.pid, PASSWORD);
  const words = (process.env.BENCH_SCORING_TARGETS ?? 'echo').split(',').map((w) => w.trim().toLowerCase());
  targets = targets.filter((t) => words.some((w) => t.name.toLowerCase().includes(w)));
  for (const t of targets) {
    const r = await measure(t, SECONDS);
    console.log(`${t.name.padEnd(36)} ${r.rate.toFixed(0).padStart(6)} /s  ${r.serverCpuMsPerRequest.toFixed(3)} CPU-ms/request (profiler on)`);
  }
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
  return { all, rows: [...totals].sort((a, b) => b[1] - a[1]) };
}

for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
  const { all, rows } = selfTimes(path.join(dir, file));
  if (all < 100) continue;
  console.log(`\n${file}: ${all} samples`);
  for (const [name, count] of rows.slice(0, TOP)) console.log(`${((100 * count) / all).toFixed(1).padStart(5)}%  ${name}`);
}
console.log(`\nprofiles in ${dir}`);
