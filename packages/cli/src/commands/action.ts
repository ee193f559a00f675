/** Command actions that return a result, printed in the format `--output` chose, after `--query`. */
import type { Command } from 'commander';
import { formatOutput, type OutputFormat } from '../output.js';
import { applyQuery, type Query } from '../query.js';

/** The global options every printing command sees. */
export interface GlobalOptions {
  output: OutputFormat;
  query?: Query;
}

/** Prints `result` as the global options say (nothing for no result). */
export function print(result: unknown, command: Command): void {
  const { output, query } = command.optsWithGlobals<GlobalOptions>();
  const selected = result === undefined || query === undefined ? result : applyQuery(result, query);
  process.stdout.write(formatOutput(selected, output));
}

/**
 * Wraps `fn` as a commander action that prints its result.
 * @example cmd.action(printing(async (opts: { id: string }) => directory.getUser(opts.id)))
 */
export function printing<O>(fn: (options: O, command: Command) => Promise<unknown>): (options: O, command: Command) => Promise<void> {
  return async (options, command) => {
    print(await fn(options, command), command);
  };
}
