/**
 * The JavaScript runtime: each worker is a long-lived Node.js process running
 * javascript/host.mts, started through the spec's isolation (the sandbox, or plain child
 * processes) and spoken to over the host protocol (processWorker.ts): a persistent pipe,
 * not a process per request. Its V8 heap is capped at `memoryMb` (the sandbox's control
 * group allows the runtime's own ~64 MiB beyond it). Entry scripts: `.mjs` and `.js` load
 * as ES modules, `.cjs` through `require`, `.ts` is transpiled (typescript's
 * transpileModule, no type checking) to `<name>.ts.mjs` in the service's directory first.
 * A worker that throws out, exits, runs out of heap or hangs is replaced by the pool.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type ts from 'typescript';
import { DirectIsolation } from '../../sandbox/index.js';
import { hostModels, scriptEnvironment } from './environment.js';
import type { JavascriptHostConfig } from './javascript/host.mjs';
import { PooledRuntime } from './pooledRuntime.js';
import { runtimesMount } from './processWorker.js';

const SCRIPT_EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts'];
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
/** What Node.js itself uses beyond the script's heap (code, the runtime, buffers of its own), MiB. */
const NODE_OVERHEAD_MB = 64;
/** V8 reserves about a gigabyte of address space it never touches: room for it under RLIMIT_AS. */
const NODE_ADDRESS_SPACE_SLACK_MB = 1024;
/** V8's last words when the heap limit is reached. */
const HEAP_OUT_OF_MEMORY = /JavaScript heap out of memory|Reached heap limit/;

/** What the runtime lays out before the workers start: the host's configuration, with host paths. */
type Layout = { modulePath?: string; mlserver?: JavascriptHostConfig['mlserver'] };

export class JavascriptRuntime extends PooledRuntime {
  readonly kind = 'javascript' as const;

  async start(): Promise<void> {
    this.checkNotStarted();
    const layout = await this.layOut();
    const hostMount = runtimesMount();
    const isolation = this.spec.isolation ?? new DirectIsolation();
    const prepared = await isolation.prepare({ directory: this.spec.directory, models: hostModels(this.spec), mounts: [hostMount], programs: [process.execPath] });
    const config: JavascriptHostConfig = { directory: prepared.directory };
    if (layout.mlserver) config.mlserver = layout.mlserver;
    // The module as the worker sees it: in the deployment's directory wherever that is shown.
    if (layout.modulePath) config.modulePath = path.posix.join(prepared.directory, path.relative(this.spec.directory, layout.modulePath));
    const host = path.posix.join(prepared.pathOf(hostMount), 'javascript', 'host.mjs');
    const { memoryMb } = this.spec;
    const young = Math.max(1, Math.min(16, Math.floor(memoryMb / 8)));
    await this.startWorkers(prepared, JSON.stringify(config), {
      command: prepared.program(process.execPath),
      args: [`--max-old-space-size=${memoryMb}`, `--max-semi-space-size=${young}`, '--disable-proto=delete', host],
      env: scriptEnvironment(this.spec, prepared),
      overheadMb: NODE_OVERHEAD_MB,
      addressSpaceSlackMb: NODE_ADDRESS_SPACE_SLACK_MB,
      outOfMemoryOutput: HEAP_OUT_OF_MEMORY,
    });
  }

  /** Checks the entry script and contract, transpiles TypeScript, and says what each worker loads. */
  private async layOut(): Promise<Layout> {
    const { directory, entryScript, contract } = this.spec;
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
      return { mlserver: { code, initCode, inputs: contract.inputs.map((p) => p.name), outputs: contract.outputs.map((p) => p.name), initBindings: await topLevelLexicals(initCode) } };
    }
    if (extension !== '.ts') return { modulePath: file };
    const transpiled = path.join(directory, `${entryScript}.mjs`);
    writeFileSync(transpiled, await transpile(readFileSync(file, 'utf8'), entryScript));
    return { modulePath: transpiled };
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
