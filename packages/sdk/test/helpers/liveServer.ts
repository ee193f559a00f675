/**
 * A real Tessera server for the SDK's tests: `tessera serve` as a child process (the SDK
 * does not depend on the server's code), on loopback, port 0, a temporary data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** packages/sdk/dist/test/helpers → packages/cli/bin/tessera.js */
const TESSERA_BIN = fileURLToPath(new URL('../../../../cli/bin/tessera.js', import.meta.url));

export const ADMIN_PASSWORD = 'Cobalt-meadow-47-orchid';

export interface LiveServer {
  url: string;
  /** Everything it printed to stdout (the JSON log). */
  log(): string;
  stop(): Promise<void>;
}

/** Starts a server and waits until it listens. */
export async function startLiveServer(env: Record<string, string> = {}): Promise<LiveServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-sdk-'));
  const childEnv: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('TESSERA_') && !key.startsWith('NODE_TEST')) childEnv[key] = value;
  const child: ChildProcess = spawn(process.execPath, [TESSERA_BIN, 'serve', '--port', '0', '--host', '127.0.0.1', '--data', dataDir], {
    env: { ...childEnv, TESSERA_ADMIN_PASSWORD: ADMIN_PASSWORD, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  let url: string | undefined;
  while (url === undefined) {
    url = /Tessera is listening at (\S+)/.exec(stderr)?.[1];
    if (url) break;
    if (child.exitCode !== null) throw new Error(`tessera serve exited:\n${stderr}`);
    if (Date.now() > deadline) throw new Error(`tessera serve did not start within 30 s:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url,
    log: () => stdout,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
