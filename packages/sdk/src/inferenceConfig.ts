/**
 * How a web service scores, as Azure ML's `InferenceConfig` had it: an entry script whose
 * file name decides the runtime (`.py` → python, `.js`/`.mjs`/`.cjs`/`.ts` → javascript), or no
 * script at all for an ONNX model served as it is.
 */
import fs from 'node:fs';
import path from 'node:path';

/** The runtimes a web service runs on. */
export type ScoringRuntime = 'python' | 'javascript' | 'onnx';

/** The server takes an entry script of at most this many bytes. */
export const MAX_ENTRY_SCRIPT_BYTES = 1024 * 1024;

const RUNTIMES: readonly ScoringRuntime[] = ['python', 'javascript', 'onnx'];

/** Options of {@link InferenceConfig}. */
export interface InferenceConfigOptions {
  /** Path of the entry script (`score.py`, `score.mjs`, …); absent for an ONNX model. */
  entryScript?: string;
  /** Checked against the script's file name when given; `onnx` (or nothing) without a script. */
  runtime?: ScoringRuntime;
}

/** The runtime an entry script's file name calls for; a TypeError for any other extension. */
export function runtimeOfScript(fileName: string): ScoringRuntime {
  // Case matters, as it does to the server's runtimes.
  if (fileName.endsWith('.py')) return 'python';
  if (['.js', '.mjs', '.cjs', '.ts'].some((ext) => fileName.endsWith(ext))) return 'javascript';
  throw new TypeError(`The entry script '${path.basename(fileName)}' must end in .py (python), or .js, .mjs, .cjs or .ts (javascript), in lower case.`);
}

/**
 * An entry script read from disk (at construction), or an ONNX model deployment.
 * @example
 * new InferenceConfig({ entryScript: './score.py' })      // python
 * new InferenceConfig({ entryScript: 'score.mjs' })       // javascript
 * new InferenceConfig({})                                  // the model's .onnx file, served as is
 */
export class InferenceConfig {
  readonly runtime: ScoringRuntime;
  /** The script as the PUT body carries it; undefined for ONNX. */
  readonly entryScript: { fileName: string; content: string } | undefined;

  constructor(options: InferenceConfigOptions = {}) {
    const { entryScript, runtime } = options;
    if (runtime !== undefined && !RUNTIMES.includes(runtime)) {
      throw new TypeError(`runtime must be one of ${RUNTIMES.map((r) => `'${r}'`).join(', ')}, not '${String(runtime).slice(0, 40)}'.`);
    }
    if (entryScript === undefined) {
      if (runtime !== undefined && runtime !== 'onnx') throw new TypeError(`The runtime '${runtime}' needs an entry script; without one the service runs an ONNX model.`);
      this.runtime = 'onnx';
      this.entryScript = undefined;
      return;
    }
    const fileName = path.basename(entryScript);
    const fromScript = runtimeOfScript(fileName);
    if (runtime !== undefined && runtime !== fromScript) {
      throw new TypeError(`runtime '${runtime}' contradicts the entry script '${fileName}', which runs on '${fromScript}'.`);
    }
    this.runtime = fromScript;
    this.entryScript = { fileName, content: readScript(entryScript) };
  }
}

/** The script's UTF-8 text; a clear error when it is missing, not a file, or over the size limit. */
function readScript(file: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new Error(`The entry script ${file} does not exist.`);
  }
  if (!stat.isFile()) throw new Error(`The entry script ${file} is not a file.`);
  if (stat.size > MAX_ENTRY_SCRIPT_BYTES) throw new Error(`The entry script ${file} is larger than 1 MiB.`);
  return fs.readFileSync(file, 'utf8');
}
