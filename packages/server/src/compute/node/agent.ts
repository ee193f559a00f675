/**
 * A node: polls the server for its compute's runs, runs each as a {@link JobProcess}
 * (at most `capacity` at once), stops those the server names (canceled, ended, gone),
 * and serves the managed-identity endpoint its runs use. Polling is also its heartbeat:
 * a node the server stops hearing from has its runs failed.
 */
import type { NodeLink } from './link.js';
import { NodeLinkRefusal } from './link.js';
import { IdentityEndpoint } from './identityEndpoint.js';
import { JobProcess, type JobResources } from './jobProcess.js';

export interface NodeAgentOptions {
  link: NodeLink;
  resources: JobResources;
  capacity: number;
  /** Longest a poll waits on the server for work. */
  waitSec: number;
  onError: (err: unknown) => void;
  /** Called when the server refuses the node itself (revoked or rotated credential): the agent stops. */
  onRefused?: (message: string) => void;
}

export class NodeAgent {
  private readonly jobs = new Map<string, JobProcess>();
  /** Runs told to stop and still ending: not named in polls again (the answer would repeat). */
  private readonly stopping = new Set<string>();
  private readonly identity: IdentityEndpoint;
  private running = false;
  private loop: Promise<void> | undefined;
  private abort = new AbortController();

  constructor(private readonly options: NodeAgentOptions) {
    this.identity = new IdentityEndpoint(options.link);
  }

  /** The identity endpoint's URL (for logs and tests). */
  get identityEndpoint(): string {
    return this.identity.endpoint;
  }

  get activeRuns(): string[] {
    return [...this.jobs.keys()];
  }

  async start(): Promise<void> {
    if (this.running) return;
    await this.identity.start();
    this.running = true;
    this.abort = new AbortController();
    this.loop = this.pollLoop();
  }

  private async pollLoop(): Promise<void> {
    const { link, capacity } = this.options;
    while (this.running) {
      try {
        const free = capacity - this.jobs.size;
        const running = [...this.jobs.keys()].filter((id) => !this.stopping.has(id));
        const answer = await link.poll({ running, capacity: free, waitSec: free > 0 ? this.options.waitSec : Math.min(2, this.options.waitSec) }, this.abort.signal);
        for (const id of answer.cancel) {
          this.stopping.add(id);
          this.jobs.get(id)?.stop('Canceled', { code: 'Canceled', message: 'The job was canceled.' });
        }
        for (const run of answer.runs) {
          const job = new JobProcess(run, link, this.identity, this.options.resources, this.options.onError);
          this.jobs.set(run.runRowId, job);
          void job.done.finally(() => {
            this.jobs.delete(run.runRowId);
            this.stopping.delete(run.runRowId);
          });
        }
        if (answer.runs.length === 0 && answer.cancel.length === 0 && free <= 0) await this.sleep(1000);
        // A direct link may answer without any I/O (SQLite is synchronous): yield, so the server keeps serving.
        else await new Promise((resolve) => setImmediate(resolve));
      } catch (err) {
        if (!this.running) break;
        if (err instanceof NodeLinkRefusal && (err.status === 401 || err.status === 403)) {
          this.options.onRefused?.(err.message);
          void this.stop('the server refused this node');
          break;
        }
        this.options.onError(err);
        await this.sleep(2000);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.abort.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Stops polling, ends every run it holds (reported Failed: the node stopped), stops the endpoint. */
  async stop(reason = 'the node stopped'): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.abort.abort();
    for (const job of this.jobs.values()) job.stop('Failed', { code: 'NodeStopped', message: `The job was stopped because ${reason}.` });
    await Promise.all([...this.jobs.values()].map((j) => j.done));
    await this.loop;
    await this.identity.stop();
  }
}
