/** Runs the real `tessera` command as a child process, as a user would. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** packages/cli/bin/tessera.js, from packages/cli/dist/test/helpers/. */
export const TESSERA_BIN = fileURLToPath(new URL('../../../bin/tessera.js', import.meta.url));

/** How a child process ended and what it printed. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment for a child: this one without TESSERA_* settings, CA overrides or
 * node:test's own variables, plus `extra`.
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('TESSERA_') || key === 'NODE_EXTRA_CA_CERTS' || key.startsWith('NODE_TEST')) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/**
 * Runs `tessera …args` to completion.
 * @example const { code, stdout } = await tessera(['account', 'show'], { TESSERA_CONFIG_DIR: dir });
 */
export function tessera(args: string[], env: Record<string, string>, options: { cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TESSERA_BIN, ...args], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'], cwd: options.cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs `tessera …args`, expects exit status 0, and parses its JSON output. */
export async function tesseraJson<T = Record<string, unknown>>(args: string[], env: Record<string, string>, options: { cwd?: string } = {}): Promise<T> {
  const result = await tessera(args, env, options);
  if (result.code !== 0) throw new Error(`tessera ${args[0]} ${args[1] ?? ''} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** Runs an ES module `script` with `node -e` in a child with environment `env`; resolves with its stdout. */
export function runNodeScript(script: string, env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
