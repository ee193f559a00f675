/**
 * `tessera ca …` against a live server: named locations, policies from a Graph JSON file,
 * what-if's report (which policies apply, which do not and why, the result), the lockout
 * warning that needs --force, and the refused command lines.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ConditionalAccessPolicy, IpNamedLocation, User } from '@tessera/sdk';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/testServer.js';
import { removeTempDirs, tempDir } from './helpers/tempDirs.js';
import { tessera, tesseraJson } from './helpers/cli.js';
import { postJson } from './helpers/tokens.js';

let server: TestServer;
let env: Record<string, string>;
let files: string;
let ada: User;

before(async () => {
  server = await startTestServer();
  env = { TESSERA_CONFIG_DIR: tempDir('config') };
  files = tempDir('ca-files');
  await tesseraJson(['login', '--server', server.url, '-u', 'admin', '-p', ADMIN_PASSWORD], env);
  ada = await tesseraJson<User>(['ad', 'user', 'create', '--user-name', 'ada', '--password', 'Analytical-engine-1843'], env);
});

after(async () => {
  await server.close();
  removeTempDirs();
});

function writeJson(name: string, value: unknown): string {
  const file = path.join(files, name);
  fs.writeFileSync(file, JSON.stringify(value));
  return `@${file}`;
}

interface WhatIfReport {
  result: string;
  decidedBy: { id: string; displayName: string } | null;
  applies: { displayName: string; result: string; reasons: string[] }[];
  doesNotApply: { displayName: string; reasons: string[] }[];
}

describe('tessera ca', () => {
  test('location create|list|show, policy create|list|show|update|delete from @policy.json, what-if, location delete', async () => {
    const location = await tesseraJson<IpNamedLocation>(['ca', 'location', 'create', '--name', 'this host', '--cidr', '127.0.0.1/32', '::1/128'], env);
    assert.deepEqual(location.ipRanges.map((r) => r.cidrAddress), ['127.0.0.1/32', '::1/128']);
    assert.equal((await tesseraJson<IpNamedLocation[]>(['ca', 'location', 'list'], env)).length, 1);
    assert.equal((await tesseraJson<IpNamedLocation>(['ca', 'location', 'show', '--id', location.id], env)).displayName, 'this host');

    const policyFile = writeJson('policy.json', {
      displayName: 'Block ada from this host',
      state: 'enabled',
      conditions: { users: { includeUsers: [ada.id] }, applications: { includeApplications: ['All'] }, locations: { includeLocations: [location.id] } },
      grantControls: { operator: 'OR', builtInControls: ['block'] },
    });
    const created = await tesseraJson<ConditionalAccessPolicy>(['ca', 'policy', 'create', '--policy', policyFile], env);
    assert.equal(created.state, 'enabled');
    assert.equal((await tesseraJson<ConditionalAccessPolicy[]>(['ca', 'policy', 'list'], env))[0]!.id, created.id);
    assert.equal((await tesseraJson<ConditionalAccessPolicy>(['ca', 'policy', 'show', '--id', created.id], env)).displayName, 'Block ada from this host');
    const refused = await postJson(server.url, '/login', { username: 'ada', password: 'Analytical-engine-1843' });
    assert.equal(refused.status, 400);

    const report = await tesseraJson<WhatIfReport>(['ca', 'what-if', '--user', 'ada', '--ip', '127.0.0.1', '--client-app', 'password'], env);
    assert.equal(report.result, 'block');
    assert.equal(report.decidedBy?.displayName, 'Block ada from this host');
    assert.equal(report.applies[0]!.result, 'block');
    assert.ok(report.applies[0]!.reasons.some((r) => /locations: 127\.0\.0\.1 is included \('this host'\)/.test(r)));
    const elsewhere = await tesseraJson<WhatIfReport>(['ca', 'what-if', '--user', ada.id, '--ip', '192.0.2.1', '--client-app', 'browser', '--app', '3c8a5a4e-0f7d-4b8e-9d3a-7e2b1c6f9a01', '--resource', 'https://ml.azure.com'], env);
    assert.equal(elsewhere.result, 'allow');
    assert.ok(elsewhere.doesNotApply[0]!.reasons.some((r) => /192\.0\.2\.1 is in no included location/.test(r)));

    const updated = await tesseraJson<ConditionalAccessPolicy>(['ca', 'policy', 'update', '--id', created.id, '--policy', '{"state":"enabledForReportingButNotEnforced"}'], env);
    assert.equal(updated.state, 'enabledForReportingButNotEnforced');
    assert.equal((await postJson(server.url, '/login', { username: 'ada', password: 'Analytical-engine-1843' })).status, 200, 'report-only is not enforced');

    const inUse = await tessera(['ca', 'location', 'delete', '--id', location.id], env);
    assert.equal(inUse.code, 1);
    assert.match(inUse.stderr, /\(Conflict\).*Block ada from this host/);
    const deleted = await tessera(['ca', 'policy', 'delete', '--id', created.id], env);
    assert.deepEqual([deleted.code, deleted.stdout], [0, ''], deleted.stderr);
    assert.equal((await tessera(['ca', 'location', 'delete', '--id', location.id], env)).code, 0);
  });

  test('a policy that would block you warns and is saved only with --force', async () => {
    const everyone = writeJson('everyone.json', {
      displayName: 'MFA and block for all',
      state: 'enabled',
      conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'] }, clientAppTypes: ['other'] },
      grantControls: { operator: 'OR', builtInControls: ['block'] },
    });
    const warned = await tessera(['ca', 'policy', 'create', '--policy', everyone], env);
    assert.equal(warned.code, 2);
    assert.match(warned.stderr, /^WARNING: The policy 'MFA and block for all' would block you \(admin\) from 127\.0\.0\.1 when signing in by mlServerLogin\./m);
    assert.match(warned.stderr, /--force/);
    assert.deepEqual(await tesseraJson(['ca', 'policy', 'list'], env), []);
    const forced = await tesseraJson<ConditionalAccessPolicy>(['ca', 'policy', 'create', '--policy', everyone, '--force'], env);
    assert.equal((await postJson(server.url, '/login', { username: 'admin', password: ADMIN_PASSWORD })).status, 400, 'ML Server /login is now blocked for the admin too');
    // The CLI's own session (OAuth, not ML Server's /login) still works, so the policy can be removed.
    assert.equal((await tessera(['ca', 'policy', 'delete', '--id', forced.id], env)).code, 0);
  });

  test('refused command lines: a missing file, bad JSON, both or neither of --user and --sp, a bad client app, a bad CIDR', async () => {
    const missing = await tessera(['ca', 'policy', 'create', '--policy', `@${path.join(files, 'nope.json')}`], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--policy: cannot read the file/);
    const badJson = await tessera(['ca', 'policy', 'create', '--policy', '{"displayName": '], env);
    assert.equal(badJson.code, 2);
    assert.equal((await tessera(['ca', 'policy', 'create', '--policy', '[1]'], env)).code, 2);
    assert.equal((await tessera(['ca', 'what-if', '--user', 'ada', '--sp', 'x', '--ip', '127.0.0.1', '--client-app', 'password'], env)).code, 2);
    assert.equal((await tessera(['ca', 'what-if', '--ip', '127.0.0.1', '--client-app', 'password'], env)).code, 2);
    assert.equal((await tessera(['ca', 'what-if', '--user', 'ada', '--ip', '127.0.0.1', '--client-app', 'carrier-pigeon'], env)).code, 2);
    const cidr = await tessera(['ca', 'location', 'create', '--name', 'bad', '--cidr', '10.0.0.0/33'], env);
    assert.equal(cidr.code, 1);
    assert.match(cidr.stderr, /\(InvalidParameter\).*10\.0\.0\.0\/33.*not a CIDR range/);
    const markup = await tessera(['ca', 'policy', 'create', '--policy', '{"displayName":"<img src=x>","state":"enabled","conditions":{"users":{"includeUsers":["nobody"]},"applications":{"includeApplications":["All"]}},"grantControls":{"operator":"OR","builtInControls":["block"]}}'], env);
    assert.equal(markup.code, 1);
    assert.match(markup.stderr, /not a user object id/);
  });
});
