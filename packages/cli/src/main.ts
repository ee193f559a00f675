/**
 * The `tessera` command's entry point: runs the command line and turns failures into
 * `ERROR: …` on stderr (never a stack trace) and an exit status: 1 for a failure, 2 for a
 * usage error.
 */
import { CommanderError } from 'commander';
import { SubscriptionNotFoundError, TesseraApiError } from '@tessera/sdk';
import { CLI_VERSION } from './version.js';
import { UsageError } from './usageError.js';
import { info } from './log.js';

/** The message to print for a failure. API errors carry their code, as az prints them. */
function describe(err: unknown): string {
  if (err instanceof TesseraApiError) return `(${err.code}) ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Runs the command line `argv` (without node and the script); resolves with the exit status. */
export async function run(argv: string[]): Promise<number> {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    process.stdout.write(`${CLI_VERSION}\n`);
    return 0;
  }
  const started = performance.now();
  try {
    // Every command's module is loaded only past the `--version` answer above.
    const { buildProgram } = await import('./program.js');
    await buildProgram().parseAsync(argv, { from: 'user' });
    info(`Command ran in ${((performance.now() - started) / 1000).toFixed(3)} seconds`);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed its message (or the help) already.
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2;
    }
    process.stderr.write(`ERROR: ${describe(err)}\n`);
    // A subscription name that matches none (or several) is a mistake in what was typed;
    // no subscription to default to (SubscriptionUnavailableError) is an ordinary failure.
    return err instanceof UsageError || err instanceof SubscriptionNotFoundError ? 2 : 1;
  }
}

process.exitCode = await run(process.argv.slice(2));
