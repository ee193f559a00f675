/**
 * Interactive credentials against a live server, with Chromium as the user's browser
 * (scripts/test-browser.mjs): InteractiveLoginAuthentication (the CLI's session first, the
 * browser when forced or when there is none, its own session kept for later runs), and
 * DeployClient with Machine Learning Server's Azure AD context (the v1 password grant, or a
 * device code handed to userCodeCallback); and the device-code poller's slow_down rule.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Audience, TESSERA_CLI_CLIENT_ID } from '../src/audience.js';
import { CliAuthentication } from '../src/cliAuthentication.js';
import { loginWithPassword } from '../src/cliLogin.js';
import { DeployClient } from '../src/deployClient.js';
import { deviceCodeSignIn, type DeviceCodeInfo } from '../src/deviceCodeLogin.js';
import { Directory } from '../src/directory.js';
import { NotSignedInError } from '../src/errors.js';
import { HttpClient, type HttpRequest } from '../src/http.js';
import { InteractiveLoginAuthentication, interactiveSessionDir } from '../src/interactiveLoginAuthentication.js';
import { readSession, sessionPath } from '../src/session.js';
import { TesseraClient } from '../src/tesseraClient.js';
import { ADMIN_PASSWORD, startLiveServer, type LiveServer } from './helpers/liveServer.js';

/** packages/sdk/dist/test → the repository root. */
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const { signInThroughBrowser } = (await import(pathToFileURL(path.join(ROOT, 'scripts', 'test-browser.mjs')).href)) as {
  signInThroughBrowser(url: string, options: { username?: string; password?: string; userCode?: string; tag?: string }): Promise<string>;
};

const ADA_PASSWORD = 'Saffron-harbour-62-quill';

let server: LiveServer;
let tmp: string;
let n = 0;
const freshDir = () => path.join(tmp, `config-${++n}`);

/** The claims of a JWT, unverified (the server verified it when it answered). */
const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

/** Request lines the server logged so far: `METHOD /path`, once its log has stopped growing (it arrives through a pipe). */
async function requests(): Promise<string[]> {
  for (let last = -1; last !== server.log().length; ) {
    last = server.log().length;
    await sleep(150);
  }
  return server
    .log()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { msg?: string; method?: string; path?: string })
    .filter((l) => l.msg === 'request')
    .map((l) => `${l.method} ${l.path}`);
}

/** A config directory with the CLI signed in as admin. */
async function cliSignedIn(): Promise<string> {
  const dir = freshDir();
  await loginWithPassword({ server: server.url, username: 'admin', password: ADMIN_PASSWORD, configDir: dir });
  return dir;
}

/** A browser opener that must not be called. */
function noBrowser(calls: string[]): (url: string) => never {
  return (url) => {
    calls.push(url);
    throw new Error('the browser must not be opened');
  };
}

before(async () => {
  // Three seconds between device-code polls: the server says slow_down to a poll within two
  // seconds of the last one, so the slow_down test's back-to-back polls stay back to back on a
  // loaded machine (at one second it would be half a second).
  server = await startLiveServer({ TESSERA_DEVICE_CODE_INTERVAL_SEC: '3' });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-sdk-interactive-'));
  const admin = new TesseraClient(server.url, new CliAuthentication({ configDir: await cliSignedIn() }));
  await new Directory(admin).createUser({ userName: 'ada', password: ADA_PASSWORD, displayName: 'Ada' });
});

after(async () => {
  await server.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('InteractiveLoginAuthentication', () => {
  test("reuses the CLI's session without opening a browser", async () => {
    const configDir = await cliSignedIn();
    const opened: string[] = [];
    const auth = new InteractiveLoginAuthentication({ configDir, openBrowser: noBrowser(opened) });
    const { token } = await auth.getToken(Audience.ControlPlane);
    assert.equal(token, (await readSession(configDir))!.tokens[Audience.ControlPlane]!.accessToken, "the CLI session's cached token");
    assert.equal((await auth.account()).user, 'admin@tessera.local');
    const workspace = await auth.getToken(Audience.Workspace);
    assert.equal(claimsOf(workspace.token).aud, Audience.Workspace, 'another resource through the CLI refresh token');
    assert.deepEqual(opened, []);
    assert.ok(!fs.existsSync(interactiveSessionDir(configDir)), 'no session of its own was made');
  });

  test('a tenant given as a domain fits a session for that tenant, so no browser opens', async () => {
    const configDir = await cliSignedIn();
    const opened: string[] = [];
    const auth = new InteractiveLoginAuthentication({ configDir, tenantId: 'TESSERA.local', server: `${server.url}/`, openBrowser: noBrowser(opened) });
    assert.equal(claimsOf((await auth.getToken()).token).preferred_username, 'admin@tessera.local');
    assert.deepEqual(opened, []);
  });

  test('with force it signs in in the browser and keeps its own session, which a later instance uses without a browser', async () => {
    const configDir = await cliSignedIn();
    const cliBefore = (await readSession(configDir))!;
    const opened: string[] = [];
    const forced = new InteractiveLoginAuthentication({
      configDir,
      force: true,
      server: server.url,
      openBrowser: (url) => {
        opened.push(url);
        return signInThroughBrowser(url, { username: 'ada', password: ADA_PASSWORD, tag: 'sdk-interactive-forced' });
      },
    });
    const first = await forced.getToken();
    assert.equal(opened.length, 1);
    // The tenant is the CLI session's: the forced sign-in stays in the tenant the user works in.
    assert.ok(opened[0]!.startsWith(`${server.url}/${cliBefore.tenantId}/oauth2/v2.0/authorize?`), opened[0]);
    assert.match(opened[0]!, /code_challenge_method=S256/);
    assert.equal(claimsOf(first.token).preferred_username, 'ada@tessera.local', 'the user who signed in in the browser');
    assert.equal((await forced.getToken()).token, first.token, 'cached: no second sign-in');

    const own = interactiveSessionDir(configDir);
    const kept = (await readSession(own))!;
    assert.deepEqual([kept.username, kept.clientId, kept.server], ['ada@tessera.local', TESSERA_CLI_CLIENT_ID, server.url]);
    assert.equal(fs.statSync(sessionPath(own)).mode & 0o777, 0o600);
    assert.deepEqual(await readSession(configDir), cliBefore, "the CLI's session is left as it was");

    const laterOpened: string[] = [];
    const later = new InteractiveLoginAuthentication({ configDir, openBrowser: noBrowser(laterOpened) });
    assert.equal((await later.account()).user, 'ada@tessera.local', 'its own session comes before the CLI session');
    const me = await new TesseraClient(server.url, later).me();
    assert.deepEqual([me.userName, me.clientId], ['ada', TESSERA_CLI_CLIENT_ID]);
    assert.deepEqual(laterOpened, []);
  });

  test('with no session and no server it says the server is needed, without opening a browser', async () => {
    const opened: string[] = [];
    const auth = new InteractiveLoginAuthentication({ configDir: freshDir(), openBrowser: noBrowser(opened) });
    await assert.rejects(auth.getToken(), (err: unknown) => err instanceof NotSignedInError && /needs the server/.test(err.message));
    assert.deepEqual(opened, []);
  });
});

describe('DeployClient with an Azure AD context', () => {
  test('with username and password it signs in with the v1 password grant; listServices works with the token', async () => {
    const before = (await requests()).length;
    const client = new DeployClient(server.url, {
      use: 'MLServer',
      auth: { authuri: server.url, tenant: 'tessera.local', clientid: TESSERA_CLI_CLIENT_ID, resource: Audience.ControlPlane, username: 'ada', password: ADA_PASSWORD },
    });
    assert.deepEqual(await client.listServices(), []);
    const { token } = await client.getToken();
    assert.deepEqual([claimsOf(token).aud, claimsOf(token).preferred_username], [Audience.ControlPlane, 'ada@tessera.local']);
    assert.equal((await client.me()).userName, 'ada');
    assert.deepEqual(
      (await requests()).slice(before).filter((r) => r.includes('oauth2') || r.startsWith('POST /login')),
      ['POST /tessera.local/oauth2/token'],
      'one v1 sign-in serves every call',
    );
    await client.logout();
  });

  test("the context's resource decides the tokens' audience (an Azure alias works as written)", async () => {
    const client = new DeployClient(server.url, {
      use: 'MLServer',
      auth: { authuri: server.url, tenant: 'tessera.local', clientid: TESSERA_CLI_CLIENT_ID, resource: 'https://management.azure.com/', user: 'ada', password: ADA_PASSWORD },
    });
    assert.deepEqual(await client.listServices(), []);
    assert.equal(claimsOf((await client.getToken()).token).aud, 'https://management.azure.com/');
  });

  test('without a password it runs the device-code flow, hands the code to userCodeCallback (approved in a browser), and listServices works', async () => {
    const before = (await requests()).length;
    const shown: DeviceCodeInfo[] = [];
    const client = new DeployClient(server.url, {
      use: 'MLServer',
      auth: {
        authuri: server.url,
        tenant: 'tessera.local',
        clientid: TESSERA_CLI_CLIENT_ID,
        resource: Audience.ControlPlane,
        userCodeCallback: (info) => {
          shown.push(info);
          return signInThroughBrowser(info.verificationUri, { username: 'ada', password: ADA_PASSWORD, userCode: info.userCode, tag: 'sdk-deployclient-device-code' });
        },
      },
    });
    assert.deepEqual(await client.listServices(), []);
    assert.equal(shown.length, 1);
    assert.match(shown[0]!.message, new RegExp(`open the page ${server.url}/devicelogin and enter the code ${shown[0]!.userCode}`));
    assert.equal(shown[0]!.interval, 3);
    assert.equal((await client.me()).userName, 'ada');
    const oauth = (await requests()).slice(before).filter((r) => r.includes('oauth2'));
    assert.equal(oauth[0], 'POST /tessera.local/oauth2/devicecode', 'the v1 device-code endpoint, with resource=');
    assert.ok(oauth.slice(1).every((r) => r === 'POST /tessera.local/oauth2/token'));
    await client.logout();
  });

  test('the existing forms still sign in through /login: [username, password] and { username, password }', async () => {
    for (const auth of [['ada', ADA_PASSWORD] as const, { username: 'ada', password: ADA_PASSWORD }]) {
      const before = (await requests()).length;
      const client = new DeployClient(server.url, { use: 'MLServer', auth });
      assert.equal((await client.me()).userName, 'ada');
      assert.deepEqual((await requests()).slice(before).filter((r) => r.startsWith('POST /login') || r.includes('oauth2')), ['POST /login']);
      await client.logout();
    }
  });
});

describe('the device-code poller', () => {
  test('after slow_down it waits the interval plus five seconds, for that poll and every later one', async () => {
    // Catch the device code as it arrives, to poll once ourselves just before the poller does.
    let deviceCode: string | undefined;
    class CatchingDeviceCode extends HttpClient {
      override async send<T>(request: HttpRequest): Promise<T> {
        const answer = await super.send<T>(request);
        if (request.url.endsWith('/oauth2/v2.0/devicecode')) deviceCode = (answer as { device_code: string }).device_code;
        return answer;
      }
    }
    const tokenUrl = `${server.url}/organizations/oauth2/v2.0/token`;
    const waits: number[] = [];
    let info: DeviceCodeInfo | undefined;
    const response = await deviceCodeSignIn(new CatchingDeviceCode(), {
      deviceCodeUrl: `${server.url}/organizations/oauth2/v2.0/devicecode`,
      tokenUrl,
      clientId: TESSERA_CLI_CLIENT_ID,
      target: { scope: `${Audience.ControlPlane}/.default openid profile offline_access` },
      grantType: 'urn:ietf:params:oauth:grant-type:device_code',
      onMessage: (_message, shown) => (info = shown),
      sleep: async (ms) => {
        waits.push(ms);
        if (waits.length === 2) {
          // The user approves while the poller waits out its longer interval.
          await Promise.all([sleep(ms), signInThroughBrowser(info!.verificationUri, { username: 'ada', password: ADA_PASSWORD, userCode: info!.userCode, tag: 'sdk-slow-down' })]);
          return;
        }
        await sleep(ms);
        if (waits.length === 1) {
          // A poll of our own right before the poller's makes the poller's too fast: the server says slow_down.
          const ours = await fetch(tokenUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: TESSERA_CLI_CLIENT_ID, device_code: deviceCode! }),
          });
          assert.equal(((await ours.json()) as { error: string }).error, 'authorization_pending');
        }
      },
    });
    assert.equal(claimsOf(response.access_token).preferred_username, 'ada@tessera.local');
    assert.equal(waits[0], 3000, 'the interval the server asked for');
    assert.ok(waits.length >= 2 && waits.slice(1).every((w) => w === 8000), `waits: ${waits.join(', ')}`);
  });
});
