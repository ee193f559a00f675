/**
 * A node's link to the server over HTTP(S), with its credential as the bearer token
 * (`tsnd_…`). A 4xx answer is a refusal ({@link NodeLinkRefusal}); anything else that
 * fails is thrown as it is, for the agent to retry.
 */
import fs from 'node:fs';
import type { IdentityTokenAnswer, IdentityTokenRequest, PollAnswer } from '../nodeService.js';
import { NodeLinkRefusal, type NodeLink, type RunEvent } from './link.js';

/** Who the credential says the node is (GET /nodes/v1/me). */
export interface NodeIdentity {
  nodeId: string;
  name: string;
  compute: string;
  workspace: string;
}

export class HttpLink implements NodeLink {
  private readonly base: string;

  constructor(
    server: string,
    private readonly credential: string,
  ) {
    this.base = `${server.replace(/\/+$/, '')}/nodes/v1`;
  }

  private async call<T>(method: string, p: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const init: RequestInit = { method, headers: { authorization: `Bearer ${this.credential}` } };
    if (signal) init.signal = signal;
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    const response = await fetch(`${this.base}${p}`, init);
    const text = await response.text();
    if (response.status >= 400 && response.status < 500) {
      let message = `the server refused (${response.status})`;
      try {
        const parsed = JSON.parse(text) as { error?: { message?: string } };
        if (parsed.error?.message) message = parsed.error.message;
      } catch {
        // Not JSON: the status says enough.
      }
      throw new NodeLinkRefusal(response.status, message);
    }
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  me(): Promise<NodeIdentity> {
    return this.call('GET', '/me');
  }

  poll(input: { running: string[]; capacity: number; waitSec: number }, signal: AbortSignal): Promise<PollAnswer> {
    return this.call('POST', '/poll', input, signal);
  }

  report(runRowId: string, event: RunEvent): Promise<{ cancel: boolean }> {
    return this.call('POST', `/runs/${encodeURIComponent(runRowId)}/events`, event);
  }

  async uploadArtifact(runRowId: string, artifactPath: string, file: string): Promise<void> {
    const form = new FormData();
    const blob = await fs.openAsBlob(file);
    form.append('file', blob, artifactPath);
    await this.call('POST', `/runs/${encodeURIComponent(runRowId)}/artifacts`, form);
  }

  identityToken(runRowId: string, request: IdentityTokenRequest): Promise<IdentityTokenAnswer> {
    return this.call('POST', '/token', { runId: runRowId, ...request });
  }
}
