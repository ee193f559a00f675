/**
 * The real Azure CLI (Debian's azure-cli 2.45, unmodified) and Python's MSAL against
 * Tessera registered as a cloud the way Azure Stack Hub is: `az cloud register` reads
 * the Resource Manager URL's `/metadata/endpoints`, whose Active Directory endpoint is
 * `{server}/adfs` (so MSAL skips instance discovery) and whose audience is Tessera's
 * control plane. The server runs HTTPS with a test CA that az trusts through
 * REQUESTS_CA_BUNDLE; each profile has its own AZURE_CONFIG_DIR, and the profiles run side
 * by side. Under CI=true a missing `az` or python3-msal fails the suite.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { ADMIN_PASSWORD, claimsOf, startTestServer, type TestServer } from './helpers.js';
import { AzProfile, findAz, type AzResult } from './azcli/az.js';
import { httpsJson } from './azcli/https.js';
import { runMsal, SYSTEM_PYTHON, type MsalOutcome } from './azcli/msalPython.js';

const AZ = findAz();
const CI = process.env.CI === 'true';
const AZURE_CLI_CLIENT_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';
const READER_ROLE_ID = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const MANAGEMENT = 'api://tessera/management';
const WORKSPACE = 'api://tessera/workspace';
const ADA_PASSWORD = `Ada-${crypto.randomBytes(9).toString('base64url')}-42`;

function hasSystemMsal(): boolean {
  try {
    execFileSync(SYSTEM_PYTHON, ['-c', 'import msal'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// Outside CI a machine without the clients skips; in CI their absence is a failure (before() below).
const missing = [AZ ? undefined : 'az (Debian package azure-cli)', hasSystemMsal() ? undefined : `msal for ${SYSTEM_PYTHON} (python3-msal)`].filter((m) => m !== undefined);
const skip = missing.length > 0 && !CI ? `not installed: ${missing.join(', ')}` : false;

interface Principal {
  id: string;
  appId: string;
  secret: string;
}

interface AzAccount {
  id: string;
  name: string;
  tenantId: string;
  homeTenantId: string;
  isDefault: boolean;
  state: string;
  user: { name: string; type: string };
  environmentName?: string;
}

describe('the Azure CLI and Python MSAL against Tessera as a cloud', { skip }, () => {
  let server: TestServer;
  let url: string;
  let ca: string;
  let caPem: string;
  let tenantId: string;
  let subscriptionId: string;
  let admin: string;
  let automation: Principal;
  let bystander: Principal;
  let adaId: string;
  const profiles: AzProfile[] = [];

  /** Requests the server logged, as `METHOD /path STATUS` (the log never holds the query). */
  const requests = (): string[] =>
    server.logs.flatMap((line) => {
      const entry = JSON.parse(line) as { msg?: string; method?: string; path?: string; status?: number };
      return entry.msg === 'request' ? [`${entry.method} ${entry.path} ${entry.status}`] : [];
    });

  const api = (path: string, init: { method?: string; token?: string; body?: unknown } = {}) => httpsJson(`${url}${path}`, caPem, { token: admin, ...init });

  async function newServicePrincipal(displayName: string): Promise<Principal> {
    const sp = await api('/v1.0/servicePrincipals', { body: { displayName } });
    assert.equal(sp.status, 201);
    const secret = await api(`/v1.0/servicePrincipals/${String(sp.body.id)}/addPassword`, { body: {} });
    assert.equal(secret.status, 200);
    return { id: String(sp.body.id), appId: String(sp.body.appId), secret: String(secret.body.secretText) };
  }

  async function assign(scope: string, role: string, principalId: string): Promise<void> {
    const res = await api(`${scope}/providers/Microsoft.Authorization/roleAssignments/${crypto.randomUUID()}?api-version=2022-04-01`, { method: 'PUT', body: { properties: { roleDefinitionId: role, principalId } } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }

  function profile(extraEnv: Record<string, string> = {}): AzProfile {
    const p = new AzProfile(AZ!, ca, extraEnv);
    profiles.push(p);
    return p;
  }

  /** Exit status and output of a command that must fail, with no traceback (a clear error, not a crash). */
  function assertRefused(result: AzResult, pattern: RegExp): void {
    assert.notEqual(result.code, 0, 'az exits non-zero');
    assert.match(result.stderr, pattern);
    assert.doesNotMatch(result.stderr, /Traceback/);
  }

  before(async () => {
    if (missing.length > 0) throw new Error(`The Azure CLI suite needs ${missing.join(' and ')}; .ci/run installs them.`);
    server = await startTestServer('sqlite', { config: { tlsSelfSigned: true } });
    url = server.url;
    ca = server.running.caFile!;
    caPem = fs.readFileSync(ca, 'utf8');
    tenantId = server.running.bootstrap.tenantId;
    subscriptionId = server.running.bootstrap.subscriptionId;
    const signIn = await httpsJson(`${url}/login`, caPem, { body: { username: 'admin', password: ADMIN_PASSWORD } });
    admin = String(signIn.body.access_token);
    automation = await newServicePrincipal('az-automation');
    bystander = await newServicePrincipal('az-bystander');
    await assign(`/subscriptions/${subscriptionId}`, 'Owner', automation.id);
    // Reading the directory (Graph's /v1.0) needs a role at the root scope.
    await assign('', 'Reader', automation.id);
    const ada = await api('/v1.0/users', { body: { userName: 'ada', passwordProfile: { password: ADA_PASSWORD } } });
    assert.equal(ada.status, 201);
    adaId = String(ada.body.id);
    for (const rg of ['team-rg', 'private-rg']) {
      assert.equal((await api(`/subscriptions/${subscriptionId}/resourcegroups/${rg}?api-version=2022-09-01`, { method: 'PUT', body: { location: 'local' } })).status, 201);
    }
    await assign(`/subscriptions/${subscriptionId}/resourceGroups/team-rg`, 'Contributor', adaId);
  });

  after(async () => {
    for (const p of profiles) p.dispose();
    await server?.close();
  });

  // The az profiles and the MSAL client run at once; within each (concurrency 1, else inherited) the steps are in order.
  describe('side by side, each in its own az profile', { concurrency: true }, () => {
    describe('a service principal (client credentials)', { concurrency: 1 }, () => {
      const az = { current: undefined as AzProfile | undefined };
      const run = (...args: string[]) => az.current!.run(args);
      const json = <T>(...args: string[]) => az.current!.json<T>(args);
      let groupName: string;

      it('az cloud register --endpoint-resource-manager reads /metadata/endpoints: the authority is {server}/adfs, the audience the control plane', async () => {
        az.current = profile();
        // With a trailing slash, as Azure's own Resource Manager URL is written.
        assert.equal((await run('cloud', 'register', '-n', 'Tessera', '--endpoint-resource-manager', `${url}/`)).code, 0);
        assert.equal((await run('cloud', 'set', '-n', 'Tessera')).code, 0);
        const cloud = await json<{ isActive: boolean; endpoints: Record<string, string | null> }>('cloud', 'show');
        assert.equal(cloud.isActive, true);
        assert.equal(cloud.endpoints.activeDirectory, `${url}/adfs`);
        assert.equal(cloud.endpoints.activeDirectoryResourceId, MANAGEMENT);
        assert.equal(cloud.endpoints.activeDirectoryGraphResourceId, `${url}/`);
        assert.ok(requests().includes('GET //metadata/endpoints 200'));
      });

      it('az login --service-principal gets a token at /adfs and lists the subscription it holds a role in', async () => {
        const accounts = await json<AzAccount[]>('login', '--service-principal', '-u', automation.appId, '-p', automation.secret, '--tenant', tenantId);
        assert.equal(accounts.length, 1);
        const [account] = accounts;
        assert.equal(account!.id, subscriptionId);
        assert.equal(account!.tenantId, tenantId);
        assert.equal(account!.homeTenantId, tenantId);
        assert.equal(account!.isDefault, true);
        assert.deepEqual(account!.user, { name: automation.appId, type: 'servicePrincipal' });
        const seen = requests();
        assert.ok(seen.includes('GET /adfs/.well-known/openid-configuration 200'), 'MSAL read the ADFS-style discovery');
        assert.ok(seen.includes('POST /adfs/oauth2/v2.0/token 200'));
      });

      it('az account get-access-token gives a control-plane token for the principal, which the server accepts', async () => {
        const token = await json<{ accessToken: string; subscription: string; tenant: string; tokenType: string; expiresOn: string }>('account', 'get-access-token');
        assert.equal(token.tokenType, 'Bearer');
        assert.equal(token.subscription, subscriptionId);
        assert.equal(token.tenant, tenantId);
        const claims = claimsOf(token.accessToken);
        assert.equal(claims.idtyp, 'app');
        assert.equal(claims.oid, automation.id);
        assert.equal(claims.tid, tenantId);
        const me = await httpsJson(`${url}/me`, caPem, { token: token.accessToken });
        assert.equal(me.status, 200);
      });

      it('az group create and list: a resource group with tags, listed with the others', async () => {
        groupName = 'az-made-rg';
        const group = await json<{ id: string; name: string; location: string; tags: Record<string, string>; properties: { provisioningState: string } }>('group', 'create', '-n', groupName, '-l', 'local', '--tags', 'team=ml');
        assert.equal(group.id, `/subscriptions/${subscriptionId}/resourceGroups/${groupName}`);
        assert.deepEqual(group.tags, { team: 'ml' });
        assert.equal(group.properties.provisioningState, 'Succeeded');
        const names = await json<string[]>('group', 'list', '--query', '[].name');
        assert.deepEqual([...names].sort(), [groupName, 'private-rg', 'team-rg']);
      });

      it('a role assignment made with az rest (PUT, as az role assignment create sends it) is listed with $filter=atScope() and removed by az role assignment delete --ids', async () => {
        const scope = `/subscriptions/${subscriptionId}/resourceGroups/${groupName}`;
        const id = `${scope}/providers/Microsoft.Authorization/roleAssignments/${crypto.randomUUID()}`;
        const body = { properties: { roleDefinitionId: `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${READER_ROLE_ID}`, principalId: bystander.id, principalType: 'ServicePrincipal' } };
        const made = await json<{ id: string; properties: { principalId: string; scope: string } }>('rest', '--method', 'put', '--url', `${id}?api-version=2022-04-01`, '--body', JSON.stringify(body));
        assert.equal(made.id, id);
        assert.equal(made.properties.scope, scope);
        const listed = await json<string[]>('rest', '--url', `${scope}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=atScope()`, '--query', `value[?properties.principalId=='${bystander.id}'].id`);
        assert.deepEqual(listed, [id]);
        assert.equal((await run('role', 'assignment', 'delete', '--ids', id)).code, 0);
        const after = await api(`${id}?api-version=2022-04-01`);
        assert.equal(after.status, 404);
      });

      it('az group delete --yes removes the group; az group exists then says false', async () => {
        assert.equal((await run('group', 'delete', '-n', groupName, '--yes')).code, 0);
        assert.equal(await json<boolean>('group', 'exists', '-n', groupName), false);
      });
    });

    describe('a user (password grant)', { concurrency: 1 }, () => {
      const az = { current: undefined as AzProfile | undefined };
      const run = (...args: string[]) => az.current!.run(args);
      const json = <T>(...args: string[]) => az.current!.json<T>(args);

      it('az cloud register --cloud-config names the Resource Manager and Graph endpoints; the rest comes from /metadata/endpoints', async () => {
        az.current = profile();
        const config = { endpoints: { resourceManager: url, microsoftGraphResourceId: `${url}/` } };
        assert.equal((await run('cloud', 'register', '-n', 'Tessera', '--cloud-config', JSON.stringify(config))).code, 0);
        assert.equal((await run('cloud', 'set', '-n', 'Tessera')).code, 0);
        assert.ok(requests().includes('GET /metadata/endpoints 200'));
      });

      it('az login -u -p (no --tenant) lists the tenants, then the subscription the user holds a role inside', async () => {
        const accounts = await json<AzAccount[]>('login', '-u', 'ada', '-p', ADA_PASSWORD);
        assert.deepEqual(accounts.map((a) => [a.id, a.tenantId, a.user.name, a.user.type]), [[subscriptionId, tenantId, 'ada@tessera.local', 'user']]);
        assert.ok(requests().includes('GET /tenants 200'));
      });

      it('az account show, list and set --subscription NAME name the subscription as az does; an unknown one is refused', async () => {
        const shown = await json<AzAccount>('account', 'show');
        assert.equal(shown.id, subscriptionId);
        assert.deepEqual(shown.user, { name: 'ada@tessera.local', type: 'user' });
        assert.equal(shown.name, 'Tessera');
        assert.equal(shown.state, 'Enabled');
        assert.equal(shown.environmentName, 'Tessera');
        const listed = await json<AzAccount[]>('account', 'list');
        assert.deepEqual(listed.map((a) => a.id), [subscriptionId]);
        assert.equal((await run('account', 'set', '--subscription', 'Tessera')).code, 0);
        assertRefused(await run('account', 'set', '--subscription', 'no-such-subscription'), /doesn't exist in cloud 'Tessera'/);
      });

      it('az account get-access-token --resource for the workspace data plane: MSAL redeems the refresh token for it', async () => {
        // az signed in for the control plane and kept no password: a workspace token can only come from the refresh token.
        const token = await json<{ accessToken: string }>('account', 'get-access-token', '--resource', WORKSPACE);
        const claims = claimsOf(token.accessToken);
        assert.equal(claims.aud, WORKSPACE);
        assert.equal(claims.idtyp, 'user');
        assert.equal(claims.oid, adaId);
      });

      it('az group list shows only the groups the user may read', async () => {
        assert.deepEqual(await json<string[]>('group', 'list', '--query', '[].name'), ['team-rg']);
      });

      it('outside their role the user gets 403 AuthorizationFailed, shown by az group create and by az rest', async () => {
        assertRefused(await run('group', 'create', '-n', 'not-mine-rg', '-l', 'local'), /\(AuthorizationFailed\) The client 'ada' .* does not have authorization to perform action 'Microsoft\.Resources\/subscriptions\/resourceGroups\/write'/);
        assertRefused(await run('rest', '--url', `/subscriptions/${subscriptionId}/resourceGroups/private-rg?api-version=2022-09-01`), /Forbidden.*AuthorizationFailed/);
      });
    });

    describe('refused sign-ins, then refused requests', { concurrency: 1 }, () => {
      const az = { current: undefined as AzProfile | undefined };
      const run = (...args: string[]) => az.current!.run(args);
      const json = <T>(...args: string[]) => az.current!.json<T>(args);

      before(async () => {
        az.current = profile();
        const config = { endpoints: { resourceManager: url, microsoftGraphResourceId: `${url}/` } };
        assert.equal((await run('cloud', 'register', '-n', 'Tessera', '--cloud-config', JSON.stringify(config))).code, 0);
        assert.equal((await run('cloud', 'set', '-n', 'Tessera')).code, 0);
      });

      it('a wrong client secret: AADSTS7000215 shown, non-zero exit, the secret never echoed', async () => {
        const wrong = `tscs_${crypto.randomBytes(32).toString('base64url')}`;
        const result = await run('login', '--service-principal', '-u', automation.appId, '-p', wrong, '--tenant', tenantId);
        assertRefused(result, /AADSTS7000215: Invalid client credentials/);
        assert.ok(!(result.stdout + result.stderr).includes(wrong));
      });

      it('a wrong password: the sign-in is refused with a clear message and the password is never echoed', async () => {
        const wrong = `Not-${ADA_PASSWORD}`;
        const result = await run('login', '-u', 'ada', '-p', wrong);
        assertRefused(result, /AADSTS50126/);
        assert.ok(!(result.stdout + result.stderr).includes(wrong));
      });

      it('an unknown tenant name: az resolves it at /adfs/{tenant}/.well-known and shows AADSTS90002', async () => {
        const result = await run('login', '--service-principal', '-u', automation.appId, '-p', automation.secret, '--tenant', 'no-such-tenant.example');
        assertRefused(result, /Failed to resolve tenant 'no-such-tenant\.example'[\s\S]*AADSTS90002: Tenant not found/);
      });

      it('a tenant given by its domain name is resolved to its id', async () => {
        const accounts = await json<AzAccount[]>('login', '--service-principal', '-u', automation.appId, '-p', automation.secret, '--tenant', 'tessera.local');
        assert.deepEqual(accounts.map((a) => a.tenantId), [tenantId]);
      });

      it("Graph's exact-match filters find one principal, as az resolves --assignee; any other $filter is refused, never ignored", async () => {
        assert.deepEqual(await json<string[]>('ad', 'user', 'list', '--filter', "userPrincipalName eq 'ada@tessera.local'", '--query', '[].id'), [adaId]);
        const graph = (path: string, filter: string) => httpsJson(`${url}/v1.0/${path}?$filter=${encodeURIComponent(filter)}`, caPem, { token: admin });
        const ids = (res: { body: Record<string, unknown> }) => (res.body.value as { id: string }[]).map((v) => v.id);
        const refused = await graph('users', "startswith(displayName,'a')");
        assert.equal(refused.status, 400);
        assert.match(JSON.stringify(refused.body), /This \$filter is not supported here: use userPrincipalName eq/);
        assert.deepEqual(ids(await graph('servicePrincipals', `servicePrincipalNames/any(c:c eq '${bystander.appId}')`)), [bystander.id]);
        assert.deepEqual(ids(await graph('servicePrincipals', "displayName eq 'az-automation'")), [automation.id]);
        assert.deepEqual(ids(await graph('users', "userPrincipalName eq 'x'' or ''1''=''1'")), [], 'a quote inside the literal is part of the name');
        assert.equal((await graph('groups', "displayName eq 'x' or 1 eq 1")).status, 400);
      });

      it('directoryObjects/getByIds (how az names the principals of role assignments) answers each object with its @odata.type; unknown ids are left out', async () => {
        const body = { ids: [bystander.id, adaId, crypto.randomUUID()], types: ['user', 'group', 'servicePrincipal', 'directoryObjectPartnerReference'] };
        const found = await json<string[][]>('rest', '--method', 'post', '--url', `${url}/v1.0/directoryObjects/getByIds`, '--body', JSON.stringify(body), '--query', "value[].[\"@odata.type\", id]");
        assert.deepEqual(found, [['#microsoft.graph.servicePrincipal', bystander.id], ['#microsoft.graph.user', adaId]]);
      });

      it("Debian's az role definition list and az role assignment create stop in the client (its SDK has no .config), before any request: az rest does their work", async () => {
        // Both would first read role definitions; only this profile ever does.
        const definitionReads = () => requests().filter((r) => r.includes('/providers/Microsoft.Authorization/roleDefinitions')).length;
        const before = definitionReads();
        for (const args of [
          ['role', 'definition', 'list'],
          ['role', 'assignment', 'create', '--role', 'Reader', '--assignee-object-id', bystander.id, '--assignee-principal-type', 'ServicePrincipal', '--scope', `/subscriptions/${subscriptionId}`],
        ]) {
          const result = await run(...args);
          assert.notEqual(result.code, 0);
          assert.match(result.stderr, /Operations' object has no attribute 'config'/, `az ${args.slice(0, 3).join(' ')} failed for another reason`);
        }
        assert.equal(definitionReads(), before, 'the server saw no request from them');
      });
    });

    describe('the service principal again, its cloud loaded through ARM_CLOUD_METADATA_URL', { concurrency: 1 }, () => {
      const az = { current: undefined as AzProfile | undefined };
      const run = (...args: string[]) => az.current!.run(args);
      const json = <T>(...args: string[]) => az.current!.json<T>(args);

      it('az loads the Tessera cloud from the cloud list (api-version 2019-05-01 and later) at start-up and signs in to it, no az cloud register needed', async () => {
        // az reads this URL with urllib, which trusts SSL_CERT_FILE rather than REQUESTS_CA_BUNDLE.
        az.current = profile({ ARM_CLOUD_METADATA_URL: `${url}/metadata/endpoints?api-version=2022-09-01`, SSL_CERT_FILE: ca });
        const clouds = await json<{ name: string; endpoints: Record<string, string | null> }[]>('cloud', 'list');
        assert.deepEqual(clouds.map((c) => [c.name, c.endpoints.activeDirectory, c.endpoints.microsoftGraphResourceId]), [['Tessera', `${url}/adfs`, `${url}/`]]);
        assert.equal((await run('cloud', 'set', '-n', 'Tessera')).code, 0);
        const accounts = await json<AzAccount[]>('login', '--service-principal', '-u', automation.appId, '-p', automation.secret, '--tenant', tenantId);
        assert.deepEqual(accounts.map((a) => a.id), [subscriptionId]);
      });

      it("the role lookup az role assignment create makes ($filter=roleName eq 'Reader') finds Azure's Reader; an unknown role is a clear 400", async () => {
        const found = await json<string[]>('rest', '--url', `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01&$filter=roleName eq 'Reader'`, '--query', 'value[].id');
        assert.deepEqual(found, [`/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${READER_ROLE_ID}`]);
        const body = { properties: { roleDefinitionId: 'No Such Role', principalId: bystander.id } };
        const refused = await run('rest', '--method', 'put', '--url', `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleAssignments/${crypto.randomUUID()}?api-version=2022-04-01`, '--body', JSON.stringify(body));
        assertRefused(refused, /Bad Request.*InvalidParameter.*names no role definition/);
      });

      it('hostile input shown as 400s: markup in a resource group name, injection in a $filter', async () => {
        const markup = await run('group', 'create', '-n', '<img src=x onerror=alert(1)>', '-l', 'local');
        assertRefused(markup, /\(InvalidParameter\) The resource group name given is invalid/);
        assert.doesNotMatch(markup.stderr, /<img/);
        const injected = await run('rest', '--url', `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=principalId eq '1' or 1 eq 1`);
        assertRefused(injected, /Bad Request.*InvalidParameter/);
      });
    });

    describe('Python MSAL with validate_authority=False', { concurrency: 1 }, () => {
      let outcomes: Record<string, MsalOutcome>;

      before(async () => {
        const scopes = [`${MANAGEMENT}/.default`];
        outcomes = await runMsal(
          [
            { name: 'tenant', kind: 'confidential', authority: `${url}/${tenantId}`, clientId: automation.appId, secret: automation.secret, scopes, silentScopes: scopes },
            { name: 'adfs', kind: 'confidential', authority: `${url}/adfs`, clientId: automation.appId, secret: automation.secret, scopes },
            // For a non-ADFS authority MSAL first asks https://{host}/common/userrealm/… without the
            // port (its bug), so off port 443 the password grant goes through the ADFS authority, as az's does.
            { name: 'password', kind: 'password', authority: `${url}/adfs`, clientId: AZURE_CLI_CLIENT_ID, username: 'ada', password: ADA_PASSWORD, scopes, silentScopes: [`${WORKSPACE}/.default`] },
            { name: 'wrongSecret', kind: 'confidential', authority: `${url}/${tenantId}`, clientId: automation.appId, secret: `tscs_${crypto.randomBytes(32).toString('base64url')}`, scopes },
            { name: 'unknownTenant', kind: 'authority-only', authority: `${url}/no-such-tenant.example` },
            { name: 'plainHttp', kind: 'authority-only', authority: `${url.replace('https:', 'http:')}/${tenantId}` },
          ],
          ca,
        );
      });

      it('a confidential client at {server}/{tenant} gets an app token, and its second call is served from its cache', async () => {
        const { accessToken, silentToken } = outcomes.tenant!;
        assert.ok(accessToken);
        assert.equal(claimsOf(accessToken).oid, automation.id);
        assert.equal(silentToken, accessToken, 'the scope came back as asked, so MSAL cached the token');
        assert.equal((await httpsJson(`${url}/me`, caPem, { token: accessToken })).status, 200);
      });

      it('the ADFS-style authority {server}/adfs, as az uses it, works for MSAL directly', () => {
        assert.equal(outcomes.adfs!.error, undefined);
        assert.equal(claimsOf(outcomes.adfs!.accessToken!).oid, automation.id);
      });

      it('the password grant returns id token claims, and a silent call for the workspace uses the refresh token', () => {
        const { accessToken, silentToken, idTokenClaims } = outcomes.password!;
        assert.equal(claimsOf(accessToken!).oid, adaId);
        assert.equal(idTokenClaims?.preferred_username, 'ada@tessera.local');
        assert.equal(idTokenClaims?.tid, tenantId);
        assert.ok(silentToken && silentToken !== accessToken);
        assert.equal(claimsOf(silentToken).aud, WORKSPACE);
      });

      it('a wrong secret is invalid_client; an unknown tenant leaves MSAL unable to configure the authority; http:// is refused by MSAL itself', () => {
        assert.match(outcomes.wrongSecret!.error ?? '', /^invalid_client: AADSTS7000215/);
        assert.match(outcomes.unknownTenant!.error ?? '', /Unable to get authority configuration/);
        assert.match(outcomes.plainHttp!.error ?? '', /should consist of an https url/);
      });
    });
  });

  it('every endpoint the cloud metadata advertises answers (2015-01-01 and 2022-09-01 shapes; a malformed api-version is a 400)', async () => {
    const old = await httpsJson(`${url}/metadata/endpoints?api-version=2015-01-01`, caPem);
    assert.equal(old.status, 200);
    const auth = old.body.authentication as { loginEndpoint: string; audiences: string[] };
    assert.deepEqual(auth, { loginEndpoint: `${url}/adfs`, audiences: [MANAGEMENT] });
    const list = await httpsJson(`${url}/metadata/endpoints?api-version=2022-09-01`, caPem);
    const [cloud] = list.body as unknown as { resourceManager: string; microsoftGraphResourceId: string; graph: string; authentication: { loginEndpoint: string } }[];
    const discovery = await httpsJson(`${cloud!.authentication.loginEndpoint}/.well-known/openid-configuration`, caPem);
    assert.equal(discovery.status, 200);
    // The token endpoint, Resource Manager and Graph answer: 415 for a body that is no form, 401 without a token (never 404).
    assert.equal((await httpsJson(String(discovery.body.token_endpoint), caPem, { method: 'POST' })).status, 415);
    assert.equal((await httpsJson(`${cloud!.resourceManager}subscriptions?api-version=2022-12-01`, caPem)).status, 401);
    assert.equal((await httpsJson(`${cloud!.microsoftGraphResourceId}v1.0/me`, caPem)).status, 401);
    assert.equal((await httpsJson(`${cloud!.graph}v1.0/users`, caPem)).status, 401);
    assert.equal((await httpsJson(`${url}/metadata/endpoints?api-version=<script>`, caPem)).status, 400);
  });

  it('no secret, password or token reached the server log', () => {
    const log = server.logs.join('\n');
    for (const secret of [automation.secret, bystander.secret, ADA_PASSWORD, admin]) assert.ok(!log.includes(secret));
    assert.doesNotMatch(log, /eyJ[A-Za-z0-9_-]{20,}\./, 'no JWT');
  });
});
