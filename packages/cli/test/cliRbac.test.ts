/**
 * `tessera group …`, `tessera ml workspace …` and `tessera role …` against a live server:
 * each lifecycle in JSON, `-o table` and `-o tsv`; `--assignee` in each of its forms;
 * `role check`; `create-for-rbac --role --scopes` giving a principal access at that scope
 * and nowhere else, and its --sdk-auth file; `--query`; and bad input (usage errors exit
 * 2 before any request; server refusals exit 1 with the server's code).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ResourceManagement, ServicePrincipalAuthentication, TesseraApiError, TesseraClient, type ArmResource, type Group, type ServicePrincipal, type User } from '@tessera/sdk';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from './helpers/testServer.js';
import { removeTempDirs, tempDir } from './helpers/tempDirs.js';
import { tessera, tesseraJson } from './helpers/cli.js';

interface Assignment {
  principalId: string;
  principalType: string;
  roleDefinitionName: string;
  scope: string;
  name: string;
  id: string;
  roleDefinitionId: string;
}

interface Definition {
  name: string;
  roleName: string;
  roleType: string;
  description: string;
  id: string;
  assignableScopes: string[];
  permissions: { actions: string[]; notActions: string[] }[];
}

let server: TestServer;
let env: Record<string, string>;
let sub: string;
let tenantId: string;
let dir: string;
const rgScope = (rg: string) => `/subscriptions/${sub}/resourceGroups/${rg}`;
const wsScope = (rg: string, ws: string) => `${rgScope(rg)}/providers/Microsoft.MachineLearningServices/workspaces/${ws}`;

before(async () => {
  server = await startTestServer();
  sub = server.running.bootstrap.subscriptionId;
  tenantId = server.running.bootstrap.tenantId;
  env = { TESSERA_CONFIG_DIR: tempDir('config') };
  dir = tempDir('files');
  await tesseraJson(['login', '--server', server.url, '-u', 'admin', '-p', ADMIN_PASSWORD], env);
});

after(async () => {
  await server.close();
  removeTempDirs();
});

/** Runs tessera, expects exit status 0 and empty output (a delete). */
async function quietly(args: string[]): Promise<void> {
  const result = await tessera(args, env);
  assert.deepEqual([result.code, result.stdout], [0, ''], `${args.join(' ')}: ${result.stderr}`);
}

/** Runs tessera, expects exit status `code` and stderr matching `message`, nothing on stdout. */
async function fails(args: string[], code: 1 | 2, message: RegExp): Promise<string> {
  const result = await tessera(args, env);
  assert.equal(result.code, code, `${args.join(' ')}: ${result.stderr}`);
  assert.match(result.stderr, message, args.join(' '));
  assert.equal(result.stdout, '', args.join(' '));
  return result.stderr;
}

describe('tessera group', () => {
  test('create, show, exists, list (json, table, tsv), delete', async () => {
    const created = await tesseraJson<ArmResource>(['group', 'create', '-n', 'rg-life', '-l', 'West Europe', '--tags', 'team=ml env=dev'], env);
    assert.deepEqual([created.id, created.name, created.type, created.location], [rgScope('rg-life'), 'rg-life', 'Microsoft.Resources/resourceGroups', 'westeurope']);
    assert.deepEqual(created.tags, { team: 'ml', env: 'dev' });
    assert.equal((await tesseraJson<ArmResource>(['group', 'show', '--name', 'RG-LIFE'], env)).id, created.id);
    assert.equal((await tessera(['group', 'exists', '-n', 'rg-life', '-o', 'tsv'], env)).stdout, 'true\n');
    assert.equal((await tessera(['group', 'exists', '-n', 'rg-none', '-o', 'tsv'], env)).stdout, 'false\n');
    assert.ok((await tesseraJson<ArmResource[]>(['group', 'list', '--subscription', sub.toUpperCase()], env)).some((g) => g.name === 'rg-life'));

    const table = (await tessera(['group', 'list', '-o', 'table'], env)).stdout.trimEnd().split('\n');
    // az's columns for a resource group, not every field.
    assert.match(table[0]!, /^Name\s+Location\s+Status$/);
    assert.ok(table.slice(2).some((l) => /^rg-life\s+westeurope\s+Succeeded$/.test(l)));
    assert.equal((await tessera(['group', 'show', '-n', 'rg-life', '-o', 'tsv'], env)).stdout, `${created.id}\trg-life\tMicrosoft.Resources/resourceGroups\twesteurope\t\n`);
    assert.equal((await tessera(['group', 'show', '-n', 'rg-life', '--query', 'tags.team', '-o', 'tsv'], env)).stdout, 'ml\n');

    await quietly(['group', 'delete', '-n', 'rg-life', '--yes']);
    await fails(['group', 'show', '-n', 'rg-life'], 1, /^ERROR: \(ResourceNotFound\) Resource group 'rg-life' could not be found\.$/m);
    await fails(['group', 'create', '-n', 'rg-nowhere'], 2, /required option '-l, --location <location>' not specified/);
    await fails(['group', 'show', '-n', 'x', '--subscription', 'not-a-name'], 2, /Subscription "not-a-name" not found/);
    await fails(['group', 'create', '-n', 'bad/name', '-l', 'local'], 1, /^ERROR: The resource group name must be a non-empty name without slashes\.$/m);
  });
});

describe('tessera ml workspace', () => {
  test('create, show, list (by group and subscription; table, tsv), delete', async () => {
    await tesseraJson(['group', 'create', '-n', 'rg-ws', '-l', 'northeurope'], env);
    const created = await tesseraJson<ArmResource>(['ml', 'workspace', 'create', '-w', 'ws-life', '-g', 'rg-ws', '--friendly-name', 'Life', '--description', 'lifecycle'], env);
    assert.deepEqual([created.id, created.name, created.type, created.location], [wsScope('rg-ws', 'ws-life'), 'ws-life', 'Microsoft.MachineLearningServices/workspaces', 'northeurope']);
    assert.deepEqual([created.properties.friendlyName, created.properties.description], ['Life', 'lifecycle']);
    assert.equal((await tesseraJson<ArmResource>(['ml', 'workspace', 'show', '--workspace-name', 'ws-life', '--resource-group', 'rg-ws'], env)).id, created.id);
    assert.deepEqual((await tesseraJson<ArmResource[]>(['ml', 'workspace', 'list', '-g', 'rg-ws'], env)).map((w) => w.name), ['ws-life']);
    assert.ok((await tesseraJson<ArmResource[]>(['ml', 'workspace', 'list'], env)).some((w) => w.id === created.id));

    const table = (await tessera(['ml', 'workspace', 'list', '-g', 'rg-ws', '-o', 'table'], env)).stdout.trimEnd().split('\n');
    assert.match(table[0]!, /^Name\s+Location\s+ResourceGroup\s+FriendlyName$/);
    assert.match(table[2]!, /^ws-life\s+northeurope\s+rg-ws\s+Life$/);
    assert.equal(table.length, 3);
    assert.equal((await tessera(['ml', 'workspace', 'show', '-w', 'ws-life', '-g', 'rg-ws', '-o', 'tsv'], env)).stdout, `${created.id}\tws-life\tMicrosoft.MachineLearningServices/workspaces\tnortheurope\tDefault\n`);
    assert.equal((await tessera(['ml', 'workspace', 'show', '-w', 'ws-life', '-g', 'rg-ws', '--query', 'properties.friendlyName', '-o', 'tsv'], env)).stdout, 'Life\n');

    await quietly(['ml', 'workspace', 'delete', '-w', 'ws-life', '-g', 'rg-ws']);
    await fails(['ml', 'workspace', 'show', '-w', 'ws-life', '-g', 'rg-ws'], 1, /^ERROR: \(ResourceNotFound\) /m);
    await fails(['ml', 'workspace', 'create', '-w', 'ws-x'], 2, /required option '-g, --resource-group <name>' not specified/);
    await fails(['ml', 'workspace', 'create', '-w', 'ws-x', '-g', 'rg-missing'], 1, /^ERROR: \(ResourceNotFound\) Resource group 'rg-missing' could not be found/m);
  });
});

describe('tessera role definition', () => {
  test("create from Azure's JSON (@file), list (json, table, tsv), update (by name, and from list's output), delete", async () => {
    await tesseraJson(['group', 'create', '-n', 'rg-roles', '-l', 'local'], env);
    const roleFile = path.join(dir, 'reader-plus.json');
    // As Azure's documentation writes a custom role.
    fs.writeFileSync(
      roleFile,
      JSON.stringify({
        Name: 'Workspace Reader Plus',
        IsCustom: true,
        Description: 'Reads workspaces and lists their keys.',
        Actions: ['Microsoft.MachineLearningServices/workspaces/read', 'Microsoft.MachineLearningServices/workspaces/listKeys/action'],
        NotActions: [],
        DataActions: [],
        NotDataActions: [],
        AssignableScopes: [`/subscriptions/${sub}`],
      }),
    );
    const created = await tesseraJson<Definition>(['role', 'definition', 'create', '--role-definition', `@${roleFile}`], env);
    assert.equal(created.roleName, 'Workspace Reader Plus');
    assert.equal(created.roleType, 'CustomRole');
    assert.deepEqual(created.assignableScopes, [`/subscriptions/${sub}`]);
    assert.deepEqual(created.permissions[0]!.actions, ['Microsoft.MachineLearningServices/workspaces/read', 'Microsoft.MachineLearningServices/workspaces/listKeys/action']);
    assert.match(created.name, /^[0-9a-f-]{36}$/);

    const custom = await tesseraJson<Definition[]>(['role', 'definition', 'list', '--custom-role-only'], env);
    assert.deepEqual(custom.map((r) => r.roleName), ['Workspace Reader Plus']);
    assert.deepEqual((await tesseraJson<Definition[]>(['role', 'definition', 'list', '--name', 'reader'], env)).map((r) => r.roleName), ['Reader']);
    assert.deepEqual((await tesseraJson<Definition[]>(['role', 'definition', 'list', '--name', created.name], env)).map((r) => r.roleName), ['Workspace Reader Plus']);
    const table = (await tessera(['role', 'definition', 'list', '--custom-role-only', '-o', 'table'], env)).stdout.trimEnd().split('\n');
    assert.match(table[0]!, /^Name\s+Type\s+Description$/);
    assert.match(table[2]!, /^Workspace Reader Plus\s+CustomRole\s+Reads workspaces/);
    assert.equal((await tessera(['role', 'definition', 'list', '--name', 'Owner', '--query', '[].roleName', '-o', 'tsv'], env)).stdout, 'Owner\n');

    // Update by name, with an inline JSON value.
    const inline = JSON.stringify({ Name: 'Workspace Reader Plus', Description: 'Reads workspaces.', Actions: ['Microsoft.MachineLearningServices/workspaces/read'], AssignableScopes: [`/subscriptions/${sub}`] });
    const updated = await tesseraJson<Definition>(['role', 'definition', 'update', '--role-definition', inline], env);
    assert.deepEqual([updated.name, updated.description, updated.permissions[0]!.actions], [created.name, 'Reads workspaces.', ['Microsoft.MachineLearningServices/workspaces/read']]);

    // Update from what `list` printed, edited: id and name found in it.
    const listed = (await tesseraJson<Definition[]>(['role', 'definition', 'list', '--name', 'Workspace Reader Plus'], env))[0]!;
    listed.description = 'Edited from list output.';
    listed.assignableScopes = [`/subscriptions/${sub}`, rgScope('rg-roles')];
    fs.writeFileSync(roleFile, JSON.stringify(listed));
    const edited = await tesseraJson<Definition>(['role', 'definition', 'update', '--role-definition', `@${roleFile}`], env);
    assert.deepEqual([edited.name, edited.description], [created.name, 'Edited from list output.']);

    // create never replaces a role, even given another role's JSON with its id.
    listed.roleName = 'Workspace Reader Copy';
    fs.writeFileSync(roleFile, JSON.stringify(listed));
    const copy = await tesseraJson<Definition>(['role', 'definition', 'create', '--role-definition', `@${roleFile}`], env);
    assert.notEqual(copy.name, created.name);
    assert.equal((await tesseraJson<Definition[]>(['role', 'definition', 'list', '--name', created.name], env))[0]!.roleName, 'Workspace Reader Plus');
    await fails(['role', 'definition', 'create', '--role-definition', `@${roleFile}`], 1, /^ERROR: \(Conflict\) A role named 'Workspace Reader Copy' already exists\.$/m);
    await quietly(['role', 'definition', 'delete', '--name', copy.name]);

    await quietly(['role', 'definition', 'delete', '--name', 'Workspace Reader Plus']);
    assert.deepEqual(await tesseraJson(['role', 'definition', 'list', '--custom-role-only'], env), []);
  });

  test('bad role JSON is a usage error naming the file; server refusals exit 1 with the code', async () => {
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, '{ "Name": "Broken", "Actions": [ }');
    await fails(['role', 'definition', 'create', '--role-definition', `@${bad}`], 2, /^ERROR: --role-definition: the file '.*bad\.json' is not valid JSON( \(at character \d+\))?\.$/m);
    await fails(['role', 'definition', 'create', '--role-definition', '@/nonexistent/role.json'], 2, /^ERROR: --role-definition: cannot read the file '\/nonexistent\/role\.json' \(ENOENT\)\.$/m);
    await fails(['role', 'definition', 'create', '--role-definition', '["not", "an object"]'], 2, /the JSON must be an object/);
    await fails(['role', 'definition', 'create', '--role-definition', '{"Name": "No scopes", "Actions": ["*/read"]}'], 2, /the role needs AssignableScopes/);
    await fails(['role', 'definition', 'create'], 2, /required option '--role-definition <json>' not specified/);
    const badAction = JSON.stringify({ Name: 'Bad action', Actions: ['not an action!'], AssignableScopes: [`/subscriptions/${sub}`] });
    await fails(['role', 'definition', 'create', '--role-definition', badAction], 1, /^ERROR: \(InvalidParameter\) 'Actions' holds an invalid action/m);
    await fails(['role', 'definition', 'delete', '--name', 'Owner'], 1, /^ERROR: \(InvalidParameter\) 'Owner' is a built-in role/m);
    await fails(['role', 'definition', 'delete', '--name', 'No Such Role'], 1, /^ERROR: no role named 'No Such Role' can be assigned at scope/m);
    await fails(['role', 'definition', 'update', '--role-definition', JSON.stringify({ Name: 'Ghost', Actions: [], AssignableScopes: [`/subscriptions/${sub}`] })], 1, /no custom role named 'Ghost'/);
  });
});

describe('tessera role assignment and role check', () => {
  let ada: User;
  let team: Group;
  let robot: ServicePrincipal;

  before(async () => {
    ada = await tesseraJson<User>(['ad', 'user', 'create', '--user-name', 'ada', '--password', 'Analytical-engine-1843'], env);
    team = await tesseraJson<Group>(['ad', 'group', 'create', '--display-name', 'ml-team'], env);
    const robotOut = await tesseraJson<{ appId: string }>(['ad', 'sp', 'create-for-rbac', '--name', 'robot'], env);
    robot = await tesseraJson<ServicePrincipal>(['ad', 'sp', 'show', '--id', robotOut.appId], env);
    await tesseraJson(['group', 'create', '-n', 'rg-a', '-l', 'local'], env);
    await tesseraJson(['group', 'create', '-n', 'rg-b', '-l', 'local'], env);
    await tesseraJson(['ml', 'workspace', 'create', '-w', 'ws-a', '-g', 'rg-a'], env);
  });

  test('--assignee takes a user name, a UPN, an object id, an appId, a service principal name or a group name', async () => {
    const cases: [string, string, string][] = [
      ['ada', ada.id, 'User'],
      [ada.userPrincipalName, ada.id, 'User'],
      [team.id, team.id, 'Group'],
      ['ml-team', team.id, 'Group'],
      [robot.appId, robot.id, 'ServicePrincipal'],
      ['robot', robot.id, 'ServicePrincipal'],
    ];
    for (const [assignee, id, type] of cases) {
      const made = await tesseraJson<Assignment>(['role', 'assignment', 'create', '--assignee', assignee, '--role', 'Reader', '--scope', rgScope('rg-b')], env);
      assert.deepEqual([made.principalId, made.principalType, made.roleDefinitionName, made.scope], [id, type, 'Reader', rgScope('rg-b')], assignee);
      await quietly(['role', 'assignment', 'delete', '--ids', made.id]);
    }
    // A role by id, or by its resource ID, as az takes it.
    for (const role of ['acdd72a7-3385-48ef-bd42-f606fba81ae7', `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`]) {
      const byId = await tesseraJson<Assignment>(['role', 'assignment', 'create', '--assignee', 'ada', '--role', role, '--scope', rgScope('rg-b')], env);
      assert.equal(byId.roleDefinitionName, 'Reader');
      await quietly(['role', 'assignment', 'delete', '--ids', byId.id]);
    }
    await fails(['role', 'assignment', 'create', '--assignee', 'ada', '--role', '00000000-0000-0000-0000-00000000beef', '--scope', rgScope('rg-b')], 1, /^ERROR: no role with the id '00000000-0000-0000-0000-00000000beef' can be assigned at scope/m);
    await fails(['role', 'assignment', 'create', '--assignee', 'nobody-at-all', '--role', 'Reader', '--scope', rgScope('rg-b')], 1, /^ERROR: no user, group or service principal matches --assignee 'nobody-at-all'/m);
    await fails(['role', 'assignment', 'create', '--assignee', 'ada', '--role', 'Reader', '--scope', 'resourceGroups/rg-b'], 2, /argument 'resourceGroups\/rg-b' is invalid\. It must be '\/' or a resource ID/);
    await fails(['role', 'assignment', 'create', '--assignee', 'ada', '--role', 'Reader'], 2, /required option '--scope <scope>' not specified/);
    await fails(['role', 'assignment', 'create', '--role', 'Reader', '--scope', rgScope('rg-b')], 2, /give --assignee/);
    await fails(['role', 'assignment', 'create', '--assignee-object-id', ada.id, '--assignee-principal-type', 'Robot', '--role', 'Reader', '--scope', rgScope('rg-b')], 2, /argument 'Robot' is invalid\. Allowed choices are User, Group, ServicePrincipal/);
    await fails(['role', 'assignment', 'create', '--assignee', 'ada', '--assignee-object-id', ada.id, '--role', 'Reader', '--scope', rgScope('rg-b')], 2, /give --assignee or --assignee-object-id, not both/);
    await fails(['role', 'assignment', 'create', '--assignee', 'ada', '--role', 'Emperor', '--scope', rgScope('rg-b')], 1, /^ERROR: no role named 'Emperor' can be assigned at scope/m);
    await fails(['role', 'assignment', 'create', '--assignee', 'ada', '--role', 'Reader', '--scope', rgScope('rg-zz')], 1, /^ERROR: \(ResourceNotFound\) Resource group 'rg-zz' could not be found/m);
  });

  test('an Owner of one resource group, who may not read the directory, assigns roles there by object id', async () => {
    await tesseraJson(['ad', 'user', 'create', '--user-name', 'grace', '--password', 'Compiler-pioneer-1952'], env);
    await tesseraJson(['role', 'assignment', 'create', '--assignee', 'grace', '--role', 'Owner', '--scope', rgScope('rg-b')], env);
    const graceEnv = { TESSERA_CONFIG_DIR: tempDir('grace') };
    await tesseraJson(['login', '--server', server.url, '-u', 'grace', '-p', 'Compiler-pioneer-1952'], graceEnv);
    const byName = await tessera(['role', 'assignment', 'create', '--assignee', 'ada', '--role', 'Reader', '--scope', rgScope('rg-b')], graceEnv);
    assert.equal(byName.code, 1);
    assert.match(byName.stderr, /^ERROR: cannot look up --assignee 'ada' in the directory \(AuthorizationFailed\): give its object id instead\.$/m);
    const byId = await tesseraJson<Assignment>(['role', 'assignment', 'create', '--assignee', ada.id, '--role', 'Reader', '--scope', rgScope('rg-b')], graceEnv);
    assert.deepEqual([byId.principalId, byId.principalType, byId.roleDefinitionName], [ada.id, 'User', 'Reader']);
    const elsewhere = await tessera(['role', 'assignment', 'create', '--assignee', ada.id, '--role', 'Reader', '--scope', rgScope('rg-a')], graceEnv);
    assert.equal(elsewhere.code, 1);
    assert.match(elsewhere.stderr, /^ERROR: \(AuthorizationFailed\) /m);
    await quietly(['role', 'assignment', 'delete', '--scope', rgScope('rg-b')]);
  });

  test('create, list (at the scope, --all, --assignee, --role; table, tsv), delete by assignee and role', async () => {
    const made = await tesseraJson<Assignment>(['role', 'assignment', 'create', '--assignee', 'ada', '--role', 'Contributor', '--scope', rgScope('rg-a')], env);
    await tesseraJson(['role', 'assignment', 'create', '--assignee-object-id', team.id, '--assignee-principal-type', 'Group', '--role', 'Reader', '--scope', wsScope('rg-a', 'ws-a')], env);
    await fails(['role', 'assignment', 'create', '--assignee', 'ada', '--role', 'Contributor', '--scope', rgScope('rg-a')], 1, /^ERROR: \(Conflict\) The role assignment already exists/m);

    const atRg = await tesseraJson<Assignment[]>(['role', 'assignment', 'list', '--scope', rgScope('rg-a')], env);
    assert.deepEqual(atRg.map((a) => a.id), [made.id], 'only what is exactly at the scope');
    const all = await tesseraJson<Assignment[]>(['role', 'assignment', 'list', '--scope', rgScope('rg-a'), '--all'], env);
    assert.ok(all.some((a) => a.principalId === team.id && a.scope === wsScope('rg-a', 'ws-a')), '--all includes assignments below');
    assert.ok(all.some((a) => a.scope === '/' && a.roleDefinitionName === 'Owner'), "--all includes the admin's Owner at /");
    const inherited = await tesseraJson<Assignment[]>(['role', 'assignment', 'list', '--scope', wsScope('rg-a', 'ws-a'), '--include-inherited'], env);
    assert.deepEqual(new Set(inherited.map((a) => a.scope)), new Set(['/', rgScope('rg-a'), wsScope('rg-a', 'ws-a')]));
    const adas = await tesseraJson<Assignment[]>(['role', 'assignment', 'list', '--assignee', 'ada', '--all'], env);
    assert.deepEqual(adas.map((a) => a.id), [made.id]);
    assert.deepEqual(await tesseraJson(['role', 'assignment', 'list', '--assignee', 'ada', '--all', '--role', 'Reader'], env), []);

    const table = (await tessera(['role', 'assignment', 'list', '--scope', rgScope('rg-a'), '-o', 'table'], env)).stdout.trimEnd().split('\n');
    assert.match(table[0]!, /^Principal\s+PrincipalType\s+Role\s+Scope$/);
    assert.match(table[2]!, new RegExp(`^(ada@tessera\\.local|${ada.id})\\s+User\\s+Contributor\\s+${rgScope('rg-a')}$`));
    const tsv = (await tessera(['role', 'assignment', 'list', '--scope', rgScope('rg-a'), '-o', 'tsv'], env)).stdout;
    assert.equal(tsv.split('\t').slice(0, 5).join('\t'), [ada.id, 'User', 'Contributor', rgScope('rg-a'), made.name].join('\t'));

    await quietly(['role', 'assignment', 'delete', '--assignee', 'ada', '--role', 'Contributor', '--scope', rgScope('rg-a')]);
    assert.deepEqual(await tesseraJson(['role', 'assignment', 'list', '--scope', rgScope('rg-a')], env), []);
    const none = await tessera(['role', 'assignment', 'delete', '--assignee', 'ada', '--scope', rgScope('rg-a')], env);
    assert.deepEqual([none.code, none.stdout], [0, '']);
    assert.match(none.stderr, /No matched assignments were found to delete/);
    await fails(['role', 'assignment', 'delete'], 2, /give at least one of --ids, --assignee, --role or --scope/);
    await fails(['role', 'assignment', 'delete', '--ids', '/subscriptions/x/resourceGroups/y'], 2, /is not a role assignment id/);
  });

  test('ml workspace share assigns a role on the workspace; role check explains it (json, table, --query)', async () => {
    const shared = await tesseraJson<Assignment>(['ml', 'workspace', 'share', '-w', 'ws-a', '-g', 'rg-a', '--user', 'ada@tessera.local', '--role', 'AzureML Data Scientist'], env);
    assert.deepEqual([shared.principalId, shared.roleDefinitionName, shared.scope], [ada.id, 'AzureML Data Scientist', wsScope('rg-a', 'ws-a')]);

    const yes = await tesseraJson<{ allowed: boolean; principal: { id: string; type: string }; decidedBy: unknown[] }>(
      ['role', 'check', '--assignee', 'ada', '--action', 'Microsoft.MachineLearningServices/workspaces/models/write', '--scope', wsScope('rg-a', 'ws-a')],
      env,
    );
    assert.equal(yes.allowed, true);
    assert.deepEqual([yes.principal.id, yes.principal.type], [ada.id, 'User']);
    assert.ok(yes.decidedBy.length > 0);
    const no = await tessera(['role', 'check', '--assignee', 'ada', '--action', 'Microsoft.MachineLearningServices/workspaces/write', '--scope', wsScope('rg-a', 'ws-a'), '--query', 'allowed', '-o', 'tsv'], env);
    assert.deepEqual([no.code, no.stdout], [0, 'false\n'], no.stderr);
    const elsewhere = await tessera(['role', 'check', '--assignee', 'ada', '--action', 'Microsoft.MachineLearningServices/workspaces/read', '--scope', rgScope('rg-b'), '-o', 'table'], env);
    assert.match(elsewhere.stdout.split('\n')[0]!, /^Allowed\s+Action\s+Scope$/);
    assert.match(elsewhere.stdout.split('\n')[2]!, /^false\s+Microsoft\.MachineLearningServices\/workspaces\/read\s+\/subscriptions\/.*\/rg-b$/);

    await fails(['ml', 'workspace', 'share', '-w', 'ws-a', '-g', 'rg-a', '--user', 'nobody-at-all', '--role', 'Reader'], 1, /no user, group or service principal matches --assignee 'nobody-at-all'/);
    await fails(['role', 'check', '--assignee', 'nobody-at-all', '--action', 'x/read', '--scope', '/'], 1, /^ERROR: \(ResourceNotFound\) No user, group or service principal/m);
    await fails(['role', 'check', '--assignee', 'ada', '--action', 'Microsoft.MachineLearningServices/*', '--scope', '/'], 1, /^ERROR: \(InvalidParameter\) The field 'action' must be a concrete action/m);
    await fails(['role', 'check', '--assignee', 'ada', '--scope', '/'], 2, /required option '--action <action>' not specified/);
  });
});

describe('tessera ad sp create-for-rbac --role --scopes', () => {
  test('the assignment lets the principal act at that scope and nowhere else', async () => {
    await tesseraJson(['group', 'create', '-n', 'rg-ci', '-l', 'local'], env);
    await tesseraJson(['ml', 'workspace', 'create', '-w', 'ws-ci', '-g', 'rg-ci'], env);
    await tesseraJson(['group', 'create', '-n', 'rg-other', '-l', 'local'], env);
    await tesseraJson(['ml', 'workspace', 'create', '-w', 'ws-other', '-g', 'rg-other'], env);

    const result = await tessera(['ad', 'sp', 'create-for-rbac', '--name', 'ci-rg-contributor', '--role', 'Contributor', '--scopes', rgScope('rg-ci')], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, new RegExp(`Creating 'Contributor' role assignment under scope '${rgScope('rg-ci')}'`));
    const out = JSON.parse(result.stdout) as { appId: string; password: string; tenant: string };

    const auth = new ServicePrincipalAuthentication({ server: server.url, tenantId: out.tenant, servicePrincipalId: out.appId, servicePrincipalPassword: out.password });
    const arm = new ResourceManagement(new TesseraClient(server.url, auth));
    assert.equal((await arm.getWorkspace(sub, 'rg-ci', 'ws-ci')).name, 'ws-ci', 'reads in its resource group');
    const made = await arm.createOrUpdateWorkspace(sub, 'rg-ci', 'ws-made-by-ci', {});
    assert.equal(made.name, 'ws-made-by-ci', 'writes in its resource group');
    const refused = async (what: Promise<unknown>) =>
      assert.rejects(what, (err: unknown) => err instanceof TesseraApiError && err.status === 403 && err.code === 'AuthorizationFailed');
    await refused(arm.getWorkspace(sub, 'rg-other', 'ws-other'));
    await refused(arm.createOrUpdateWorkspace(sub, 'rg-other', 'ws-intruder', {}));
    await refused(arm.createOrUpdateResourceGroup(sub, 'rg-ci-2', { location: 'local' }));
    await refused(arm.deleteResourceGroup(sub, 'rg-other'));
    assert.deepEqual((await arm.listResourceGroups(sub)).map((g) => g.name), ['rg-ci'], 'lists only what it may read');

    const checked = await tesseraJson<{ allowed: boolean }>(['role', 'check', '--assignee', 'ci-rg-contributor', '--action', 'Microsoft.MachineLearningServices/workspaces/write', '--scope', rgScope('rg-other')], env);
    assert.equal(checked.allowed, false);
    // Running the same command again (as CI scripts do) reuses the principal and its assignment.
    const again = await tessera(['ad', 'sp', 'create-for-rbac', '--name', 'ci-rg-contributor', '--role', 'Contributor', '--scopes', rgScope('rg-ci')], env);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as { appId: string }).appId, out.appId);
    assert.match(again.stderr, /it has 'Contributor' there already/);
    const listed = await tesseraJson<Assignment[]>(['role', 'assignment', 'list', '--assignee', out.appId, '--all'], env);
    assert.deepEqual(listed.map((a) => [a.roleDefinitionName, a.scope, a.principalType]), [['Contributor', rgScope('rg-ci'), 'ServicePrincipal']]);
  });

  test('several --scopes each get the role; --sdk-auth prints the SDK-auth file pointing at this server', async () => {
    const result = await tessera(
      ['ad', 'sp', 'create-for-rbac', '--name', 'ci-sdk-auth', '--role', 'Reader', '--scopes', `${rgScope('rg-a')} ${rgScope('rg-b')}`, '--sdk-auth'],
      env,
    );
    assert.equal(result.code, 0, result.stderr);
    const auth = JSON.parse(result.stdout) as Record<string, string>;
    assert.deepEqual(Object.keys(auth), [
      'clientId',
      'clientSecret',
      'subscriptionId',
      'tenantId',
      'activeDirectoryEndpointUrl',
      'resourceManagerEndpointUrl',
      'activeDirectoryGraphResourceId',
      'sqlManagementEndpointUrl',
      'galleryEndpointUrl',
      'managementEndpointUrl',
    ]);
    assert.deepEqual([auth.subscriptionId, auth.tenantId, auth.activeDirectoryEndpointUrl, auth.resourceManagerEndpointUrl], [sub, tenantId, server.url, `${server.url}/`]);
    for (const key of ['activeDirectoryGraphResourceId', 'sqlManagementEndpointUrl', 'galleryEndpointUrl', 'managementEndpointUrl']) assert.equal(auth[key], `${server.url}/`, key);
    assert.match(auth.clientSecret!, /^tscs_/);
    const listed = await tesseraJson<Assignment[]>(['role', 'assignment', 'list', '--assignee', auth.clientId!, '--all'], env);
    assert.deepEqual(listed.map((a) => a.scope).sort(), [rgScope('rg-a'), rgScope('rg-b')]);

    // The file's fields are all a client needs: sign in at activeDirectoryEndpointUrl, call resourceManagerEndpointUrl.
    const sp = ServicePrincipalAuthentication.fromEnv({ AML_SERVER_URL: auth.activeDirectoryEndpointUrl!, AML_TENANT_ID: auth.tenantId!, AML_PRINCIPAL_ID: auth.clientId!, AML_PRINCIPAL_PASS: auth.clientSecret! });
    const arm = new ResourceManagement(new TesseraClient(auth.resourceManagerEndpointUrl!, sp));
    assert.deepEqual((await arm.listResourceGroups(auth.subscriptionId!)).map((g) => g.name).sort(), ['rg-a', 'rg-b']);
  });

  test('an unknown role or a scope that does not exist is refused before anything is created', async () => {
    const before = (await tesseraJson<ServicePrincipal[]>(['ad', 'sp', 'list'], env)).length;
    await fails(['ad', 'sp', 'create-for-rbac', '--name', 'never-1', '--role', 'Emperor', '--scopes', rgScope('rg-a')], 1, /^ERROR: no role named 'Emperor' can be assigned at scope/m);
    await fails(['ad', 'sp', 'create-for-rbac', '--name', 'never-2', '--role', 'Reader', '--scopes', rgScope('rg-nope')], 1, /^ERROR: \(ResourceNotFound\) Resource group 'rg-nope' could not be found/m);
    await fails(['ad', 'sp', 'create-for-rbac', '--name', 'never-3', '--sdk-auth', '--subscription', '00000000-0000-0000-0000-000000000000', '--role', 'Reader', '--scopes', '/subscriptions/00000000-0000-0000-0000-000000000000'], 1, /^ERROR: \(ResourceNotFound\) The subscription/m);
    assert.equal((await tesseraJson<ServicePrincipal[]>(['ad', 'sp', 'list'], env)).length, before);
  });
});

describe('--query', () => {
  test('account get-access-token --query accessToken -o tsv prints the bare token', async () => {
    const result = await tessera(['account', 'get-access-token', '--query', 'accessToken', '-o', 'tsv'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
    assert.equal((await tessera(['account', 'show', '--query', 'tenantId', '-o', 'json'], env)).stdout, `"${tenantId}"\n`);
  });
});
