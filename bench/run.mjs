// `npm run bench`: measures Tessera on this machine, in one run, side by side.
//   1. password sign-ins per second (argon2id parameters printed with it)
//   2. refresh-token grants per second (OAuth refresh_token grant, each one rotating)
//   3. GET /me latency, alone and while a storm of password sign-ins runs: the event loop
//      must stay responsive, because argon2id runs on the thread pool.
//   4. client-credentials grants per second, Tessera against node-oidc-provider (clientCredentials.mjs)
//   5. RBAC decisions per second, in-process, cache warm and cold (rbac.mjs)
//   6. interactive sign-in: authorization code + PKCE through the sign-in page, through a
//      browser session, and device code, beside the password grant (interactiveSignIn.mjs)
//   7. scoring: an echo script and an ONNX model under each auth mode, against node:http
//      and Flask/gunicorn (scoring.mjs; needs Debian's wrk, gunicorn and python3-flask)
//   8. the sandbox: Python and JavaScript echo scripts with --sandbox required vs off,
//      requests/s and deployment cold start (sandbox.mjs; needs wrk and bubblewrap)
//   9. the token path under conditional access: client-credentials and refresh grants with
//      0, 10 and 100 enabled policies, ratio to none (conditionalAccess.mjs)
//  10. the CLI's start: `tessera --version`, `--help`, `account show`, `group list`, wall
//      time and CPU per invocation beside bare `node -e ""` (cliStart.mjs)
// Figures are medians over rounds; the machine is shared and noisy, so compare ratios.
// What a selected measurement needs from Debian (wrk, gunicorn, Flask, bubblewrap) is checked
// before anything starts; each figure is printed as soon as it is measured, and saved to
// bench/results/latest.json as it goes.
// BENCH_ONLY=scoring (or a comma-separated list of signin, interactive, clientCredentials,
// rbac, scoring, sandbox, conditionalAccess, cliStart) runs only those measurements; the default runs them all.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { closedLoop, fmt, median, spawnJsonChild } from './lib.mjs';
import { measureClientCredentials } from './clientCredentials.mjs';
import { measureRbac } from './rbac.mjs';
import { measureInteractiveSignIns } from './interactiveSignIn.mjs';
import { measureScoring, printScoring } from './scoring.mjs';
import { measureSandbox, printSandbox } from './sandbox.mjs';
import { measureConditionalAccess, printConditionalAccess } from './conditionalAccess.mjs';
import { measureCliStart, printCliStart } from './cliStart.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PASSWORD = 'Bench-operator-secret-42';
const CLI_CLIENT = '3c8a5a4e-0f7d-4b8e-9d3a-7e2b1c6f9a01';
const MEASURES = ['signin', 'interactive', 'clientCredentials', 'rbac', 'scoring', 'sandbox', 'conditionalAccess', 'cliStart'];
const only = (process.env.BENCH_ONLY ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const unknown = only.filter((m) => !MEASURES.includes(m));
if (unknown.length > 0) throw new Error(`BENCH_ONLY names unknown measurement(s) ${unknown.join(', ')}; choose from ${MEASURES.join(', ')}`);
const runs = (measure) => only.length === 0 || only.includes(measure);

async function post(url, body, form = false) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json' },
    body: form ? new URLSearchParams(body).toString() : JSON.stringify(body),
  });
  const json = await res.json();
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

/** Sign-ins, refresh grants, and /me latency alone and during a sign-in storm. */
async function measureSignIns(url, signIn) {
  const admin = await signIn();
  const me = async () => {
    const res = await fetch(`${url}/me`, { headers: { authorization: `Bearer ${admin.access_token}` } });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`/me answered ${res.status}`);
  };
  // Warm up: JIT, connection pool, verification cache.
  await closedLoop(4, 1, me);
  await closedLoop(4, 1, signIn);

  const rounds = { signIn: [], refresh: [], meAlone: [], meStorm: [], meAloneP50: [], meStormP50: [] };
  for (let round = 0; round < ROUNDS; round++) {
    rounds.signIn.push((await closedLoop(8, SECONDS, signIn)).rate);

    const refresh = await closedLoop(8, SECONDS, async (_worker, state) => {
      state.rt ??= (await post(`${url}/organizations/oauth2/v2.0/token`, { grant_type: 'password', client_id: CLI_CLIENT, username: 'admin', password: PASSWORD, scope: 'offline_access' }, true)).refresh_token;
      const next = await post(`${url}/organizations/oauth2/v2.0/token`, { grant_type: 'refresh_token', client_id: CLI_CLIENT, refresh_token: state.rt, scope: 'api://tessera/management/.default offline_access' }, true);
      state.rt = next.refresh_token;
    });
    rounds.refresh.push(refresh.rate);

    const alone = await closedLoop(1, SECONDS, me);
    rounds.meAlone.push(alone.p99);
    rounds.meAloneP50.push(alone.p50);
    const stormEnd = performance.now() + SECONDS * 1000;
    const storm = closedLoop(16, SECONDS, signIn);
    const during = await closedLoop(1, Math.max(1, (stormEnd - performance.now()) / 1000 - 0.2), me);
    await storm;
    rounds.meStorm.push(during.p99);
    rounds.meStormP50.push(during.p50);
  }
  return {
    passwordSignInsPerSec: median(rounds.signIn),
    refreshGrantsPerSec: median(rounds.refresh),
    meP50AloneMs: median(rounds.meAloneP50),
    meP99AloneMs: median(rounds.meAlone),
    meP50DuringSignInStormMs: median(rounds.meStormP50),
    meP99DuringSignInStormMs: median(rounds.meStorm),
  };
}

/** What each measurement needs from outside npm, checked before anything starts. */
const PREREQUISITES = {
  scoring: [
    ['wrk', () => onPath('wrk'), 'apt-get install wrk'],
    ['gunicorn', () => fs.existsSync('/usr/bin/gunicorn'), 'apt-get install gunicorn'],
    ['Flask (python3-flask)', () => spawnSync('/usr/bin/python3', ['-c', 'import flask'], { stdio: 'ignore' }).status === 0, 'apt-get install python3-flask'],
  ],
  sandbox: [
    ['wrk', () => onPath('wrk'), 'apt-get install wrk'],
    ['bubblewrap', () => onPath('bwrap'), 'apt-get install bubblewrap'],
  ],
};

function onPath(program) {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir !== '' && fs.existsSync(path.join(dir, program)));
}

const missing = Object.entries(PREREQUISITES)
  .filter(([measure]) => runs(measure))
  .flatMap(([measure, needs]) => needs.filter(([, present]) => !present()).map(([what, , install]) => ({ measure, what, install })));
if (missing.length > 0) {
  console.error('npm run bench needs, before it starts:');
  for (const m of missing) console.error(`  ${m.what} for the ${m.measure} measurement: ${m.install} (Debian)`);
  const others = MEASURES.filter((m) => runs(m) && !missing.some((x) => x.measure === m));
  console.error(`Install them, or run the others alone: BENCH_ONLY=${others.join(',')} npm run bench`);
  process.exit(1);
}

const row = (label, figures) => console.log(`${label.padEnd(51)}${figures}`);
const resultsFile = path.join(here, 'results', 'latest.json');

const { child, url, argon2 } = await spawnJsonChild(path.join(here, 'server.mjs'), { BENCH_ADMIN_PASSWORD: PASSWORD });
const result = { when: new Date().toISOString(), seconds: SECONDS, rounds: ROUNDS, only: only.length > 0 ? only : MEASURES };
/** Keeps what is measured so far on disk, so a later failure loses nothing. */
function save() {
  fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
  fs.writeFileSync(resultsFile, JSON.stringify(result, null, 2) + '\n');
}
try {
  const signIn = () => post(`${url}/login`, { username: 'admin', password: PASSWORD });
  console.log(`Tessera benchmark — ${ROUNDS} rounds of ${SECONDS}s, medians (node ${process.version}, ${os.cpus().length} cores); each figure is printed as it is measured\n`);
  // Each measurement in its own rounds after the one before (alternating servers inside), so none of these loads overlaps another.
  if (runs('signin')) {
    Object.assign(result, { argon2id: argon2 }, await measureSignIns(url, signIn));
    save();
    console.log(`argon2id: m=${argon2.memoryCost} KiB, t=${argon2.timeCost}, p=${argon2.parallelism}`);
    console.log(`password sign-ins (POST /login, 8 concurrent)      ${fmt(result.passwordSignInsPerSec)} /s`);
    console.log(`refresh-token grants (rotating, 8 concurrent)      ${fmt(result.refreshGrantsPerSec)} /s   (${fmt(result.refreshGrantsPerSec / result.passwordSignInsPerSec)}x sign-ins)`);
    console.log(`GET /me alone                                      p50 ${fmt(result.meP50AloneMs)} ms, p99 ${fmt(result.meP99AloneMs)} ms`);
    console.log(`GET /me during a storm of 16 concurrent sign-ins   p50 ${fmt(result.meP50DuringSignInStormMs)} ms, p99 ${fmt(result.meP99DuringSignInStormMs)} ms   (p99 ${fmt(result.meP99DuringSignInStormMs / result.meP99AloneMs)}x alone)`);
  }
  if (runs('interactive')) {
    const ia = (result.interactive = await measureInteractiveSignIns({ url, adminPassword: PASSWORD, seconds: SECONDS, rounds: ROUNDS }));
    save();
    row(`password grant (OAuth ROPC, 8 concurrent)`, `${fmt(ia.passwordGrantPerSec)} /s`);
    row(`authorization code + PKCE via the sign-in page`, `${fmt(ia.authorizationCodePerSec)} /s   (${fmt(ia.authorizationCodePerSec / ia.passwordGrantPerSec)}x the password grant; page, form, code, redemption)`);
    row(`authorization code via the browser session (SSO)`, `${fmt(ia.sessionCodePerSec)} /s   (no password: ${fmt(ia.sessionCodePerSec / ia.authorizationCodePerSec)}x the sign-in page)`);
    row(`device code (start, approve in session, redeem)`, `${fmt(ia.deviceCodePerSec)} /s`);
  }
  if (runs('clientCredentials')) {
    const cc = (result.clientCredentials = await measureClientCredentials({ tesseraUrl: url, tesseraPid: child.pid, adminPassword: PASSWORD, seconds: SECONDS, rounds: ROUNDS }));
    save();
    row(`client-credentials grants, Tessera (8 concurrent)`, `${fmt(cc.tesseraPerSec)} /s   (p50 ${fmt(cc.tesseraP50Ms)} ms, server ${fmt(cc.tesseraServerCpuMsPerGrant)} CPU-ms/grant, ${fmt(cc.tesseraServerCores)} cores busy)`);
    row(`  the same on oidc-provider ${cc.oidcProviderVersion}`, `${fmt(cc.oidcProviderPerSec)} /s   (p50 ${fmt(cc.oidcProviderP50Ms)} ms, server ${fmt(cc.oidcProviderServerCpuMsPerGrant)} CPU-ms/grant, ${fmt(cc.oidcProviderServerCores)} cores busy)`);
    row(`  Tessera / oidc-provider (goal >= 3x)`, `${fmt(cc.ratio)}x grants/s, ${fmt(cc.cpuRatio)}x less server CPU per grant`);
    row(`  Tessera minting every token (REUSE=0)`, `${fmt(cc.mintingPerSec)} /s   (server ${fmt(cc.mintingServerCpuMsPerGrant)} CPU-ms/grant): ${fmt(cc.mintingRatio)}x grants/s, ${fmt(cc.mintingCpuRatio)}x less CPU than oidc-provider`);
  }
  if (runs('rbac')) {
    const rbac = (result.rbacDecisions = await measureRbac({ seconds: SECONDS, rounds: ROUNDS }));
    save();
    row(`RBAC decide(), ${rbac.assignments} assignments via ${rbac.groups} groups, warm`, `${fmt(rbac.warmPerSec)} /s   (${rbac.cases} cases, ${rbac.allowedCases} allowed)`);
    row(`RBAC decide(), cache cold (invalidate before each)`, `${fmt(rbac.coldPerSec)} /s   (warm ${fmt(rbac.warmPerSec / rbac.coldPerSec)}x cold)`);
  }
  if (runs('scoring')) {
    result.scoring = await measureScoring({ tesseraUrl: url, tesseraPid: child.pid, adminPassword: PASSWORD, seconds: SECONDS, rounds: ROUNDS });
    save();
    printScoring(result.scoring);
  }
  if (runs('sandbox')) {
    result.sandbox = await measureSandbox({ adminPassword: PASSWORD, seconds: SECONDS, rounds: ROUNDS });
    save();
    printSandbox(result.sandbox);
  }
  if (runs('conditionalAccess')) {
    result.conditionalAccess = await measureConditionalAccess({ url, pid: child.pid, adminPassword: PASSWORD, seconds: SECONDS, rounds: ROUNDS });
    save();
    printConditionalAccess(result.conditionalAccess, row, fmt);
  }
  if (runs('cliStart')) {
    result.cliStart = await measureCliStart({ url, adminPassword: PASSWORD, rounds: ROUNDS });
    save();
    printCliStart(result.cliStart, row, fmt);
  }
  console.log(`\nAll figures: ${path.relative(process.cwd(), resultsFile)}`);
} finally {
  child.kill('SIGTERM');
}
