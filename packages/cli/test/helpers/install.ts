/**
 * Installing the packages as a user does (docs/installation.md), into temp directories,
 * offline: the CLI with `npm install -g --prefix`, and running programs as child
 * processes with a chosen PATH.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { childEnv, type CliResult } from './cli.js';

/** The repository's root, from packages/cli/dist/test/helpers/. */
export const REPO_ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));

/** npm flags for installs that must not need the network (only the cache may be read). */
export const OFFLINE = ['--offline', '--no-audit', '--no-fund', '--loglevel=error'];

/**
 * Runs `command …args` to completion in `cwd` (default the repository's root) with this
 * environment minus TESSERA_* settings (see childEnv), plus `env`.
 * @example const { code, stdout } = await run('bash', ['examples/deploy.sh'], { TESSERA_SERVER: url });
 */
export function run(command: string, args: string[], env: Record<string, string>, options: { cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: childEnv(env), cwd: options.cwd ?? REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** As {@link run}, failing with what it printed unless it exits 0. */
export async function runOk(command: string, args: string[], env: Record<string, string>, options: { cwd?: string } = {}): Promise<CliResult> {
  const result = await run(command, args, env, options);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.code}:\n${result.stderr}${result.stdout}`);
  return result;
}

/**
 * This PATH without any directory holding a `tessera` (npm puts node_modules/.bin, with
 * the workspace's link, on the PATH of `npm test`): so the tests see only the one they install.
 */
export function pathWithoutTessera(): string {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((dir) => dir !== '' && !fs.existsSync(path.join(dir, 'tessera')))
    .join(path.delimiter);
}

/**
 * `npm install -g --prefix PREFIX ./packages/cli`, offline; resolves with PREFIX/bin, which
 * holds the `tessera` launcher.
 */
export async function installCli(prefix: string): Promise<string> {
  await runOk('npm', ['install', '-g', '--prefix', prefix, './packages/cli', ...OFFLINE], { PATH: pathWithoutTessera() });
  return path.join(prefix, 'bin');
}
