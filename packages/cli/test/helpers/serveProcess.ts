/** `tessera serve` as a child process: its output collected, waits for what it prints. */
import { spawn, type ChildProcess } from 'node:child_process';
import { TESSERA_BIN, childEnv } from './cli.js';

/** A running `tessera serve` child process. */
export class ServeProcess {
  stdout = '';
  stderr = '';
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  private constructor(args: string[], env: Record<string, string>) {
    this.child = spawn(process.execPath, [TESSERA_BIN, 'serve', ...args], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Starts `tessera serve …args` and waits until it says it is listening. */
  static async start(args: string[], env: Record<string, string> = {}): Promise<ServeProcess> {
    const serve = new ServeProcess(args, env);
    await serve.waitForStderr(/Tessera is listening at /);
    return serve;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits until stderr matches `pattern`; fails if the process exits first or 60 s pass (a loaded machine starts slowly). */
  async waitForStderr(pattern: RegExp): Promise<RegExpMatchArray> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const match = this.stderr.match(pattern);
      if (match) return match;
      if (!this.running) throw new Error(`tessera serve exited before printing ${pattern}:\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`tessera serve did not print ${pattern} within 60 s:\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Sends `signal` to the server process. */
  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Kills it if it is still running (for after()). */
  async stop(): Promise<void> {
    if (this.running) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}
