/**
 * docs/installation.md, done for real and offline (npm may read only its cache): the SDK
 * packed with `npm pack`, installed from the tarball into a fresh project outside the
 * clone, and used there from an ES module and from TypeScript; the CLI installed with
 * `npm install -g --prefix`, found on the PATH, answering `--version` and signing in to a
 * running server from outside the clone.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/testServer.js';
import { removeTempDirs, tempDir } from './helpers/tempDirs.js';
import { OFFLINE, REPO_ROOT, installCli, pathWithoutTessera, run, runOk } from './helpers/install.js';

const SDK_DIR = path.join(REPO_ROOT, 'packages/sdk');
const TSC = path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc');

let server: TestServer;
/** The packed SDK, made once in before(): both SDK tests use it. */
let tarball: string;
let packedFiles: string[];

before(async () => {
  server = await startTestServer();
  const packDir = tempDir('pack');
  const packed = await runOk('npm', ['pack', '--pack-destination', packDir, '--json', ...OFFLINE], {}, { cwd: SDK_DIR });
  const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = path.join(packDir, info!.filename);
  packedFiles = info!.files.map((f) => f.path);
});

after(async () => {
  await server?.close();
  removeTempDirs();
});

describe('the SDK from another project', () => {
  test('npm pack makes @tessera/sdk a tarball of its compiled code, types and sources, without the tests', () => {
    assert.equal(path.basename(tarball), 'tessera-sdk-0.1.0.tgz');
    for (const file of ['package.json', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/webservice.js', 'src/index.ts']) assert.ok(packedFiles.includes(file), `${file} is missing`);
    assert.deepEqual(packedFiles.filter((f) => f.includes('test') || f.endsWith('.tsbuildinfo')), []);
  });

  test('the tarball installs offline into a fresh project, where an ES module signs in with DeployClient and TypeScript finds the types', async () => {
    const app = tempDir('app');
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'my-app', version: '1.0.0', private: true, type: 'module' }));
    await runOk('npm', ['install', tarball, ...OFFLINE], {}, { cwd: app });
    const installed = path.join(app, 'node_modules/@tessera/sdk');
    assert.ok(fs.lstatSync(installed).isDirectory(), 'a copy, not a link into the clone');
    assert.equal((JSON.parse(fs.readFileSync(path.join(app, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies['@tessera/sdk'], `file:${path.relative(app, tarball)}`);

    fs.writeFileSync(
      path.join(app, 'whoami.mjs'),
      [
        "import { DeployClient, ClusterWebservice } from '@tessera/sdk';",
        "const client = new DeployClient(process.env.SERVER, { use: 'MLServer', auth: ['admin', process.env.PASSWORD] });",
        'const me = await client.me();',
        'console.log(JSON.stringify({ user: me.userName, target: ClusterWebservice.deployConfiguration({ authEnabled: true }).target }));',
        'await client.logout();',
      ].join('\n'),
    );
    const used = await runOk('node', ['whoami.mjs'], { SERVER: server.url, PASSWORD: ADMIN_PASSWORD }, { cwd: app });
    assert.deepEqual(JSON.parse(used.stdout), { user: 'admin', target: 'cluster' });

    // Strict TypeScript, resolving through the package's exports: a wrong type must be caught.
    fs.writeFileSync(
      path.join(app, 'check.ts'),
      [
        "import { ClusterWebservice, type DeploymentConfiguration, type ServiceAuthMode } from '@tessera/sdk';",
        'const config: DeploymentConfiguration = ClusterWebservice.deployConfiguration({ authEnabled: true });',
        "const mode: ServiceAuthMode = 'key';",
        'export const target: string = config.target + mode;',
        "export const wrong: number = ClusterWebservice.deployConfiguration().target;",
      ].join('\n'),
    );
    const compilerOptions = { strict: true, module: 'nodenext', moduleResolution: 'nodenext', noEmit: true, skipLibCheck: true, types: [] };
    fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['check.ts'] }));
    const tsc = await run('node', [TSC, '-p', '.'], {}, { cwd: app });
    assert.equal(tsc.code, 2, tsc.stdout);
    // Line 5 alone is wrong: the types resolved (an unresolved module would be an error on line 1).
    assert.deepEqual(tsc.stdout.split('\n').filter((l) => l.startsWith('check.ts(')), ["check.ts(5,14): error TS2322: Type 'string' is not assignable to type 'number'."]);
  });
});

describe('the tessera command from a clone', () => {
  test('npm install -g --prefix links the clone\'s CLI into PREFIX/bin: tessera --version, and tessera login from outside the clone', async () => {
    const prefix = tempDir('prefix');
    const bin = await installCli(prefix);
    assert.equal(fs.realpathSync(path.join(prefix, 'lib/node_modules/@tessera/cli')), path.join(REPO_ROOT, 'packages/cli'));
    const env = { PATH: `${bin}${path.delimiter}${pathWithoutTessera()}`, TESSERA_CONFIG_DIR: tempDir('config') };
    const elsewhere = tempDir('home');

    const version = await runOk('tessera', ['--version'], env, { cwd: elsewhere });
    assert.equal(version.stdout.trim(), '0.1.0');
    const login = await run('tessera', ['login', '--server', server.url, '-u', 'admin', '-p', ADMIN_PASSWORD, '--query', 'user', '-o', 'tsv'], env, { cwd: elsewhere });
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /admin@tessera\.local/);
  });
});
