/**
 * `tessera ml model register|list|show|download|delete`: the model registry, as the
 * azure-cli-ml extension had it. The workspace is `-w`/`-g` (with `--subscription`), their
 * environment variables, or the config.json found from the current directory upwards.
 */
import type { Command } from 'commander';
import { AccountProfile, Model, Workspace } from '@tessera/sdk';
import { parseTags } from '../parsers.js';
import { workspaceSettings } from '../settings.js';
import { UsageError } from '../usageError.js';
import { printing } from './action.js';
import { subscriptionOption } from './group.js';

export interface WorkspaceOptions {
  workspaceName?: string;
  resourceGroup?: string;
  subscription?: string;
}

/** A whole number from 1. */
function parseVersion(value: string): number {
  if (!/^[1-9][0-9]{0,8}$/.test(value)) throw new UsageError(`--version must be a whole number from 1, not '${value.slice(0, 20)}'.`);
  return Number(value);
}

/**
 * The workspace the options name: each of -w, -g and --subscription, else its environment
 * variable, else the nearest config.json, else the session (see settings.ts).
 */
export async function workspaceOf(o: WorkspaceOptions): Promise<Workspace> {
  const profile = new AccountProfile();
  const settings = await workspaceSettings(o, profile);
  return Workspace.get({
    name: settings.workspaceName.value,
    resourceGroup: settings.resourceGroup.value,
    subscriptionId: settings.subscriptionId.value,
    auth: profile.auth,
    serverUrl: settings.server.value,
  });
}

export function modelCommand(parent: Command, name: string, description: string): Command {
  return subscriptionOption(
    parent
      .command(name)
      .description(description)
      .option('-w, --workspace-name <name>', 'workspace name (default: TESSERA_WORKSPACE_NAME, else config.json)')
      .option('-g, --resource-group <name>', 'resource group name (default: TESSERA_RESOURCE_GROUP, else config.json)'),
  );
}

/** Adds `model` under `ml`. */
export function registerMlModel(ml: Command): void {
  const model = ml.command('model').description('registered models');

  modelCommand(model, 'register', 'register a file or a folder as a new model version')
    .requiredOption('-n, --name <name>', 'model name')
    .requiredOption('-p, --path <path>', 'the model file or folder, or a run\'s output as az spells it: azureml://jobs/RUN_ID/outputs/artifacts/paths/outputs/model.onnx')
    .option('-d, --description <text>', 'description')
    .option('--tags <tags>', 'space-separated key=value pairs', parseTags)
    .option('-v, --version <n>', 'version number (default: the latest + 1)', parseVersion)
    .action(
      printing(async (o: WorkspaceOptions & { name: string; path: string; description?: string; tags?: Record<string, string>; version?: number }) => {
        const workspace = await workspaceOf(o);
        const common = { workspace, modelName: o.name, description: o.description, tags: o.tags, version: o.version };
        // A run's artifact is copied on the server; nothing is uploaded from here.
        if (o.path.startsWith('azureml://')) return Model.registerFromUri({ ...common, modelUri: o.path });
        return Model.register({ ...common, modelPath: o.path });
      }, 'model'),
    );

  modelCommand(model, 'list', "list the workspace's model versions, each model's newest first")
    .option('-n, --name <name>', 'only this model')
    .action(
      printing(async (o: WorkspaceOptions & { name?: string }) => Model.list(await workspaceOf(o), { name: o.name }), 'model'),
    );

  modelCommand(model, 'show', 'show a model version (default: the latest)')
    .requiredOption('-n, --name <name>', 'model name')
    .option('-v, --version <n>', 'version number', parseVersion)
    .action(printing(async (o: WorkspaceOptions & { name: string; version?: number }) => Model.get(await workspaceOf(o), o.name, o.version), 'model'));

  modelCommand(model, 'download', "download a model version's files (default: the latest)")
    .requiredOption('-n, --name <name>', 'model name')
    .option('-v, --version <n>', 'version number', parseVersion)
    .requiredOption('-t, --target-dir <dir>', 'directory to write the files into')
    .option('--overwrite', 'replace files that exist')
    .action(
      printing(async (o: WorkspaceOptions & { name: string; version?: number; targetDir: string; overwrite?: boolean }) => {
        const m = await Model.get(await workspaceOf(o), o.name, o.version);
        return { name: m.name, version: m.version, path: await m.download({ targetDir: o.targetDir, overwrite: o.overwrite === true }) };
      }),
    );

  modelCommand(model, 'delete', 'delete a model version, or with no --version the model and all its versions')
    .requiredOption('-n, --name <name>', 'model name')
    .option('-v, --version <n>', 'version number', parseVersion)
    .action(
      printing(async (o: WorkspaceOptions & { name: string; version?: number }) => {
        const workspace = await workspaceOf(o);
        if (o.version === undefined) await Model.deleteAll(workspace, o.name);
        else await new Model(workspace, o.name, o.version).delete();
      }),
    );
}
