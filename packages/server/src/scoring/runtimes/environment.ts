/**
 * What an entry script is handed: `AZUREML_MODEL_DIR` and a minimal environment. Only the
 * variables below pass into the script's own environment; the server's (database URLs,
 * secrets) is not copied there. That is all this filtering does: the script still runs
 * as the server's OS user (a JavaScript worker even in the server's process), so it can
 * read whatever that user can, including the server's environment through /proc (the
 * parent's /proc/<ppid>/environ, a worker thread's /proc/self/environ), the data
 * directory and its master key. Deploy only scripts you would run as the server.
 */
import path from 'node:path';
import type { RuntimeModel, RuntimeSpec } from './types.js';

/** Variables that say how to run programs, never what the server knows. */
const PASSED_THROUGH = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TMPDIR', 'VIRTUAL_ENV', 'PYTHONPATH', 'PYTHONHOME', 'LD_LIBRARY_PATH'];

/**
 * `AZUREML_MODEL_DIR`, as Azure ML sets it: with one model, the directory holding its
 * files (the model's path if it is a folder, else the folder of its one file); with
 * several, their deepest common directory (so a model is at `$AZUREML_MODEL_DIR/<name>/<version>/…`
 * when the gateway lays them out that way). No model: the service's directory.
 */
export function modelDirOf(models: RuntimeModel[], directory: string, isDirectory: (p: string) => boolean): string {
  if (models.length === 0) return directory;
  if (models.length === 1) {
    const only = models[0]!.path;
    return isDirectory(only) ? only : path.dirname(only);
  }
  const split = models.map((m) => path.resolve(m.path).split(path.sep));
  const common: string[] = [];
  for (let i = 0; split.every((parts) => i < parts.length - 1 && parts[i] === split[0]![i]); i++) common.push(split[0]![i]!);
  return common.join(path.sep) || path.sep;
}

/** The environment of a script's worker: a few pass-through variables plus the model variables. */
export function scriptEnvironment(spec: RuntimeSpec, modelDir: string, from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED_THROUGH) {
    const value = from[name];
    if (value !== undefined) env[name] = value;
  }
  env.AZUREML_MODEL_DIR = modelDir;
  if (spec.entryScript) env.AZUREML_ENTRY_SCRIPT = spec.entryScript;
  env.TESSERA_SERVICE_NAME = spec.serviceName;
  env.TESSERA_MODELS = JSON.stringify(spec.models.map(({ name, version, path: p }) => ({ name, version, path: p })));
  return env;
}

/** Cuts a message to a length fit for an answer or a log line. */
export function truncate(text: string, max = 1000): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}
