/**
 * Records every request the SDK makes through node:http(s), with the JSON answers, from
 * the diagnostics channel node:http publishes (the SDK sends JSON and form requests with
 * node:http; see packages/sdk/src/http.ts).
 */
import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';

/** One request and its answer. */
export interface RecordedCall {
  method: string;
  /** Path without the query. */
  path: string;
  status: number;
  body: unknown;
}

/** The calls recorded so far (each once its answer has been read), and the way to stop recording. */
export interface HttpRecorder {
  calls: RecordedCall[];
  /** Stops recording. */
  restore(): void;
}

const RESPONSE = 'http.client.response.finish';

/**
 * Records until `restore()`.
 * @example const rec = recordHttp(); try { await client.me(); } finally { rec.restore(); }
 */
export function recordHttp(): HttpRecorder {
  const calls: RecordedCall[] = [];
  const onResponse = (message: unknown): void => {
    const { request, response } = message as { request: ClientRequest; response: IncomingMessage };
    // Published as the answer's headers arrive, before the SDK reads the body: a listener
    // added here sees every chunk the SDK sees, and 'end' fires here first.
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        body = text;
      }
      calls.push({ method: request.method, path: request.path.split('?')[0]!, status: response.statusCode ?? 0, body });
    });
  };
  diagnostics.subscribe(RESPONSE, onResponse);
  return { calls, restore: () => diagnostics.unsubscribe(RESPONSE, onResponse) };
}
