/**
 * The Python runtime: each worker is a long-lived `spec.python` process running
 * python/host.py, which imports the entry script and calls its init() once. Requests
 * and answers travel over extra pipes (fd 3 in, fd 4 out, one JSON object per line) so
 * that the script's stdout and stderr are free to become the service's log lines.
 * A worker that exits, is killed by a signal, runs out of memory or hangs is replaced
 * by the pool (workerPool.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { modelDirOf, scriptEnvironment } from './environment.js';
import { LineSplitter, forwardLines, readInto } from './lineSplitter.js';
import { DEFAULT_ANSWER_LIMIT, type LogSink, type RuntimeSpec, type ScoreInput, type ScoreOutcome, type ServiceRuntime } from './types.js';
import { WorkerPool, type AnswerSink, type WorkerConnection } from './workerPool.js';

/** host.py's exit status after a MemoryError. */
const EXIT_OUT_OF_MEMORY = 75;

/**
 * Where host.py is: next to this module when the build copied it, else in the source
 * tree (tsc does not copy `.py` files: dist/src/scoring/runtimes/ → src/scoring/runtimes/).
 */
export function hostScriptPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.join(here, 'python', 'host.py')];
  const distMarker = `${path.sep}dist${path.sep}src${path.sep}`;
  const at = here.lastIndexOf(distMarker);
  if (at >= 0) candidates.push(path.join(here.slice(0, at), 'src', here.slice(at + distMarker.length), 'python', 'host.py'));
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) throw new Error(`the Python worker host is missing (looked in ${candidates.join(', ')})`);
  return found;
}

interface HostAnswer {
  ready?: boolean;
  initError?: string;
  id?: number;
  ok?: boolean;
  json?: string;
  message?: string;
}

export class PythonRuntime implements ServiceRuntime {
  readonly kind = 'python' as const;
  private pool?: WorkerPool;
  private stopped = false;

  constructor(
    private readonly spec: RuntimeSpec,
    private readonly log: LogSink,
  ) {}

  async start(): Promise<void> {
    if (this.pool || this.stopped) throw new Error('the runtime was already started');
    const { directory, entryScript, contract, memoryMb } = this.spec;
    if (!entryScript || path.basename(entryScript) !== entryScript || !entryScript.endsWith('.py')) {
      throw new Error('a python service needs an entry script file name ending in .py');
    }
    if (!existsSync(path.join(directory, entryScript))) throw new Error(`the entry script ${entryScript} is missing from the service's directory`);
    const host = hostScriptPath();
    const modelDir = modelDirOf(this.spec.models, directory, isDirectory);
    const env = { ...scriptEnvironment(this.spec, modelDir), PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' };
    const config = JSON.stringify({
      directory,
      entryScript,
      memoryMb,
      contract:
        contract.kind === 'mlserver'
          ? { kind: 'mlserver', initCode: contract.initCode ?? '', inputs: contract.inputs.map((p) => p.name), outputs: contract.outputs.map((p) => p.name) }
          : { kind: 'azureml' },
    });
    this.pool = new WorkerPool({
      workers: this.spec.workers,
      initTimeoutMs: this.spec.initTimeoutMs,
      log: this.log,
      label: 'python worker',
      launch: () => this.launch(host, config, env),
    });
    await this.pool.start();
  }

  score(input: ScoreInput, timeoutMs: number): Promise<ScoreOutcome> {
    if (!this.pool) return Promise.resolve({ ok: false, reason: 'crash', message: 'the runtime is not started' });
    return this.pool.score(input.body, timeoutMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.pool?.stop();
  }

  private launch(host: string, config: string, env: Record<string, string>): WorkerConnection {
    const { python, directory, memoryMb } = this.spec;
    const answerLimit = this.spec.answerLimit ?? DEFAULT_ANSWER_LIMIT;
    // Its own process group (detached), so that killing the group also ends the processes
    // the script started: none outlives its worker.
    const child = spawn(python, ['-u', host], { cwd: directory, env, detached: true, stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'] });
    const requests = child.stdio[3] as Writable;
    const answers = child.stdio[4] as Readable;
    forwardLines(child.stdout!, (line) => this.log(line, 'stdout'));
    forwardLines(child.stderr!, (line) => this.log(line, 'stderr'));
    // A worker that died mid-write must not take the server down with an EPIPE.
    requests.on('error', () => undefined);

    let killed = false;
    /** Why the runtime itself ended the worker, if it did (an answer it could not take). */
    let refused: string | undefined;
    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The group is gone already (ESRCH).
      }
    };
    let settleExit!: (why: string) => void;
    const exited = new Promise<string>((resolve) => {
      settleExit = resolve;
    });
    child.on('error', (error) => settleExit(`${python} could not be started: ${error.message}`));
    const why = (code: number | null, signal: NodeJS.Signals | null): string => {
      if (refused !== undefined) return refused;
      if (killed) return 'the worker was stopped';
      if (code === EXIT_OUT_OF_MEMORY) return `the worker ran out of memory (limit ${memoryMb} MiB)`;
      if (signal) return `the worker was killed by ${signal}`;
      return `the worker exited with code ${code}`;
    };
    // 'close' comes once its pipes are drained (so a last answer is read first); a child the
    // script started may hold them open, so 'exit' settles it a moment later regardless.
    child.once('close', (code, signal) => settleExit(why(code, signal)));
    child.once('exit', (code, signal) => {
      // Whatever the script started dies with its worker (a crash included).
      killGroup();
      setTimeout(() => settleExit(why(code, signal)), 1000).unref();
    });
    const refuse = (reason: string): void => {
      refused ??= reason;
      this.log(`python worker: ${reason}; stopping it`, 'system');
      killGroup();
    };

    const pending = new Map<number, AnswerSink>();
    let nextId = 0;
    const ready = new Promise<void>((resolve, reject) => {
      const onAnswer = (line: string): void => {
        let answer: HostAnswer;
        try {
          answer = JSON.parse(line) as HostAnswer;
        } catch {
          refuse('the worker sent an unreadable answer');
          return;
        }
        if (answer.ready) resolve();
        else if (answer.initError !== undefined) reject(new Error(answer.initError));
        else if (answer.id !== undefined) {
          const settle = pending.get(answer.id);
          pending.delete(answer.id);
          settle?.answer(answer.ok ? { ok: true, json: answer.json ?? 'null' } : { ok: false, reason: 'client', message: answer.message ?? 'the request failed' });
        }
      };
      // Past the limit the answer is not read on: the worker is killed, and its request
      // fails as a crash with `refused` as the reason.
      const splitter = new LineSplitter(answerLimit, onAnswer, () => refuse(`the answer was larger than ${answerLimit} bytes`));
      readInto(answers, splitter, (error) => refuse(`its answer could not be read (${error instanceof Error ? error.message : String(error)})`));
    });
    ready.catch(() => undefined);
    requests.write(`${config}\n`);
    return {
      ready,
      exited,
      call: (body, to) => {
        const id = nextId++;
        pending.set(id, to);
        requests.write(`${JSON.stringify({ id, body })}\n`);
      },
      kill: () => {
        if (child.exitCode === null && child.signalCode === null) killed = true;
        killGroup();
      },
    };
  }
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
