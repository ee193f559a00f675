/**
 * The ONNX runtime in the server's process (the default; `--isolate-onnx` uses
 * onnxWorkerRuntime.ts instead): one onnxruntime-node InferenceSession over the service's
 * one `.onnx` file, shared by the service's concurrent requests (a session may run several
 * at once). `{"inputs": {name: nested arrays}}` → `{"outputs": {name: nested arrays}}`,
 * every input checked against the model's declared names, element types and shapes first
 * (onnxSession.ts).
 *
 * Limits: the memory limit cannot be enforced (the session lives in the server's process;
 * its native allocations are outside V8's heap limits), and a native run cannot be
 * interrupted: a request past its timeout is answered `timeout` while the run finishes
 * in the background. An answer past `RuntimeSpec.answerLimit` (or with more than a quarter
 * as many output elements) is refused as `client`: converting it could exhaust V8's
 * string or heap limits in the server's own thread.
 */
import type * as ort from 'onnxruntime-node';
import { declaredInputs, loadedLine, modelFileOf, openSession, runOnce } from './onnxSession.js';
import { DEFAULT_ANSWER_LIMIT, type LogSink, type RuntimeSpec, type ScoreInput, type ScoreOutcome, type ServiceRuntime } from './types.js';

export class OnnxRuntime implements ServiceRuntime {
  readonly kind = 'onnx' as const;
  private session?: ort.InferenceSession;
  /** The session's tensor inputs by name. */
  private inputs = new Map<string, ort.InferenceSession.ValueMetadata>();
  private stopping?: Promise<void>;
  private readonly inFlight = new Set<{ run: Promise<unknown>; end: (outcome: ScoreOutcome) => void }>();
  private readonly answerLimit: number;

  constructor(
    private readonly spec: RuntimeSpec,
    private readonly log: LogSink,
  ) {
    this.answerLimit = spec.answerLimit ?? DEFAULT_ANSWER_LIMIT;
  }

  async start(): Promise<void> {
    if (this.session || this.stopping) throw new Error('the runtime was already started');
    const file = modelFileOf(this.spec.models);
    const session = await openSession(file);
    if (this.stopping) {
      await session.release();
      throw new Error('the runtime was stopped while starting');
    }
    this.session = session;
    this.inputs = declaredInputs(session);
    this.log(loadedLine(file, session), 'system');
  }

  score(input: ScoreInput, timeoutMs: number): Promise<ScoreOutcome> {
    const session = this.session;
    if (this.stopping) return Promise.resolve({ ok: false, reason: 'crash', message: 'the service is stopping' });
    if (!session) return Promise.resolve({ ok: false, reason: 'crash', message: 'the runtime is not started' });
    return new Promise<ScoreOutcome>((resolve) => {
      let settled = false;
      const end = (outcome: ScoreOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.inFlight.delete(entry);
        resolve(outcome);
      };
      const timer = setTimeout(() => end({ ok: false, reason: 'timeout', message: `the model ran past the request timeout of ${timeoutMs} ms` }), timeoutMs);
      const entry = { run: Promise.resolve(), end };
      this.inFlight.add(entry);
      entry.run = runOnce(session, this.inputs, input.body, this.answerLimit).then(end);
    });
  }

  /** Ends the requests in flight as `crash`, waits for their native runs, then releases the session. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const runs = [...this.inFlight].map((entry) => {
        entry.end({ ok: false, reason: 'crash', message: 'the service is stopping' });
        return entry.run;
      });
      await Promise.allSettled(runs);
      await this.session?.release();
      this.session = undefined;
    })();
    return this.stopping;
  }
}
