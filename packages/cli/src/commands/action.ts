/** Command actions that return a result, printed in the format `--output` chose, after `--query`. */
import type { Command } from 'commander';
import { formatOutput, type OutputFormat } from '../output.js';
import { applyQuery, type Query } from '../query.js';
import { TABLES, type TableKind } from '../tables.js';

/** The global options every printing command sees. */
export interface GlobalOptions {
  output: OutputFormat;
  query?: Query;
}

/**
 * Prints `result` as the global options say (nothing for no result). With `-o table` and
 * no `--query`, a result of a `table` kind shows az's columns for it.
 */
export function print(result: unknown, command: Command, table?: TableKind): void {
  const { output, query } = command.optsWithGlobals<GlobalOptions>();
  const chosen = query ?? (output === 'table' && table !== undefined ? tableQuery(result, table) : undefined);
  const selected = result === undefined || chosen === undefined ? result : applyQuery(result, chosen);
  process.stdout.write(formatOutput(selected, output));
}

/** The table's multiselect, for each row of a list or for the one object. */
function tableQuery(result: unknown, table: TableKind): Query {
  return { text: Array.isArray(result) ? `[].${TABLES[table]}` : TABLES[table] };
}

/**
 * Wraps `fn` as a commander action that prints its result.
 * @example cmd.action(printing(async (opts: { id: string }) => directory.getUser(opts.id)))
 */
export function printing<O>(fn: (options: O, command: Command) => Promise<unknown>, table?: TableKind): (options: O, command: Command) => Promise<void> {
  return async (options, command) => {
    print(await fn(options, command), command, table);
  };
}
