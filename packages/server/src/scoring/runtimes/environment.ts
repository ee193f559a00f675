/**
 * What an entry script's worker is handed: the isolation's base environment (in the
 * sandbox a fixed PATH, HOME=/tmp and TMPDIR=/tmp; without it a few pass-through
 * variables of the server's), plus the model variables. Nothing else of the server's
 * environment (database URLs, secrets) is copied there.
 */
import { statSync } from 'node:fs';
import type { HostModel, PreparedDeployment } from '../../sandbox/index.js';
import type { RuntimeSpec } from './types.js';

/** The environment of a script's worker, as its isolation prepared the deployment. */
export function scriptEnvironment(spec: RuntimeSpec, prepared: PreparedDeployment): Record<string, string> {
  const env: Record<string, string> = { ...prepared.baseEnv };
  env.AZUREML_MODEL_DIR = prepared.modelDir;
  if (spec.entryScript) env.AZUREML_ENTRY_SCRIPT = spec.entryScript;
  env.TESSERA_SERVICE_NAME = spec.serviceName;
  env.TESSERA_MODELS = JSON.stringify(prepared.models);
  return env;
}

/** The spec's models with whether each is a folder (as the isolation lays them out). */
export function hostModels(spec: RuntimeSpec): HostModel[] {
  return spec.models.map((m) => ({ ...m, isDirectory: isDirectory(m.path) }));
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Cuts a message to a length fit for an answer or a log line. */
export function truncate(text: string, max = 1000): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}
