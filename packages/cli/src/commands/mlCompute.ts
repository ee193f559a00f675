/**
 * `tessera ml compute create|list|show|delete` and `ml compute node register|list|rotate|revoke`:
 * a workspace's computes (with their managed identities) and the nodes that run their
 * jobs. A node's credential is shown once: printed, or written to `--token-file` (0600)
 * and then left out of what is printed. The workspace is `-w`/`-g`, or config.json.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { COMPUTE_IDENTITY_TYPES, Compute, type ComputeIdentityType, type ComputeType, type NodeRegistration } from '@tessera/sdk';
import { checkSecretFileTarget, writeSecretFile } from '../secretFile.js';
import { UsageError } from '../usageError.js';
import { printing } from './action.js';
import { modelCommand, workspaceOf, type WorkspaceOptions } from './mlModel.js';

interface CreateOptions extends WorkspaceOptions {
  name: string;
  type: ComputeType;
  identityType?: ComputeIdentityType;
  userAssignedIdentities?: string[];
  maxConcurrentRuns?: number;
  description?: string;
}

interface NodeOptions extends WorkspaceOptions {
  compute: string;
  nodeId?: string;
  name?: string;
  tokenFile?: string;
}

/** `--type`, as az spells it (any case). */
function parseComputeType(value: string): ComputeType {
  const type = ({ computeinstance: 'ComputeInstance', amlcompute: 'AmlCompute' } as const)[value.toLowerCase() as 'computeinstance' | 'amlcompute'];
  if (type === undefined) throw new InvalidArgumentError("It must be 'computeinstance' or 'amlcompute'.");
  return type;
}

/** `--identity-type` (any case). */
function parseIdentityType(value: string): ComputeIdentityType {
  const type = COMPUTE_IDENTITY_TYPES.find((t) => t.toLowerCase() === value.replace(/\s+/g, '').toLowerCase());
  if (type === undefined) throw new InvalidArgumentError(`It must be one of ${COMPUTE_IDENTITY_TYPES.join(', ')}.`);
  return type;
}

/** A whole number from 1 to 1000. */
function parseRuns(value: string): number {
  if (!/^[1-9][0-9]{0,3}$/.test(value) || Number(value) > 1000) throw new InvalidArgumentError('It must be a whole number from 1 to 1000.');
  return Number(value);
}

/** `--user-assigned-identities` takes several values, space-separated or repeated. */
function collectIdentities(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(/\s+/).filter((v) => v !== '')];
}

/**
 * Prints a node's registration: with `--token-file`, the credential goes to the file and
 * the rest is printed; otherwise it is printed, this once.
 */
async function shownOnce(registration: () => Promise<NodeRegistration>, o: NodeOptions, rotateHint: (nodeId: string) => string): Promise<unknown> {
  const file = o.tokenFile === undefined ? undefined : await checkSecretFileTarget(o.tokenFile, '--token-file');
  const node = await registration();
  if (file === undefined) return node;
  const { credential, ...rest } = node;
  try {
    await writeSecretFile(file, credential);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new Error(`the node ${node.nodeId} has a new credential, but it could not be written to ${file} (${code}): ${rotateHint(node.nodeId)}`);
  }
  return { ...rest, tokenFile: file };
}

/** Adds `compute` under `ml`. */
export function registerMlCompute(ml: Command): void {
  const compute = ml.command('compute').description("computes: where jobs run, with the managed identities their runs use");

  modelCommand(compute, 'create', 'create a compute, or replace its settings')
    .requiredOption('-n, --name <name>', 'compute name')
    .requiredOption('--type <type>', 'computeinstance or amlcompute', parseComputeType)
    .option('--identity-type <type>', `${COMPUTE_IDENTITY_TYPES.join(' | ')} (default: UserAssigned with --user-assigned-identities, else none)`, parseIdentityType)
    .option('--user-assigned-identities <ids...>', 'identity resource IDs, or names of identities in the resource group')
    .option('--max-concurrent-runs <n>', 'how many runs the compute runs at once', parseRuns)
    .option('--description <text>', 'description')
    .action(
      printing(async (o: CreateOptions) => {
        const workspace = await workspaceOf(o);
        const identities = o.userAssignedIdentities?.flatMap((v) => collectIdentities(v));
        try {
          return await Compute.create(workspace, o.name, {
            computeType: o.type,
            identityType: o.identityType,
            userAssignedIdentities: identities,
            maxConcurrentRuns: o.maxConcurrentRuns,
            description: o.description,
          });
        } catch (err) {
          if (err instanceof TypeError) throw new UsageError(err.message);
          throw err;
        }
      }, 'compute'),
    );

  modelCommand(compute, 'list', "list the workspace's computes").action(printing(async (o: WorkspaceOptions) => Compute.list(await workspaceOf(o)), 'compute'));

  modelCommand(compute, 'show', 'show a compute: its identities, nodes and runs')
    .requiredOption('-n, --name <name>', 'compute name')
    .action(printing(async (o: WorkspaceOptions & { name: string }) => Compute.get(await workspaceOf(o), o.name), 'compute'));

  modelCommand(compute, 'delete', 'delete a compute; its queued and running runs are canceled')
    .requiredOption('-n, --name <name>', 'compute name')
    .option('-y, --yes', 'do not ask for confirmation (tessera never asks; accepted for az scripts)')
    .action(
      printing(async (o: WorkspaceOptions & { name: string }) => {
        await (await Compute.get(await workspaceOf(o), o.name)).delete();
      }),
    );

  const node = compute.command('node').description("a compute's nodes: the processes that run its jobs (tessera node start)");
  const nodeCommand = (name: string, description: string) => modelCommand(node, name, description).requiredOption('--compute <name>', 'compute name');

  nodeCommand('register', 'register a node; its credential is shown once (or written to --token-file)')
    .option('--name <node>', 'node name (default: chosen by the server)')
    .option('--token-file <file>', 'write the credential to this file (mode 0600) instead of printing it')
    .action(
      printing(async (o: NodeOptions) => {
        const c = await Compute.get(await workspaceOf(o), o.compute);
        return shownOnce(() => c.registerNode({ name: o.name }), o, (id) => `run tessera ml compute node rotate --compute ${o.compute} --node-id ${id} --token-file <file>`);
      }),
    );

  nodeCommand('list', "list a compute's nodes and whether each is online").action(
    printing(async (o: NodeOptions) => (await Compute.get(await workspaceOf(o), o.compute)).listNodes()),
  );

  nodeCommand('rotate', "give a node a new credential (the old one stops at once); shown once, or written to --token-file")
    .requiredOption('--node-id <id>', 'node id')
    .option('--token-file <file>', 'write the credential to this file (mode 0600) instead of printing it')
    .action(
      printing(async (o: NodeOptions) => {
        const c = await Compute.get(await workspaceOf(o), o.compute);
        return shownOnce(() => c.rotateNodeCredential(o.nodeId!), o, () => 'rotate it again');
      }),
    );

  nodeCommand('revoke', 'revoke a node: its credential stops at once and its runs become Failed')
    .requiredOption('--node-id <id>', 'node id')
    .action(
      printing(async (o: NodeOptions) => {
        await (await Compute.get(await workspaceOf(o), o.compute)).revokeNode(o.nodeId!);
      }),
    );
}
