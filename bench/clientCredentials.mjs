// Client-credentials grants per second, Tessera against node-oidc-provider (issue 3: the
// goal is Tessera ≥ 3x). Both servers run in their own child processes; all are driven by
// the same client code (node:http keep-alive, secret in the form body, 8 closed loops), for the
// same duration, in alternating rounds so that drift in the shared machine's load hits
// both alike. Tessera is measured twice: as it runs by default (a principal asking again
// for the same resource gets the token it has while more than half its life remains),
// and with TESSERA_APP_TOKEN_REUSE=0, minting an ES256 JWT per grant as oidc-provider
// does. Every server's tokens are checked to be ES256 JWTs before measuring.
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { closedLoop, cpuMsOf, median, spawnJsonChild } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const CONCURRENCY = 8;

async function call(url, { method = 'POST', token, body, form = false }) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = form ? 'application/x-www-form-urlencoded' : 'application/json';
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : form ? new URLSearchParams(body).toString() : JSON.stringify(body) });
  const text = await res.text();
  if (res.status < 200 || res.status > 299) throw new Error(`${method} ${url} answered ${res.status}: ${text}`);
  return JSON.parse(text);
}

// The grant loop uses node:http with a keep-alive agent, not fetch: fetch costs the load
// generator several times more CPU per request, and on two cores a generator that tops out
// first would make every server look alike.
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** One client-credentials grant; the only thing that differs between the servers is the form. */
function grant(target) {
  target.encoded ??= Buffer.from(new URLSearchParams(target.form).toString());
  const url = new URL(target.tokenEndpoint);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': target.encoded.length } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) reject(new Error(`${target.name} answered ${res.statusCode}: ${text}`));
          else resolve(JSON.parse(text));
        });
      },
    );
    req.on('error', reject);
    req.end(target.encoded);
  });
}

/** Fails loudly unless `token` is a compact JWS whose header says ES256 with a 64-byte (P-256) signature. */
function checkEs256Jwt(name, response) {
  const token = response?.access_token;
  const parts = typeof token === 'string' ? token.split('.') : [];
  if (parts.length !== 3) throw new Error(`${name}: the client-credentials response has no JWT access_token: ${JSON.stringify(response)}`);
  const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
  const signatureBytes = Buffer.from(parts[2], 'base64url').length;
  if (header.alg !== 'ES256' || signatureBytes !== 64) {
    throw new Error(`${name}: the access token is signed ${header.alg} (${signatureBytes}-byte signature), not ES256`);
  }
  return { header, claims: JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) };
}

/** A Tessera service principal with a secret, made through the management API as admin. */
async function tesseraTarget(name, url, adminPassword, pid) {
  const admin = await call(`${url}/login`, { body: { username: 'admin', password: adminPassword } });
  const sp = await call(`${url}/v1.0/servicePrincipals`, { token: admin.access_token, body: { displayName: 'bench' } });
  const { secretText } = await call(`${url}/v1.0/servicePrincipals/${sp.id}/addPassword`, { token: admin.access_token, body: {} });
  return {
    name,
    pid,
    tokenEndpoint: `${url}/organizations/oauth2/v2.0/token`,
    form: { grant_type: 'client_credentials', client_id: sp.appId, client_secret: secretText, scope: 'api://tessera/management/.default' },
  };
}

/** One closed-loop run, with how busy the server's process and this one (the load generator) were. */
async function measure(target, seconds) {
  const server0 = cpuMsOf(target.pid);
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  const run = await closedLoop(CONCURRENCY, seconds, () => grant(target));
  const wallMs = performance.now() - t0;
  const self = process.cpuUsage(self0);
  const serverMs = cpuMsOf(target.pid) - server0;
  return { ...run, serverCores: serverMs / wallMs, serverCpuMsPerGrant: serverMs / run.count, loadGenCores: (self.user + self.system) / 1000 / wallMs };
}

/**
 * Measures both; `tesseraUrl` is a running Tessera (bench/server.mjs) whose process is
 * `tesseraPid`. Starts and stops the oidc-provider child itself.
 */
export async function measureClientCredentials({ tesseraUrl, tesseraPid, adminPassword, seconds, rounds }) {
  const op = await spawnJsonChild(path.join(here, 'oidcProviderServer.mjs'));
  const minting = await spawnJsonChild(path.join(here, 'server.mjs'), { TESSERA_APP_TOKEN_REUSE: '0', BENCH_ADMIN_PASSWORD: adminPassword });
  try {
    const targets = [
      await tesseraTarget('Tessera', tesseraUrl, adminPassword, tesseraPid),
      await tesseraTarget('Tessera, minting every token', minting.url, adminPassword, minting.child.pid),
      {
        name: 'oidc-provider',
        pid: op.child.pid,
        tokenEndpoint: op.tokenEndpoint,
        // The resource is the provider's defaultResource; 'api' is its one scope.
        form: { grant_type: 'client_credentials', client_id: op.clientId, client_secret: op.clientSecret, scope: 'api' },
      },
    ];
    for (const target of targets) checkEs256Jwt(target.name, await grant(target));
    // Warm up both: JIT, connection pools, caches.
    for (const target of targets) await closedLoop(CONCURRENCY, 1, () => grant(target));

    const runs = Object.fromEntries(targets.map((t) => [t.name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const target of targets) runs[target.name].push(await measure(target, seconds));
    }
    const med = (name, field) => median(runs[name].map((run) => run[field]));
    const tessera = med('Tessera', 'rate');
    const mint = med('Tessera, minting every token', 'rate');
    const oidcProvider = med('oidc-provider', 'rate');
    return {
      concurrency: CONCURRENCY,
      oidcProviderVersion: op.version,
      tesseraPerSec: tessera,
      oidcProviderPerSec: oidcProvider,
      ratio: tessera / oidcProvider,
      mintingPerSec: mint,
      mintingRatio: mint / oidcProvider,
      mintingServerCpuMsPerGrant: med('Tessera, minting every token', 'serverCpuMsPerGrant'),
      mintingCpuRatio: med('oidc-provider', 'serverCpuMsPerGrant') / med('Tessera, minting every token', 'serverCpuMsPerGrant'),
      tesseraP50Ms: med('Tessera', 'p50'),
      oidcProviderP50Ms: med('oidc-provider', 'p50'),
      // Server CPU per grant is the figure the load generator cannot cap: with 2 cores, a
      // server near 1 busy core is the limit; one well below it means the generator was.
      tesseraServerCpuMsPerGrant: med('Tessera', 'serverCpuMsPerGrant'),
      oidcProviderServerCpuMsPerGrant: med('oidc-provider', 'serverCpuMsPerGrant'),
      cpuRatio: med('oidc-provider', 'serverCpuMsPerGrant') / med('Tessera', 'serverCpuMsPerGrant'),
      tesseraServerCores: med('Tessera', 'serverCores'),
      oidcProviderServerCores: med('oidc-provider', 'serverCores'),
      loadGeneratorCores: Object.fromEntries(targets.map((t) => [t.name, med(t.name, 'loadGenCores')])),
      roundsPerSec: Object.fromEntries(Object.entries(runs).map(([name, list]) => [name, list.map((run) => run.rate)])),
    };
  } finally {
    op.child.kill('SIGTERM');
    minting.child.kill('SIGTERM');
    agent.destroy();
  }
}
