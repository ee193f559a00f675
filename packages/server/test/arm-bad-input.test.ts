/**
 * Hostile and broken input on every management route: bad GUIDs and names, path
 * traversal, control characters and NUL (PostgreSQL fails on NUL in text, so they must
 * be refused before any query), wrong body shapes and oversized fields. Each is a 4xx
 * with an Azure-style error naming the problem — never a 500, never a stack trace.
 */
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STORE_KINDS, call, type JsonResponse } from './helpers.js';
import { adminToken, armPaths, errorOf, newUser, startArmServer, type ArmTestServer } from './arm-helpers.js';

function assertClientError(res: JsonResponse, what: string, statuses: number[] = [400]): void {
  assert.ok(statuses.includes(res.status), `${what}: expected ${statuses.join('/')}, got ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  const error = errorOf(res.body);
  assert.ok(typeof error.message === 'string', `${what}: ${JSON.stringify(res.body).slice(0, 300)}`);
  assert.ok(error.code !== '' && error.message !== '', `${what}: an Azure-style error is expected, got ${JSON.stringify(res.body).slice(0, 300)}`);
  assert.ok(!/at \w+ \(|node_modules|\.js:\d+/.test(error.message), `${what}: no stack trace`);
  assert.ok(!error.message.includes('\u0000'), `${what}: no NUL echoed`);
}

const GUID = '6f1e0a53-6d1e-4b43-9a8c-0d8e0c3c1a11';

/** A request with the path sent exactly as written (fetch would resolve `..` and `%2e%2e` first). */
function verbatim(base: string, method: string, path: string, token: string, body?: unknown): Promise<JsonResponse> {
  const url = new URL(base);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path: `${url.pathname.replace(/\/$/, '')}${path}`,
        headers: { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString('utf8')));
        res.on('end', () => {
          let parsed: Record<string, unknown> = {};
          try {
            parsed = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
          } catch {
            parsed = { raw: text };
          }
          resolve({ status: res.statusCode ?? 0, headers: new Headers(), body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

for (const kind of STORE_KINDS) {
  describe(`ARM bad input [${kind}]`, () => {
    let server: ArmTestServer;
    let admin: string;
    let p: ReturnType<typeof armPaths>;
    let userId: string;
    const raw = (path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) => call(`${server.url}${path}`, { token: admin, ...init });

    before(async () => {
      server = await startArmServer(kind);
      admin = await adminToken(server);
      p = armPaths(server);
      userId = (await newUser(server, admin, 'target')).id;
      assert.equal((await raw(p.url(p.rg('ok')).slice(server.url.length), { method: 'PUT', body: { location: 'westeurope' } })).status, 201);
      assert.equal((await raw(p.url(p.ws('ok', 'okws')).slice(server.url.length), { method: 'PUT', body: {} })).status, 201);
    });
    after(() => server.close());

    it('bad subscription ids, resource-group names and workspace names in the path → 400', async () => {
      const sub = p.sub;
      const paths: [string, string][] = [
        ['/subscriptions/not-a-guid/resourceGroups/ok', 'malformed subscription'],
        [`/subscriptions/${encodeURIComponent("' OR 1=1 --")}/resourceGroups/ok`, 'SQL in the subscription'],
        [`${sub}/resourceGroups/${'a'.repeat(91)}`, 'resource group name of 91 characters'],
        [`${sub}/resourceGroups/ends-with-dot.`, 'resource group name ending in a dot'],
        [`${sub}/resourceGroups/bad%00name`, 'NUL in a resource group name'],
        [`${sub}/resourceGroups/bad%1b%5b31mname`, 'an escape sequence in a name'],
        [`${sub}/resourceGroups/a%2Fb`, 'an encoded slash in a name'],
        [`${sub}/resourceGroups/%2e%2e`, 'an encoded .. (path traversal)'],
        [`${sub}/resourceGroups/..`, 'a literal .. (path traversal)'],
        [`${sub}/resourceGroups/ok/providers/Microsoft.MachineLearningServices/workspaces/%00%00%00`, 'NUL in a workspace name'],
        [`${sub}/resourceGroups/ok/providers/Microsoft.MachineLearningServices/workspaces/${'w'.repeat(300)}`, 'an over-long workspace name'],
        [`${sub}/resourceGroups/ok/providers/Microsoft.MachineLearningServices/workspaces/..%2F..%2Fetc%2Fpasswd`, 'traversal in a workspace name'],
        [`${sub}//resourceGroups/ok`, 'an empty segment'],
        [`${sub}/resourceGroups/ok/providers/Micro%00soft.Authorization/roleAssignments`, 'NUL in a provider namespace'],
      ];
      for (const [path, what] of paths) {
        for (const method of ['GET', 'PUT', 'DELETE']) {
          const res = await verbatim(server.url, method, `${path}?api-version=2023-10-01`, admin, method === 'PUT' ? { location: 'westeurope' } : undefined);
          assertClientError(res, `${method} ${what}`, [400, 404]);
        }
      }
    });

    it('a malformed percent-encoding in the path → 400', async () => {
      // Fastify's router refuses it before any route runs; app.ts's frameworkErrors hands it to our error mapping.
      const res = await verbatim(server.url, 'GET', `${p.sub}/resourceGroups/bad%E0%A4%A?api-version=1`, admin);
      assert.equal(res.status, 400);
      assert.equal((res.body as { error: { code: string } }).error.code, 'InvalidParameter');
      assert.ok(!JSON.stringify(res.body).includes('%E0'), 'the URL is not echoed');
    });

    it('bad role definition and assignment ids → 400', async () => {
      for (const id of ['not-a-guid', `${GUID}x`, '%00', "x' OR '1'='1"]) {
        for (const type of ['roleDefinitions', 'roleAssignments']) {
          for (const method of ['GET', 'PUT', 'DELETE']) {
            const res = await raw(`${p.sub}/providers/Microsoft.Authorization/${type}/${id}?api-version=2022-04-01`, { method, body: method === 'PUT' ? { properties: {} } : undefined });
            assertClientError(res, `${method} ${type}/${id}`);
          }
        }
      }
    });

    it('hostile query strings → 400; unknown parameters and api-versions are accepted', async () => {
      const base = `${p.sub}/providers/Microsoft.Authorization/roleAssignments`;
      assertClientError(await raw(`${base}?api-version=1&api-version=2`), 'a duplicated api-version');
      assertClientError(await raw(`${base}?api-version=%00`), 'NUL in api-version');
      assertClientError(await raw(`${base}?$filter=${encodeURIComponent("principalId eq '' or 1 eq 1")}`), 'an injected $filter');
      assertClientError(await raw(`${base}?$filter=${encodeURIComponent("principalId eq 'not-a-guid'")}`), 'a $filter with a bad GUID');
      assertClientError(await raw(`${base}?$filter=${encodeURIComponent("roleName eq 'Owner'")}`), 'a roleName filter on assignments');
      assertClientError(await raw(`${base}?$filter=${'x'.repeat(3000)}`), 'an over-long $filter');
      assertClientError(await raw(`${p.sub}/providers/Microsoft.Authorization/roleDefinitions?$filter=${encodeURIComponent("type eq 'Weird'")}`), 'an unknown role type');
      assert.equal((await raw(`${base}?api-version=0000-00-00&unknown=1`)).status, 200);
    });

    it('wrong body shapes on resource groups and workspaces → 400 naming the field', async () => {
      const rg = p.rg('shapes');
      const ws = p.ws('ok', 'shapes');
      const cases: [string, string, unknown, RegExp][] = [
        ['PUT', rg, '["westeurope"]', /JSON object/],
        ['PUT', rg, '"westeurope"', /JSON object/],
        ['PUT', rg, '42', /JSON object/],
        ['PUT', rg, 'null', /missing|JSON object/],
        ['PUT', rg, { location: 42 }, /location/],
        ['PUT', rg, { location: 'west\u0000europe' }, /location/],
        ['PUT', rg, { location: 'x'.repeat(65) }, /location/],
        ['PUT', rg, { location: 'westeurope', tags: ['a'] }, /tags/],
        ['PUT', rg, { location: 'westeurope', tags: { a: 1 } }, /tag/],
        ['PUT', rg, { location: 'westeurope', tags: { a: 'b\u0000' } }, /tag/],
        ['PUT', rg, { location: 'westeurope', tags: { 'a\u0000': 'b' } }, /tag/],
        ['PUT', rg, { location: 'westeurope', tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, 'v'])) }, /50/],
        ['PUT', rg, { location: 'westeurope', colour: 'blue' }, /colour/],
        ['PUT', rg, { location: 'westeurope', name: 'another-name' }, /name/],
        ['PUT', rg, { location: 'westeurope', managedBy: '/x' }, /managedBy/],
        ['PATCH', p.rg('ok'), { tags: 'x' }, /tags/],
        ['PUT', ws, { properties: 'x' }, /properties/],
        ['PUT', ws, { properties: { description: 'a\u0000b' } }, /properties/],
        ['PUT', ws, { properties: { 'k\u0001': 'v' } }, /properties/],
        ['PUT', ws, { properties: { blob: 'x'.repeat(40 * 1024) } }, /properties/],
        ['PUT', ws, { properties: {}, sku: 'Basic' }, /sku/],
        ['PUT', ws, { kind: 5 }, /kind/],
        ['PUT', ws, { location: ['westeurope'] }, /location/],
        ['PATCH', p.ws('ok', 'okws'), { properties: [1, 2] }, /properties/],
      ];
      for (const [method, path, body, field] of cases) {
        const res = await raw(`${path}?api-version=2023-10-01`, { method, body, headers: { 'content-type': 'application/json' } });
        assertClientError(res, `${method} ${JSON.stringify(body).slice(0, 80)}`);
        assert.match(errorOf(res.body).message, field, `${method} ${JSON.stringify(body).slice(0, 80)}`);
      }
      const noBody = await fetch(`${server.url}${rg}?api-version=2023-10-01`, { method: 'PUT', headers: { authorization: `Bearer ${admin}` } });
      assert.equal(noBody.status, 400);
      assertClientError(await raw(`${rg}?api-version=1`, { method: 'PUT', body: 'location=westeurope', headers: { 'content-type': 'text/plain' } }), 'a text body', [415]);
      assertClientError(await raw(`${rg}?api-version=1`, { method: 'PUT', body: '{"location":"westeurope","location":"eastus"}' }), 'a duplicated field');
      assertClientError(await raw(`${rg}?api-version=1`, { method: 'PUT', body: { location: 'westeurope', tags: { big: 'y'.repeat(1024 * 1024) } } }), 'a 1 MB body', [413]);
    });

    it('wrong body shapes on role assignments → 400 naming the field', async () => {
      const url = `${p.rg('ok')}/providers/Microsoft.Authorization/roleAssignments/${GUID}?api-version=2022-04-01`;
      const cases: [unknown, RegExp][] = [
        [{}, /properties/],
        [{ properties: 'x' }, /properties/],
        [{ properties: { principalId: userId } }, /roleDefinitionId/],
        [{ properties: { roleDefinitionId: 'Reader' } }, /principalId/],
        [{ properties: { roleDefinitionId: 'Reader', principalId: 'not-a-guid' } }, /principalId/],
        [{ properties: { roleDefinitionId: 'Reader', principalId: `${userId}\u0000` } }, /principalId/],
        [{ properties: { roleDefinitionId: 'R'.repeat(5000), principalId: userId } }, /roleDefinitionId/],
        [{ properties: { roleDefinitionId: 'Rea\u0000der', principalId: userId } }, /roleDefinitionId/],
        [{ properties: { roleDefinitionId: 42, principalId: userId } }, /roleDefinitionId/],
        [{ properties: { roleDefinitionId: 'Reader', principalId: userId, principalType: 'Robot' } }, /principalType/],
        [{ properties: { roleDefinitionId: 'Reader', principalId: userId, condition: "@Resource[x] == 'y'" } }, /condition/],
        [{ properties: { roleDefinitionId: 'Reader', principalId: userId, scope: p.rg('other') } }, /scope/],
        [{ properties: { roleDefinitionId: 'Reader', principalId: userId, isAdmin: true } }, /isAdmin/],
        [{ properties: { roleDefinitionId: 'Reader', principalId: userId }, name: '00000000-0000-0000-0000-000000000000' }, /name/],
      ];
      for (const [body, field] of cases) {
        const res = await raw(url, { method: 'PUT', body });
        assertClientError(res, JSON.stringify(body).slice(0, 100));
        assert.match(errorOf(res.body).message, field, JSON.stringify(body).slice(0, 100));
      }
    });

    it('hostile role definitions → 400', async () => {
      const url = `${p.sub}/providers/Microsoft.Authorization/roleDefinitions/${GUID}?api-version=2022-04-01`;
      const bodies: unknown[] = [
        { Name: 'N\u0000ul', Actions: ['*/read'], AssignableScopes: [p.sub] },
        { Name: 'x'.repeat(300), Actions: ['*/read'], AssignableScopes: [p.sub] },
        { Name: 'ok', Actions: ['*/read\u0000'], AssignableScopes: [p.sub] },
        { Name: 'ok', Actions: Array.from({ length: 201 }, (_, i) => `Microsoft.X/t${i}/read`), AssignableScopes: [p.sub] },
        { Name: 'ok', Actions: ['*/read'], AssignableScopes: ['/subscriptions/../../etc'] },
        { Name: 'ok', Actions: ['*/read'], AssignableScopes: [`${p.sub}/resourceGroups/a\u0000b`] },
        { Name: 'ok', Actions: ['*/read'], AssignableScopes: [`${p.sub}/resourceGroups`] },
        { Name: 'ok', Actions: ['*/read'], AssignableScopes: [`${p.sub}//resourceGroups/x`] },
        { Name: 'ok', Actions: ['Microsoft.X/<script>/read'], AssignableScopes: [p.sub] },
        { Name: 'ok', Description: 'd\u0007', Actions: ['*/read'], AssignableScopes: [p.sub] },
        { Name: 'ok', Actions: [['*/read']], AssignableScopes: [p.sub] },
        { Name: 'ok', Actions: ['*/read'], AssignableScopes: p.sub },
        { Name: 'ok', name: 'other', Actions: ['*/read'], AssignableScopes: [p.sub] },
        { properties: { roleName: 'ok', permissions: [{ actions: ['*/read'] }], assignableScopes: [p.sub], type: 'BuiltInRole' } },
        { properties: { roleName: 'ok', permissions: Array.from({ length: 6 }, () => ({ actions: ['*/read'] })), assignableScopes: [p.sub] } },
      ];
      for (const body of bodies) assertClientError(await raw(url, { method: 'PUT', body }), JSON.stringify(body).slice(0, 100));
    });

    it('methods and paths the API does not serve → 404 RouteNotFound', async () => {
      for (const [method, path] of [
        ['POST', p.rg('ok')],
        ['PATCH', `${p.sub}/providers/Microsoft.Authorization/roleAssignments/${GUID}`],
        ['GET', `${p.sub}/providers`],
        ['GET', `${p.sub}/providers/Microsoft.MachineLearningServices`],
        ['GET', `/providers/Tessera.Authorization/checkAccess`],
        ['PUT', `${p.sub}/providers/Microsoft.MachineLearningServices/workspaces/top-level`],
        ['GET', `/subscriptions/${p.sub.slice(15)}/resourceGroups/ok/widgets/x`],
      ] as const) {
        const res = await raw(`${path}?api-version=1`, { method, body: method === 'GET' ? undefined : {} });
        assertClientError(res, `${method} ${path}`, [404]);
        assert.equal(errorOf(res.body).code, 'RouteNotFound', `${method} ${path}`);
      }
    });

    it('no input caused an unexpected failure', async () => {
      const list = await raw(`${p.sub}/resourcegroups?api-version=1`);
      assert.equal(list.status, 200, 'the store survived');
      assert.ok(!server.logs.some((l) => JSON.parse(l).level >= 50), 'no error was logged');
      for (const line of server.logs) assert.doesNotThrow(() => JSON.parse(line), 'every log line is JSON');
    });
  });
}
