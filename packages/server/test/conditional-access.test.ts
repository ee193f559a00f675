/**
 * Conditional access on both stores: policies and named locations through the Graph API,
 * enforcement at every token path (password grant, ML Server /login and its refresh, the
 * refresh-token grant, client credentials), report-only records, what-if agreeing with the
 * real evaluation, the lockout guard and the admin exclusion, and every refused input.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { accessBlockedPage } from '../src/http/pages/accessBlockedPage.js';
import { STORE_KINDS, ADMIN_PASSWORD, TestClock, call, createServicePrincipal, createUser, login, postForm, startTestServer, type ServicePrincipalWithSecret, type TestServer } from './helpers.js';

const CLI = '3c8a5a4e-0f7d-4b8e-9d3a-7e2b1c6f9a01';
const BASE = '/v1.0/identity/conditionalAccess';
const PASSWORD = 'Cond1tional-Access-Pass!';

type Json = Record<string, unknown>;

interface PolicyOptions {
  state?: string;
  control?: 'block' | 'mfa';
  conditions?: Json;
}

/** A policy as Microsoft's docs write one. */
function policy(displayName: string, users: Json | null, options: PolicyOptions = {}): Json {
  return {
    displayName,
    state: options.state ?? 'enabled',
    conditions: { ...(users ? { users } : {}), applications: { includeApplications: ['All'] }, ...options.conditions },
    grantControls: { operator: 'OR', builtInControls: [options.control ?? 'block'] },
  };
}

for (const kind of STORE_KINDS) {
  describe(`conditional access [${kind}]`, () => {
    let server: TestServer;
    let admin: string;
    let adaId: string;
    let bobId: string;
    let sp: ServicePrincipalWithSecret;
    let loopback: string;

    before(async () => {
      server = await startTestServer(kind);
      admin = (await login(server)).access_token;
      adaId = await createUser(server, admin, 'ada', PASSWORD);
      bobId = await createUser(server, admin, 'bob', PASSWORD);
      sp = await createServicePrincipal(server, admin, 'ca-automation');
      const created = await api('POST', '/namedLocations', { '@odata.type': '#microsoft.graph.ipNamedLocation', displayName: 'loopback one', isTrusted: false, ipRanges: [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '127.0.0.1/32' }] });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      loopback = String(created.body.id);
    });
    after(() => server.close());
    afterEach(() => clear());

    async function clear(): Promise<void> {
      const list = await api('GET', '/policies');
      for (const p of (list.body.value as Json[]) ?? []) await api('DELETE', `/policies/${String(p.id)}`);
    }
    const adminId = async () => String((await call<Json>(`${server.url}/v1.0/users/admin`, { token: admin })).body.id);

    function api(method: string, path: string, body?: unknown, token = admin, headers: Record<string, string> = {}) {
      return call<Json>(`${server.url}${BASE}${path}`, { method, token, body, headers });
    }
    async function create(p: Json, query = ''): Promise<string> {
      const res = await api('POST', `/policies${query}`, p);
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return String(res.body.id);
    }
    const tokenUrl = () => `${server.url}/organizations/oauth2/v2.0/token`;
    const passwordGrant = (username: string, headers: Record<string, string> = {}) =>
      postForm<Json>(tokenUrl(), { grant_type: 'password', client_id: CLI, username, password: PASSWORD, scope: 'api://tessera/management/.default offline_access' }, headers);
    const clientCredentials = () => postForm<Json>(tokenUrl(), { grant_type: 'client_credentials', client_id: sp.appId, client_secret: sp.secret, scope: 'api://tessera/management/.default' });
    const whatIf = (body: Json) => api('POST', '/evaluate', body);

    describe('the Graph API', () => {
      it('creates, lists, reads, updates and deletes a policy in Graph\'s shape', async () => {
        const id = await create(policy('Block ada', { includeUsers: [adaId] }));
        const shown = await api('GET', `/policies/${id}`);
        assert.equal(shown.status, 200);
        assert.equal(shown.body.displayName, 'Block ada');
        assert.equal(shown.body.state, 'enabled');
        assert.match(String(shown.body.createdDateTime), /^\d{4}-\d\d-\d\dT/);
        const conditions = shown.body.conditions as Json;
        assert.deepEqual((conditions.users as Json).includeUsers, [adaId]);
        assert.deepEqual(conditions.clientAppTypes, ['all']);
        assert.deepEqual(shown.body.grantControls, { operator: 'OR', builtInControls: ['block'], customAuthenticationFactors: [], termsOfUse: [] });
        const listed = await api('GET', '/policies');
        assert.deepEqual((listed.body.value as Json[]).map((p) => p.id), [id]);
        const patched = await api('PATCH', `/policies/${id}`, { displayName: 'Report ada', state: 'enabledForReportingButNotEnforced' });
        assert.equal(patched.status, 204);
        const after = await api('GET', `/policies/${id}`);
        assert.equal(after.body.displayName, 'Report ada');
        assert.equal(after.body.state, 'enabledForReportingButNotEnforced');
        assert.deepEqual(((after.body.conditions as Json).users as Json).includeUsers, [adaId], 'PATCH keeps what it does not name');
        assert.ok(after.body.modifiedDateTime);
        assert.equal((await api('DELETE', `/policies/${id}`)).status, 204);
        assert.equal((await api('GET', `/policies/${id}`)).status, 404);
      });

      it('a policy read back (with Graph\'s read-only fields) can be sent again as written', async () => {
        const id = await create(policy('Round trip', { includeUsers: [adaId] }));
        const shown = (await api('GET', `/policies/${id}`)).body;
        const again = await api('POST', '/policies', { ...shown, displayName: 'Round trip 2' });
        assert.equal(again.status, 201, JSON.stringify(again.body));
      });

      it('named locations: create, list, read, update; in use by a policy they cannot be deleted', async () => {
        const made = await api('POST', '/namedLocations', { displayName: 'office', ipRanges: [{ cidrAddress: '10.1.0.0/16' }, { cidrAddress: '2001:db8::/32' }] });
        assert.equal(made.status, 201, JSON.stringify(made.body));
        assert.equal(made.body['@odata.type'], '#microsoft.graph.ipNamedLocation');
        assert.deepEqual(made.body.ipRanges, [
          { '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '10.1.0.0/16' },
          { '@odata.type': '#microsoft.graph.iPv6CidrRange', cidrAddress: '2001:db8::/32' },
        ]);
        const id = String(made.body.id);
        assert.ok((await api('GET', '/namedLocations')).body.value);
        assert.equal((await api('PATCH', `/namedLocations/${id}`, { isTrusted: true })).status, 204);
        assert.equal((await api('GET', `/namedLocations/${id}`)).body.isTrusted, true);
        const pid = await create(policy('Office only', { includeUsers: [adaId] }, { conditions: { locations: { includeLocations: ['All'], excludeLocations: [id] } } }));
        const refused = await api('DELETE', `/namedLocations/${id}`);
        assert.equal(refused.status, 409);
        assert.match(String((refused.body.error as Json).message), /Office only/);
        await api('DELETE', `/policies/${pid}`);
        assert.equal((await api('DELETE', `/namedLocations/${id}`)).status, 204);
        assert.equal((await api('GET', `/namedLocations/${id}`)).status, 404);
      });

      it('a user without a role may not read or write policies (403), and no token gets 401', async () => {
        const ada = (await login(server, 'ada', PASSWORD)).access_token;
        assert.equal((await api('GET', '/policies', undefined, ada)).status, 403);
        assert.equal((await api('POST', '/policies', policy('x', { includeUsers: [adaId] }), ada)).status, 403);
        assert.equal((await api('POST', '/namedLocations', { displayName: 'x', ipRanges: [{ cidrAddress: '10.0.0.0/8' }] }, ada)).status, 403);
        assert.equal((await api('POST', '/evaluate', { user: 'ada', ipAddress: '127.0.0.1', clientApp: 'password' }, ada)).status, 403);
        const anonymous = await call(`${server.url}${BASE}/policies`);
        assert.equal(anonymous.status, 401);
      });
    });

    describe('refused input', () => {
      async function refused(body: unknown, pattern: RegExp, path = '/policies', method = 'POST'): Promise<void> {
        const res = await api(method, path, body);
        assert.equal(res.status, 400, JSON.stringify(res.body));
        const error = res.body.error as Json;
        assert.equal(error.code, 'InvalidParameter');
        assert.match(String(error.message), pattern);
      }

      it('an invalid CIDR is refused, naming it', async () => {
        for (const cidr of ['10.0.0.0/33', '10.0.0/8', '300.1.1.1/8', '10.0.0.0', '::1/129', 'fe80::1%eth0/64', '10.0.0.0/08', '<b>/8', "1.1.1.1/8' OR '1'='1"]) {
          await refused({ displayName: 'bad', ipRanges: [{ cidrAddress: cidr }] }, /not a CIDR range/, '/namedLocations');
        }
        await refused({ displayName: 'bad', ipRanges: [{ '@odata.type': '#microsoft.graph.iPv6CidrRange', cidrAddress: '10.0.0.0/8' }] }, /odata\.type/, '/namedLocations');
        await refused({ displayName: 'bad', ipRanges: [] }, /non-empty/, '/namedLocations');
        await refused({ '@odata.type': '#microsoft.graph.countryNamedLocation', displayName: 'fr', countriesAndRegions: ['FR'] }, /countriesAndRegions|Country/, '/namedLocations');
      });

      it('an unknown group, user, role, location or service principal is refused', async () => {
        const ghost = '0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b';
        await refused(policy('g', { includeGroups: [ghost] }), /group '0e1f2a3b.*does not exist/);
        await refused(policy('u', { includeUsers: [ghost] }), /user '0e1f2a3b.*does not exist/);
        await refused(policy('r', { includeRoles: ['Chief Wizard'] }), /role 'Chief Wizard' that does not exist/);
        await refused(policy('l', { includeUsers: [adaId] }, { conditions: { locations: { includeLocations: [ghost] } } }), /named location/);
        await refused(policy('s', null, { conditions: { users: { includeUsers: ['None'] }, clientApplications: { includeServicePrincipals: [ghost] } } }), /service principal/);
        await refused(policy('a', { includeUsers: [adaId] }, { conditions: { applications: { includeApplications: [ghost] } } }), /application/);
        await refused(policy('a', { includeUsers: [adaId] }, { conditions: { applications: { includeApplications: ['https://evil.example/'] } } }), /resource URI/);
      });

      it('a circular exclusion (the same thing included and excluded) is refused: the policy could never apply', async () => {
        await refused(policy('c', { includeUsers: [adaId], excludeUsers: [adaId] }), /both included and excluded/);
        const group = await call<Json>(`${server.url}/v1.0/groups`, { token: admin, body: { displayName: 'circle' } });
        await refused(policy('c', { includeGroups: [String(group.body.id)], excludeGroups: [String(group.body.id).toUpperCase()] }), /both included and excluded/);
        await refused(policy('c', { includeRoles: ['Reader'], excludeRoles: ['acdd72a7-3385-48ef-bd42-f606fba81ae7'] }), /both included and excluded/);
        await refused(policy('c', { includeUsers: [adaId] }, { conditions: { locations: { includeLocations: [loopback], excludeLocations: [loopback] } } }), /both included and excluded/);
        await refused(policy('c', { includeUsers: [adaId] }, { conditions: { locations: { includeLocations: ['All'], excludeLocations: ['All'] } } }), /could never apply/);
        await refused(policy('c', { includeUsers: [adaId] }, { conditions: { applications: { includeApplications: [CLI], excludeApplications: [CLI] } } }), /both included and excluded/);
      });

      it('missing, wrong and unsupported fields are refused, naming the field', async () => {
        const good = policy('ok', { includeUsers: [adaId] });
        await refused({ ...good, displayName: undefined }, /displayName/);
        await refused({ ...good, state: 'on' }, /'state'/);
        await refused({ ...good, grantControls: undefined }, /grantControls/);
        await refused({ ...good, grantControls: { operator: 'OR', builtInControls: ['compliantDevice'] } }, /\['block'\] or \['mfa'\]/);
        await refused({ ...good, grantControls: { operator: 'XOR', builtInControls: ['block'] } }, /operator/);
        await refused({ ...good, conditions: { users: { includeUsers: [adaId] } } }, /applications/);
        await refused({ ...good, conditions: { applications: { includeApplications: ['All'] } } }, /must include someone/);
        await refused({ ...good, conditions: { ...(good.conditions as Json), signInRiskLevels: ['high'] } }, /signInRiskLevels' is not supported/);
        await refused({ ...good, conditions: { ...(good.conditions as Json), clientAppTypes: ['fax'] } }, /clientAppTypes/);
        await refused({ ...good, conditions: { users: { includeUsers: ['All', adaId] }, applications: { includeApplications: ['All'] } } }, /only entry/);
        await refused({ ...good, sessionControls: { signInFrequency: { value: 1 } } }, /sessionControls/);
        await refused({ ...good, isAdmin: true }, /isAdmin' is not a field/);
        await refused({ ...good, displayName: 42 }, /displayName/);
        await refused({ ...good, conditions: 'all' }, /'conditions' must be an object/);
        await refused(policy('sp mfa', null, { control: 'mfa', conditions: { clientApplications: { includeServicePrincipals: [sp.id] } } }), /can only block/);
        await refused(policy('both', { includeUsers: [adaId] }, { conditions: { clientApplications: { includeServicePrincipals: [sp.id] } } }), /not both/);
        const wrongType = await call(`${server.url}${BASE}/policies`, { token: admin, body: '[1,2]' });
        assert.equal(wrongType.status, 400);
      });

      it('oversized input is refused: long names, long lists, huge bodies', async () => {
        await refused(policy('x'.repeat(257), { includeUsers: [adaId] }), /displayName/);
        await refused(policy('long', { includeUsers: Array.from({ length: 201 }, () => adaId) }), /at most 200/);
        await refused({ displayName: 'big', ipRanges: Array.from({ length: 2001 }, (_, i) => ({ cidrAddress: `10.${i >> 8}.${i & 255}.0/24` })) }, /at most 2000/, '/namedLocations');
        const huge = await api('POST', '/policies', { ...policy('huge', { includeUsers: [adaId] }), padding: 'x'.repeat(70_000) });
        assert.equal(huge.status, 413);
        assert.equal((await api('GET', `/policies/${'a'.repeat(65)}`)).status, 400);
      });

      it('a named location update is checked as a create is; a bad force flag is refused', async () => {
        await refused({ ipRanges: [{ cidrAddress: '10.0.0.0/99' }] }, /not a CIDR range/, `/namedLocations/${loopback}`, 'PATCH');
        await refused({ displayName: '' }, /displayName/, `/namedLocations/${loopback}`, 'PATCH');
        await refused({ isTrusted: 'yes' }, /isTrusted/, `/namedLocations/${loopback}`, 'PATCH');
        assert.deepEqual((await api('GET', `/namedLocations/${loopback}`)).body.ipRanges, [{ '@odata.type': '#microsoft.graph.iPv4CidrRange', cidrAddress: '127.0.0.1/32' }], 'unchanged');
        assert.equal((await api('POST', '/policies?force=yes', policy('f', { includeUsers: [adaId] }))).status, 400);
        assert.equal((await api('POST', '/policies?force=true&evil=1', policy('f', { includeUsers: [adaId] }))).status, 400);
        const dup = await api('POST', '/namedLocations', { displayName: 'LOOPBACK ONE', ipRanges: [{ cidrAddress: '10.0.0.0/8' }] });
        assert.equal(dup.status, 409);
      });

      it('markup in names is stored and returned as data, never interpreted', async () => {
        const name = '<script>alert(1)</script> & "quotes"';
        const id = await create(policy(name, { includeUsers: [adaId] }));
        assert.equal((await api('GET', `/policies/${id}`)).body.displayName, name);
        const res = await passwordGrant('ada');
        assert.match(String(res.body.error_description), /<script>alert\(1\)<\/script> & "quotes"/);
        assert.equal(res.headers.get('content-type')?.startsWith('application/json'), true);
      });

      it('injection in ids and filters finds nothing and breaks nothing', async () => {
        for (const id of ["' OR 1=1 --", '1; DROP TABLE ca_policies', '../../users', '%00']) {
          const res = await api('GET', `/policies/${encodeURIComponent(id)}`);
          assert.equal(res.status, 404, id);
        }
        assert.equal((await api('GET', "/policies?$top=1;DROP TABLE ca_policies")).status, 400);
        assert.equal((await api('GET', '/policies?$top=0')).status, 400);
        assert.equal((await api('GET', "/policies?$filter=displayName eq 'x' or 1 eq 1")).status, 200, 'unknown query options are ignored, as Graph lists do here');
        await refused(policy('inj', { includeUsers: ["' OR '1'='1"] }), /not a user object id/);
        await refused(policy('inj', { includeGroups: ['x); DELETE FROM groups; --'] }), /not a group object id/);
        const w = await whatIf({ user: "admin' --", ipAddress: '127.0.0.1', clientApp: 'password' });
        assert.equal(w.status, 400);
        assert.equal((await api('GET', '/policies')).status, 200, 'the table is still there');
      });

      it('hostile and oversized ids on read, update and delete find nothing and change nothing', async () => {
        for (const method of ['GET', 'PATCH', 'DELETE']) {
          for (const id of ["1' OR '1'='1", '<script>', '..%2F..%2Fadmin', 'ffffffff-ffff-ffff-ffff-ffffffffffff']) {
            const body = method === 'PATCH' ? { state: 'disabled' } : undefined;
            assert.equal((await api(method, `/policies/${encodeURIComponent(id)}`, body)).status, 404, `${method} ${id}`);
            assert.equal((await api(method, `/namedLocations/${encodeURIComponent(id)}`, body)).status, 404, `${method} ${id}`);
          }
          assert.equal((await api(method, `/policies/${'f'.repeat(100)}`, method === 'PATCH' ? {} : undefined)).status, 400);
        }
        assert.equal((await whatIf({ user: 'a'.repeat(321), ipAddress: '127.0.0.1', clientApp: 'password' })).status, 400);
        assert.equal((await whatIf({ user: 'ada', ipAddress: '1'.repeat(65), clientApp: 'password' })).status, 400);
        assert.equal((await whatIf({ user: 'ada', ipAddress: '127.0.0.1', clientApp: 'password', amr: ['pwd', 'mfa', 'otp', 'rc', 'pwd'] })).status, 400);
        assert.equal((await whatIf({ user: 'ada\u0000', ipAddress: '127.0.0.1', clientApp: 'password' })).status, 400);
      });

      it('what-if refuses a bad address, two subjects, a user with clientCredentials, unknown fields', async () => {
        for (const body of [
          { user: 'ada', ipAddress: 'not-an-ip', clientApp: 'password' },
          { user: 'ada', servicePrincipal: sp.appId, ipAddress: '127.0.0.1', clientApp: 'password' },
          { ipAddress: '127.0.0.1', clientApp: 'password' },
          { user: 'ada', ipAddress: '127.0.0.1', clientApp: 'clientCredentials' },
          { servicePrincipal: sp.appId, ipAddress: '127.0.0.1', clientApp: 'browser' },
          { user: 'ada', ipAddress: '127.0.0.1', clientApp: 'telepathy' },
          { user: 'ada', ipAddress: '127.0.0.1', clientApp: 'password', extra: 1 },
          { user: 'ada', ipAddress: '127.0.0.1', clientApp: 'password', clientAppId: 'not-a-guid' },
          { user: 'nobody', ipAddress: '127.0.0.1', clientApp: 'password' },
        ]) {
          assert.equal((await whatIf(body)).status, 400, JSON.stringify(body));
        }
      });
    });

    describe('enforcement', () => {
      it('a block policy refuses the password grant with AADSTS53003 naming the policy; others still sign in', async () => {
        const id = await create(policy('Block ada everywhere', { includeUsers: [adaId] }));
        const res = await passwordGrant('ada');
        assert.equal(res.status, 400);
        assert.equal(res.body.error, 'invalid_grant');
        assert.deepEqual(res.body.error_codes, [53003]);
        assert.match(String(res.body.error_description), /^AADSTS53003: Access has been blocked by Conditional Access policies\..*'Block ada everywhere' \(/);
        assert.match(String(res.body.error_description), new RegExp(id));
        assert.equal((await passwordGrant('bob')).status, 200);
      });

      it('an MFA policy refuses a password grant (it cannot do MFA): AADSTS50076, interaction_required, a claims challenge', async () => {
        const id = await create(policy('MFA for ada', { includeUsers: [adaId] }, { control: 'mfa' }));
        const res = await passwordGrant('ada');
        assert.equal(res.status, 400);
        assert.equal(res.body.error, 'interaction_required');
        assert.equal(res.body.suberror, 'basic_action');
        assert.deepEqual(res.body.error_codes, [50076]);
        assert.match(String(res.body.error_description), /MFA for ada/);
        assert.deepEqual(JSON.parse(String(res.body.claims)), { access_token: { capolids: { essential: true, values: [id] } } });
      });

      it('ML Server /login and its refresh are refused under a block policy; the change applies at once on this replica', async () => {
        const pair = await login(server, 'ada', PASSWORD);
        await create(policy('No ML Server for ada', { includeUsers: [adaId] }, { conditions: { clientAppTypes: ['other', 'mobileAppsAndDesktopClients'] } }));
        const blocked = await call<Json>(`${server.url}/login`, { body: { username: 'ada', password: PASSWORD } });
        assert.equal(blocked.status, 400);
        assert.equal((blocked.body.error as Json).code, 'ConditionalAccessBlocked');
        assert.match(String((blocked.body.error as Json).message), /No ML Server for ada/);
        const refreshed = await call<Json>(`${server.url}/login/refreshToken`, { body: { refreshToken: pair.refresh_token } });
        assert.equal(refreshed.status, 400);
        assert.equal((refreshed.body.error as Json).code, 'ConditionalAccessBlocked');
        // The refused refresh did not spend the token: it is still one that is refused by the policy, not a reuse.
        const again = await call<Json>(`${server.url}/login/refreshToken`, { body: { refreshToken: pair.refresh_token } });
        assert.equal((again.body.error as Json).code, 'ConditionalAccessBlocked');
      });

      it('clientAppTypes: a browser-only policy leaves the password grant alone; "other" catches ML Server /login only', async () => {
        await create(policy('Browser only', { includeUsers: [adaId] }, { conditions: { clientAppTypes: ['browser'] } }));
        assert.equal((await passwordGrant('ada')).status, 200);
        await create(policy('Legacy', { includeUsers: [adaId] }, { conditions: { clientAppTypes: ['other'] } }));
        assert.equal((await passwordGrant('ada')).status, 200);
        assert.equal((await call(`${server.url}/login`, { body: { username: 'ada', password: PASSWORD } })).status, 400);
      });

      it('the refresh-token grant is evaluated again: an MFA policy added after a password sign-in stops the refresh, and leaves the refresh token alive', async () => {
        const first = await passwordGrant('ada');
        assert.equal(first.status, 200);
        const id = await create(policy('MFA later', { includeUsers: [adaId] }, { control: 'mfa' }));
        const refresh = (token: string) => postForm<Json>(tokenUrl(), { grant_type: 'refresh_token', client_id: CLI, refresh_token: token, scope: 'api://tessera/management/.default' });
        const res = await refresh(String(first.body.refresh_token));
        assert.equal(res.status, 400);
        assert.equal(res.body.error, 'interaction_required');
        assert.equal((await refresh(String(first.body.refresh_token))).body.error, 'interaction_required', 'refused again, not taken for a reuse');
        // Judged before it was spent: once the policy goes, the same token refreshes (as in Entra).
        assert.equal((await api('DELETE', `/policies/${id}`)).status, 204);
        const after = await refresh(String(first.body.refresh_token));
        assert.equal(after.status, 200, JSON.stringify(after.body));
        // And it is spent now: presenting it again is a reuse, which ends the chain.
        assert.match(String((await refresh(String(first.body.refresh_token))).body.error_description), /already used/);
        assert.equal((await refresh(String(after.body.refresh_token))).status, 400, 'the successor went with its chain');
      });

      it('a refresh keeps its chain\'s methods: a chain begun with MFA passes an MFA policy, one begun with a password does not', async () => {
        await create(policy('MFA for ada (refresh)', { includeUsers: [adaId] }, { control: 'mfa' }));
        const issue = (amr: ('pwd' | 'mfa' | 'otp')[]) =>
          server.running.services.refreshTokens.issue({ tenantId: server.running.bootstrap.tenantId, userId: adaId, clientId: CLI, scope: 'openid offline_access', amr });
        const refreshWith = async (token: string) => postForm<Json>(tokenUrl(), { grant_type: 'refresh_token', client_id: CLI, refresh_token: token, scope: 'api://tessera/management/.default' });
        const withMfa = await refreshWith(await issue(['pwd', 'mfa', 'otp']));
        assert.equal(withMfa.status, 200, JSON.stringify(withMfa.body));
        const withPassword = await refreshWith(await issue(['pwd']));
        assert.equal(withPassword.body.error, 'interaction_required');
      });

      it('groups: a policy for a group reaches its members, and leaving the group takes effect at once', async () => {
        const group = await call<Json>(`${server.url}/v1.0/groups`, { token: admin, body: { displayName: 'contractors' } });
        const gid = String(group.body.id);
        await create(policy('Block contractors', { includeGroups: [gid] }));
        assert.equal((await passwordGrant('bob')).status, 200);
        assert.equal((await call(`${server.url}/v1.0/groups/${gid}/members/$ref`, { token: admin, body: { '@odata.id': `https://graph.microsoft.com/v1.0/directoryObjects/${bobId}` } })).status, 204);
        assert.deepEqual((await passwordGrant('bob')).body.error_codes, [53003]);
        assert.equal((await call(`${server.url}/v1.0/groups/${gid}/members/${bobId}/$ref`, { method: 'DELETE', token: admin })).status, 204);
        assert.equal((await passwordGrant('bob')).status, 200);
      });

      it('roles: includeRoles names an RBAC role (by name or id) held at any scope, directly or through a group', async () => {
        await create(policy('Block readers', { includeRoles: ['Reader'], excludeUsers: [] }));
        assert.equal((await passwordGrant('bob')).status, 200);
        const sub = server.running.bootstrap.subscriptionId;
        const assignment = await server.running.services.access.assign({ tenantId: server.running.bootstrap.tenantId, principalId: bobId, principalType: 'User', roleDefinitionId: 'acdd72a7-3385-48ef-bd42-f606fba81ae7', scope: `/subscriptions/${sub}`, createdBy: null });
        const res = await passwordGrant('bob');
        assert.deepEqual(res.body.error_codes, [53003]);
        await server.running.services.store.db.deleteFrom('role_assignments').where('id', '=', assignment.id).execute();
        server.running.services.access.invalidate();
        assert.equal((await passwordGrant('bob')).status, 200);
      });

      it('applications: a policy on the workspace resource leaves management tokens alone; excluding the client exempts it', async () => {
        await create(policy('Workspace only', { includeUsers: [adaId] }, { conditions: { applications: { includeApplications: ['https://ml.azure.com'] } } }));
        assert.equal((await passwordGrant('ada')).status, 200);
        const ws = await postForm<Json>(tokenUrl(), { grant_type: 'password', client_id: CLI, username: 'ada', password: PASSWORD, scope: 'api://tessera/workspace/.default' });
        assert.deepEqual(ws.body.error_codes, [53003]);
        await clear();
        await create(policy('All but the CLI', { includeUsers: [adaId] }, { conditions: { applications: { includeApplications: ['All'], excludeApplications: [CLI] } } }));
        assert.equal((await passwordGrant('ada')).status, 200);
      });

      it('report-only policies are recorded in the audit trail and never enforced; disabled ones do nothing', async () => {
        const id = await create(policy('Would block ada', { includeUsers: [adaId] }, { state: 'enabledForReportingButNotEnforced' }));
        await create(policy('Off', { includeUsers: [adaId] }, { state: 'disabled' }));
        const res = await passwordGrant('ada');
        assert.equal(res.status, 200);
        // The record is written after the answer: wait for it (generously, for a loaded machine).
        let record: Json | undefined;
        for (const deadline = Date.now() + 30_000; !record && Date.now() < deadline; ) {
          const records = await call<{ value: Json[] }>(`${server.url}/admin/auditRecords?category=SignIn&$top=50`, { token: admin });
          record = records.body.value.find((r) => r.reason === 'reportOnlyFailure' && String(r.target).includes(id));
          if (!record) await new Promise((r) => setTimeout(r, 50));
        }
        assert.ok(record, 'a report-only record');
        assert.equal(record.operation, 'conditionalAccess/reportOnly/password');
        assert.equal((record.actor as Json).id, adaId);
        assert.equal(record.requestId, res.headers.get('x-ms-request-id'));
      });

      it('client credentials: a workload-identity policy blocks a service principal by location; reused tokens are not handed out either', async () => {
        assert.equal((await clientCredentials()).status, 200);
        await create(policy('Automation off-site only', null, { conditions: { clientApplications: { includeServicePrincipals: [sp.appId] }, locations: { includeLocations: [loopback] } } }));
        const res = await clientCredentials();
        assert.equal(res.status, 400);
        assert.deepEqual(res.body.error_codes, [53003]);
        assert.match(String(res.body.error_description), /Automation off-site only/);
        // A user policy does not reach service principals.
        await clear();
        await create(policy('Users everywhere but admin', { includeUsers: ['All'], excludeUsers: [await adminId()] }));
        assert.equal((await clientCredentials()).status, 200);
      });

      it('a user who enrolled MFA is refused on the password-only paths even with no policy (AADSTS50076); what-if says why', async () => {
        const db = server.running.services.store.db;
        // Enrolment as the MFA module records it (only the row's presence matters here).
        await db.insertInto('mfa_totp').values({ user_id: bobId, tenant_id: server.running.bootstrap.tenantId, method_id: '6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', secret_sealed: 'sealed', created_at: Date.now(), last_step: null, last_used_at: null }).execute();
        try {
          const grant = await passwordGrant('bob');
          assert.equal(grant.body.error, 'interaction_required');
          assert.deepEqual(grant.body.error_codes, [50076]);
          const ml = await call<Json>(`${server.url}/login`, { body: { username: 'bob', password: PASSWORD } });
          assert.equal((ml.body.error as Json).code, 'MfaRequired');
          const w = await whatIf({ user: 'bob', ipAddress: '127.0.0.1', clientApp: 'password' });
          assert.equal(w.body.result, 'mfa');
          assert.equal((w.body.decidedBy as Json).id, 'mfa-registration');
          assert.equal((await whatIf({ user: 'bob', ipAddress: '127.0.0.1', clientApp: 'browser' })).body.result, 'allow', 'the browser can ask for the second factor');
        } finally {
          await db.deleteFrom('mfa_totp').where('user_id', '=', bobId).execute();
        }
        assert.equal((await passwordGrant('bob')).status, 200);
      });

      it('X-Forwarded-For from a client is ignored without a trusted proxy: the policy sees the socket address', async () => {
        await create(policy('Loopback blocked', { includeUsers: [adaId] }, { conditions: { locations: { includeLocations: [loopback] } } }));
        const res = await passwordGrant('ada', { 'x-forwarded-for': '203.0.113.9' });
        assert.deepEqual(res.body.error_codes, [53003]);
        const w = await whatIf({ user: 'ada', ipAddress: '203.0.113.9', clientApp: 'password' });
        assert.equal(w.body.result, 'allow', 'from elsewhere it would be allowed');
      });
    });

    describe('what-if', () => {
      it('prints which policies apply, which do not and why, and the result; it agrees with the real sign-in', async () => {
        const office = await api('POST', '/namedLocations', { displayName: 'office net', isTrusted: true, ipRanges: [{ cidrAddress: '198.51.100.0/24' }] });
        const officeId = String(office.body.id);
        const block = await create(policy('Block outside office', { includeUsers: [adaId] }, { conditions: { locations: { includeLocations: ['All'], excludeLocations: ['AllTrusted'] } } }));
        const mfa = await create(policy('MFA for bob', { includeUsers: [bobId] }, { control: 'mfa' }));
        await create(policy('Browser rule', { includeUsers: [adaId] }, { conditions: { clientAppTypes: ['browser'] } }));
        const outside = await whatIf({ user: 'ada', ipAddress: '127.0.0.1', clientApp: 'password' });
        assert.equal(outside.status, 200, JSON.stringify(outside.body));
        assert.equal(outside.body.result, 'block');
        assert.deepEqual(outside.body.decidedBy, { id: block, displayName: 'Block outside office' });
        const verdicts = outside.body.policies as Json[];
        const byName = (n: string) => verdicts.find((v) => v.displayName === n)!;
        assert.equal(byName('Block outside office').applies, true);
        assert.equal(byName('MFA for bob').applies, false);
        assert.ok((byName('MFA for bob').reasons as string[]).some((r) => /users: not included/.test(r)));
        assert.ok((byName('Browser rule').reasons as string[]).some((r) => /clientAppTypes: a password sign-in \(mobileAppsAndDesktopClients\) is not in \[browser\]/.test(r)));
        assert.deepEqual((await passwordGrant('ada')).body.error_codes, [53003], 'the real sign-in agrees');
        const inside = await whatIf({ user: adaId, ipAddress: '198.51.100.7', clientApp: 'password' });
        assert.equal(inside.body.result, 'allow');
        assert.ok(((inside.body.policies as Json[]).find((v) => v.id === block)!.reasons as string[]).some((r) => /excluded location AllTrusted/.test(r)));
        const bob = await whatIf({ user: 'bob', ipAddress: '127.0.0.1', clientApp: 'deviceCode' });
        assert.equal(bob.body.result, 'mfa');
        assert.deepEqual(bob.body.decidedBy, { id: mfa, displayName: 'MFA for bob' });
        const bobDone = await whatIf({ user: 'bob', ipAddress: '127.0.0.1', clientApp: 'deviceCode', amr: ['pwd', 'mfa', 'otp'] });
        assert.equal(bobDone.body.result, 'allow');
        const spCheck = await whatIf({ servicePrincipal: sp.appId, ipAddress: '127.0.0.1', clientApp: 'clientCredentials' });
        assert.equal(spCheck.body.result, 'allow');
        assert.ok((spCheck.body.policies as Json[]).every((v) => v.applies === false));
        await api('DELETE', `/policies/${block}`);
        assert.equal((await api('DELETE', `/namedLocations/${officeId}`)).status, 204);
      });
    });

    describe('one evaluation', () => {
      it('enforce() decides exactly as evaluate() (what-if) does, over 400 random sign-ins against 30 random policies', async () => {
        const { services, bootstrap } = server.running;
        const tenantId = bootstrap.tenantId;
        let seed = 12345;
        const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
        const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
        const some = <T,>(xs: readonly T[]): T[] => xs.filter(() => rnd() < 0.4);
        const group = await services.groups.create(tenantId, { displayName: 'random-group' });
        await services.groups.addMember(tenantId, group.id, bobId);
        const office = await services.conditionalAccess.catalog.createLocation(tenantId, { displayName: 'random office', isTrusted: true, ipRanges: [{ cidrAddress: '198.51.100.0/24' }] });
        const made: string[] = [];
        try {
          for (let i = 0; i < 30; i++) {
            const forSp = rnd() < 0.25;
            const conditions: Json = { applications: { includeApplications: [pick(['All', CLI, 'api://tessera/management', 'https://ml.azure.com'])] } };
            if (forSp) conditions.clientApplications = { includeServicePrincipals: [pick(['ServicePrincipalsInMyTenant', sp.id])] };
            else {
              const users: Json = { includeUsers: [pick(['All', adaId, bobId])], excludeUsers: some([adaId, bobId]) };
              if (rnd() < 0.3) users.includeGroups = [group.id];
              if (rnd() < 0.2) users.excludeGroups = [group.id];
              if (rnd() < 0.2) users.includeRoles = ['Reader'];
              conditions.users = users;
              if (rnd() < 0.4) conditions.clientAppTypes = [pick(['browser', 'mobileAppsAndDesktopClients', 'other'])];
            }
            if (rnd() < 0.6) conditions.locations = { includeLocations: [pick(['All', loopback, office.id, 'AllTrusted'])], excludeLocations: some([loopback, office.id]) };
            const body = { displayName: `random ${i}`, state: pick(['enabled', 'enabled', 'disabled', 'enabledForReportingButNotEnforced']), conditions, grantControls: { operator: 'OR', builtInControls: [forSp ? 'block' : pick(['block', 'mfa'])] } };
            const checked = await services.conditionalAccess.catalog.checkNew(tenantId, body).catch(() => undefined);
            if (checked) made.push((await services.conditionalAccess.catalog.createPolicy(tenantId, checked, null)).id);
          }
          assert.ok(made.length >= 20, `${made.length} policies made`);
          const outcomes = new Set<string>();
          for (let k = 0; k < 400; k++) {
            const user = rnd() < 0.75;
            const req = {
              tenantId,
              subject: user ? ({ kind: 'user', userId: pick([adaId, bobId]) } as const) : ({ kind: 'servicePrincipal', servicePrincipalId: sp.id, appId: sp.appId } as const),
              clientAppId: user ? pick([CLI, '04b07795-8ddb-461a-bbee-02f9e1bf7b46']) : sp.appId,
              resource: pick(['api://tessera/management', 'https://ml.azure.com', 'https://management.azure.com/']),
              address: pick(['127.0.0.1', '198.51.100.7', '10.1.2.3', '::ffff:198.51.100.9', '2001:db8::1']),
              clientApp: user ? pick(['browser', 'deviceCode', 'password', 'refresh', 'mlServerLogin'] as const) : ('clientCredentials' as const),
              amr: user ? pick([['pwd'], ['pwd', 'mfa', 'otp']] as const) : [],
            };
            const said = await services.conditionalAccess.evaluate(req);
            let done: { result: string; by?: string };
            try {
              await services.conditionalAccess.enforce(req, {});
              done = { result: 'allow' };
            } catch (err) {
              const e = err as { code: string; message: string };
              done = { result: e.code === 'ConditionalAccessBlocked' ? 'block' : e.code === 'MfaRequired' ? 'mfa' : e.code, by: e.message };
            }
            assert.equal(done.result, said.result, JSON.stringify({ req, said: said.result }));
            if (said.decidedBy) assert.ok(done.by?.includes(said.decidedBy.id), 'the refusal names the deciding policy');
            outcomes.add(said.result);
          }
          assert.deepEqual([...outcomes].sort(), ['allow', 'block', 'mfa'], 'every outcome was exercised');
        } finally {
          for (const id of made) await services.conditionalAccess.catalog.deletePolicy(tenantId, id);
          await services.conditionalAccess.catalog.deleteLocation(tenantId, office.id);
          await services.groups.delete(tenantId, group.id);
        }
      });
    });

    describe('safety', () => {
      it('a policy that would block its author is refused (409) unless forced; the author can still remove it with the token they hold', async () => {
        // A location the caller is in counts, even when no stored policy names a location yet.
        const here = await api('POST', '/policies', policy('Block this host', { includeUsers: ['All'] }, { conditions: { locations: { includeLocations: [loopback] } } }));
        assert.equal(here.status, 409, JSON.stringify(here.body));
        const away = await api('POST', '/policies', policy('Block elsewhere', { includeUsers: ['All'] }, { conditions: { locations: { includeLocations: ['All'], excludeLocations: [loopback] } } }));
        assert.equal(away.status, 201, 'a policy for other addresses does not block the author');
        await clear();
        const all = policy('Block everyone', { includeUsers: ['All'] });
        const refused = await api('POST', '/policies', all);
        assert.equal(refused.status, 409);
        assert.equal((refused.body.error as Json).code, 'ConditionalAccessLockout');
        assert.match(String((refused.body.error as Json).message), /would block you \(admin\) from 127\.0\.0\.1.*force=true/);
        assert.deepEqual((await api('GET', '/policies')).body.value, []);
        // Report-only and disabled policies never block, so they need no force.
        await create({ ...all, state: 'enabledForReportingButNotEnforced' });
        const id = await create(all, '?force=true');
        const blocked = await call<Json>(`${server.url}/login`, { body: { username: 'admin', password: ADMIN_PASSWORD } });
        assert.equal((blocked.body.error as Json).code, 'ConditionalAccessBlocked');
        // An update that would block the author is guarded the same way.
        const other = await create(policy('Block bob', { includeUsers: [bobId] }));
        assert.equal((await api('PATCH', `/policies/${other}`, { conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'] } } })).status, 409);
        assert.equal((await api('DELETE', `/policies/${id}`)).status, 204);
        assert.equal((await call(`${server.url}/login`, { body: { username: 'admin', password: ADMIN_PASSWORD } })).status, 200);
        const excluded = await create(policy('Everyone but admin', { includeUsers: ['All'], excludeUsers: [await adminId()] }));
        assert.ok(excluded, 'excluding yourself needs no force');
      });
    });
  });
}

describe('conditional access: TESSERA_CA_EXCLUDE_ADMIN', () => {
  for (const kind of STORE_KINDS) {
    it(`the built-in admin is outside every policy, so a bad policy cannot lock everyone out [${kind}]`, async () => {
      const server = await startTestServer(kind, { env: { TESSERA_CA_EXCLUDE_ADMIN: '1' } });
      try {
        const admin = (await login(server)).access_token;
        await createUser(server, admin, 'ada', PASSWORD);
        const created = await call<Json>(`${server.url}${BASE}/policies`, { token: admin, body: policy('Block everyone', { includeUsers: ['All'] }) });
        assert.equal(created.status, 201, 'no lockout warning: the admin is excluded');
        assert.equal((await call(`${server.url}/login`, { body: { username: 'admin', password: ADMIN_PASSWORD } })).status, 200);
        const ada = await call<Json>(`${server.url}/login`, { body: { username: 'ada', password: PASSWORD } });
        assert.equal((ada.body.error as Json).code, 'ConditionalAccessBlocked');
        const w = await call<Json>(`${server.url}${BASE}/evaluate`, { token: admin, body: { user: 'admin', ipAddress: '127.0.0.1', clientApp: 'browser' } });
        assert.equal(w.body.result, 'allow');
        assert.match(JSON.stringify(w.body.policies), /TESSERA_CA_EXCLUDE_ADMIN/);
      } finally {
        await server.close();
      }
    });
  }
});

describe('conditional access across replicas [postgres]', () => {
  it('a policy made on one replica is enforced by another within a second (the cached view expires)', async () => {
    const env = { TESSERA_MASTER_KEY: crypto.randomBytes(32).toString('base64') };
    // b's clock is moved past the view's lifetime instead of racing it in real time.
    const bClock = new TestClock();
    const a = await startTestServer('postgres', { env });
    const b = await startTestServer('postgres', { env, databaseUrl: a.running.services.config.databaseUrl, clock: bClock });
    try {
      const admin = (await login(a)).access_token;
      const adaId = await createUser(a, admin, 'ada', PASSWORD);
      const grant = (server: TestServer) => postForm<Json>(`${server.url}/organizations/oauth2/v2.0/token`, { grant_type: 'password', client_id: CLI, username: 'ada', password: PASSWORD, scope: 'api://tessera/management/.default' });
      assert.equal((await grant(b)).status, 200, 'b has loaded its (empty) view');
      const made = await call<Json>(`${a.url}${BASE}/policies`, { token: admin, body: policy('Block ada', { includeUsers: [adaId] }) });
      assert.equal(made.status, 201);
      assert.deepEqual((await grant(a)).body.error_codes, [53003], 'at once on the replica that made it');
      // One second on, by b's clock, the view b loaded before the policy existed has expired.
      bClock.advance(1000);
      const onB = await grant(b);
      assert.equal(onB.status, 400, 'b refused within a second');
      assert.deepEqual(onB.body.error_codes, [53003]);
    } finally {
      await b.close();
      await a.close();
    }
  });
});

describe('the access-blocked page', () => {
  it('names the policy as text (markup escaped), shows AADSTS53003 and the correlation id, under the pages\' CSP', () => {
    const shown = accessBlockedPage({ policyName: '<script>alert(1)</script>"&\'', correlationId: 'c0ffee00-0000-4000-8000-000000000000', timestamp: '2026-12-07 10:00:00Z' });
    assert.equal(shown.status, 403);
    assert.doesNotMatch(shown.html, /<script>alert/);
    assert.match(shown.html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;&quot;&amp;&#39;/);
    assert.match(shown.html, /AADSTS53003/);
    assert.match(shown.html, /c0ffee00-0000-4000-8000-000000000000/);
    assert.match(String(shown.headers['content-security-policy']), /default-src 'none'/);
  });
});
