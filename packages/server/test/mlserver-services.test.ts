/**
 * Machine Learning Server publishing: `POST/GET/PATCH/DELETE /services/{name}/{version}`,
 * consumption at `/api/{name}/{version}` and its swagger; RBAC with the creator rule; the
 * input types; bad input of every kind. Management on both stores; the runtime's edge
 * cases (code that throws or hangs) once, on SQLite. Real runtimes, real HTTP.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { call, STORE_KINDS, type JsonResponse } from './helpers.js';
import { adminToken, armPaths, assignRole, errorOf, newUser, startArmServer, type ArmTestServer } from './arm-helpers.js';
import { engineNameOf } from '../src/mlserver/names.js';
import { ConfigError, resolveConfig } from '../src/config.js';

const OWNER = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635';
const CONTRIBUTOR = 'b24988ac-6180-42a0-ab88-20f7382dd24c';
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const SCORE_ACTION = 'Microsoft.MachineLearningServices/workspaces/onlineEndpoints/score/action';

type Body = Record<string, unknown>;
type Description = Record<string, unknown>;

const COEF = Buffer.from(JSON.stringify({ a: 3, b: 1 })).toString('base64');

/** Python: the model file read once in initCode, the inputs and outputs as variables. */
const PY_LINEAR: Body = {
  runtimeType: 'Python',
  initCode: "import json, os\nwith open(os.path.join(os.environ['AZUREML_MODEL_DIR'], 'coef.json')) as f:\n    coef = json.load(f)\n",
  code: "y = coef['a'] * x + coef['b']\nprint('computed', y)\n",
  description: 'a line',
  operationId: 'predictLine',
  inputParameterDefinitions: [{ name: 'x', type: 'numeric' }],
  outputParameterDefinitions: [{ name: 'y', type: 'numeric' }],
  modelFile: { fileName: 'coef.json', content: COEF },
};

/** JavaScript: the same, with require and process in the code's context. */
const JS_LINEAR: Body = {
  runtimeType: 'JavaScript',
  initCode: "const fs = require('fs');\nconst path = require('path');\nconst coef = JSON.parse(fs.readFileSync(path.join(process.env.AZUREML_MODEL_DIR, 'coef.json'), 'utf8'));\n",
  code: "y = coef.a * x + coef.b;\nconsole.log('js computed', y);\n",
  inputParameterDefinitions: [{ name: 'x', type: 'numeric' }],
  outputParameterDefinitions: [{ name: 'y', type: 'numeric' }],
  modelFile: { fileName: 'coef.json', content: COEF },
};

const PY_ADD: Body = {
  code: 'z = x + y',
  inputParameterDefinitions: [
    { name: 'x', type: 'numeric' },
    { name: 'y', type: 'numeric' },
  ],
  outputParameterDefinitions: [{ name: 'z', type: 'numeric' }],
};

function client(server: ArmTestServer) {
  return {
    publish: (token: string | undefined, name: string, version: string, body: unknown) => call<unknown>(`${server.url}/services/${name}/${version}`, { method: 'POST', body, ...(token ? { token } : {}) }),
    list: (token: string | undefined, path = '') => call<Description[]>(`${server.url}/services${path}`, token ? { token } : {}),
    patch: (token: string | undefined, name: string, version: string, body: unknown) => call<Description>(`${server.url}/services/${name}/${version}`, { method: 'PATCH', body, ...(token ? { token } : {}) }),
    remove: (token: string | undefined, name: string, version: string) => call(`${server.url}/services/${name}/${version}`, { method: 'DELETE', ...(token ? { token } : {}) }),
    consume: (token: string | undefined, name: string, version: string, body: unknown) => call<Body>(`${server.url}/api/${name}/${version}`, { method: 'POST', body, ...(token ? { token } : {}) }),
    swagger: (token: string | undefined, name: string, version: string) => call<Body>(`${server.url}/api/${name}/${version}/swagger.json`, token ? { token } : {}),
  };
}

function ok<T>(res: JsonResponse<T>, status = 200): T {
  assert.equal(res.status, status, JSON.stringify(res.body));
  return res.body;
}

function messageOf(res: JsonResponse<unknown>): string {
  return errorOf(res.body as Body).message;
}

for (const kind of STORE_KINDS) {
  describe(`Machine Learning Server publishing (${kind})`, () => {
    let server: ArmTestServer;
    let admin: string;
    let api: ReturnType<typeof client>;
    let ws: string;

    before(async () => {
      // Nothing here hangs: the timeout only has to be out of the way on a loaded machine.
      server = await startArmServer(kind, { env: { TESSERA_SCORING_TIMEOUT_MS: '30000' } });
      admin = await adminToken(server);
      api = client(server);
      ws = `${armPaths(server).rg('mlserver')}/providers/Microsoft.MachineLearningServices/workspaces/mlserver`;
    });
    after(async () => {
      await server.close();
    });

    it('publishes Python code with init code and a model file (201, the URL as a JSON string) in the mlserver workspace, and consumes it', async () => {
      const url = ok(await api.publish(admin, 'linear', '1.0', PY_LINEAR), 201);
      assert.equal(url, `${server.url}/api/linear/1.0`);
      const out = ok(await api.consume(admin, 'linear', '1.0', { x: 2 }));
      assert.deepEqual(out, { success: true, errorMessage: '', consoleOutput: 'computed 7\n', changedFiles: [], outputParameters: { y: 7 }, outputFiles: {} });
      // The workspace was created on first use; the engine record and its model file live there.
      const arm = ok(await call<{ value: Body[] }>(armPaths(server).url(`${ws}/onlineEndpoints`), { token: admin }));
      assert.deepEqual(arm.value.map((s) => [s.name, (s.properties as Body).kind, (s.properties as Body).version]), [['linear', 'mlserver', '1.0']]);
      const model = ok(await call<Body>(armPaths(server).url(`${ws}/models/mlserver.linear.1.0/versions/1`), { token: admin }));
      assert.deepEqual((model.properties as Body).files, [{ path: 'coef.json', size: Buffer.from(COEF, 'base64').length, sha256: crypto.createHash('sha256').update(Buffer.from(COEF, 'base64')).digest('hex') }]);
    });

    it('publishes JavaScript code with init code and a model file, and consumes it', async () => {
      ok(await api.publish(admin, 'linear-js', '1.0', JS_LINEAR), 201);
      const out = ok(await api.consume(admin, 'linear-js', '1.0', { x: -1 }));
      assert.equal(out.success, true);
      assert.deepEqual(out.outputParameters, { y: -2 });
      assert.equal(out.consoleOutput, 'js computed -2\n');
    });

    it('describes services: all, by name (every version, side by side), by version; each version answers with its own code', async () => {
      ok(await api.publish(admin, 'Adder', '1.0', PY_ADD), 201);
      ok(await api.publish(admin, 'Adder', '2.0', { ...PY_ADD, code: 'z = x + y + 100', runtimeType: 'Python', description: 'v2' }), 201);
      const both = ok(await api.list(admin, '/adder'));
      assert.deepEqual(both.map((d) => [d.name, d.version]), [['Adder', '1.0'], ['Adder', '2.0']], 'names match without regard to case and keep their published casing');
      const [one] = ok(await api.list(admin, '/Adder/2.0'));
      assert.deepEqual(
        { ...one, creationTime: typeof one!.creationTime },
        {
          name: 'Adder',
          version: '2.0',
          versionPublishedBy: 'admin',
          creationTime: 'string',
          snapshotId: null,
          runtimeType: 'Python',
          initCode: '',
          code: 'z = x + y + 100',
          description: 'v2',
          operationId: 'consume',
          inputParameterDefinitions: PY_ADD.inputParameterDefinitions,
          outputParameterDefinitions: PY_ADD.outputParameterDefinitions,
          outputFileNames: [],
          modelFileName: null,
          myPermissionOnService: 'write',
          state: 'Healthy',
          url: `${server.url}/api/Adder/2.0`,
          swagger: `${server.url}/api/Adder/2.0/swagger.json`,
        },
      );
      assert.ok(ok(await api.list(admin)).some((d) => d.name === 'linear'));
      assert.deepEqual(ok(await api.consume(admin, 'Adder', '1.0', { x: 1, y: 2 })).outputParameters, { z: 3 });
      assert.deepEqual(ok(await api.consume(admin, 'adder', '2.0', { x: 1, y: 2 })).outputParameters, { z: 103 });
    });

    it('PATCH changes code, description, operationId and the model file; the old model version is removed', async () => {
      const patched = ok(await api.patch(admin, 'linear', '1.0', { description: 'steeper', operationId: 'steep', modelFile: { fileName: 'coef.json', content: Buffer.from('{"a": 10, "b": 0}').toString('base64') } }));
      assert.deepEqual([patched.description, patched.operationId, patched.modelFileName, patched.state], ['steeper', 'steep', 'coef.json', 'Healthy']);
      assert.deepEqual(ok(await api.consume(admin, 'linear', '1.0', { x: 2 })).outputParameters, { y: 20 });
      assert.equal((await call(armPaths(server).url(`${ws}/models/mlserver.linear.1.0/versions/1`), { token: admin })).status, 404);
      assert.equal((await call(armPaths(server).url(`${ws}/models/mlserver.linear.1.0/versions/2`), { token: admin })).status, 200);
      ok(await api.patch(admin, 'linear', '1.0', { code: 'y = coef["a"] * x - 1', runtimeType: 'python' }));
      assert.deepEqual(ok(await api.consume(admin, 'linear', '1.0', { x: 1 })).outputParameters, { y: 9 });
    });

    it('a PATCH whose code fails to start is refused (400) and the previous definition keeps serving', async () => {
      const res = await api.patch(admin, 'Adder', '1.0', { initCode: 'raise ValueError("bad init")' });
      assert.equal(res.status, 400);
      assert.match(messageOf(res), /bad init/);
      assert.match(messageOf(res), /keeps its previous definition/);
      const [desc] = ok(await api.list(admin, '/Adder/1.0'));
      assert.deepEqual([desc!.initCode, desc!.state], ['', 'Healthy']);
      assert.deepEqual(ok(await api.consume(admin, 'Adder', '1.0', { x: 1, y: 1 })).outputParameters, { z: 2 });
    });

    it('a publish whose code fails to start is refused (400 with the error) and leaves nothing: the same version can be published once fixed', async () => {
      const bad = await api.publish(admin, 'broken', '1', { ...PY_ADD, code: 'z = = x' });
      assert.equal(bad.status, 400);
      assert.match(messageOf(bad), /was not published: its code failed to start: .*SyntaxError/);
      assert.equal((await api.list(admin, '/broken')).status, 404);
      const badInit = await api.publish(admin, 'broken', '1', { ...PY_ADD, initCode: 'import no_such_module_here' });
      assert.equal(badInit.status, 400);
      assert.match(messageOf(badInit), /ModuleNotFoundError/);
      ok(await api.publish(admin, 'broken', '1', PY_ADD), 201);
    });

    it('DELETE removes a version (and its model file); the other versions stay', async () => {
      ok(await api.publish(admin, 'gone', '1', { ...PY_ADD, modelFile: { fileName: 'm.bin', content: 'AAEC' } }), 201);
      ok(await api.publish(admin, 'gone', '2', PY_ADD), 201);
      ok(await api.remove(admin, 'gone', '1'));
      assert.equal((await api.list(admin, '/gone/1')).status, 404);
      assert.equal((await api.consume(admin, 'gone', '1', { x: 1, y: 1 })).status, 404);
      assert.equal((await call(armPaths(server).url(`${ws}/models/mlserver.gone.1`), { token: admin })).status, 404);
      assert.deepEqual(ok(await api.list(admin, '/gone')).map((d) => d.version), ['2']);
      assert.equal((await api.remove(admin, 'gone', '1')).status, 404);
    });

    it('the creator rule: a Contributor may publish and change its own services but not others\' (403 saying so); an Owner of the scope may; myPermissionOnService follows', async () => {
      const contributor = await newUser(server, admin, 'ml-contributor');
      const owner = await newUser(server, admin, 'ml-owner');
      await assignRole(server, admin, ws, contributor.id, CONTRIBUTOR);
      await assignRole(server, admin, ws, owner.id, OWNER);
      ok(await api.publish(contributor.token, 'mine', '1', PY_ADD), 201);
      const [mine] = ok(await api.list(contributor.token, '/mine/1'));
      assert.deepEqual([mine!.versionPublishedBy, mine!.myPermissionOnService], ['ml-contributor', 'write']);
      const [theirs] = ok(await api.list(contributor.token, '/Adder/2.0'));
      assert.equal(theirs!.myPermissionOnService, 'read');

      const update = await api.patch(contributor.token, 'Adder', '2.0', { description: 'hijacked' });
      assert.equal(update.status, 403);
      assert.match(messageOf(update), /Only the creator of the service 'Adder' or an Owner of its scope may update it/);
      const del = await api.remove(contributor.token, 'Adder', '2.0');
      assert.equal(del.status, 403);
      assert.match(messageOf(del), /may delete it/);
      assert.equal(ok(await api.list(admin, '/Adder/2.0'))[0]!.description, 'v2', 'nothing changed');

      ok(await api.patch(contributor.token, 'mine', '1', { description: 'by its creator' }));
      const [seenByOwner] = ok(await api.list(owner.token, '/mine/1'));
      assert.equal(seenByOwner!.myPermissionOnService, 'write');
      ok(await api.patch(owner.token, 'mine', '1', { description: 'by an owner' }));
      ok(await api.remove(owner.token, 'mine', '1'));
    });

    it('a Reader lists and reads but may not publish, change or consume; with a role holding score/action it consumes', async () => {
      const reader = await newUser(server, admin, 'ml-reader');
      await assignRole(server, admin, ws, reader.id, READER);
      const names = ok(await api.list(reader.token)).map((d) => `${String(d.name)}/${String(d.version)}`);
      assert.ok(names.includes('Adder/1.0') && names.includes('linear/1.0'));
      assert.ok(ok(await api.list(reader.token)).every((d) => d.myPermissionOnService === 'read'));
      assert.equal((await api.publish(reader.token, 'readers', '1', PY_ADD)).status, 403);
      assert.equal((await api.patch(reader.token, 'Adder', '1.0', { description: 'x' })).status, 403);
      assert.equal((await api.remove(reader.token, 'Adder', '1.0')).status, 403);
      const denied = await api.consume(reader.token, 'Adder', '1.0', { x: 1, y: 1 });
      assert.equal(denied.status, 403);
      assert.match(messageOf(denied), /score\/action/);
      ok(await api.swagger(reader.token, 'Adder', '1.0'));

      const roleId = crypto.randomUUID();
      const p = armPaths(server);
      ok(await call(p.url(`${p.sub}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`, 'api-version=2022-04-01'), {
        method: 'PUT',
        token: admin,
        body: { Name: 'Service Consumer', IsCustom: true, Description: 'Consumes web services.', Actions: [SCORE_ACTION], NotActions: [], DataActions: [], NotDataActions: [], AssignableScopes: [p.sub] },
      }), 201);
      await assignRole(server, admin, `${ws}/onlineEndpoints/adder`, reader.id, roleId);
      assert.deepEqual(ok(await api.consume(reader.token, 'Adder', '1.0', { x: 1, y: 1 })).outputParameters, { z: 2 });
      assert.equal((await api.consume(reader.token, 'linear', '1.0', { x: 1 })).status, 403, 'the role is on one service only');
    });

    it('a user with no role sees no service and is refused everything else (403 whether or not the service exists)', async () => {
      const nobody = await newUser(server, admin, 'ml-nobody');
      assert.deepEqual(ok(await api.list(nobody.token)), []);
      assert.equal((await api.list(nobody.token, '/Adder')).status, 403);
      assert.equal((await api.list(nobody.token, '/no-such-service')).status, 403);
      assert.equal((await api.consume(nobody.token, 'no-such-service', '1', {})).status, 403);
      assert.equal((await api.publish(nobody.token, 'nobodys', '1', PY_ADD)).status, 403);
    });

    it('swagger: one operation at /api/{name}/{version} named by the operationId, with the declared types', async () => {
      const doc = ok(await api.swagger(admin, 'linear', '1.0'));
      assert.equal(doc.openapi, '3.0.3');
      const paths = doc.paths as Record<string, { post: { operationId: string } }>;
      assert.deepEqual(Object.keys(paths), ['/api/linear/1.0']);
      assert.equal(paths['/api/linear/1.0']!.post.operationId, 'steep');
      const schemas = (doc.components as { schemas: Record<string, { properties: Record<string, { type: string }> }> }).schemas;
      assert.equal(schemas.ServiceInput!.properties.x!.type, 'number');
      assert.equal(schemas.ServiceOutput!.properties.y!.type, 'number');
      assert.equal((await api.swagger(undefined, 'linear', '1.0')).status, 401);
      assert.equal((await api.swagger(admin, 'linear', '9.9')).status, 404);
    });

    it('names: ML Server names map to engine names without collision; one name in two casings is one service (409 on a second publish)', async () => {
      ok(await api.publish(admin, 'my_model.v1', '1', PY_ADD), 201);
      const engine = engineNameOf('my_model.v1');
      assert.match(engine, /^my-model-v1--[0-9a-f]{10}$/);
      assert.notEqual(engineNameOf('my-model-v1'), engine);
      assert.equal(engineNameOf('x').length >= 3, true);
      const dup = await api.publish(admin, 'MY_MODEL.V1', '1', PY_ADD);
      assert.equal(dup.status, 409);
      assert.match(messageOf(dup), /already exists/);
      assert.deepEqual(ok(await api.consume(admin, 'My_Model.V1', '1', { x: 1, y: 1 })).outputParameters, { z: 2 });
      // The Azure-ML scoring URL is not a second door to an ML Server service.
      const side = await call(`${server.url}/api/v1/service/${engine}/score`, { method: 'POST', token: admin, body: { x: 1, y: 1 } });
      assert.equal(side.status, 404);
    });

    it('bad names and versions, missing code, wrong runtimeType, bad definitions, oversized code, invalid base64: 400 naming the problem', async () => {
      const cases: [string, string, unknown, RegExp][] = [
        ['bad%20name', '1', PY_ADD, /service name .* invalid/],
        ['-dash', '1', PY_ADD, /service name .* invalid/],
        ['a'.repeat(65), '1', PY_ADD, /service name .* invalid/],
        ['ok', '.1', PY_ADD, /version .* invalid/],
        ['ok', 'v%241', PY_ADD, /version .* invalid/],
        ['ok', '1', { inputParameterDefinitions: [] }, /'code' is required/],
        ['ok', '1', { code: '   ' }, /'code' is empty/],
        ['ok', '1', { code: 42 }, /'code' must be a string/],
        ['ok', '1', { ...PY_ADD, runtimeType: 'R' }, /'R' is not available/],
        ['ok', '1', { ...PY_ADD, runtimeType: 'Perl' }, /'runtimeType' must be 'Python' or 'JavaScript'/],
        ['ok', '1', { ...PY_ADD, runtimeType: 3 }, /'runtimeType' must be/],
        ['ok', '1', { ...PY_ADD, inputParameterDefinitions: [{ name: 'x', type: 'complex' }] }, /needs a 'type'/],
        ['ok', '1', { ...PY_ADD, inputParameterDefinitions: [{ name: 'class', type: 'numeric' }] }, /reserved word/],
        ['ok', '1', { ...PY_ADD, inputParameterDefinitions: [{ name: '__builtins__', type: 'numeric' }] }, /identifier/],
        ['ok', '1', { ...PY_ADD, inputParameterDefinitions: [{ name: 'x y', type: 'numeric' }] }, /identifier/],
        ['ok', '1', { ...PY_ADD, inputParameterDefinitions: [{ name: 'x', type: 'numeric' }, { name: 'x', type: 'integer' }] }, /more than once/],
        ['ok', '1', { ...PY_ADD, inputParameterDefinitions: { x: 'numeric' } }, /must be an array/],
        ['ok', '1', { ...PY_ADD, outputParameterDefinitions: [{ name: 'z', type: 'numeric', extra: 1 }] }, /unknown field 'extra'/],
        ['ok', '1', { ...PY_ADD, code: 'x'.repeat(1024 * 1024 + 1) }, /'code' is larger than 1 MiB/],
        ['ok', '1', { ...PY_ADD, initCode: 'a\u0000b' }, /NUL/],
        ['ok', '1', { ...PY_ADD, operationId: 'not valid' }, /'operationId' must be an identifier/],
        ['ok', '1', { ...PY_ADD, modelFile: { fileName: 'm.bin', content: 'not base64!' } }, /not valid base64/],
        ['ok', '1', { ...PY_ADD, modelFile: { fileName: 'm.bin', content: 'AAE' } }, /not valid base64/],
        ['ok', '1', { ...PY_ADD, modelFile: { fileName: '../etc/passwd', content: 'AAEC' } }, /plain file name/],
        ['ok', '1', { ...PY_ADD, modelFile: { fileName: 'm.bin' } }, /'modelFile.content'/],
        ['ok', '1', { ...PY_ADD, surprise: true }, /unknown field 'surprise'/],
        ['ok', '1', [PY_ADD], /must be a JSON object/],
      ];
      for (const [name, version, body, pattern] of cases) {
        const res = await api.publish(admin, name, version, body);
        assert.equal(res.status, 400, `${name}/${version}: ${JSON.stringify(res.body).slice(0, 300)}`);
        assert.match(messageOf(res), pattern, `${name}/${version}`);
      }
      assert.equal((await api.list(admin, '/ok')).status, 404, 'nothing was published');
      assert.equal((await api.patch(admin, 'Adder', '1.0', { code: '' })).status, 400);
      assert.equal((await api.patch(admin, 'Adder', '1.0', { runtimeType: 'Fortran' })).status, 400);
    });

    it('duplicate publish 409; unknown service or version 404 everywhere; unauthenticated 401 with a challenge', async () => {
      const dup = await api.publish(admin, 'Adder', '1.0', PY_ADD);
      assert.equal(dup.status, 409);
      for (const res of [
        await api.list(admin, '/nothing-here'),
        await api.list(admin, '/Adder/9'),
        await api.patch(admin, 'Adder', '9', { description: 'x' }),
        await api.remove(admin, 'nothing-here', '1'),
        await api.consume(admin, 'Adder', '9', { x: 1, y: 1 }),
        await api.consume(admin, 'nothing-here', '1', {}),
        await api.swagger(admin, 'nothing-here', '1'),
      ]) {
        assert.equal(res.status, 404, JSON.stringify(res.body));
      }
      for (const res of [
        await api.list(undefined),
        await api.list(undefined, '/Adder'),
        await api.publish(undefined, 'anon', '1', PY_ADD),
        await api.patch(undefined, 'Adder', '1.0', {}),
        await api.remove(undefined, 'Adder', '1.0'),
        await api.consume(undefined, 'Adder', '1.0', { x: 1, y: 1 }),
        await api.consume('not-a-token', 'Adder', '1.0', { x: 1, y: 1 }),
      ]) {
        assert.equal(res.status, 401, JSON.stringify(res.body));
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
      }
    });

    it('consume checks the declared inputs: wrong types, missing and extra inputs are 400 before any code runs', async () => {
      ok(await api.publish(admin, 'typed', '1', {
        code: 'out = [n, i, l, c, len(v), len(m), len(d)]',
        inputParameterDefinitions: [
          { name: 'n', type: 'numeric' },
          { name: 'i', type: 'integer' },
          { name: 'l', type: 'logical' },
          { name: 'c', type: 'character' },
          { name: 'v', type: 'vector' },
          { name: 'm', type: 'matrix' },
          { name: 'd', type: 'data.frame' },
        ],
        outputParameterDefinitions: [{ name: 'out', type: 'vector' }],
      }), 201);
      const good = { n: 1.5, i: 2, l: true, c: 'x', v: [1, 'a', null], m: [[1, 2], [3, 4]], d: { a: [1, 2], b: ['x', 'y'] } };
      assert.deepEqual(ok(await api.consume(admin, 'typed', '1', good)).outputParameters, { out: [1.5, 2, true, 'x', 3, 2, 2] });
      assert.deepEqual(ok(await api.consume(admin, 'typed', '1', { ...good, d: [{ a: 1 }, { a: 2 }, { a: 3 }] })).outputParameters, { out: [1.5, 2, true, 'x', 3, 2, 3] });
      const wrong: [Body, RegExp][] = [
        [{ ...good, n: '1.5' }, /'n' is declared numeric/],
        [{ ...good, i: 2.5 }, /'i' is declared integer/],
        [{ ...good, l: 'true' }, /'l' is declared logical/],
        [{ ...good, c: 3 }, /'c' is declared character/],
        [{ ...good, v: [[1]] }, /'v' is declared vector/],
        [{ ...good, m: [[1, 2], [3]] }, /'m' is declared matrix/],
        [{ ...good, d: { a: [1], b: [1, 2] } }, /'d' is declared data.frame/],
        [{ ...good, d: 'frame' }, /'d' is declared data.frame/],
        [{ ...good, extra: 1 }, /Unknown input parameter 'extra'/],
        [{ n: 1 }, /Missing input parameters 'i', 'l'/],
      ];
      for (const [body, pattern] of wrong) {
        const res = await api.consume(admin, 'typed', '1', body);
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.match(messageOf(res), pattern);
      }
      assert.equal((await api.consume(admin, 'typed', '1', [good])).status, 400);
      assert.equal((await api.consume(admin, 'typed', '1', '{"n": 1, "n": 2}')).status, 400, 'a repeated field');
      assert.equal((await api.consume(admin, 'typed', '1', 'not json')).status, 400);
      const big = await api.consume(admin, 'typed', '1', { ...good, c: 'x'.repeat(1024 * 1024 + 1) });
      assert.equal(big.status, 413);
    });

    it('never logs the bearer tokens', () => {
      const text = server.logs.join('\n');
      assert.ok(!text.includes(admin), 'the admin token is not in the log');
    });
  });
}

describe('Machine Learning Server consumption: code that fails', () => {
  let server: ArmTestServer;
  let admin: string;
  let api: ReturnType<typeof client>;

  before(async () => {
    // Each hang costs the whole timeout; the consume after it waits, within its own timeout,
    // for the worker to restart: room for that on a loaded machine.
    server = await startArmServer('sqlite', { env: { TESSERA_SCORING_TIMEOUT_MS: '5000' } });
    admin = await adminToken(server);
    api = client(server);
  });
  after(async () => {
    await server.close();
  });

  for (const runtimeType of ['Python', 'JavaScript'] as const) {
    it(`${runtimeType}: code that throws answers 200 with success false and the error; a hang answers 504; the next consume succeeds`, async () => {
      const name = `fragile-${runtimeType.toLowerCase()}`;
      const code =
        runtimeType === 'Python'
          ? 'if mode == "throw":\n    raise ValueError("no such mode")\nif mode == "hang":\n    while True:\n        pass\nresult = mode.upper()\n'
          : 'if (mode === "throw") throw new RangeError("no such mode");\nif (mode === "hang") { for (;;) {} }\nresult = mode.toUpperCase();\n';
      ok(await api.publish(admin, name, '1', { runtimeType, code, inputParameterDefinitions: [{ name: 'mode', type: 'character' }], outputParameterDefinitions: [{ name: 'result', type: 'character' }] }), 201);
      const thrown = ok(await api.consume(admin, name, '1', { mode: 'throw' }));
      assert.equal(thrown.success, false);
      assert.match(String(thrown.errorMessage), runtimeType === 'Python' ? /ValueError: no such mode/ : /RangeError: no such mode/);
      assert.deepEqual(thrown.outputParameters, {});
      assert.deepEqual(ok(await api.consume(admin, name, '1', { mode: 'fine' })).outputParameters, { result: 'FINE' });
      const hung = await api.consume(admin, name, '1', { mode: 'hang' });
      assert.equal(hung.status, 504, JSON.stringify(hung.body));
      const after = ok(await api.consume(admin, name, '1', { mode: 'again' }));
      assert.deepEqual([after.success, after.outputParameters], [true, { result: 'AGAIN' }]);
    });
  }

  it('TESSERA_MLSERVER_WORKSPACE puts the services in the named workspace (created on first publish); a malformed one stops start-up', async () => {
    assert.throws(() => resolveConfig({}, { TESSERA_MLSERVER_WORKSPACE: '/subscriptions/x/resourceGroups/rg' }), ConfigError);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-mlws-'));
    try {
      const first = await startArmServer('sqlite', { dataDir });
      const sub = first.subscriptionId;
      await first.close();
      const custom = `/subscriptions/${sub}/resourceGroups/custom-rg/providers/Microsoft.MachineLearningServices/workspaces/custom-ws`;
      const second = await startArmServer('sqlite', { dataDir, env: { TESSERA_MLSERVER_WORKSPACE: custom } });
      try {
        const token = await adminToken(second);
        ok(await client(second).publish(token, 'placed', '1', PY_ADD), 201);
        const listed = ok(await call<{ value: Body[] }>(armPaths(second).url(`${custom}/onlineEndpoints`), { token }));
        assert.deepEqual(listed.value.map((s) => s.name), ['placed']);
        assert.equal((await call(armPaths(second).url(`${armPaths(second).rg('mlserver')}`), { token })).status, 404, 'the default group was not made');
      } finally {
        await second.close();
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
