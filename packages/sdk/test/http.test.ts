/**
 * HttpClient: both server error shapes become TesseraApiError; network failures,
 * timeouts and redirects become clear TesseraConnectionErrors that never quote a secret.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { HttpClient } from '../src/http.js';
import { TesseraApiError, TesseraConnectionError } from '../src/errors.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
const routes = new Map<string, Handler>();
let base: string;
const server = http.createServer((req, res) => {
  const handler = routes.get(req.url!.split('?')[0]!);
  if (handler) handler(req, res);
  else res.writeHead(404).end();
});

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

function json(status: number, body: unknown, headers: Record<string, string> = {}): Handler {
  return (_req, res) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

describe('HttpClient', () => {
  test('sends JSON with a bearer token and returns the parsed answer; 204 gives undefined', async () => {
    routes.set('/echo', (req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => json(200, { auth: req.headers.authorization, type: req.headers['content-type'], body: JSON.parse(body) })(req, res));
    });
    routes.set('/empty', (_req, res) => res.writeHead(204).end());
    const client = new HttpClient();
    assert.deepEqual(await client.send({ method: 'POST', url: `${base}/echo`, json: { a: 1 }, token: 't0k' }), {
      auth: 'Bearer t0k',
      type: 'application/json',
      body: { a: 1 },
    });
    assert.equal(await client.send({ method: 'DELETE', url: `${base}/empty` }), undefined);
  });

  test("a management error's code, message and request id become a TesseraApiError", async () => {
    routes.set('/forbidden', json(403, { error: { code: 'AuthorizationFailed', message: 'No permission.' } }, { 'x-ms-request-id': 'req-1' }));
    await assert.rejects(new HttpClient().send({ method: 'GET', url: `${base}/forbidden` }), (err: unknown) => {
      assert.ok(err instanceof TesseraApiError);
      assert.deepEqual([err.status, err.code, err.message, err.requestId], [403, 'AuthorizationFailed', 'No permission.', 'req-1']);
      return true;
    });
  });

  test("an OAuth error's error, description, codes, trace id and Retry-After become a TesseraApiError", async () => {
    routes.set(
      '/token',
      json(429, { error: 'temporarily_unavailable', error_description: 'AADSTS50196: Slow down.', error_codes: [50196], trace_id: 'trace-9', correlation_id: 'c' }, { 'retry-after': '7' }),
    );
    await assert.rejects(new HttpClient().send({ method: 'POST', url: `${base}/token`, form: { grant_type: 'password' } }), (err: unknown) => {
      assert.ok(err instanceof TesseraApiError);
      assert.deepEqual([err.status, err.code, err.message, err.requestId, err.errorCodes, err.retryAfter], [429, 'temporarily_unavailable', 'AADSTS50196: Slow down.', 'trace-9', [50196], 7]);
      return true;
    });
  });

  test('an error without a JSON body still gives its status', async () => {
    routes.set('/proxy-error', (_req, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>'));
    await assert.rejects(new HttpClient().send({ method: 'GET', url: `${base}/proxy-error` }), (err: unknown) => err instanceof TesseraApiError && err.status === 502 && err.code === 'Http502');
  });

  test('a success that is not JSON is reported as an invalid response', async () => {
    routes.set('/html', (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>'));
    await assert.rejects(new HttpClient().send({ method: 'GET', url: `${base}/html` }), (err: unknown) => err instanceof TesseraConnectionError && err.code === 'InvalidResponse');
  });

  test('a server that does not answer in time gives a Timeout error', async () => {
    routes.set('/slow', () => undefined);
    await assert.rejects(new HttpClient({ timeoutMs: 150 }).send({ method: 'GET', url: `${base}/slow` }), (err: unknown) => {
      assert.ok(err instanceof TesseraConnectionError);
      assert.equal(err.code, 'Timeout');
      assert.equal(err.message, `GET ${base}/slow did not answer within 0.2 s.`);
      return true;
    });
  });

  test('a refused connection names the server but never the query string, where secrets travel', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(
      new HttpClient().send({ method: 'DELETE', url: `http://127.0.0.1:${port}/login/refreshToken?refreshToken=tsrt_secret`, token: 'eyJsecret' }),
      (err: unknown) => {
        assert.ok(err instanceof TesseraConnectionError);
        assert.equal(err.message, `Cannot connect to http://127.0.0.1:${port}: connection refused. Is the server running?`);
        assert.doesNotMatch(String(err.stack), /secret/);
        return true;
      },
    );
  });

  test('a redirect is refused rather than followed with the credentials', async () => {
    routes.set('/moved', (_req, res) => res.writeHead(307, { location: 'http://127.0.0.1:1/elsewhere' }).end());
    await assert.rejects(
      new HttpClient().send({ method: 'POST', url: `${base}/moved`, json: { password: 'Not-for-elsewhere-1' } }),
      (err: unknown) => err instanceof TesseraConnectionError && err.message.startsWith(`POST ${base}/moved answered with a redirect, which is not followed`),
    );
  });

  test('a URL that is not http(s) is refused before anything is sent', async () => {
    await assert.rejects(new HttpClient().send({ method: 'GET', url: 'ftp://example.com/x' }), /must start with http/);
  });
});
