/** The built-in node's link: direct calls into the server's node service (no credential, no HTTP). */
import fs from 'node:fs';
import { isTesseraError } from '../../errors.js';
import type { IdentityTokenAnswer, IdentityTokenRequest, NodeService, PollAnswer } from '../nodeService.js';
import type { Runs } from '../runs.js';
import { NodeLinkRefusal, type NodeLink, type RunEvent } from './link.js';

const BUILT_IN = { kind: 'builtIn' } as const;

async function refusals<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (isTesseraError(err) && err.status < 500) throw new NodeLinkRefusal(err.status, err.message);
    throw err;
  }
}

export class LocalLink implements NodeLink {
  constructor(
    private readonly service: NodeService,
    private readonly runs: Runs,
  ) {}

  poll(input: { running: string[]; capacity: number; waitSec: number }, signal: AbortSignal): Promise<PollAnswer> {
    return this.service.poll(BUILT_IN, input, signal);
  }

  report(runRowId: string, event: RunEvent): Promise<{ cancel: boolean }> {
    return refusals(() => this.service.report(BUILT_IN, runRowId, event));
  }

  uploadArtifact(runRowId: string, artifactPath: string, file: string): Promise<void> {
    return refusals(async () => {
      await this.service.heldRun(BUILT_IN, runRowId);
      const stored = await this.runs.files.writeArtifact(runRowId, artifactPath, fs.createReadStream(file));
      await this.runs.recordArtifact(runRowId, stored);
    });
  }

  identityToken(runRowId: string, request: IdentityTokenRequest): Promise<IdentityTokenAnswer> {
    return refusals(() => this.service.identityToken(BUILT_IN, runRowId, request));
  }
}
