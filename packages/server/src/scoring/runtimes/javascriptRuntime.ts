/**
 * The JavaScript runtime: each worker is a worker thread (javascriptWorker.ts) with V8
 * heap limits from `memoryMb`. Entry scripts: `.mjs` and `.js` load as ES modules,
 * `.cjs` through `require`, `.ts` is transpiled (typescript's transpileModule, no type
 * checking) to `<name>.ts.mjs` in the service's directory first. A worker that throws
 * out, exits, runs out of heap or hangs is replaced by the pool (workerPool.ts).
 *
 * Limits: `resourceLimits` bound only the worker's V8 heap. Memory outside it (Buffers,
 * ArrayBuffers, native addons) is the server process's own and is not limited: a script
 * in a 100 MiB service can `Buffer.alloc(1.5 GiB)`. A worker thread also shares the
 * server's process: it can read /proc/self/environ, and through `fs` and `child_process`
 * whatever the server's OS user can (see environment.ts).
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type ts from 'typescript';
import { modelDirOf, scriptEnvironment } from './environment.js';
import { forwardLines } from './lineSplitter.js';
import { decodeAnswer, type JavascriptWorkerData, type WorkerMessage } from './workerProtocol.js';
import { DEFAULT_ANSWER_LIMIT, type LogSink, type RuntimeSpec, type ScoreInput, type ScoreOutcome, type ServiceRuntime } from './types.js';
import { WorkerPool, type AnswerSink, type WorkerConnection } from './workerPool.js';

const SCRIPT_EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts'];
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const WORKER_MODULE = new URL('./javascriptWorker.js', import.meta.url);

export class JavascriptRuntime implements ServiceRuntime {
  readonly kind = 'javascript' as const;
  private pool?: WorkerPool;
  private stopped = false;

  constructor(
    private readonly spec: RuntimeSpec,
    private readonly log: LogSink,
  ) {}

  async start(): Promise<void> {
    if (this.pool || this.stopped) throw new Error('the runtime was already started');
    const workerData = await this.prepare();
    const env = scriptEnvironment(this.spec, modelDirOf(this.spec.models, this.spec.directory, isDirectory));
    this.pool = new WorkerPool({
      workers: this.spec.workers,
      initTimeoutMs: this.spec.initTimeoutMs,
      log: this.log,
      label: 'javascript worker',
      launch: (index) => this.launch(index, workerData, env),
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

  /** Checks the entry script and contract, transpiles TypeScript, and says what each worker loads. */
  private async prepare(): Promise<JavascriptWorkerData> {
    const { directory, entryScript, contract } = this.spec;
    const answerLimit = this.spec.answerLimit ?? DEFAULT_ANSWER_LIMIT;
    if (!entryScript || path.basename(entryScript) !== entryScript) throw new Error('a javascript service needs an entry script file name');
    const extension = path.extname(entryScript);
    if (!SCRIPT_EXTENSIONS.includes(extension)) throw new Error(`the entry script must end in ${SCRIPT_EXTENSIONS.join(', ')}, not '${entryScript}'`);
    const file = path.join(directory, entryScript);
    if (!existsSync(file)) throw new Error(`the entry script ${entryScript} is missing from the service's directory`);
    if (contract.kind === 'mlserver') {
      const names = [...contract.inputs, ...contract.outputs].map((p) => p.name);
      const bad = names.find((name) => !IDENTIFIER.test(name));
      if (bad !== undefined) throw new Error(`parameter name '${bad}' is not a JavaScript identifier`);
      const source = readFileSync(file, 'utf8');
      const code = extension === '.ts' ? await transpile(source, entryScript) : source;
      const initCode = contract.initCode ?? '';
      return {
        directory,
        answerLimit,
        mlserver: { code, initCode, inputs: contract.inputs.map((p) => p.name), outputs: contract.outputs.map((p) => p.name), initBindings: await topLevelLexicals(initCode) },
      };
    }
    if (extension !== '.ts') return { directory, answerLimit, modulePath: file };
    const transpiled = path.join(directory, `${entryScript}.mjs`);
    writeFileSync(transpiled, await transpile(readFileSync(file, 'utf8'), entryScript));
    return { directory, answerLimit, modulePath: transpiled };
  }

  private launch(index: number, workerData: JavascriptWorkerData, env: Record<string, string>): WorkerConnection {
    const { memoryMb, serviceName } = this.spec;
    const worker = new Worker(WORKER_MODULE, {
      workerData,
      env,
      stdout: true,
      stderr: true,
      name: `${serviceName} worker ${index + 1}`,
      resourceLimits: { maxOldGenerationSizeMb: memoryMb, maxYoungGenerationSizeMb: Math.max(1, Math.min(16, Math.floor(memoryMb / 8))) },
    });
    forwardLines(worker.stdout, (line) => this.log(line, 'stdout'));
    forwardLines(worker.stderr, (line) => this.log(line, 'stderr'));

    let failure: string | undefined;
    let killed = false;
    worker.on('error', (error: Error & { code?: string }) => {
      failure =
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `the worker ran out of memory (limit ${memoryMb} MiB)`
          : `the worker failed: ${error.name}: ${error.message}`;
    });
    const exited = new Promise<string>((resolve) => {
      worker.once('exit', (code) => resolve(killed ? 'the worker was stopped' : (failure ?? `the worker exited with code ${code}`)));
    });
    // One request at a time per worker (the pool's rule): the answer is the current request's.
    let waiting: AnswerSink | undefined;
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (message: WorkerMessage) => {
        try {
          if (typeof message === 'string') {
            const to = waiting;
            waiting = undefined;
            const outcome = decodeAnswer(message);
            // A crash answer (too large, unreadable) leaves the worker busy in the pool: restart it.
            if (!outcome.ok && outcome.reason === 'crash') {
              failure ??= outcome.message;
              void worker.terminate();
            }
            to?.answer(outcome);
          } else if (message.kind === 'ready') resolve();
          else reject(new Error(message.message));
        } catch (error) {
          // Nothing may throw out of this handler (it would take the server down).
          failure ??= `the worker's message could not be handled: ${error instanceof Error ? error.message : String(error)}`;
          void worker.terminate();
        }
      });
    });
    ready.catch(() => undefined);
    return {
      ready,
      exited,
      call: (body, to) => {
        waiting = to;
        worker.postMessage(body);
      },
      kill: () => {
        killed ||= failure === undefined;
        void worker.terminate();
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

async function typescript(): Promise<typeof ts> {
  return (await import('typescript')).default;
}

/** TypeScript to an ES module (types stripped, nothing checked); syntax errors reject. */
async function transpile(source: string, fileName: string): Promise<string> {
  const compiler = await typescript();
  const result = compiler.transpileModule(source, {
    fileName,
    reportDiagnostics: true,
    compilerOptions: { module: compiler.ModuleKind.ESNext, target: compiler.ScriptTarget.ES2022, sourceMap: false },
  });
  const errors = (result.diagnostics ?? []).filter((d) => d.category === compiler.DiagnosticCategory.Error);
  if (errors.length > 0) {
    const first = compiler.flattenDiagnosticMessageText(errors[0]!.messageText, '\n');
    throw new Error(`the entry script ${fileName} does not compile: ${first}`);
  }
  return result.outputText;
}

/** Names a script declares at its top with `let`, `const` or `class` (not visible as properties of a vm context's global). */
async function topLevelLexicals(source: string): Promise<string[]> {
  if (!/\b(let|const|class)\b/.test(source)) return [];
  const compiler = await typescript();
  const file = compiler.createSourceFile('initCode.js', source, compiler.ScriptTarget.ES2022, false, compiler.ScriptKind.JS);
  const names: string[] = [];
  const collect = (name: ts.BindingName): void => {
    if (compiler.isIdentifier(name)) names.push(name.text);
    else for (const element of name.elements) if (!compiler.isOmittedExpression(element)) collect(element.name);
  };
  for (const statement of file.statements) {
    if (compiler.isVariableStatement(statement) && statement.declarationList.flags & (compiler.NodeFlags.Let | compiler.NodeFlags.Const)) {
      for (const declaration of statement.declarationList.declarations) collect(declaration.name);
    } else if (compiler.isClassDeclaration(statement) && statement.name) names.push(statement.name.text);
  }
  return names;
}
