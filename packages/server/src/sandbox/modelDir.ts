/**
 * `AZUREML_MODEL_DIR`, as Azure ML sets it: with one model, the directory holding its
 * files (the model's path if it is a folder, else the folder of its one file); with
 * several, their deepest common directory (so that a model is at
 * `$AZUREML_MODEL_DIR/<name>/<version>/…` when they are laid out that way, as the
 * sandbox lays them out). No model: the service's directory.
 */
import path from 'node:path';

export function modelDirOf(models: readonly { path: string; isDirectory: boolean }[], directory: string): string {
  if (models.length === 0) return directory;
  if (models.length === 1) {
    const only = models[0]!;
    return only.isDirectory ? only.path : path.dirname(only.path);
  }
  const split = models.map((m) => path.resolve(m.path).split(path.sep));
  const common: string[] = [];
  for (let i = 0; split.every((parts) => i < parts.length - 1 && parts[i] === split[0]![i]); i++) common.push(split[0]![i]!);
  return common.join(path.sep) || path.sep;
}
