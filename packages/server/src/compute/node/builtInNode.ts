/**
 * The server's built-in node (`--local-node on`, the default): runs the jobs of every
 * compute that has no registered node, in the server's process, over direct calls, so
 * that `npm start` alone can run jobs. Its runs are sandboxed like any node's.
 */
import path from 'node:path';
import type { Sandbox } from '../../sandbox/index.js';
import type { ComputePolicy } from '../index.js';
import type { NodeService } from '../nodeService.js';
import type { Runs } from '../runs.js';
import { NodeAgent } from './agent.js';
import { LocalLink } from './localLink.js';

export interface BuiltInNodeOptions {
  service: NodeService;
  runs: Runs;
  sandbox: Sandbox;
  policy: ComputePolicy;
  python: string;
  onError: (err: unknown) => void;
}

export class BuiltInNode {
  readonly agent: NodeAgent;

  constructor(options: BuiltInNodeOptions) {
    this.agent = new NodeAgent({
      link: new LocalLink(options.service, options.runs),
      resources: {
        isolation: options.sandbox.scripts,
        python: options.python,
        environments: options.policy.environments,
        workRoot: path.join(options.policy.runDir, '.node'),
        memoryMb: 2048,
        cpuCores: 1,
      },
      capacity: options.policy.localNodeCapacity,
      waitSec: 5,
      onError: options.onError,
    });
  }

  start(): Promise<void> {
    return this.agent.start();
  }

  stop(): Promise<void> {
    return this.agent.stop('the server stopped');
  }
}
