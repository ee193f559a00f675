/**
 * JSON over HTTPS to a test server whose certificate a test CA signed. This process does
 * not trust that CA globally (other suites share it), so each request names it.
 */
import https from 'node:https';

export interface HttpsAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** One request, trusting `caPem` (the CA's PEM text); objects are sent as JSON, and the answer is parsed as JSON when it is. */
export function httpsJson(url: string, caPem: string, init: { method?: string; token?: string; body?: unknown } = {}): Promise<HttpsAnswer> {
  const payload = init.body === undefined ? undefined : JSON.stringify(init.body);
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (payload !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const request = https.request(url, { method: init.method ?? (payload === undefined ? 'GET' : 'POST'), headers, ca: caPem }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: Record<string, unknown> = {};
        try {
          body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
        } catch {
          body = { raw: text };
        }
        resolve({ status: response.statusCode ?? 0, body });
      });
    });
    request.on('error', reject);
    request.end(payload);
  });
}
