/**
 * A job's command, as az ml's command jobs write it (`python train.py --lr 0.1`), split
 * the way a POSIX shell splits words (quotes and backslashes) but never run by one: the
 * node executes the interpreter with the script and its arguments directly.
 */
import { TesseraError } from '../errors.js';

export type RunRuntime = 'python' | 'node';

export interface JobCommand {
  runtime: RunRuntime;
  /** The script's path in the code, relative (`src/train.py`). */
  script: string;
  args: string[];
}

const MAX_COMMAND = 8192;

/** Shell-like word splitting: single quotes keep everything, double quotes and backslashes escape. */
export function splitWords(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < command.length && '"\\$`'.includes(command[i + 1]!)) word += command[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < command.length) {
      word += command[++i];
      inWord = true;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new TesseraError('InvalidParameter', 'The job command has an unterminated quote.');
  if (inWord) words.push(word);
  return words;
}

/** Checks a job's command: `python|python3 <script.py> [args…]` or `node <script.mjs|.js|.cjs> [args…]`. */
export function parseJobCommand(command: unknown): JobCommand {
  if (typeof command !== 'string' || command.trim() === '') throw new TesseraError('InvalidParameter', "The field 'properties.command' is required: e.g. 'python train.py --epochs 3'.");
  if (command.length > MAX_COMMAND) throw new TesseraError('InvalidParameter', `The job command is longer than ${MAX_COMMAND} characters.`);
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(command)) throw new TesseraError('InvalidParameter', 'The job command holds a control character.');
  const [program, script, ...args] = splitWords(command);
  const runtime: RunRuntime | undefined = program === 'python' || program === 'python3' ? 'python' : program === 'node' ? 'node' : undefined;
  if (!runtime || script === undefined) {
    throw new TesseraError('InvalidParameter', "The job command must run a script with Python or Node: 'python <script.py> [arguments]' or 'node <script.mjs> [arguments]' (no shell: pipes, && and variables are not interpreted).");
  }
  const extensions = runtime === 'python' ? ['.py'] : ['.mjs', '.js', '.cjs'];
  if (!extensions.some((e) => script.endsWith(e))) throw new TesseraError('InvalidParameter', `A ${runtime === 'python' ? 'Python' : 'Node'} job's script must end in ${extensions.join(', ')}.`);
  checkCodePath(script, 'The job script');
  return { runtime, script: script.replace(/^\.\//, ''), args };
}

/** A relative path inside the code or outputs: no `..`, no absolute path, no control characters. */
export function checkCodePath(p: string, what: string): string {
  const clean = p.replace(/^\.\//, '');
  const parts = clean.split('/');
  if (clean === '' || clean.length > 512 || clean.startsWith('/') || parts.some((s) => s === '' || s === '.' || s === '..') || /[\u0000-\u001f\u007f\\]/.test(clean)) {
    throw new TesseraError('InvalidParameter', `${what} must be a relative path inside the job's code (no '..', no leading '/').`);
  }
  return clean;
}
