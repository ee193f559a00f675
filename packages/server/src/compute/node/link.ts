/**
 * How a node talks to the server: over HTTP with its credential (httpLink.ts, for
 * `tessera node start`), or by direct calls (localLink.ts, the server's built-in node).
 * The same agent (agent.ts) runs jobs over either.
 */
import type { IdentityTokenAnswer, IdentityTokenRequest, PollAnswer } from '../nodeService.js';

export interface RunEvent {
  status?: 'Running' | 'Completed' | 'Failed' | 'Canceled';
  error?: { code: string; message: string };
  exitCode?: number | null;
  logs?: { stream: 'stdout' | 'stderr' | 'system'; text: string }[];
}

export interface NodeLink {
  poll(input: { running: string[]; capacity: number; waitSec: number }, signal: AbortSignal): Promise<PollAnswer>;
  report(runRowId: string, event: RunEvent): Promise<{ cancel: boolean }>;
  /** Uploads one output file of the run as the artifact `artifactPath`. */
  uploadArtifact(runRowId: string, artifactPath: string, file: string): Promise<void>;
  identityToken(runRowId: string, request: IdentityTokenRequest): Promise<IdentityTokenAnswer>;
}

/** A refusal the server answered (4xx): passed on to the run as it is, not retried. */
export class NodeLinkRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'NodeLinkRefusal';
  }
}
