// Helpers shared by the benchmark's measurements: child processes that announce themselves
// with one JSON line, closed-loop load, percentiles and medians.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline';

/**
 * Starts `node script` and resolves with the first stdout line that is a JSON object (the
 * child's "ready" message), plus `child`. Servers run in their own processes so that load
 * generation and serving do not share an event loop. Any other stdout line (a library's
 * notice) is passed on to our stderr rather than mistaken for the message. `nodeArgs` go
 * to node before the script (`--cpu-prof`).
 */
export function spawnJsonChild(script, env = {}, nodeArgs = []) {
  const child = spawn(process.execPath, [...nodeArgs, script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    let ready = false;
    lines.on('line', (line) => {
      // A log line (pino's: it has a level) is not the ready message.
      const message = !ready && line.startsWith('{') ? parseOrUndefined(line) : undefined;
      if (message && message.level === undefined) {
        ready = true;
        resolve({ child, ...message });
      } else {
        if (!process.env.BENCH_QUIET_CHILDREN) process.stderr.write(line + '\n');
      }
    });
    child.once('exit', (code) => {
      if (!ready) reject(new Error(`${script} exited with ${code} before it was ready`));
    });
  });
}

function parseOrUndefined(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export const fmt = (n) => (n >= 100 ? n.toFixed(0) : n.toFixed(2));

/** Runs `op` from `concurrency` loops for `seconds`; returns ops/s and latencies (ms). */
export async function closedLoop(concurrency, seconds, op) {
  const end = performance.now() + seconds * 1000;
  const latencies = [];
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      const state = {};
      while (performance.now() < end) {
        const t0 = performance.now();
        await op(worker, state);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { rate: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), count: latencies.length };
}

/**
 * CPU time (ms, user + system) a process has used so far, from /proc: lets a measurement
 * say how busy each server was, and so whether it or the load generator was the limit.
 * NaN where /proc is not there.
 */
export function cpuMsOf(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5); the slice starts at field 3. Clock ticks are 100 Hz on Linux.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}
