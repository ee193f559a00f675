/** Command actions that return a result, printed in the format `--output` chose. */
import type { Command } from 'commander';
import { formatOutput, type OutputFormat } from '../output.js';

/**
 * Wraps `fn` as a commander action that prints its result.
 * @example cmd.action(printing(async (opts: { id: string }) => directory.getUser(opts.id)))
 */
export function printing<O>(fn: (options: O) => Promise<unknown>): (options: O, command: Command) => Promise<void> {
  return async (options, command) => {
    const result = await fn(options);
    const { output } = command.optsWithGlobals<{ output: OutputFormat }>();
    process.stdout.write(formatOutput(result, output));
  };
}
