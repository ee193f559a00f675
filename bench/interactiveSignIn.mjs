// Interactive sign-in, side by side with the password grant, in alternating rounds:
//   - the password grant (OAuth ROPC): one argon2id check, tokens;
//   - authorization code + PKCE through the sign-in page: GET authorize (the page),
//     POST the form (one argon2id check, a browser session, a code), redeem the code;
//   - authorization code through an existing browser session (no password: SSO);
//   - device code: start, approve through the page with a session, redeem.
// Each is bound by argon2id except the session and device-code rows, which show what the
// flow itself costs.
import crypto from 'node:crypto';
import { closedLoop, median } from './lib.mjs';

const CLI_CLIENT = '3c8a5a4e-0f7d-4b8e-9d3a-7e2b1c6f9a01';
const REDIRECT = 'http://127.0.0.1:43117/';
const SCOPE = 'openid offline_access api://tessera/management/.default';

class Jar {
  cookies = new Map();
  async fetch(url, init = {}) {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers ?? {}), ...(cookie ? { cookie } : {}) } });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return res;
  }
}

const field = (html, name) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)[1].replace(/&amp;/g, '&');
const form = (fields) => ({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });

async function redeem(url, code, verifier) {
  const res = await fetch(`${url}/organizations/oauth2/v2.0/token`, form({ grant_type: 'authorization_code', client_id: CLI_CLIENT, code, redirect_uri: REDIRECT, code_verifier: verifier }));
  const body = await res.json();
  if (res.status !== 200) throw new Error(`code redemption answered ${res.status}: ${body.error_description}`);
}

function authorizeUrl(url) {
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  const q = new URLSearchParams({ client_id: CLI_CLIENT, response_type: 'code', redirect_uri: REDIRECT, scope: SCOPE, state: 's', code_challenge: challenge, code_challenge_method: 'S256' });
  return { href: `${url}/organizations/oauth2/v2.0/authorize?${q}`, verifier };
}

/** One full browser sign-in with the password; returns the jar holding the session. */
async function pageSignIn(url, password, jar = new Jar()) {
  const { href, verifier } = authorizeUrl(url);
  const page = await (await jar.fetch(href)).text();
  const res = await jar.fetch(`${url}/organizations/oauth2/v2.0/authorize/signin`, form({ csrf: field(page, 'csrf'), request: field(page, 'request'), username: 'admin', password, action: 'signin' }));
  await res.arrayBuffer();
  if (res.status !== 303) throw new Error(`sign-in answered ${res.status}`);
  await redeem(url, new URL(res.headers.get('location')).searchParams.get('code'), verifier);
  return jar;
}

async function sessionSignIn(url, jar) {
  const { href, verifier } = authorizeUrl(url);
  const res = await jar.fetch(href);
  await res.arrayBuffer();
  if (res.status !== 302) throw new Error(`silent sign-in answered ${res.status}`);
  await redeem(url, new URL(res.headers.get('location')).searchParams.get('code'), verifier);
}

async function deviceSignIn(url, jar) {
  const started = await (await fetch(`${url}/organizations/oauth2/v2.0/devicecode`, form({ client_id: CLI_CLIENT, scope: SCOPE }))).json();
  const entry = await (await jar.fetch(`${url}/devicelogin`)).text();
  const consent = await (await jar.fetch(`${url}/devicelogin`, form({ csrf: field(entry, 'csrf'), user_code: started.user_code }))).text();
  const approved = await jar.fetch(`${url}/devicelogin/consent`, form({ csrf: field(consent, 'csrf'), request: field(consent, 'request'), decision: 'approve' }));
  await approved.arrayBuffer();
  const res = await fetch(`${url}/organizations/oauth2/v2.0/token`, form({ grant_type: 'device_code', client_id: CLI_CLIENT, device_code: started.device_code }));
  const body = await res.json();
  if (res.status !== 200) throw new Error(`device code redemption answered ${res.status}: ${body.error_description}`);
}

export async function measureInteractiveSignIns({ url, adminPassword, seconds, rounds }) {
  const passwordGrant = async () => {
    const res = await fetch(`${url}/organizations/oauth2/v2.0/token`, form({ grant_type: 'password', client_id: CLI_CLIENT, username: 'admin', password: adminPassword, scope: SCOPE }));
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`password grant answered ${res.status}`);
  };
  const withJar = (op) => async (_worker, state) => {
    state.jar ??= await pageSignIn(url, adminPassword);
    await op(url, state.jar);
  };
  await closedLoop(4, 1, passwordGrant);
  await closedLoop(4, 1, () => pageSignIn(url, adminPassword));
  const out = { passwordGrant: [], authorizationCode: [], sessionCode: [], deviceCode: [] };
  for (let round = 0; round < rounds; round++) {
    out.passwordGrant.push((await closedLoop(8, seconds, passwordGrant)).rate);
    out.authorizationCode.push((await closedLoop(8, seconds, () => pageSignIn(url, adminPassword))).rate);
    out.sessionCode.push((await closedLoop(8, seconds, withJar(sessionSignIn))).rate);
    out.deviceCode.push((await closedLoop(8, seconds, withJar(deviceSignIn))).rate);
  }
  return {
    passwordGrantPerSec: median(out.passwordGrant),
    authorizationCodePerSec: median(out.authorizationCode),
    sessionCodePerSec: median(out.sessionCode),
    deviceCodePerSec: median(out.deviceCode),
  };
}
