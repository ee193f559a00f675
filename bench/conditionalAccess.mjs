// The token path's cost under conditional access: client-credentials grants (token reuse
// on, the default: the evaluation is most of what such a grant does) and rotating
// refresh-token grants per second, with 0, 10 and 100 enabled policies, as a ratio to
// none. The policies are built to be evaluated in full and not to refuse the benchmark's
// principals: a third name a group (the evaluator looks up the user's groups), a third
// include every user but exclude by location (the address is matched against a named
// location), a third are workload-identity policies for another service principal. The
// counts alternate inside each round, on one server, so drift hits all three alike.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { resolveConfig, startServer } from '@tessera/server';
import { closedLoop, cpuMsOf, median } from './lib.mjs';

const CONCURRENCY = 8;
const CLI_CLIENT = '3c8a5a4e-0f7d-4b8e-9d3a-7e2b1c6f9a01';
const BASE = '/v1.0/identity/conditionalAccess';
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

async function call(url, { method = 'POST', token, body, form = false } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = form ? 'application/x-www-form-urlencoded' : 'application/json';
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : form ? new URLSearchParams(body).toString() : JSON.stringify(body) });
  const text = await res.text();
  if (res.status < 200 || res.status > 299) throw new Error(`${method} ${url} answered ${res.status}: ${text}`);
  return text ? JSON.parse(text) : {};
}

/** One form POST to the token endpoint over a kept-alive connection (cheaper for the load generator than fetch). */
function tokenPost(tokenUrl, form) {
  const body = Buffer.from(new URLSearchParams(form).toString());
  const url = new URL(tokenUrl);
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) reject(new Error(`the token endpoint answered ${res.statusCode}: ${text}`));
        else resolve(JSON.parse(text));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function measureConditionalAccess({ url, pid, adminPassword, seconds, rounds }) {
  const admin = (await call(`${url}/login`, { body: { username: 'admin', password: adminPassword } })).access_token;
  const adminId = (await call(`${url}/v1.0/users/admin`, { method: 'GET', token: admin })).id;
  const password = 'Bench-conditional-access-7';
  await call(`${url}/v1.0/users`, { token: admin, body: { userName: 'ca-bench', passwordProfile: { password } } });
  const sp = await call(`${url}/v1.0/servicePrincipals`, { token: admin, body: { displayName: 'ca-bench' } });
  const { secretText } = await call(`${url}/v1.0/servicePrincipals/${sp.id}/addPassword`, { token: admin, body: {} });
  const other = await call(`${url}/v1.0/servicePrincipals`, { token: admin, body: { displayName: 'ca-bench-other' } });
  const group = await call(`${url}/v1.0/groups`, { token: admin, body: { displayName: 'ca-bench-group' } });
  const elsewhere = await call(`${url}${BASE}/namedLocations`, { token: admin, body: { displayName: 'elsewhere', ipRanges: [{ cidrAddress: '203.0.113.0/24' }, { cidrAddress: '2001:db8::/32' }] } });
  const policyBody = (i) => {
    const grant = (control) => ({ operator: 'OR', builtInControls: [control] });
    const applications = { includeApplications: ['All'] };
    if (i % 3 === 0) return { displayName: `bench ${i} group`, state: 'enabled', conditions: { users: { includeGroups: [group.id] }, applications }, grantControls: grant('block') };
    if (i % 3 === 1) return { displayName: `bench ${i} location`, state: 'enabled', conditions: { users: { includeUsers: ['All'], excludeUsers: [adminId] }, applications, locations: { includeLocations: [elsewhere.id] } }, grantControls: grant('mfa') };
    return { displayName: `bench ${i} workload`, state: 'enabled', conditions: { clientApplications: { includeServicePrincipals: [other.id] }, applications, locations: { includeLocations: [elsewhere.id] } }, grantControls: grant('block') };
  };
  const ids = [];
  const setCount = async (n) => {
    while (ids.length < n) ids.push((await call(`${url}${BASE}/policies`, { token: admin, body: policyBody(ids.length) })).id);
    while (ids.length > n) await call(`${url}${BASE}/policies/${ids.pop()}`, { method: 'DELETE', token: admin });
  };

  const tokenUrl = `${url}/organizations/oauth2/v2.0/token`;
  const ccForm = { grant_type: 'client_credentials', client_id: sp.appId, client_secret: secretText, scope: 'api://tessera/management/.default' };
  const clientCredentials = () => tokenPost(tokenUrl, ccForm);
  const refresh = async (_worker, state) => {
    state.rt ??= (await tokenPost(tokenUrl, { grant_type: 'password', client_id: CLI_CLIENT, username: 'ca-bench', password, scope: 'offline_access' })).refresh_token;
    state.rt = (await tokenPost(tokenUrl, { grant_type: 'refresh_token', client_id: CLI_CLIENT, refresh_token: state.rt, scope: 'api://tessera/management/.default offline_access' })).refresh_token;
  };
  const measure = async (op) => {
    const cpu0 = cpuMsOf(pid);
    const run = await closedLoop(CONCURRENCY, seconds, op);
    return { rate: run.rate, p50: run.p50, cpuMs: (cpuMsOf(pid) - cpu0) / run.count };
  };

  const COUNTS = [0, 10, 100];
  const runs = Object.fromEntries(COUNTS.map((n) => [n, { cc: [], refresh: [] }]));
  // Warm up every count once (JIT, caches), then alternate the order round by round.
  for (const n of COUNTS) {
    await setCount(n);
    await closedLoop(CONCURRENCY, 1, clientCredentials);
    await closedLoop(CONCURRENCY, 1, refresh);
  }
  for (let round = 0; round < rounds; round++) {
    for (const n of round % 2 === 0 ? COUNTS : [...COUNTS].reverse()) {
      await setCount(n);
      // The next grant loads the new view; a short warm-up keeps that out of the figures.
      await closedLoop(2, 0.5, clientCredentials);
      runs[n].cc.push(await measure(clientCredentials));
      runs[n].refresh.push(await measure(refresh));
    }
  }
  await setCount(0);
  const out = { evaluation: await measureEvaluation({ seconds: Math.min(seconds, 2), rounds }) };
  for (const n of COUNTS) {
    const med = (kind, field) => median(runs[n][kind].map((r) => r[field]));
    out[n] = {
      clientCredentialsPerSec: med('cc', 'rate'),
      clientCredentialsP50Ms: med('cc', 'p50'),
      clientCredentialsCpuMs: med('cc', 'cpuMs'),
      refreshPerSec: med('refresh', 'rate'),
      refreshP50Ms: med('refresh', 'p50'),
      refreshCpuMs: med('refresh', 'cpuMs'),
    };
  }
  for (const n of COUNTS) {
    out[n].clientCredentialsRatio = out[n].clientCredentialsPerSec / out[0].clientCredentialsPerSec;
    out[n].refreshRatio = out[n].refreshPerSec / out[0].refreshPerSec;
  }
  return out;
}

/**
 * In process, without HTTP: what one `conditionalAccess.enforce()` costs the token path, for
 * a user (whose groups the group policies make the evaluator look up, from its one-second
 * cache) and for a service principal, with 0, 10 and 100 enabled policies (the same mix).
 */
export async function measureEvaluation({ seconds, rounds }) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-bench-ca-'));
  const running = await startServer(resolveConfig({ port: 0, data: dataDir, logLevel: 'warn' }, { TESSERA_ADMIN_PASSWORD: 'Bench-evaluation-secret-42' }), { logDestination: { write() {} } });
  try {
    const { services, bootstrap } = running;
    const { tenantId } = bootstrap;
    const ca = services.conditionalAccess;
    const user = await services.users.create(tenantId, { username: 'ca-eval', password: 'Bench-evaluation-user-42' });
    const admin = await services.users.find(tenantId, 'admin');
    const sp = await services.servicePrincipals.create(tenantId, 'ca-eval', null);
    const other = await services.servicePrincipals.create(tenantId, 'ca-eval-other', null);
    const group = await services.groups.create(tenantId, { displayName: 'ca-eval-group' });
    const elsewhere = await ca.catalog.createLocation(tenantId, { displayName: 'elsewhere', ipRanges: [{ cidrAddress: '203.0.113.0/24' }] });
    const body = (i) => {
      const grantControls = { operator: 'OR', builtInControls: [i % 3 === 1 ? 'mfa' : 'block'] };
      const applications = { includeApplications: ['All'] };
      if (i % 3 === 0) return { displayName: `eval ${i}`, state: 'enabled', conditions: { users: { includeGroups: [group.id] }, applications }, grantControls };
      if (i % 3 === 1) return { displayName: `eval ${i}`, state: 'enabled', conditions: { users: { includeUsers: ['All'], excludeUsers: [admin.id] }, applications, locations: { includeLocations: [elsewhere.id] } }, grantControls };
      return { displayName: `eval ${i}`, state: 'enabled', conditions: { clientApplications: { includeServicePrincipals: [other.id] }, applications, locations: { includeLocations: [elsewhere.id] } }, grantControls };
    };
    const rows = [];
    const setCount = async (n) => {
      while (rows.length < n) rows.push(await ca.catalog.createPolicy(tenantId, await ca.catalog.checkNew(tenantId, body(rows.length)), null));
      while (rows.length > n) await ca.catalog.deletePolicy(tenantId, rows.pop().id);
    };
    const audit = {};
    const userReq = { tenantId, subject: { kind: 'user', userId: user.id }, clientAppId: '3c8a5a4e-0f7d-4b8e-9d3a-7e2b1c6f9a01', resource: 'api://tessera/management', address: '127.0.0.1', clientApp: 'refresh', amr: ['pwd'] };
    const spReq = { tenantId, subject: { kind: 'servicePrincipal', servicePrincipalId: sp.id, appId: sp.app_id }, clientAppId: sp.app_id, resource: 'api://tessera/management', address: '127.0.0.1', clientApp: 'clientCredentials', amr: [] };
    const perSec = async (req) => {
      const end = performance.now() + seconds * 1000;
      const t0 = performance.now();
      let n = 0;
      while (performance.now() < end) {
        for (let k = 0; k < 100; k++) await ca.enforce(req, audit);
        n += 100;
      }
      return n / ((performance.now() - t0) / 1000);
    };
    const COUNTS = [0, 10, 100];
    const runs = Object.fromEntries(COUNTS.map((n) => [n, { user: [], sp: [] }]));
    for (let round = 0; round < rounds; round++) {
      for (const n of COUNTS) {
        await setCount(n);
        await perSec(userReq);
        runs[n].user.push(await perSec(userReq));
        runs[n].sp.push(await perSec(spReq));
      }
    }
    const out = {};
    for (const n of COUNTS) out[n] = { userPerSec: median(runs[n].user), spPerSec: median(runs[n].sp) };
    for (const n of COUNTS) {
      out[n].userUs = 1e6 / out[n].userPerSec;
      out[n].spUs = 1e6 / out[n].spPerSec;
    }
    return out;
  } finally {
    await running.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

export function printConditionalAccess(ca, row, fmt) {
  if (ca.evaluation) {
    for (const n of [0, 10, 100]) {
      const e = ca.evaluation[n];
      row(`enforce() in process, ${String(n).padStart(3)} enabled policies`, `user ${fmt(e.userUs)} µs, service principal ${fmt(e.spUs)} µs per evaluation`);
    }
  }
  for (const n of [0, 10, 100]) {
    const r = ca[n];
    row(`client credentials, ${String(n).padStart(3)} enabled CA policies`, `${fmt(r.clientCredentialsPerSec)} /s   (${fmt(r.clientCredentialsRatio)}x none; p50 ${fmt(r.clientCredentialsP50Ms)} ms, server ${fmt(r.clientCredentialsCpuMs)} CPU-ms/grant)`);
  }
  for (const n of [0, 10, 100]) {
    const r = ca[n];
    row(`refresh grants,     ${String(n).padStart(3)} enabled CA policies`, `${fmt(r.refreshPerSec)} /s   (${fmt(r.refreshRatio)}x none; p50 ${fmt(r.refreshP50Ms)} ms, server ${fmt(r.refreshCpuMs)} CPU-ms/grant)`);
  }
}
