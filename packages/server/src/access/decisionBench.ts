/**
 * Runs access decisions in-process, for the benchmark: the cost of `decide()` on its own,
 * without HTTP or token verification around it.
 */
import type { AccessControl } from './assignments.js';
import type { ActionKind } from './compiledRole.js';

export interface DecisionCase {
  principalId: string;
  action: string;
  scope: string;
  kind?: ActionKind;
}

export interface DecisionRun {
  decisions: number;
  allowed: number;
  elapsedMs: number;
  /** Mean cost of one decision, in microseconds. */
  meanMicros: number;
  /** Sorted per-decision latencies in microseconds, for percentiles (only when `sampleLatencies`). */
  latenciesMicros: number[];
}

/** Runs `iterations` decisions round-robin over `cases`, timing them. */
export async function runDecisions(access: AccessControl, cases: readonly DecisionCase[], iterations: number, sampleLatencies = false): Promise<DecisionRun> {
  if (cases.length === 0) throw new Error('runDecisions needs at least one case');
  const latencies: number[] = [];
  let allowed = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const c = cases[i % cases.length]!;
    const t0 = sampleLatencies ? process.hrtime.bigint() : 0n;
    const decision = await access.decide(c.principalId, c.action, c.scope, c.kind ?? 'action');
    if (sampleLatencies) latencies.push(Number(process.hrtime.bigint() - t0) / 1000);
    if (decision.allowed) allowed++;
  }
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  latencies.sort((a, b) => a - b);
  return { decisions: iterations, allowed, elapsedMs, meanMicros: (elapsedMs * 1000) / Math.max(1, iterations), latenciesMicros: latencies };
}
