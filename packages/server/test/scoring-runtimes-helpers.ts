/** Shared by the scoring-runtimes suites: a temporary service directory, a spec and a log collector. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRuntime } from '../src/scoring/runtimes/index.js';
import type { RuntimeSpec, ScoreOutcome, ServiceRuntime } from '../src/scoring/runtimes/types.js';

export interface LogLine {
  line: string;
  stream: 'stdout' | 'stderr' | 'system';
}

export interface Sandbox {
  dir: string;
  /** Writes a file into the sandbox and returns its absolute path. */
  write(name: string, content: string | Uint8Array): string;
  /** A started runtime (stopped by `cleanup`), with its log lines. */
  start(spec: Partial<RuntimeSpec> & Pick<RuntimeSpec, 'kind'>): Promise<{ runtime: ServiceRuntime; logs: LogLine[] }>;
  /** A runtime not yet started (for start() failures); `cleanup` stops it too. */
  create(spec: Partial<RuntimeSpec> & Pick<RuntimeSpec, 'kind'>): { runtime: ServiceRuntime; logs: LogLine[] };
  cleanup(): Promise<void>;
}

/** `defaults` adds to every spec (an isolation for a suite run twice). */
export function sandbox(defaults?: () => Partial<RuntimeSpec>): Sandbox {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tessera-runtimes-'));
  const runtimes: ServiceRuntime[] = [];
  let count = 0;
  const create: Sandbox['create'] = (spec) => {
    const logs: LogLine[] = [];
    const runtime = createRuntime(
      {
        serviceId: `00000000-0000-4000-8000-${String(++count).padStart(12, '0')}`,
        serviceName: `svc${count}`,
        directory: dir,
        contract: { kind: 'azureml' },
        models: [],
        workers: 1,
        memoryMb: 256,
        initTimeoutMs: 15_000,
        python: 'python3',
        ...defaults?.(),
        ...spec,
      },
      (line, stream) => logs.push({ line, stream }),
    );
    runtimes.push(runtime);
    return { runtime, logs };
  };
  return {
    dir,
    write(name, content) {
      const file = path.join(dir, name);
      writeFileSync(file, content);
      return file;
    },
    create,
    async start(spec) {
      const made = create(spec);
      await made.runtime.start();
      return made;
    },
    async cleanup() {
      await Promise.all(runtimes.map((r) => r.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Scores a JSON value (or a raw string body) with a generous timeout. */
export function score(runtime: ServiceRuntime, body: unknown, timeoutMs = 20_000): Promise<ScoreOutcome> {
  return runtime.score({ body: typeof body === 'string' ? body : JSON.stringify(body) }, timeoutMs);
}

/** The parsed answer of a successful outcome (fails the test otherwise). */
export function answer(outcome: ScoreOutcome): unknown {
  if (!outcome.ok) throw new Error(`expected an answer, got ${outcome.reason}: ${outcome.message}`);
  return JSON.parse(outcome.json) as unknown;
}

/** The failure of an outcome (fails the test if it succeeded). */
export function failure(outcome: ScoreOutcome): { reason: string; message: string } {
  if (outcome.ok) throw new Error(`expected a failure, got ${outcome.json}`);
  return outcome;
}

/** Waits until `predicate` holds (polling), for log lines that arrive asynchronously. */
export async function eventually(predicate: () => boolean, what: string, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
