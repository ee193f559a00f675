/**
 * `tessera ml service create|list|show|delete|wait|list-keys|regen-key|get-token|invoke|get-logs`:
 * web services, as the azure-cli-ml extension had them. The workspace is `-w`/`-g` (with
 * `--subscription`), or else the config.json found from the current directory upwards.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ClusterWebservice, InferenceConfig, InstanceWebservice, Webservice, deployModel, type DeploymentConfiguration, type ScoringRuntime, type ServiceAuthMode } from '@tessera/sdk';
import { readJsonArgument } from '../fileArguments.js';
import { parseTags } from '../parsers.js';
import { UsageError } from '../usageError.js';
import { print, printing, type GlobalOptions } from './action.js';
import { modelCommand, workspaceOf, type WorkspaceOptions } from './mlModel.js';
import { warn } from '../log.js';

interface NameOptions extends WorkspaceOptions {
  name: string;
}

interface CreateOptions extends NameOptions {
  model?: string[];
  entryScript?: string;
  runtime?: ScoringRuntime;
  target: 'instance' | 'cluster';
  authMode?: ServiceAuthMode;
  cpuCores?: number;
  memoryGb?: number;
  replicas?: number;
  description?: string;
  tags?: Record<string, string>;
  overwrite?: boolean;
  wait: boolean;
  timeout?: number;
}

/** A positive number (`--cpu-cores`, `--memory-gb`); the server checks the range. */
function parsePositive(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0)) throw new InvalidArgumentError('It must be a positive number, e.g. 0.5 or 2.');
  return n;
}

/** A whole number from 1 (`--replicas`, `--tail`, `--timeout`). */
function parseCount(value: string): number {
  if (!/^[1-9][0-9]{0,5}$/.test(value)) throw new InvalidArgumentError('It must be a whole number from 1.');
  return Number(value);
}

/** `--model` may be given several times. */
function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The deployment configuration the auth mode and sizing flags describe. */
function deploymentConfigOf(o: CreateOptions): DeploymentConfiguration {
  const auth: Partial<DeploymentConfiguration> = {};
  switch (o.authMode) {
    case 'key':
      auth.authEnabled = true;
      break;
    case 'token':
      Object.assign(auth, { authEnabled: false, tokenAuthEnabled: true });
      break;
    case 'aad':
      auth.aad = true;
      break;
    case 'none':
      auth.authEnabled = false;
      break;
  }
  const options = { ...auth, cpuCores: o.cpuCores, memoryGb: o.memoryGb, replicas: o.replicas, description: o.description, tags: o.tags };
  return o.target === 'cluster' ? ClusterWebservice.deployConfiguration(options) : InstanceWebservice.deployConfiguration(options);
}

/** The inference configuration; its rules (extension, runtime contradictions) are usage errors. */
function inferenceConfigOf(o: CreateOptions): InferenceConfig {
  try {
    return new InferenceConfig({ entryScript: o.entryScript, runtime: o.runtime });
  } catch (err) {
    if (err instanceof TypeError) throw new UsageError(err.message);
    throw err;
  }
}

/** Progress lines go to stderr: stdout holds the result. */
const progress = (line: string) => process.stderr.write(`${line}\n`);

function serviceCommand(parent: Command, name: string, description: string): Command {
  return modelCommand(parent, name, description).requiredOption('-n, --name <name>', 'web service name');
}

/** Adds `service` under `ml`. */
export function registerMlService(ml: Command): void {
  const service = ml.command('service').description('web services: deploy models, score them, manage their keys');

  serviceCommand(service, 'create', 'deploy models as a web service (an entry script, or an ONNX model on its own) and wait until it is Healthy')
    .option('-m, --model <name[:version]>', 'a registered model (its latest version without :version); repeat for several', collect)
    .option('--entry-script <file>', 'the scoring script: .py (python) or .js/.mjs/.ts (javascript); none for an ONNX model')
    .addOption(new Option('--runtime <runtime>', 'checked against the entry script').choices(['python', 'javascript', 'onnx']))
    .addOption(new Option('--target <target>', 'instance (key auth off by default) or cluster (key auth on by default)').choices(['instance', 'cluster']).default('instance'))
    .addOption(new Option('--auth-mode <mode>', 'how callers authenticate (default: the target\'s)').choices(['key', 'token', 'aad', 'none']))
    .option('--cpu-cores <n>', 'CPU cores per worker', parsePositive)
    .option('--memory-gb <n>', 'memory limit of each worker, in GB (0.1 to 16)', parsePositive)
    .option('--replicas <n>', 'workers per server replica (1 to 8)', parseCount)
    .option('-d, --description <text>', 'description')
    .option('--tags <tags>', 'space-separated key=value pairs', parseTags)
    .option('--overwrite', 'replace a service of that name')
    .option('--no-wait', 'return at once, while the service is Transitioning')
    .option('--timeout <seconds>', 'how long to wait for the deployment (default 600)', parseCount)
    .action(
      printing(async (o: CreateOptions) => {
        const inferenceConfig = inferenceConfigOf(o);
        const workspace = await workspaceOf(o);
        if (o.authMode === undefined && o.target === 'instance') {
          // Azure ML's default for an instance, kept for its scripts, but never silently.
          warn(`The service '${o.name}' will answer anyone who can reach the server, without a key or token: --target instance turns authentication off unless --auth-mode says otherwise. Give --auth-mode key (or token, or aad), or --auth-mode none to say you mean it.`);
        }
        const created = await deployModel({ workspace, name: o.name, models: o.model ?? [], inferenceConfig, deploymentConfig: deploymentConfigOf(o), overwrite: o.overwrite === true });
        if (o.wait) await created.waitForDeployment({ showOutput: progress, timeoutMs: o.timeout === undefined ? undefined : o.timeout * 1000 });
        return created;
      }, 'service'),
    );

  modelCommand(service, 'list', "list the workspace's web services")
    .addOption(new Option('--target <target>', 'only this target').choices(['instance', 'cluster']))
    .option('-m, --model-name <name>', 'only services that use this model')
    .action(printing(async (o: WorkspaceOptions & { target?: 'instance' | 'cluster'; modelName?: string }) => Webservice.list(await workspaceOf(o), { target: o.target, modelName: o.modelName }), 'service'));

  serviceCommand(service, 'show', 'show a web service').action(printing(async (o: NameOptions) => Webservice.get(await workspaceOf(o), o.name), 'service'));

  serviceCommand(service, 'delete', 'delete a web service and its keys').action(
    printing(async (o: NameOptions) => {
      await new Webservice(await workspaceOf(o), o.name).delete();
    }),
  );

  serviceCommand(service, 'wait', 'wait until a web service is Healthy (exit status 1 if it Failed, with its error and logs)')
    .option('--timeout <seconds>', 'how long to wait (default 600)', parseCount)
    .action(
      printing(async (o: NameOptions & { timeout?: number }) =>
        new Webservice(await workspaceOf(o), o.name).waitForDeployment({ showOutput: progress, timeoutMs: o.timeout === undefined ? undefined : o.timeout * 1000 }),
      ),
    );

  serviceCommand(service, 'list-keys', "show a web service's primary and secondary keys").action(
    printing(async (o: NameOptions) => new Webservice(await workspaceOf(o), o.name).getKeys()),
  );

  serviceCommand(service, 'regen-key', 'replace the primary or secondary key (the old one stops working, the other keeps working)')
    .addOption(new Option('--key-type <type>', 'which key').choices(['Primary', 'Secondary']).makeOptionMandatory())
    .option('--key-value <key>', 'the new key (at least 32 characters of letters, digits and . _ ~ -); generated when absent')
    .action(
      printing(async (o: NameOptions & { keyType: 'Primary' | 'Secondary'; keyValue?: string }) =>
        new Webservice(await workspaceOf(o), o.name).regenKey(o.keyType, o.keyValue),
      ),
    );

  serviceCommand(service, 'get-token', 'fetch a service token (token auth): one hour of life, refresh after half').action(
    printing(async (o: NameOptions) => {
      const [accessToken, refreshBy] = await new Webservice(await workspaceOf(o), o.name).getToken();
      return { accessToken, tokenType: 'Bearer', refreshAfterTimeUtc: refreshBy.toISOString() };
    }),
  );

  serviceCommand(service, 'invoke', "score a web service with the credential its auth mode calls for, and print its answer")
    .option('--input-data <json>', 'the request body: JSON, or @file')
    .option('--input-file <file>', 'a file holding the JSON request body')
    .action(
      printing(async (o: NameOptions & { inputData?: string; inputFile?: string }) => {
        if ((o.inputData === undefined) === (o.inputFile === undefined)) throw new UsageError('give exactly one of --input-data and --input-file.');
        const input = o.inputData !== undefined ? readJsonArgument(o.inputData, '--input-data') : readJsonArgument(`@${o.inputFile}`, '--input-file');
        // Serialized here, as run() takes a string for a JSON document (a JSON string value stays one).
        return new Webservice(await workspaceOf(o), o.name).run(JSON.stringify(input));
      }),
    );

  serviceCommand(service, 'get-logs', "print a web service's logs (what its entry script printed)")
    .option('--tail <lines>', 'only the last lines', parseCount)
    .action(async (o: NameOptions & { tail?: number }, command: Command) => {
      const logs = await new Webservice(await workspaceOf(o), o.name).getLogs({ tail: o.tail });
      // As text for table and tsv (the lines as written); a JSON string for json.
      if (command.optsWithGlobals<GlobalOptions>().output === 'json') print(logs, command);
      else process.stdout.write(logs.endsWith('\n') || logs === '' ? logs : `${logs}\n`);
    });
}
