// How fast the `tessera` command starts and answers, beside bare Node.js: most CLI time
// is loading code, and every command pays it (the test suite runs the CLI ~800 times).
// Each case is run one invocation at a time; wall time (median) and CPU per invocation
// (the children's user+system time from /proc/self/stat, which the noisy machine disturbs
// less) are reported, with each case's ratio to `node -e ""`.
// BENCH_CLI_BASELINE=<another checkout>/packages/cli/bin/tessera.js runs the same cases with
// that CLI too, in the same rounds, so a change is measured against what it replaces.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loginWithPassword } from '@tessera/sdk';
import { median } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const TESSERA = path.join(here, '..', 'packages', 'cli', 'bin', 'tessera.js');
const TICKS_PER_SEC = 100; // USER_HZ on Linux

/** The CPU time of this process's reaped children so far, in ms. */
function childrenCpuMs() {
  const fields = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / TICKS_PER_SEC;
}

function once(args, env) {
  const cpu0 = childrenCpuMs();
  const t0 = performance.now();
  const run = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const wallMs = performance.now() - t0;
  if (run.status !== 0) throw new Error(`node ${args.join(' ')} exited ${run.status}: ${run.stderr.toString().slice(0, 400)}`);
  return { wallMs, cpuMs: childrenCpuMs() - cpu0 };
}

export async function measureCliStart({ url, adminPassword, rounds, perRound = 12 }) {
  const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-bench-cli-'));
  try {
    await loginWithPassword({ server: url, username: 'admin', password: adminPassword, configDir });
    const env = { ...process.env, TESSERA_CONFIG_DIR: configDir, NODE_OPTIONS: '' };
    const commands = (bin, tag) => [
      [`tessera --version${tag}`, [bin, '--version']],
      [`tessera --help${tag}`, [bin, '--help']],
      [`tessera account show (no network)${tag}`, [bin, 'account', 'show']],
      [`tessera group list (one ARM call)${tag}`, [bin, 'group', 'list']],
    ];
    const baseline = process.env.BENCH_CLI_BASELINE;
    const cases = [['node -e ""', ['-e', '']], ...commands(TESSERA, ''), ...(baseline ? commands(path.resolve(baseline), ' [baseline]') : [])];
    const samples = new Map(cases.map(([label]) => [label, { wall: [], cpu: [] }]));
    for (const [, args] of cases) once(args, env); // warm the file cache
    // Rounds alternate the cases, so a noisy moment falls on all of them.
    for (let round = 0; round < rounds; round++) {
      for (const [label, args] of cases) {
        for (let i = 0; i < perRound; i++) {
          const { wallMs, cpuMs } = once(args, env);
          samples.get(label).wall.push(wallMs);
          samples.get(label).cpu.push(cpuMs);
        }
      }
    }
    const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const rows = cases.map(([label]) => ({ label, wallMs: median(samples.get(label).wall), cpuMs: mean(samples.get(label).cpu) }));
    const [bare] = rows;
    return rows.map((r) => ({ ...r, wallRatio: r.wallMs / bare.wallMs, cpuRatio: r.cpuMs / bare.cpuMs }));
  } finally {
    fs.rmSync(configDir, { recursive: true, force: true });
  }
}

export function printCliStart(rows, row, fmt) {
  for (const r of rows) row(`CLI: ${r.label}`, `${fmt(r.wallMs)} ms wall, ${fmt(r.cpuMs)} CPU-ms   (${fmt(r.wallRatio)}x / ${fmt(r.cpuRatio)}x bare Node)`);
  for (const r of rows) {
    const base = rows.find((b) => b.label === `${r.label} [baseline]`);
    if (base) row(`CLI: ${r.label.replace(/^tessera /, '')}, this/baseline`, `${fmt(r.wallMs / base.wallMs)}x wall, ${fmt(r.cpuMs / base.cpuMs)}x CPU`);
  }
}
