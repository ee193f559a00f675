/**
 * Hostile and wrong model uploads and lookups: path traversal and malformed paths,
 * duplicate paths, no files, uploads over TESSERA_MODEL_UPLOAD_LIMIT, wrong content types,
 * malformed multipart, bad versions and names, unknown models. Each is a clear 4xx with
 * the right code, leaves no temporary file or stray blob, and the server still serves.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { STORE_KINDS, call } from './helpers.js';
import { adminToken, armPaths, errorOf, startArmServer, type ArmTestServer } from './arm-helpers.js';
import { filePart, filesUnder, putRaw, rawMultipart, uploadVersion } from './model-helpers.js';

const LIMIT = 64 * 1024;

for (const kind of STORE_KINDS) {
  describe(`model registry, bad input [${kind}]`, () => {
    let server: ArmTestServer;
    let admin: string;
    let p: ReturnType<typeof armPaths>;
    let ws: string;
    let modelDir: string;

    before(async () => {
      server = await startArmServer(kind, { config: { modelUploadLimit: LIMIT } });
      admin = await adminToken(server);
      p = armPaths(server);
      modelDir = server.services.config.modelDir;
      assert.equal((await call(p.url(p.rg('ml')), { method: 'PUT', token: admin, body: { location: 'local' } })).status, 201);
      ws = p.ws('ml', 'ws1');
      assert.equal((await call(p.url(ws), { method: 'PUT', token: admin, body: {} })).status, 201);
    });
    after(() => server.close());

    const versionUrl = (name: string, v: string | number) => p.url(`${ws}/models/${name}/versions/${v}`);

    /** Nothing is left in tmp/ or blobs/, and the server still registers a model. */
    async function stillServes(): Promise<void> {
      assert.deepEqual(filesUnder(path.join(modelDir, 'tmp')), [], 'no temporary file remains');
      assert.deepEqual(filesUnder(path.join(modelDir, 'blobs')), [], 'no stray blob remains');
      const ok = await uploadVersion(versionUrl('probe', 1), admin, [{ path: 'ok.bin', content: 'fine' }]);
      assert.equal(ok.status, 201, JSON.stringify(ok.body));
      assert.equal((await call(p.url(`${ws}/models/probe`), { method: 'DELETE', token: admin })).status, 200);
    }

    for (const bad of ['../x', '/abs', 'a//b', 'a/./b', 'a/../../etc/passwd', 'dir\\file', 'nul\u0000byte', 'tab\tname', 'bell\u0007', 'trailing/', '.', 'x'.repeat(513)]) {
      it(`refuses the file path ${JSON.stringify(bad.length > 40 ? `${bad.slice(0, 10)}… (${bad.length})` : bad)} with 400`, async () => {
        // filename* (RFC 5987) carries any character, so the path rules themselves are tested.
        const { body, contentType } = rawMultipart([
          filePart('good.bin', 'a'),
          { headers: [`Content-Disposition: form-data; name="file"; filename*=UTF-8''${encodeURIComponent(bad)}`], content: 'payload' },
        ]);
        const res = await putRaw(versionUrl('evil', 1), admin, body, contentType);
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(errorOf(res.body).code, 'InvalidParameter');
        assert.match(errorOf(res.body).message, /file path/);
        assert.equal((await call(versionUrl('evil', 1), { token: admin })).status, 404, 'nothing was registered');
        await stillServes();
      });
    }

    it('a raw control character in a part header is malformed multipart (400)', async () => {
      const { body, contentType } = rawMultipart([filePart('nul\u0000byte', 'x')]);
      const res = await putRaw(versionUrl('evil', 1), admin, body, contentType);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.ok(['InvalidRequestContent', 'InvalidParameter'].includes(errorOf(res.body).code));
      await stillServes();
    });

    it('refuses a path given twice (400)', async () => {
      const res = await uploadVersion(versionUrl('dup', 1), admin, [
        { path: 'a/model.bin', content: 'one' },
        { path: 'a/model.bin', content: 'two' },
      ]);
      assert.equal(res.status, 400);
      assert.match(errorOf(res.body).message, /appears more than once/);
      await stillServes();
    });

    it('refuses an upload with no file (400)', async () => {
      const form = new FormData();
      form.append('description', 'empty');
      const res = await fetch(versionUrl('empty', 1), { method: 'PUT', headers: { authorization: `Bearer ${admin}` }, body: form });
      assert.equal(res.status, 400);
      const body = (await res.json()) as Record<string, unknown>;
      assert.equal(errorOf(body).code, 'InvalidParameter');
      assert.match(errorOf(body).message, /no file/);
      await stillServes();
    });

    it('refuses parts with other names, files without names, unknown or repeated fields, bad tags (400)', async () => {
      const cases: [ReturnType<typeof rawMultipart>, RegExp][] = [
        [rawMultipart([filePart('m.bin', 'x', 'model')]), /name each file part 'file'/],
        [rawMultipart([{ headers: ['Content-Disposition: form-data; name="file"'], content: 'no filename' }]), /no filename/],
        [rawMultipart([filePart('m.bin', 'x'), { headers: ['Content-Disposition: form-data; name="owner"'], content: 'me' }]), /unknown field/],
        [rawMultipart([{ headers: ['Content-Disposition: form-data; name="tags"'], content: '["a"]' }, filePart('m.bin', 'x')]), /tags/],
        [rawMultipart([{ headers: ['Content-Disposition: form-data; name="tags"'], content: '{not json' }, filePart('m.bin', 'x')]), /tags/],
        [
          rawMultipart([
            { headers: ['Content-Disposition: form-data; name="description"'], content: 'a' },
            { headers: ['Content-Disposition: form-data; name="description"'], content: 'b' },
            filePart('m.bin', 'x'),
          ]),
          /more than once/,
        ],
        [rawMultipart([{ headers: ['Content-Disposition: form-data; name="description"'], content: 'x'.repeat(70 * 1024) }, filePart('m.bin', 'x')]), /longer than/],
      ];
      for (const [{ body, contentType }, message] of cases) {
        const res = await putRaw(versionUrl('parts', 1), admin, body, contentType);
        assert.equal(res.status, 400, `${message}: ${JSON.stringify(res.body)}`);
        assert.match(errorOf(res.body).message, message);
      }
      await stillServes();
    });

    it('refuses an upload over the limit with 413, one file or many, and keeps nothing', async () => {
      const big = await uploadVersion(versionUrl('big', 1), admin, [{ path: 'big.bin', content: Buffer.alloc(LIMIT + 1, 7) }]);
      assert.equal(big.status, 413, JSON.stringify(big.body));
      assert.equal(errorOf(big.body).code, 'RequestEntityTooLarge');
      assert.match(errorOf(big.body).message, /TESSERA_MODEL_UPLOAD_LIMIT/);
      const many = await uploadVersion(versionUrl('big', 1), admin, [
        { path: 'a.bin', content: Buffer.alloc(LIMIT / 2, 1) },
        { path: 'b.bin', content: Buffer.alloc(LIMIT / 2, 2) },
        { path: 'c.bin', content: Buffer.alloc(10, 3) },
      ]);
      assert.equal(many.status, 413);
      const huge = await uploadVersion(versionUrl('big', 1), admin, [{ path: 'huge.bin', content: Buffer.alloc(4 * 1024 * 1024, 9) }]);
      assert.equal(huge.status, 413);
      const exact = await uploadVersion(versionUrl('big', 1), admin, [{ path: 'exact.bin', content: Buffer.alloc(LIMIT, 5) }]);
      assert.equal(exact.status, 201, 'exactly the limit is allowed');
      assert.equal((await call(p.url(`${ws}/models/big`), { method: 'DELETE', token: admin })).status, 200);
      await stillServes();
    });

    it('refuses JSON and other content types on the upload with 415, and multipart elsewhere with 415', async () => {
      const json = await call(versionUrl('ct', 1), { method: 'PUT', token: admin, body: { files: [] } });
      assert.equal(json.status, 415);
      assert.equal(errorOf(json.body).code, 'UnsupportedMediaType');
      assert.match(errorOf(json.body).message, /multipart\/form-data/);
      const text = await putRaw(versionUrl('ct', 1), admin, 'hello', 'text/plain');
      assert.equal(text.status, 415);
      const { body, contentType } = rawMultipart([filePart('m.bin', 'x')]);
      const onWorkspace = await putRaw(p.url(p.ws('ml', 'ws2')), admin, body, contentType);
      assert.equal(onWorkspace.status, 415);
      assert.match(errorOf(onWorkspace.body).message, /only by model uploads/);
      const res = await fetch(`${server.url}/login`, { method: 'POST', headers: { 'content-type': contentType }, body });
      assert.equal(res.status, 415, 'a non-ARM route refuses multipart too');
      await stillServes();
    });

    it('refuses malformed multipart: no boundary, wrong boundary, truncated body, bad part header (400)', async () => {
      const { body } = rawMultipart([filePart('m.bin', 'x'.repeat(1000))], 'right-boundary');
      const noBoundary = await putRaw(versionUrl('mp', 1), admin, body, 'multipart/form-data');
      assert.equal(noBoundary.status, 400);
      assert.equal(errorOf(noBoundary.body).code, 'InvalidRequestContent');
      assert.match(errorOf(noBoundary.body).message, /boundary/);
      const wrong = await putRaw(versionUrl('mp', 1), admin, body, 'multipart/form-data; boundary=other-boundary');
      assert.equal(wrong.status, 400, JSON.stringify(wrong.body));
      const truncated = await putRaw(versionUrl('mp', 1), admin, body.subarray(0, body.length - 300), 'multipart/form-data; boundary=right-boundary');
      assert.equal(truncated.status, 400, JSON.stringify(truncated.body));
      assert.equal(errorOf(truncated.body).code, 'InvalidRequestContent');
      const badHeader = Buffer.from('--b\r\nthis is not a header line at all\r\n\r\nxyz\r\n--b--\r\n');
      const bad = await putRaw(versionUrl('mp', 1), admin, badHeader, 'multipart/form-data; boundary=b');
      assert.equal(bad.status, 400, JSON.stringify(bad.body));
      assert.equal((await call(versionUrl('mp', 1), { token: admin })).status, 404);
      await stillServes();
    });

    it('a client that hangs up mid-upload leaves nothing behind', async () => {
      const { body, contentType } = rawMultipart([filePart('m.bin', Buffer.alloc(20_000, 1))]);
      const url = new URL(versionUrl('gone', 1));
      await new Promise<void>((resolve, reject) => {
        const socket = net.connect(Number(url.port), url.hostname, () => {
          socket.write(
            `PUT ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${admin}\r\nContent-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n\r\n`,
          );
          socket.write(body.subarray(0, 5000), () => setTimeout(() => socket.destroy(), 100));
        });
        socket.on('close', () => resolve());
        socket.on('error', reject);
      });
      // The server notices the hang-up and cleans up; wait for it without asserting a time.
      for (let i = 0; i < 100 && filesUnder(path.join(modelDir, 'tmp')).length + filesUnder(path.join(modelDir, 'blobs')).length > 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal((await call(versionUrl('gone', 1), { token: admin })).status, 404);
      await stillServes();
    });

    for (const version of ['0', '-1', '1.5', 'abc', '01', '1e3', '99999999999999999999', '1000000000']) {
      it(`refuses the version '${version}' with 400 on PUT and GET`, async () => {
        const put = await uploadVersion(versionUrl('v', version), admin, [{ path: 'm.bin', content: 'x' }]);
        assert.equal(put.status, 400, JSON.stringify(put.body));
        assert.equal(errorOf(put.body).code, 'InvalidParameter');
        assert.match(errorOf(put.body).message, /model version/);
        const get = await call(versionUrl('v', version), { token: admin });
        assert.equal(get.status, 400);
      });
    }

    it('refuses bad model names with 400', async () => {
      for (const name of ['-lead', 'has space', 'colon:name', 'x'.repeat(256), 'üñí']) {
        const res = await uploadVersion(versionUrl(encodeURIComponent(name), 1), admin, [{ path: 'm.bin', content: 'x' }]);
        assert.equal(res.status, 400, `${name}: ${JSON.stringify(res.body)}`);
        assert.equal(errorOf(res.body).code, 'InvalidParameter');
      }
      await stillServes();
    });

    it('an unknown model, version, workspace or download path is 404', async () => {
      for (const url of [
        p.url(`${ws}/models/unknown`),
        p.url(`${ws}/models/unknown/versions`),
        versionUrl('unknown', 1),
        p.url(p.ws('ml', 'nows') + '/models'),
      ]) {
        const res = await call(url, { token: admin });
        assert.equal(res.status, 404, url);
        assert.equal(errorOf(res.body).code, 'ResourceNotFound');
      }
      assert.equal((await call(versionUrl('unknown', 1), { method: 'DELETE', token: admin })).status, 404);
      const upload = await uploadVersion(p.url(p.ws('ml', 'nows') + '/models/m/versions/1'), admin, [{ path: 'm.bin', content: 'x' }]);
      assert.equal(upload.status, 404);
      await stillServes();
    });

    it('a download path with control characters or repeated is 400', async () => {
      assert.equal((await uploadVersion(versionUrl('dl', 1), admin, [{ path: 'm.bin', content: 'x' }])).status, 201);
      assert.equal((await call(p.url(`${ws}/models/dl/versions/1`, 'api-version=1&path=%00'), { token: admin })).status, 400);
      assert.equal((await call(p.url(`${ws}/models/dl/versions/1`, 'api-version=1&path=m.bin&path=m.bin'), { token: admin })).status, 400);
      assert.equal((await call(p.url(`${ws}/models/dl/versions/1`, 'api-version=1&path=../m.bin'), { token: admin })).status, 404);
      assert.equal((await call(p.url(`${ws}/models/dl`), { method: 'DELETE', token: admin })).status, 200);
    });

    it('never logs a bearer token', () => {
      assert.ok(!server.logs.some((l) => l.includes(admin)));
    });
  });
}
