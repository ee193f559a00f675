/**
 * `tessera identity …` and `tessera ml compute …` (with `ml compute node …`) against a
 * live server: identities shown as az shows them and assignable by principalId; computes
 * carrying user-assigned identities named by resource ID or bare name; node credentials
 * shown once, or written 0600 to --token-file and then never printed, rotated and revoked
 * (checked on the node protocol); and clear refusals of bad input.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/testServer.js';
import { removeTempDirs, tempDir } from './helpers/tempDirs.js';
import { tessera, tesseraJson } from './helpers/cli.js';

let server: TestServer;
let env: Record<string, string>;
let sub: string;
const ws = ['-w', 'ws1', '-g', 'ml'];
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const identityId = (rg: string, name: string) => `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;

before(async () => {
  server = await startTestServer();
  sub = server.running.bootstrap.subscriptionId;
  env = { TESSERA_CONFIG_DIR: tempDir('config') };
  await tesseraJson(['login', '--server', server.url, '-u', 'admin', '-p', ADMIN_PASSWORD], env);
  await tesseraJson(['group', 'create', '-n', 'ml', '-l', 'local'], env);
  await tesseraJson(['group', 'create', '-n', 'shared', '-l', 'local'], env);
  await tesseraJson(['ml', 'workspace', 'create', '-w', 'ws1', '-g', 'ml'], env);
});

after(async () => {
  await server.close();
  removeTempDirs();
});

/** Runs a command that must fail with `code`, a clear ERROR line matching `message` and no stack trace. */
async function fails(args: string[], code: number, message: RegExp): Promise<string> {
  const result = await tessera(args, env);
  assert.equal(result.code, code, `${args.join(' ')}: ${result.stderr}`);
  assert.match(result.stderr, /^ERROR: /);
  assert.match(result.stderr, message);
  assert.ok(!result.stderr.includes('    at '), 'no stack trace');
  return result.stderr;
}

/** The node protocol's answer to a node presenting `credential`. */
async function pollStatus(credential: string): Promise<number> {
  const res = await fetch(`${server.url}/nodes/v1/poll`, { method: 'POST', headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' }, body: JSON.stringify({ running: [], capacity: 0, waitSec: 0 }) });
  await res.body?.cancel();
  return res.status;
}

describe('tessera identity', () => {
  test('create, show (id, clientId, principalId, tenantId), list, delete, as az prints them', async () => {
    const made = await tesseraJson(['identity', 'create', '-g', 'ml', '-n', 'trainer', '--tags', 'team=ml'], env);
    assert.equal(made.id, identityId('ml', 'trainer'));
    assert.equal(made.name, 'trainer');
    assert.equal(made.type, 'Microsoft.ManagedIdentity/userAssignedIdentities');
    assert.equal(made.resourceGroup, 'ml');
    assert.deepEqual(made.tags, { team: 'ml' });
    for (const field of ['clientId', 'principalId', 'tenantId']) assert.match(String(made[field]), GUID, field);
    assert.equal(made.tenantId, server.running.bootstrap.tenantId);
    assert.deepEqual(await tesseraJson(['identity', 'show', '-g', 'ml', '-n', 'trainer'], env), made);
    const listed = await tesseraJson<Record<string, unknown>[]>(['identity', 'list', '-g', 'ml'], env);
    assert.deepEqual(listed.map((i) => i.name), ['trainer']);
    const tsv = await tessera(['identity', 'show', '-g', 'ml', '-n', 'trainer', '--query', 'principalId', '-o', 'tsv'], env);
    assert.equal(tsv.stdout, `${made.principalId}\n`);

    const scope = `/subscriptions/${sub}/resourceGroups/ml/providers/Microsoft.MachineLearningServices/workspaces/ws1`;
    const assignment = await tesseraJson(['role', 'assignment', 'create', '--assignee', String(made.principalId), '--role', 'Reader', '--scope', scope], env);
    assert.equal(assignment.principalId, made.principalId);

    await tesseraJson(['identity', 'create', '-g', 'ml', '-n', 'scratch'], env);
    assert.equal((await tessera(['identity', 'delete', '-g', 'ml', '-n', 'scratch'], env)).code, 0);
    assert.equal((await tessera(['identity', 'delete', '-g', 'ml', '-n', 'scratch'], env)).code, 0, 'deleting an absent identity is not an error');
    await fails(['identity', 'show', '-g', 'ml', '-n', 'scratch'], 1, /\(ResourceNotFound\)/);
  });

  test('hostile and missing names are refused clearly', async () => {
    await fails(['identity', 'create', '-g', 'ml', '-n', '<img src=x onerror=alert(1)>'], 1, /identity name/);
    await fails(['identity', 'create', '-g', 'ml', '-n', 'bad\u001b[2Jname'], 1, /identity name must be a non-empty name/);
    await fails(['identity', 'create', '-g', 'ml', '-n', '..'], 1, /identity name must be a non-empty name/);
    await fails(['identity', 'create', '-g', 'ml', '-n', 'x'.repeat(200)], 1, /identity name/);
    await fails(['identity', 'create', '-g', 'ml'], 2, /required option '-n, --name <name>' not specified/);
    await fails(['identity', 'create', '-g', 'nogroup', '-n', 'trainer2'], 1, /\((ResourceGroupNotFound|ResourceNotFound)\)/);
  });
});

describe('tessera ml compute', () => {
  test('create with identities named by bare name and by resource ID, show, list, delete', async () => {
    await tesseraJson(['identity', 'create', '-g', 'shared', '-n', 'shared-id'], env);
    const trainer = await tesseraJson(['identity', 'show', '-g', 'ml', '-n', 'trainer'], env);
    const made = await tesseraJson<{ name: string; identity: { type: string; userAssignedIdentities: Record<string, { clientId: string; principalId: string }> }; properties: Record<string, unknown> }>(
      ['ml', 'compute', 'create', ...ws, '--name', 'cpu', '--type', 'AmlCompute', '--user-assigned-identities', 'trainer', identityId('shared', 'shared-id'), '--max-concurrent-runs', '2', '--description', 'the cpu'],
      env,
    );
    assert.equal(made.name, 'cpu');
    assert.equal(made.identity.type, 'UserAssigned');
    assert.deepEqual(Object.keys(made.identity.userAssignedIdentities).sort(), [identityId('ml', 'trainer'), identityId('shared', 'shared-id')].sort());
    assert.equal(made.identity.userAssignedIdentities[identityId('ml', 'trainer')]!.clientId, trainer.clientId);
    assert.equal(made.properties.computeType, 'AmlCompute');
    assert.equal(made.properties.description, 'the cpu');
    assert.equal((made.properties.properties as { maxConcurrentRuns: number }).maxConcurrentRuns, 2);

    const both = await tesseraJson<{ identity: { type: string; principalId?: string } }>(['ml', 'compute', 'create', ...ws, '--name', 'gpu', '--type', 'computeinstance', '--identity-type', 'SystemAssigned,UserAssigned', '--user-assigned-identities', 'trainer'], env);
    assert.equal(both.identity.type, 'SystemAssigned,UserAssigned');
    assert.match(String(both.identity.principalId), GUID);
    const plain = await tesseraJson<{ identity?: { type: string } }>(['ml', 'compute', 'create', ...ws, '--name', 'plain', '--type', 'amlcompute'], env);
    assert.ok(plain.identity === undefined || plain.identity.type === 'None');

    const listed = await tesseraJson<{ name: string }[]>(['ml', 'compute', 'list', ...ws], env);
    assert.deepEqual(listed.map((c) => c.name).sort(), ['cpu', 'gpu', 'plain']);
    const shown = await tesseraJson<{ name: string }>(['ml', 'compute', 'show', ...ws, '--name', 'cpu'], env);
    assert.equal(shown.name, 'cpu');
    const table = await tessera(['ml', 'compute', 'list', ...ws, '-o', 'table'], env);
    assert.match(table.stdout, /^Name\s+Type\s+Identity\s+Nodes\s+Running\s+Queued\n/);

    assert.equal((await tessera(['ml', 'compute', 'delete', ...ws, '--name', 'plain', '--yes'], env)).code, 0);
    await fails(['ml', 'compute', 'show', ...ws, '--name', 'plain'], 1, /\(ResourceNotFound\)/);
  });

  test('bad input: usage errors before any request, server refusals with their code', async () => {
    await fails(['ml', 'compute', 'create', ...ws, '--name', 'c1', '--type', 'kubernetes'], 2, /--type .*'computeinstance' or 'amlcompute'/);
    await fails(['ml', 'compute', 'create', ...ws, '--name', 'c1', '--type', 'amlcompute', '--identity-type', 'Magic'], 2, /It must be one of SystemAssigned, UserAssigned/);
    await fails(['ml', 'compute', 'create', ...ws, '--name', 'c1', '--type', 'amlcompute', '--identity-type', 'UserAssigned'], 2, /needs at least one user-assigned identity/);
    await fails(['ml', 'compute', 'create', ...ws, '--name', 'c1', '--type', 'amlcompute', '--max-concurrent-runs', '0'], 2, /whole number from 1/);
    await fails(['ml', 'compute', 'create', ...ws, '--name', 'c1', '--type', 'amlcompute', '--user-assigned-identities', 'no-such-identity'], 1, /no-such-identity|identity/i);
    await fails(['ml', 'compute', 'create', ...ws, '--name', '<b>bold', '--type', 'amlcompute'], 1, /\(InvalidParameter\) The compute name/);
    await fails(['ml', 'compute', 'create', ...ws, '--name', '<b>bold</b>', '--type', 'amlcompute'], 1, /\(InvalidParameter\) The resource name given is invalid/);
    await fails(['ml', 'compute', 'create', ...ws, '--name', 'a\u0007b', '--type', 'amlcompute'], 2, /compute name must be a non-empty name without control characters/);
    await fails(['ml', 'compute', 'show', ...ws, '--name', '..'], 1, /compute name must be a non-empty name/);
    await fails(['ml', 'compute', 'show', ...ws, '--name', 'nope'], 1, /\(ResourceNotFound\)/);
  });
});

describe('tessera ml compute node', () => {
  test('register prints the credential once; list never shows it; the credential works on the node protocol', async () => {
    const node = await tesseraJson<{ nodeId: string; name: string; state: string; credential: string }>(['ml', 'compute', 'node', 'register', ...ws, '--compute', 'cpu', '--name', 'box-1'], env);
    assert.match(node.credential, /^tsnd_/);
    assert.equal(node.name, 'box-1');
    const listed = await tessera(['ml', 'compute', 'node', 'list', ...ws, '--compute', 'cpu'], env);
    assert.ok(!listed.stdout.includes(node.credential) && !listed.stdout.includes('tsnd_'));
    const nodes = JSON.parse(listed.stdout) as { nodeId: string; state: string }[];
    assert.ok(nodes.some((n) => n.nodeId === node.nodeId));
    assert.equal(await pollStatus(node.credential), 200);
  });

  test('--token-file gets the credential (0600, replacing a wider file) and stdout never does; rotate and revoke stop the old one', async () => {
    const dir = tempDir('node');
    const file = path.join(dir, 'node.token');
    const reg = await tessera(['ml', 'compute', 'node', 'register', ...ws, '--compute', 'cpu', '--token-file', file], env);
    assert.equal(reg.code, 0, reg.stderr);
    assert.ok(!reg.stdout.includes('tsnd_') && !reg.stderr.includes('tsnd_'), 'the credential is not printed');
    const shown = JSON.parse(reg.stdout) as { nodeId: string; tokenFile: string; credential?: string };
    assert.equal(shown.credential, undefined);
    assert.equal(shown.tokenFile, file);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const first = fs.readFileSync(file, 'utf8').trim();
    assert.match(first, /^tsnd_/);
    assert.equal(await pollStatus(first), 200);

    fs.chmodSync(file, 0o644);
    const rotated = await tessera(['ml', 'compute', 'node', 'rotate', ...ws, '--compute', 'cpu', '--node-id', shown.nodeId, '--token-file', file], env);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.ok(!rotated.stdout.includes('tsnd_'));
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const second = fs.readFileSync(file, 'utf8').trim();
    assert.notEqual(second, first);
    assert.equal(await pollStatus(first), 401, 'the old credential stops at once');
    assert.equal(await pollStatus(second), 200);
    assert.deepEqual(fs.readdirSync(dir), ['node.token'], 'no temporary file is left');

    assert.equal((await tessera(['ml', 'compute', 'node', 'revoke', ...ws, '--compute', 'cpu', '--node-id', shown.nodeId], env)).code, 0);
    assert.equal(await pollStatus(second), 401, 'a revoked node is refused');
  });

  test('bad input: a token file in a missing folder is refused before registering; hostile ids and names', async () => {
    const registered = await tesseraJson<unknown[]>(['ml', 'compute', 'node', 'list', ...ws, '--compute', 'cpu'], env);
    await fails(['ml', 'compute', 'node', 'register', ...ws, '--compute', 'cpu', '--token-file', '/nonexistent/dir/t'], 2, /--token-file: the folder \/nonexistent\/dir does not exist/);
    await fails(['ml', 'compute', 'node', 'register', ...ws, '--compute', 'cpu', '--token-file', tempDir('d')], 2, /is a folder/);
    assert.equal((await tesseraJson<unknown[]>(['ml', 'compute', 'node', 'list', ...ws, '--compute', 'cpu'], env)).length, registered.length, 'nothing was registered');
    await fails(['ml', 'compute', 'node', 'register', ...ws, '--compute', 'cpu', '--name', '<script>x</script>'], 1, /\(InvalidParameter\) The node name/);
    await fails(['ml', 'compute', 'node', 'rotate', ...ws, '--compute', 'cpu', '--node-id', 'no-such-node'], 1, /\((ResourceNotFound|InvalidParameter)\)/);
    await fails(['ml', 'compute', 'node', 'revoke', ...ws, '--compute', 'cpu', '--node-id', 'a\u001bb'], 1, /node id must be a non-empty name without control characters/);
    await fails(['ml', 'compute', 'node', 'list', ...ws, '--compute', 'nope'], 1, /\(ResourceNotFound\)/);
    await fails(['ml', 'compute', 'node', 'register', ...ws], 2, /required option '--compute <name>' not specified/);
  });
});
