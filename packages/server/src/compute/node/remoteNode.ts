/**
 * A node in its own process (`tessera node start`): reads its credential from a file,
 * checks with the server that it is the node of the compute it was told, probes the
 * sandbox, and runs its compute's jobs over HTTP until stopped or refused.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Sandbox } from '../../sandbox/index.js';
import type { SandboxPolicy } from '../../sandbox/policy.js';
import { NodeAgent } from './agent.js';
import { HttpLink, type NodeIdentity } from './httpLink.js';

export interface RemoteNodeOptions {
  server: string;
  tokenFile: string;
  /** The compute the node is meant to serve: refused when the credential is another's. */
  compute: string;
  sandbox: SandboxPolicy;
  python: string;
  environments: Record<string, string>;
  capacity: number;
  workDir?: string;
  memoryMb?: number;
  onError: (err: unknown) => void;
  onRefused: (message: string) => void;
}

export interface RunningNode {
  identity: NodeIdentity;
  sandbox: Sandbox;
  agent: NodeAgent;
  stop(): Promise<void>;
}

export async function startRemoteNode(options: RemoteNodeOptions): Promise<RunningNode> {
  const credential = fs.readFileSync(options.tokenFile, 'utf8').trim();
  const link = new HttpLink(options.server, credential);
  const identity = await link.me();
  if (identity.compute.toLowerCase() !== options.compute.toLowerCase()) {
    throw new Error(`this credential is a node of compute '${identity.compute}', not '${options.compute}'`);
  }
  const workRoot = options.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-node-'));
  const sandbox = new Sandbox(options.sandbox, path.join(workRoot, '.sandbox'));
  await sandbox.start();
  const agent = new NodeAgent({
    link,
    resources: { isolation: sandbox.scripts, python: options.python, environments: options.environments, workRoot, memoryMb: options.memoryMb ?? 2048, cpuCores: 1 },
    capacity: options.capacity,
    waitSec: 15,
    onError: options.onError,
    onRefused: options.onRefused,
  });
  await agent.start();
  return {
    identity,
    sandbox,
    agent,
    async stop() {
      await agent.stop();
      await sandbox.close();
    },
  };
}
