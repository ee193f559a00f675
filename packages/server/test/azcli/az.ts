/**
 * The real Azure CLI (Debian's `az`) as a child process. Each profile has its own
 * AZURE_CONFIG_DIR (and HOME), so profiles run side by side without sharing a token
 * cache, and nothing touches the user's own ~/.azure. stdin is closed: a prompt fails
 * instead of waiting.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where `az` is on PATH, or undefined. */
export function findAz(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, 'az');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface AzResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** One az configuration directory trusting the test CA. */
export class AzProfile {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-az-'));

  /** `extraEnv`: more variables for every run (e.g. ARM_CLOUD_METADATA_URL). */
  constructor(
    private readonly az: string,
    private readonly caFile: string,
    private readonly extraEnv: Record<string, string> = {},
  ) {}

  /** Runs `az ARGS`; never throws for a non-zero exit (tests look at it). */
  run(args: readonly string[]): Promise<AzResult> {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: this.dir,
      LANG: 'C.UTF-8',
      AZURE_CONFIG_DIR: this.dir,
      // requests (and so MSAL and the SDK clients) trust this bundle, and only it.
      REQUESTS_CA_BUNDLE: this.caFile,
      AZURE_CORE_COLLECT_TELEMETRY: 'no',
      AZURE_CORE_NO_COLOR: '1',
      AZURE_CORE_SURVEY_MESSAGE: 'no',
      ...this.extraEnv,
    };
    return new Promise((resolve) => {
      const child = execFile(this.az, [...args], { env, timeout: 90_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
      child.stdin?.end();
    });
  }

  /** Runs `az ARGS -o json` and parses the answer; a non-zero exit throws with az's stderr. */
  async json<T>(args: readonly string[]): Promise<T> {
    const result = await this.run([...args, '-o', 'json']);
    if (result.code !== 0) throw new Error(`az ${args[0] ?? ''} ${args[1] ?? ''} exited ${result.code}: ${result.stderr.trim()}`);
    return JSON.parse(result.stdout) as T;
  }

  dispose(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
