/**
 * The `yaml` library, loaded on first use: it is some seventy CommonJS modules, and only
 * `-o yaml|yamlc` and job files need it, so every other command starts without it
 * (`npm run bench` measures the CLI's start).
 */
import { createRequire } from 'node:module';

type Yaml = typeof import('yaml');

let loaded: Yaml | undefined;

export function yaml(): Yaml {
  loaded ??= createRequire(import.meta.url)('yaml') as Yaml;
  return loaded;
}
