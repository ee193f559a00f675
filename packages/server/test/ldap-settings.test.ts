/**
 * How directories are configured, against a real slapd: the settings' rules (plain
 * LDAP only when asked for, filters with their placeholder, the config file), StartTLS,
 * the memberOf attribute with nesting, maxGroups, `localAccounts: admin`, the browser
 * sign-in page for a directory user (and its in-place error when the directory is
 * down), and directories set through the API: the password sealed, never shown, hostile
 * and oversized settings refused, on both stores.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ADMIN_PASSWORD, STORE_KINDS, call, claimsOf, createUser, login, startTestServer, type TestServer } from './helpers.js';
import { SERVICE_DN, SERVICE_PASSWORD, SUFFIX, startSlapd, type Slapd } from './ldap/slapd.js';
import { Browser, alertOf, authorizePath, submitSignIn } from './interactive-helpers.js';
import { DirectoryConnections } from '../src/ldap/connection.js';
import { directorySettings } from '../src/ldap/settings.js';
import { resolveConfig, ConfigError } from '../src/config.js';

const PEOPLE = `ou=people,${SUFFIX}`;
const GROUPS = `ou=groups,${SUFFIX}`;
const ERIN_PASSWORD = 'Erin-directory-pw-1';

function entries(): Array<{ dn: string; attributes: Record<string, string | string[]> }> {
  const erin = `uid=erin,${PEOPLE}`;
  return [
    { dn: erin, attributes: { objectClass: ['inetOrgPerson'], uid: 'erin', cn: 'Erin Eve', sn: 'Eve', mail: 'erin@example.test', userPassword: ERIN_PASSWORD } },
    { dn: `cn=analysts,${GROUPS}`, attributes: { objectClass: ['groupOfNames'], cn: 'analysts', member: [erin] } },
    // A parent of analysts: with memberOf and nestedGroups=recursive, erin is in it too.
    { dn: `cn=everyone,${GROUPS}`, attributes: { objectClass: ['groupOfNames'], cn: 'everyone', member: [`cn=analysts,${GROUPS}`] } },
    ...Array.from({ length: 30 }, (_, i) => ({ dn: `cn=extra-${i},${GROUPS}`, attributes: { objectClass: ['groupOfNames'], cn: `extra-${i}`, member: [erin] } })),
  ];
}

function tempFile(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-ldap-settings-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text, { mode: 0o600 });
  return file;
}

describe('directory settings', () => {
  const base = { TESSERA_LDAP_SEARCH_BASE: SUFFIX, TESSERA_LDAP_URL: 'ldap://127.0.0.1:389' };

  it('refuses plain LDAP unless StartTLS or an explicit insecure flag says how', () => {
    assert.throws(() => resolveConfig({}, base), (err: Error) => err instanceof ConfigError && /plain LDAP: use ldaps:\/\/, or StartTLS/.test(err.message));
    assert.equal(resolveConfig({}, { ...base, TESSERA_LDAP_STARTTLS: '1' }).directory.directories[0]!.startTls, true);
    assert.equal(resolveConfig({ ldapInsecure: true }, base).directory.directories[0]!.insecure, true);
  });

  it('defaults fit OpenLDAP; activeDirectory switches them to AD', () => {
    const openldap = resolveConfig({}, { ...base, TESSERA_LDAP_URL: 'ldaps://dir:636' }).directory.directories[0]!;
    assert.deepEqual([openldap.name, openldap.searchFilter, openldap.uniqueIdAttribute, openldap.groupAttribute, openldap.nestedGroups], ['ldap', '(uid={0})', 'entryUUID', '', 'recursive']);
    const ad = resolveConfig({}, { ...base, TESSERA_LDAP_URL: 'ldaps://dc1:636 ldaps://dc2:636', TESSERA_LDAP_KIND: 'activeDirectory' }).directory.directories[0]!;
    assert.deepEqual(ad.urls, ['ldaps://dc1:636', 'ldaps://dc2:636']);
    assert.deepEqual([ad.uniqueIdAttribute, ad.usernameAttribute, ad.groupAttribute, ad.nestedGroups], ['objectGUID', 'sAMAccountName', 'memberOf', 'inChain']);
  });

  it('refuses bad settings with a message naming the setting', () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ TESSERA_LDAP_URL: 'http://dir' }, /must be ldap:\/\/ or ldaps:\/\//],
      [{ TESSERA_LDAP_URL: 'ldaps://user:pw@dir:636' }, /only a scheme, host and port/],
      [{ TESSERA_LDAP_URL: 'ldaps://dir/dc=x' }, /only a scheme, host and port/],
      [{ TESSERA_LDAP_URL: 'ldaps://dir', TESSERA_LDAP_SEARCH_BASE: '' }, /searchBase is required/],
      [{ TESSERA_LDAP_URL: 'ldaps://dir', TESSERA_LDAP_SEARCH_FILTER: '(uid=alice)' }, /must contain \{0\}/],
      [{ TESSERA_LDAP_URL: 'ldaps://dir', TESSERA_LDAP_SEARCH_FILTER: '(&(uid={0})' }, /unbalanced/],
      [{ TESSERA_LDAP_URL: 'ldaps://dir', TESSERA_LDAP_SEARCH_FILTER: 'uid={0}' }, /in parentheses/],
      [{ TESSERA_LDAP_URL: 'ldaps://dir', TESSERA_LDAP_UNIQUE_ID: 'entry UUID;' }, /uniqueIdAttribute must be an attribute name/],
      [{ TESSERA_LDAP_URL: 'ldaps://dir', TESSERA_LDAP_BIND_DN: 'cn=svc' }, /bindDn and its password go together/],
      [{ TESSERA_LDAP_URL: 'ldaps://dir', TESSERA_LDAP_CA_FILE: '/nonexistent/ca.pem' }, /caFile .* does not exist/],
      [{ TESSERA_LDAP_URL: 'ldaps://dir', TESSERA_LDAP_TIMEOUT_MS: '5' }, /timeoutMs must be a whole number/],
      [{ TESSERA_LDAP_URL: 'ldaps://dir', TESSERA_LDAP_NAME: '<script>' }, /name must be/],
      [{ TESSERA_LDAP_URL: Array.from({ length: 9 }, (_, i) => `ldaps://d${i}`).join(' ') }, /at most 8 URLs/],
    ];
    for (const [env, message] of bad) {
      assert.throws(() => resolveConfig({}, { TESSERA_LDAP_SEARCH_BASE: SUFFIX, ...env }), (err: Error) => err instanceof ConfigError && message.test(err.message), JSON.stringify(env));
    }
  });

  it('the config file holds several directories; an unreadable, malformed or unknown one is refused', () => {
    const file = tempFile('tessera.json', JSON.stringify({ localAccounts: 'admin', directories: [{ name: 'a', urls: ['ldaps://a:636'], searchBase: 'dc=a' }, { name: 'b', url: 'ldaps://b:636', searchBase: 'dc=b', kind: 'activeDirectory' }] }));
    const policy = resolveConfig({ config: file }, {}).directory;
    assert.deepEqual(policy.directories.map((d) => [d.name, d.kind]), [['a', 'openldap'], ['b', 'activeDirectory']]);
    assert.equal(policy.localAccounts, 'admin');
    assert.throws(() => resolveConfig({ config: '/nonexistent.json' }, {}), /cannot be read/);
    assert.throws(() => resolveConfig({ config: tempFile('bad.json', '{"directories": [') }, {}), /not valid JSON/);
    assert.throws(() => resolveConfig({ config: tempFile('x.json', '{"director1es": []}') }, {}), /unknown settings: director1es/);
    assert.throws(() => resolveConfig({ config: tempFile('y.json', '{"directories": [{"name": "a", "urls": ["ldaps://a"], "searchBase": "dc=a"}, {"name": "a", "urls": ["ldaps://b"], "searchBase": "dc=b"}]}') }, {}), /two directories are named 'a'/);
    assert.throws(() => resolveConfig({ config: tempFile('z.json', '{"directories": "ldaps://a"}') }, {}), /directories must be an array/);
  });
});

for (const kind of STORE_KINDS) {
  describe(`directory configurations over StartTLS and the API [${kind}]`, () => {
    let slapd: Slapd;
    before(async () => {
      slapd = await startSlapd({ entries: entries() });
    });
    after(() => slapd?.close());

    describe('StartTLS, memberOf with nesting, local accounts: admin only', () => {
      let server: TestServer;
      before(async () => {
        server = await startTestServer(kind, {
          env: {
            TESSERA_LDAP_URL: slapd.ldapUrl,
            TESSERA_LDAP_STARTTLS: '1',
            TESSERA_LDAP_CA_FILE: slapd.caFile,
            TESSERA_LDAP_BIND_DN: SERVICE_DN,
            TESSERA_LDAP_BIND_PASSWORD_FILE: tempFile('bind-password', `${SERVICE_PASSWORD}\n`),
            TESSERA_LDAP_SEARCH_BASE: PEOPLE,
            TESSERA_LDAP_GROUP_ATTRIBUTE: 'memberOf',
            TESSERA_LDAP_SYNC_INTERVAL_SEC: '0',
            TESSERA_LOCAL_ACCOUNTS: 'admin',
          },
        });
      });
      after(() => server?.close());

      it('signs in over StartTLS, with the groups of memberOf and their parents', async () => {
        const token = (await login(server, 'erin', ERIN_PASSWORD)).access_token;
        const admin = (await login(server)).access_token;
        const groups = await call<{ value: Array<{ displayName: string; source: string }> }>(`${server.url}/v1.0/groups?$top=100`, { token: admin });
        const names = groups.body.value.filter((g) => g.source === 'ldap:ldap').map((g) => g.displayName).sort();
        assert.ok(names.includes('analysts') && names.includes('everyone'), names.join(','));
        assert.equal(names.length, 32);
        assert.equal(claimsOf(token).name, 'Erin Eve');
      });

      it('with localAccounts=admin only the built-in admin signs in locally', async () => {
        const admin = (await login(server)).access_token;
        await createUser(server, admin, 'localbob', 'Local-Bob-Password-1');
        const refused = await call(`${server.url}/login`, { body: { username: 'localbob', password: 'Local-Bob-Password-1' } });
        assert.equal(refused.status, 401);
        assert.equal((await login(server, 'admin', ADMIN_PASSWORD)).token_type, 'Bearer');
      });

      it('the browser sign-in page signs a directory user in, and shows a directory outage in place', async () => {
        const browser = new Browser(server);
        const page = await browser.get(authorizePath());
        const done = await submitSignIn(browser, page.text, 'erin', ERIN_PASSWORD);
        assert.equal(done.status, 303, alertOf(done.text));
        assert.ok(new URL(done.location!).searchParams.get('code'));
        await slapd.stop();
        try {
          const again = new Browser(server);
          const second = await again.get(authorizePath());
          const shown = await submitSignIn(again, second.text, 'erin', ERIN_PASSWORD);
          assert.equal(shown.status, 503);
          assert.match(alertOf(shown.text) ?? '', /directory &#39;ldap&#39; is not answering/, 'in place, as text');
        } finally {
          await slapd.start();
        }
      });
    });

    it('a certificate for another host is refused, over StartTLS and over LDAPS alike', async () => {
      // The test certificate names 127.0.0.1 and localhost; ::1-free "127.0.0.1" as a different spelling is fine, but
      // a name it does not hold (resolved to the same address) must fail the TLS check.
      for (const url of [slapd.ldapUrl.replace('127.0.0.1', 'tessera-ldap-test.localhost'), slapd.ldapsUrl.replace('127.0.0.1', 'tessera-ldap-test.localhost')]) {
        const settings = directorySettings({ url, startTls: url.startsWith('ldap://'), caFile: slapd.caFile, bindDn: SERVICE_DN, bindPassword: SERVICE_PASSWORD, searchBase: PEOPLE, connectTimeoutMs: 2000 });
        const connections = new DirectoryConnections(settings);
        await assert.rejects(connections.search(PEOPLE, { filter: '(uid=erin)' }), /did not answer: .*(altnames|Hostname|IP|ENOTFOUND|certificate)/i, url);
        await connections.close();
      }
    });

    describe('a directory set through the API', () => {
      let server: TestServer;
      let admin: string;
      const url = () => `${server.url}/admin/directories/corp`;
      const settings = () => ({
        urls: [slapd.ldapsUrl],
        caFile: slapd.caFile,
        bindDn: SERVICE_DN,
        bindPassword: SERVICE_PASSWORD,
        searchBase: PEOPLE,
        groupSearchBase: GROUPS,
        syncIntervalSec: 0,
      });
      before(async () => {
        server = await startTestServer(kind);
        admin = (await login(server)).access_token;
      });
      after(() => server?.close());

      it('is stored with its password sealed, shown without it, and used for sign-in at once', async () => {
        const put = await call<{ settings: Record<string, unknown>; origin: string }>(url(), { method: 'PUT', token: admin, body: settings() });
        assert.equal(put.status, 200, JSON.stringify(put.body));
        assert.equal(put.body.origin, 'api');
        assert.equal(put.body.settings.bindPasswordSet, true);
        assert.equal('bindPassword' in put.body.settings, false);
        const row = await server.running.services.store.db.selectFrom('directories').selectAll().where('name', '=', 'corp').executeTakeFirstOrThrow();
        assert.doesNotMatch(`${row.settings} ${row.bind_password_sealed}`, new RegExp(SERVICE_PASSWORD));
        assert.equal((await login(server, 'erin', ERIN_PASSWORD)).token_type, 'Bearer');
        // A PUT without a password keeps the sealed one.
        const { bindPassword: _omitted, ...rest } = settings();
        assert.equal((await call(url(), { method: 'PUT', token: admin, body: { ...rest, timeoutMs: 4000 } })).status, 200);
        assert.equal((await login(server, 'erin', ERIN_PASSWORD)).token_type, 'Bearer');
        assert.doesNotMatch(server.logs.join('\n'), new RegExp(`${SERVICE_PASSWORD}|${ERIN_PASSWORD}`), 'no password reaches the log');
      });

      it('refuses hostile, malformed and oversized settings with 400, names with markup included', async () => {
        const bodies: Array<[string, unknown]> = [
          ['corp', { ...settings(), urls: ['http://127.0.0.1:1'] }],
          ['corp', { ...settings(), urls: [] }],
          ['corp', { ...settings(), searchFilter: '(uid=*)' }],
          ['corp', { ...settings(), searchFilter: '(|(uid={0})' }],
          ['corp', { ...settings(), uniqueIdAttribute: 'entryUUID)(objectClass=*' }],
          ['corp', { ...settings(), bindPassword: 'x'.repeat(2000) }],
          ['corp', { ...settings(), searchBase: 'x'.repeat(5000) }],
          ['corp', { ...settings(), unknownSetting: true }],
          ['corp', { ...settings(), bindPasswordFile: '/etc/shadow' }],
          ['corp', { ...settings(), insecure: 'yes please' }],
          ['corp', 'ldaps://x'],
          ['%3Cscript%3E', settings()],
          ['UPPER', settings()],
          ['a'.repeat(40), settings()],
        ];
        for (const [name, body] of bodies) {
          const res = await call<{ error: { code: string; message: string } }>(`${server.url}/admin/directories/${name}`, { method: 'PUT', token: admin, body });
          assert.equal(res.status, 400, `${name} ${JSON.stringify(body).slice(0, 120)}: ${JSON.stringify(res.body)}`);
          assert.doesNotMatch(JSON.stringify(res.body), new RegExp(SERVICE_PASSWORD));
        }
      });

      it('needs an administrator; a missing one is 404; deleting it stops its sign-ins', async () => {
        await createUser(server, admin, 'plainuser', 'Plain-User-Password-1');
        const plain = (await login(server, 'plainuser', 'Plain-User-Password-1')).access_token;
        assert.equal((await call(url(), { method: 'PUT', token: plain, body: settings() })).status, 403);
        assert.equal((await call(`${server.url}/admin/directories`, { token: plain })).status, 403);
        assert.equal((await call(`${server.url}/admin/directories/test`, { token: plain, body: { userName: 'erin' } })).status, 403);
        assert.equal((await call(`${server.url}/admin/directories/nothing`, { token: admin })).status, 404);
        assert.equal((await call(`${server.url}/admin/directories/nothing`, { method: 'DELETE', token: admin })).status, 404);
        assert.equal((await call(url(), { method: 'DELETE', token: admin })).status, 204);
        assert.equal((await call(`${server.url}/login`, { body: { username: 'erin', password: ERIN_PASSWORD } })).status, 401);
      });

      it('a directory that accepts connections and never answers costs a sign-in its timeout, and nothing else waits', async () => {
        const silent = net.createServer(() => undefined);
        await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
        const port = (silent.address() as net.AddressInfo).port;
        try {
          assert.equal((await call(`${server.url}/admin/directories/slow`, { method: 'PUT', token: admin, body: { ...settings(), urls: [`ldaps://127.0.0.1:${port}`], connectTimeoutMs: 1500, timeoutMs: 1500 } })).status, 200);
          const signIn = call(`${server.url}/login`, { body: { username: 'someone-else', password: 'Whatever-it-is-1' } });
          // While that sign-in waits for the silent directory, the server answers other requests at once.
          const health = await call(`${server.url}/health`);
          assert.equal(health.status, 200);
          assert.equal((await login(server)).token_type, 'Bearer', 'the local admin signs in meanwhile');
          const answered = await signIn;
          assert.equal(answered.status, 503);
          assert.match(JSON.stringify(answered.body), /directory 'slow' is not answering/);
        } finally {
          await call(`${server.url}/admin/directories/slow`, { method: 'DELETE', token: admin });
          silent.close();
        }
      });

      it('a wrong service-account password or search base is a clear 502 naming the setting, never the password', async () => {
        const wrong = 'Not-the-service-password-9';
        for (const [body, message] of [
          [{ ...settings(), bindPassword: wrong }, /refused the service account's bind: check bindDn/],
          [{ ...settings(), searchBase: 'ou=nowhere,dc=example,dc=test' }, /refused the search \(NoSuchObject\): check searchBase/],
        ] as const) {
          assert.equal((await call(`${server.url}/admin/directories/wrong`, { method: 'PUT', token: admin, body })).status, 200);
          const res = await call(`${server.url}/login`, { body: { username: 'someone-else', password: 'Whatever-it-is-1' } });
          assert.equal(res.status, 502, JSON.stringify(res.body));
          assert.match(JSON.stringify(res.body), message);
          assert.doesNotMatch(JSON.stringify(res.body) + server.logs.join('\n'), new RegExp(`${wrong}|${SERVICE_PASSWORD}`));
          assert.equal((await call(`${server.url}/admin/directories/wrong`, { method: 'DELETE', token: admin })).status, 204);
        }
      });

      it('an account in more groups than maxGroups is refused with a clear error, not truncated', async () => {
        assert.equal((await call(url(), { method: 'PUT', token: admin, body: { ...settings(), maxGroups: 10 } })).status, 200);
        const res = await call<{ error: { code: string; message: string } }>(`${server.url}/login`, { body: { username: 'erin', password: ERIN_PASSWORD } });
        assert.equal(res.status, 502);
        assert.match(JSON.stringify(res.body), /more than 10 groups of the directory 'corp' \(maxGroups\)/);
      });
    });
  });
}
