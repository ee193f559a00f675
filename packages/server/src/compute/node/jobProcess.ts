/**
 * One run on a node: lays out its working directory (the code, `outputs/`), starts the
 * interpreter on its script in the sandbox with the environment a run gets (and nothing
 * of the node's own), streams its output lines to the server, ends the whole process
 * tree on exit, cancel, timeout or node stop, uploads what it left in `outputs/`, and
 * reports how it ended.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { SecretPrefix, generateSecret } from '../../crypto/secrets.js';
import type { Isolation, LaunchedWorker, RuntimeMount } from '../../sandbox/index.js';
import type { RunAssignment } from '../nodeService.js';
import type { IdentityEndpoint } from './identityEndpoint.js';
import { NodeLinkRefusal, type NodeLink, type RunEvent } from './link.js';

export interface JobResources {
  isolation: Isolation;
  /** The Python that runs `.py` scripts. */
  python: string;
  /** Named host directories jobs may use (`environmentId`). */
  environments: Record<string, string>;
  /** Where this node lays out its runs. */
  workRoot: string;
  memoryMb: number;
  cpuCores: number;
}

/** runHelper/ (tessera_run.py): beside this module when the build copied it, else in the source tree (tsc copies no .py). */
function helperDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const marker = `${path.sep}dist${path.sep}src${path.sep}`;
  const at = here.lastIndexOf(marker);
  const candidates = [path.join(here, 'runHelper')];
  if (at >= 0) candidates.push(path.join(here.slice(0, at), 'src', here.slice(at + marker.length), 'runHelper'));
  return candidates.find((c) => fs.existsSync(path.join(c, 'tessera_run.py'))) ?? candidates[0]!;
}

const HELPER_DIR = helperDir();
const MAX_OUTPUT_FILES = 1000;
const FLUSH_MS = 300;

/** The SDK's package directory, shown to JavaScript runs as `@tessera/sdk` (absent when not installed beside the server). */
function sdkPackage(): string | undefined {
  let dir: string;
  try {
    dir = path.dirname(createRequire(import.meta.url).resolve('@tessera/sdk'));
  } catch {
    return undefined;
  }
  // Its entry point is below the package (dist/src/index.js): the package is where package.json is.
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return fs.existsSync(path.join(dir, 'package.json')) ? dir : undefined;
}

async function listFiles(root: string, rel = ''): Promise<string[]> {
  let entries: fs.Dirent[];
  try {
    entries = await fsp.readdir(path.join(root, rel), { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const e of entries) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(root, p)));
    else if (e.isFile()) out.push(p);
    if (out.length > MAX_OUTPUT_FILES) break;
  }
  return out;
}

export class JobProcess {
  private worker: LaunchedWorker | undefined;
  private stopping: { status: 'Failed' | 'Canceled'; error: { code: string; message: string } } | undefined;
  private pending: NonNullable<RunEvent['logs']> = [];
  private flushing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private readonly secret = generateSecret(SecretPrefix.identitySecret);
  readonly done: Promise<void>;

  constructor(
    readonly run: RunAssignment,
    private readonly link: NodeLink,
    private readonly identity: IdentityEndpoint,
    private readonly resources: JobResources,
    private readonly onError: (err: unknown) => void,
  ) {
    this.done = this.execute().catch((err: unknown) => this.onError(err));
  }

  /** Ends the run's processes; it is then reported as `status` with the reason. */
  stop(status: 'Failed' | 'Canceled', error: { code: string; message: string }): void {
    this.stopping ??= { status, error };
    void this.worker?.finish();
  }

  private log(stream: 'stdout' | 'stderr' | 'system', text: string): void {
    this.pending.push({ stream, text });
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, FLUSH_MS);
  }

  /** Sends buffered lines (one report at a time, in order); a cancel in the answer stops the run. */
  private flush(event: Omit<RunEvent, 'logs'> = {}): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const logs = this.pending.splice(0, this.pending.length);
      if (logs.length === 0 && Object.keys(event).length === 0) return;
      try {
        const answer = await this.link.report(this.run.runRowId, logs.length > 0 ? { ...event, logs } : event);
        if (answer.cancel && !event.status) this.stop('Canceled', { code: 'Canceled', message: 'The job was canceled.' });
      } catch (err) {
        // The run is gone on the server (deleted with its workspace or compute): stop it.
        if (err instanceof NodeLinkRefusal && err.status === 404) this.stop('Canceled', { code: 'Canceled', message: 'The job no longer exists.' });
        else if (!(err instanceof NodeLinkRefusal)) this.pending.unshift(...logs);
      }
    });
    return this.flushing;
  }

  private async execute(): Promise<void> {
    const run = this.run;
    const host = path.join(this.resources.workRoot, run.runRowId);
    const workDir = path.join(host, 'wd');
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let launchError: string | undefined;
    try {
      await fsp.rm(host, { recursive: true, force: true });
      await fsp.mkdir(path.join(workDir, 'outputs'), { recursive: true, mode: 0o700 });
      for (const [p, b64] of Object.entries(run.code)) {
        const target = path.join(workDir, p);
        if (!target.startsWith(`${workDir}/`)) throw new Error(`the code path ${JSON.stringify(p)} leaves the working directory`);
        await fsp.mkdir(path.dirname(target), { recursive: true });
        await fsp.writeFile(target, Buffer.from(b64, 'base64'));
      }
      const { isolation } = this.resources;
      const mounts: RuntimeMount[] = [{ source: HELPER_DIR, target: '/opt/tessera/run' }];
      const sdk = sdkPackage();
      const sdkMount = sdk ? { source: sdk, target: '/mnt/azureml/wd/node_modules/@tessera/sdk' } : undefined;
      let envDir: string | undefined;
      if (run.environment !== null) {
        envDir = this.resources.environments[run.environment];
        if (!envDir) throw new Error(`this node has no environment named '${run.environment}' (it has: ${Object.keys(this.resources.environments).join(', ') || 'none'})`);
        mounts.push({ source: envDir, target: '/mnt/azureml/env' });
        if (fs.existsSync(path.join(envDir, 'node_modules'))) mounts.push({ source: path.join(envDir, 'node_modules'), target: '/mnt/azureml/node_modules' });
      }
      const program = run.runtime === 'python' ? this.resources.python : process.execPath;
      const prepared = await isolation.prepareJob({ workDir, mounts: sdkMount ? [...mounts, sdkMount] : mounts, programs: [program] });
      // Where the SDK and the environment's packages are found: mount points in the
      // sandbox, links beside the code without one.
      if (sdk) {
        const at = path.join(workDir, 'node_modules', '@tessera', 'sdk');
        await fsp.mkdir(path.dirname(at), { recursive: true });
        if (prepared.kind === 'sandbox') await fsp.mkdir(at, { recursive: true });
        else await fsp.symlink(sdk, at, 'dir');
      }
      if (envDir && prepared.kind === 'process' && fs.existsSync(path.join(envDir, 'node_modules'))) await fsp.symlink(path.join(envDir, 'node_modules'), path.join(host, 'node_modules'), 'dir');
      const hasIdentity = run.identities.length > 0;
      if (hasIdentity) this.identity.allow(this.secret, run.runRowId);
      const env: Record<string, string> = {
        ...run.variables,
        ...prepared.baseEnv,
        PYTHONPATH: prepared.pathOf(mounts[0]!),
        PYTHONUNBUFFERED: '1',
        AZUREML_RUN_ID: run.runId,
        AZUREML_RUN_TOKEN: run.runToken,
        AZUREML_RUN_TOKEN_EXPIRY: String(run.runTokenExpiresOn),
        AZUREML_SERVICE_ENDPOINT: run.serviceEndpoint,
        AZUREML_ARM_SUBSCRIPTION: run.subscriptionId,
        AZUREML_ARM_RESOURCEGROUP: run.resourceGroup,
        AZUREML_ARM_WORKSPACE_NAME: run.workspaceName,
        AZUREML_ARM_PROJECT_NAME: run.experiment,
        AZUREML_EXPERIMENT_NAME: run.experiment,
      };
      if (process.env.NODE_EXTRA_CA_CERTS && run.serviceEndpoint.startsWith('https:')) env.NODE_EXTRA_CA_CERTS = process.env.NODE_EXTRA_CA_CERTS;
      if (envDir) env.PATH = `${prepared.pathOf(mounts[1]!)}/bin:${env.PATH ?? '/usr/bin:/bin'}`;
      if (hasIdentity) {
        Object.assign(env, {
          IDENTITY_ENDPOINT: this.identity.endpoint,
          IDENTITY_HEADER: this.secret,
          MSI_ENDPOINT: this.identity.endpoint,
          MSI_SECRET: this.secret,
          DEFAULT_IDENTITY_CLIENT_ID: run.identities[0]!.clientId,
        });
      }
      if (this.stopping) throw new Error('stopped before it started');
      this.worker = prepared.spawn({
        command: prepared.program(program),
        args: [run.script, ...run.args],
        env,
        memoryMb: this.resources.memoryMb,
        addressSpaceSlackMb: 1024,
        cpuCores: this.resources.cpuCores,
        label: `run-${run.runRowId.slice(0, 8)}`,
      });
      const child = this.worker.child;
      // Listened for at once: a quick script may be gone before the next await returns.
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
      readline.createInterface({ input: child.stdout!, crlfDelay: Infinity }).on('line', (line) => this.log('stdout', line));
      readline.createInterface({ input: child.stderr!, crlfDelay: Infinity }).on('line', (line) => this.log('stderr', line));
      child.on('error', (err) => {
        launchError = err.message;
      });
      await this.flush({ status: 'Running' });
      const timeout = setTimeout(() => this.stop('Failed', { code: 'Timeout', message: `The job ran past its timeout of ${run.timeoutSec} s and was stopped.` }), run.timeoutSec * 1000);
      exit = await exited;
      clearTimeout(timeout);
      // Whatever the script left running ends with it.
      const { outOfMemory } = await this.worker.finish();
      if (outOfMemory) this.stopping ??= { status: 'Failed', error: { code: 'OutOfMemory', message: `The job ran out of memory (limit ${this.resources.memoryMb} MiB).` } };
      await new Promise((r) => setTimeout(r, 50));
    } catch (err) {
      launchError ??= err instanceof Error ? err.message : String(err);
    } finally {
      this.identity.forget(this.secret);
    }
    await this.finish(workDir, host, exit, launchError);
  }

  private async finish(workDir: string, host: string, exit: { code: number | null; signal: NodeJS.Signals | null } | undefined, launchError: string | undefined): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    // Outputs are kept whatever the ending (a failed run's partial results help).
    const outputs = await listFiles(path.join(workDir, 'outputs'));
    for (const [i, file] of outputs.entries()) {
      if (i >= MAX_OUTPUT_FILES) {
        this.log('system', `only the first ${MAX_OUTPUT_FILES} files of outputs/ were uploaded`);
        break;
      }
      try {
        await this.link.uploadArtifact(this.run.runRowId, `outputs/${file}`, path.join(workDir, 'outputs', file));
      } catch (err) {
        this.log('system', `outputs/${file} could not be uploaded: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    let event: RunEvent;
    if (this.stopping) event = { status: this.stopping.status, error: this.stopping.error, exitCode: exit?.code ?? null };
    else if (launchError !== undefined && !exit) event = { status: 'Failed', error: { code: 'JobStartFailed', message: `The job could not be started: ${launchError}` } };
    else if (exit?.code === 0) event = { status: 'Completed', exitCode: 0 };
    else event = { status: 'Failed', exitCode: exit?.code ?? null, error: { code: 'UserError', message: exit?.signal ? `The script was killed by ${exit.signal}.` : `The script exited with code ${exit?.code ?? 'unknown'}.` } };
    if (event.status === 'Failed' && event.error) this.log('system', event.error.message);
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await this.flush(event);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    await fsp.rm(host, { recursive: true, force: true }).catch(() => undefined);
  }
}
