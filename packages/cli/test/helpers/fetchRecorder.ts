/** Records every request the SDK makes through the global fetch, with the JSON answers. */

/** One request and its answer. */
export interface RecordedCall {
  method: string;
  /** Path without the query. */
  path: string;
  status: number;
  body: unknown;
}

/** The calls recorded so far, and the way to stop recording. */
export interface FetchRecorder {
  calls: RecordedCall[];
  /** Puts the original fetch back. */
  restore(): void;
}

/**
 * Wraps `globalThis.fetch` until `restore()`.
 * @example const rec = recordFetch(); try { await client.me(); } finally { rec.restore(); }
 */
export function recordFetch(): FetchRecorder {
  const original = globalThis.fetch;
  const calls: RecordedCall[] = [];
  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit) => {
    const response = await original(input, init);
    const url = new URL(input instanceof Request ? input.url : input);
    const text = await response.clone().text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    calls.push({ method: init?.method ?? 'GET', path: url.pathname, status: response.status, body });
    return response;
  };
  return { calls, restore: () => (globalThis.fetch = original) };
}
