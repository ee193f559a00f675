/**
 * One worker process speaking the host protocol, shared by the Python (python/host.py),
 * JavaScript (javascript/host.mts) and isolated ONNX (onnx/host.mts) runtimes, whether it
 * runs sandboxed or not (the isolation spawns it). The hosts in TypeScript share their
 * end of it (hostChannel.mts). Requests and answers travel over
 * extra pipes, one line per message, so that the script's stdout and stderr are free to
 * become the service's log lines:
 *
 *   fd 3, to the worker:   the configuration (JSON), then per request "R<id> <body>" (the
 *                          body as sent, when it has no line break) or "Q<id> <body as a
 *                          JSON string>"
 *   fd 4, from the worker: {"ready": true} or {"initError": "…"} once ({"fatal": "…"} from
 *                          a worker about to die), then per request "J<id> <answer JSON>"
 *                          or "E<id> <message as a JSON string>"
 *
 * The answer's JSON is passed on as the worker wrote it (one line: JSON.stringify and
 * json.dumps never write a raw line break): nothing on the server parses it.
 *
 * The host exits with EXIT_OUT_OF_MEMORY after an allocation failure; a control group's
 * OOM kill is recognised after the fact (LaunchedWorker.finish).
 */
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { LaunchedWorker, PreparedDeployment, RuntimeMount, WorkerCommand } from '../../sandbox/index.js';
import { LineSplitter, forwardLines, readInto } from './lineSplitter.js';
import type { LogSink } from './types.js';
import type { AnswerSink, WorkerConnection } from './workerPool.js';

/**
 * This directory, built (the TypeScript hosts and what they import), as the sandbox shows
 * it: /opt/tessera/runtimes. Nothing in it is a secret.
 */
export function runtimesMount(): RuntimeMount {
  return { source: path.dirname(fileURLToPath(import.meta.url)), target: '/opt/tessera/runtimes' };
}

/** A host's exit status after an allocation failed (host.py's, hostChannel.mts's). */
export const EXIT_OUT_OF_MEMORY = 75;

/** The worker's messages other than answers. */
interface HostAnswer {
  ready?: boolean;
  initError?: string;
  /** An error escaped the script (javascript/host.mts): the worker is ending. */
  fatal?: string;
}

const ANSWER_OK = 'J'.charCodeAt(0);
const ANSWER_REFUSED = 'E'.charCodeAt(0);

export interface ProcessWorkerOptions {
  prepared: PreparedDeployment;
  command: WorkerCommand;
  /** The first line the host reads (its configuration, JSON). */
  config: string;
  /** "python worker": names the worker in log lines. */
  label: string;
  answerLimit: number;
  /** The service's memory per worker, MiB, as its messages name it (the command's cap may add the runtime's own). */
  memoryMb: number;
  log: LogSink;
  /** A stderr line that means the worker ran out of memory (V8's fatal heap error). */
  outOfMemoryOutput?: RegExp;
}

/** Why a worker process ended, in words for the service's logs. */
function exitReason(code: number | null, signal: NodeJS.Signals | null, memoryMb: number, sandboxed: boolean): string {
  if (code === EXIT_OUT_OF_MEMORY) return `the worker ran out of memory (limit ${memoryMb} MiB)`;
  if (signal) return `the worker was killed by ${signal}`;
  // bubblewrap's init answers a signal's death as 128 + its number.
  if (sandboxed && code !== null && code > 128 && code < 160) return `the worker was killed by signal ${code - 128}`;
  if (code === 125 && sandboxed) return 'the worker could not join its control group';
  return `the worker exited with code ${code}`;
}

export function launchProcessWorker(options: ProcessWorkerOptions): WorkerConnection {
  const { prepared, command, label, answerLimit, log, memoryMb } = options;
  let launched: LaunchedWorker;
  try {
    launched = prepared.spawn(command);
  } catch (error) {
    // A limit that cannot be set up (a control group) fails this worker, not the server.
    const why = `the worker could not be started: ${error instanceof Error ? error.message : String(error)}`;
    return { ready: Promise.reject(new Error(why)), exited: Promise.resolve(why), call: () => undefined, kill: () => undefined };
  }
  const { child } = launched;
  const requests = child.stdio[3] as Writable;
  const answers = child.stdio[4] as Readable;
  forwardLines(child.stdout!, (line) => log(line, 'stdout'));
  /** What the worker itself said before it ended (an escaped error, its heap ran out). */
  let failure: string | undefined;
  const { outOfMemoryOutput } = options;
  forwardLines(child.stderr!, (line) => {
    if (outOfMemoryOutput?.test(line)) failure ??= `the worker ran out of memory (limit ${memoryMb} MiB)`;
    log(line, 'stderr');
  });
  // A worker that died mid-write must not take the server down with an EPIPE.
  requests.on('error', () => undefined);

  let killed = false;
  /** Why the runtime itself ended the worker, if it did (an answer it could not take). */
  let refused: string | undefined;
  let settleExit!: (why: string) => void;
  const exited = new Promise<string>((resolve) => {
    settleExit = resolve;
  });
  const sandboxed = prepared.kind === 'sandbox';
  const settle = (code: number | null, signal: NodeJS.Signals | null): void => {
    // Whatever the script started dies with its worker (a crash included); then the reason.
    void launched.finish().then(({ outOfMemory }) => {
      if (refused !== undefined) settleExit(refused);
      else if (killed) settleExit('the worker was stopped');
      else if (failure !== undefined) settleExit(failure);
      else if (outOfMemory) settleExit(`the worker ran out of memory (limit ${memoryMb} MiB)`);
      else settleExit(exitReason(code, signal, memoryMb, sandboxed));
    });
  };
  child.on('error', (error) => {
    refused ??= `${command.command} could not be started: ${error.message}`;
    settle(null, null);
  });
  // 'close' comes once its pipes are drained (so a last answer is read first); a child the
  // script started may hold them open, so 'exit' settles it a moment later regardless.
  let ended = false;
  const end = (code: number | null, signal: NodeJS.Signals | null): void => {
    if (ended) return;
    ended = true;
    settle(code, signal);
  };
  child.once('close', end);
  child.once('exit', (code, signal) => {
    setTimeout(() => end(code, signal), 1000).unref();
  });
  const refuse = (reason: string): void => {
    refused ??= reason;
    log(`${label}: ${reason}; stopping it`, 'system');
    void launched.finish();
  };

  const pending = new Map<number, AnswerSink>();
  let nextId = 0;
  const ready = new Promise<void>((resolve, reject) => {
    const onAnswer = (line: string): void => {
      const kind = line.charCodeAt(0);
      if (kind === ANSWER_OK || kind === ANSWER_REFUSED) {
        const space = line.indexOf(' ');
        const id = Number(line.slice(1, space));
        const to = pending.get(id);
        if (space < 0 || to === undefined) {
          refuse('the worker sent an unreadable answer');
          return;
        }
        pending.delete(id);
        if (kind === ANSWER_OK) {
          to.answer({ ok: true, json: line.slice(space + 1) });
          return;
        }
        let message: unknown;
        try {
          message = JSON.parse(line.slice(space + 1));
        } catch {
          message = undefined;
        }
        to.answer({ ok: false, reason: 'client', message: typeof message === 'string' ? message : 'the request failed' });
        return;
      }
      let answer: HostAnswer;
      try {
        answer = JSON.parse(line) as HostAnswer;
      } catch {
        refuse('the worker sent an unreadable answer');
        return;
      }
      if (answer.ready) resolve();
      else if (answer.fatal !== undefined) failure ??= `the worker failed: ${String(answer.fatal)}`;
      else if (answer.initError !== undefined) reject(new Error(String(answer.initError)));
      else refuse('the worker sent an unreadable answer');
    };
    // Past the limit the answer is not read on: the worker is killed, and its request
    // fails as a crash with `refused` as the reason.
    const splitter = new LineSplitter(answerLimit, onAnswer, () => refuse(`the answer was larger than ${answerLimit} bytes`));
    readInto(answers, splitter, (error) => refuse(`its answer could not be read (${error instanceof Error ? error.message : String(error)})`));
  });
  ready.catch(() => undefined);
  requests.write(`${options.config}\n`);
  return {
    ready,
    exited,
    call: (body, to) => {
      const id = nextId++;
      pending.set(id, to);
      requests.write(body.includes('\n') ? `Q${id} ${JSON.stringify(body)}\n` : `R${id} ${body}\n`);
    },
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) killed = true;
      void launched.finish();
    },
  };
}
