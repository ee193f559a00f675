/**
 * A job's `command`: `python <script.py> …` or `node <script.mjs|.js|.cjs> …`, which the
 * server splits as a shell would (quotes, backslashes) but never runs through one. Each
 * argument is quoted so that split gives it back exactly.
 */

/** Interpreter by script extension. */
const INTERPRETERS: Record<string, 'python' | 'node'> = { '.py': 'python', '.mjs': 'node', '.js': 'node', '.cjs': 'node' };

/** Characters that need no quoting. */
const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * `value` as one word of a command line: as it is when it holds only plain characters,
 * else in single quotes (a `'` inside becomes `'\''`, as a POSIX shell reads it).
 * @example quoteArgument("it's") // 'it'\''s'
 */
export function quoteArgument(value: string): string {
  if (PLAIN.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The interpreter for `script`, by its extension; undefined for one that is neither Python nor JavaScript. */
export function interpreterOf(script: string): 'python' | 'node' | undefined {
  const dot = script.lastIndexOf('.');
  return dot < 0 ? undefined : INTERPRETERS[script.slice(dot).toLowerCase()];
}

/**
 * The command that runs `script` (a path relative to the code's root, with `/`) with `args`.
 * @example scriptCommand('train.py', ['--lr', '0.1']) // 'python train.py --lr 0.1'
 */
export function scriptCommand(script: string, args: readonly string[] = []): string {
  const interpreter = interpreterOf(script);
  if (interpreter === undefined) throw new TypeError(`The script '${script.slice(0, 200)}' must be Python (.py) or JavaScript (.mjs, .js, .cjs).`);
  return [interpreter, quoteArgument(script), ...args.map(quoteArgument)].join(' ');
}

/**
 * Splits a command line as a POSIX shell splits words (single quotes, double quotes with
 * `\` before `"`, `\`, `$` or a backquote, and `\` outside quotes), without expanding anything.
 * A TypeError for an unclosed quote.
 * @example splitCommandLine(`python t.py 'a b' "c\\"d"`) // ['python', 't.py', 'a b', 'c"d']
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new TypeError('The command has an unclosed single quote.');
      word += line.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && j + 1 < line.length && '"\\$`'.includes(line[j + 1]!)) j++;
        word += line[j];
      }
      if (j >= line.length) throw new TypeError('The command has an unclosed double quote.');
      i = j;
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 < line.length) word += line[++i];
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
  if (inWord) words.push(word);
  return words;
}
