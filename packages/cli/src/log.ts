/**
 * What the CLI says on stderr besides its result, at az's levels: `ERROR:` always,
 * `WARNING:` unless `--only-show-errors`, `INFO:` with `--verbose`, `DEBUG:` with
 * `--debug` (which implies `--verbose`). stdout holds only the result, so a script's
 * `$(tessera … -o tsv)` never captures a message.
 */

/** The levels, least talkative first. */
export type LogLevel = 'error' | 'warning' | 'info' | 'debug';

const ORDER: readonly LogLevel[] = ['error', 'warning', 'info', 'debug'];
let current: LogLevel = 'warning';
const said = new Set<string>();

/** The level the global options ask for; `--only-show-errors` wins over the others, as in az. */
export function levelOf(options: { debug?: boolean; verbose?: boolean; onlyShowErrors?: boolean }): LogLevel {
  if (options.onlyShowErrors === true) return 'error';
  if (options.debug === true) return 'debug';
  if (options.verbose === true) return 'info';
  return 'warning';
}

export function setLogLevel(level: LogLevel): void {
  current = level;
}

/** Whether messages of `level` are shown. */
export function logs(level: LogLevel): boolean {
  return ORDER.indexOf(level) <= ORDER.indexOf(current);
}

function write(level: LogLevel, prefix: string, message: string): void {
  if (logs(level)) process.stderr.write(`${prefix}: ${message}\n`);
}

export function warn(message: string): void {
  write('warning', 'WARNING', message);
}

/** A warning said once per run, however often the condition is met. */
export function warnOnce(key: string, message: string): void {
  if (said.has(key)) return;
  said.add(key);
  warn(message);
}

export function info(message: string): void {
  write('info', 'INFO', message);
}

export function debug(message: string): void {
  write('debug', 'DEBUG', message);
}
