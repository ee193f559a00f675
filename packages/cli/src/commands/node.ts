/**
 * `tessera node start`: runs a compute's jobs on this machine. The credential comes from
 * `tessera ml compute node register --token-file F` (kept in a file, never on the command
 * line where `ps` shows it). Stops on SIGTERM or SIGINT, ending the runs it holds (they
 * are reported Failed: the node stopped); fails (exit 1) when the server refuses the credential.
 * The server package (the node's code) is loaded only when this command runs.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../usageError.js';

function say(text: string): void {
  process.stderr.write(`${text}\n`);
}

export function registerNode(program: Command): void {
  const node = program.command('node').description("a compute's node: the process that runs its jobs");
  node
    .command('start')
    .description("run the jobs of a compute on this machine, with its node credential")
    .requiredOption('--compute <name>', 'the compute this node serves')
    .requiredOption('--server <url>', "the Tessera server's URL")
    .requiredOption('--token-file <file>', 'the file holding the node credential (tsnd_…)')
    .option('--capacity <n>', 'runs at once on this node (default 2)', '2')
    .option('--environment <name=dir...>', 'a host directory jobs may name as their environment (repeatable)')
    .option('--python <program>', 'the Python that runs .py scripts', process.env.TESSERA_PYTHON || 'python3')
    .addOption(new Option('--sandbox <mode>', 'isolate runs with bubblewrap: required, auto or off (default auto)').choices(['required', 'auto', 'off']).default('auto'))
    .action(async (opts: { compute: string; server: string; tokenFile: string; capacity: string; environment?: string[]; python: string; sandbox: 'required' | 'auto' | 'off' }) => {
      // Loaded here, not at the top: the server package is heavy, and every other command starts without it.
      const { DEFAULT_SANDBOX, parseEnvironments, startRemoteNode } = await import('@tessera/server');
      const capacity = Number(opts.capacity);
      if (!Number.isInteger(capacity) || capacity < 1 || capacity > 64) throw new UsageError('--capacity must be a whole number from 1 to 64');
      let environments: Record<string, string>;
      try {
        environments = parseEnvironments((opts.environment ?? []).join(','));
      } catch (err) {
        throw new UsageError(`--environment takes name=/absolute/dir: ${(err as Error).message}`);
      }
      let refused: (message: string) => void = () => undefined;
      /** Why the node stopped: undefined for a signal, the server's refusal otherwise. */
      const stopped = new Promise<string | undefined>((resolve) => {
        refused = (message) => resolve(message);
        process.once('SIGTERM', () => resolve(undefined));
        process.once('SIGINT', () => resolve(undefined));
      });
      const running = await startRemoteNode({
        server: opts.server,
        tokenFile: opts.tokenFile,
        compute: opts.compute,
        sandbox: { ...DEFAULT_SANDBOX, mode: opts.sandbox, network: 'none' },
        python: opts.python,
        environments,
        capacity,
        onError: (err) => say(`node: ${err instanceof Error ? err.message : String(err)}`),
        onRefused: refused,
      });
      say(running.sandbox.describe().replace('entry scripts', 'runs'));
      say(`node '${running.identity.name}' of compute '${running.identity.compute}' is running jobs (identity endpoint ${running.agent.identityEndpoint})`);
      const refusal = await stopped;
      await running.stop();
      if (refusal !== undefined) throw new Error(`the server refused this node: ${refusal}`);
    });
}
