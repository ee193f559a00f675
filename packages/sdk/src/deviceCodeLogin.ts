/**
 * Signing in with a device code (RFC 8628), for a machine without a browser: the server
 * gives a user code and a page; the user opens the page anywhere, types the code and
 * signs in; meanwhile this side polls the token endpoint, every `interval` seconds and
 * five seconds slower after each `slow_down`, until the tokens come, the user refuses, or
 * the code expires.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Audience, TESSERA_CLI_CLIENT_ID } from './audience.js';
import type { Account } from './cliAuthentication.js';
import { TesseraApiError, TesseraConnectionError } from './errors.js';
import { HttpClient } from './http.js';
import { normalizeServerUrl } from './serverUrl.js';
import { configDir } from './session.js';
import { InteractiveSignInError, printable } from './signInError.js';
import { tokenUrl, type TokenResponse } from './tokenEndpoint.js';
import { storeSession, userSessionFrom } from './userSession.js';

/** What the user is shown: the server's message, and its parts. */
export interface DeviceCodeInfo {
  /** The server's sentence, e.g. "To sign in, use a web browser to open the page … and enter the code … to authenticate." */
  message: string;
  userCode: string;
  verificationUri: string;
  /** Seconds the code stays valid. */
  expiresIn: number;
  /** Seconds between polls, as the server asked. */
  interval: number;
}

/** Receives the code to show the user. It is not awaited: polling starts at once; a rejection ends the sign-in. */
export type DeviceCodeCallback = (message: string, info: DeviceCodeInfo) => unknown;

/** What {@link loginWithDeviceCode} needs. */
export interface DeviceCodeLoginOptions {
  /** The server's base URL. */
  server: string;
  /** Tenant id or domain; default `organizations` (the server's default tenant). */
  tenant?: string | undefined;
  /** Shows the code; default: the message on stderr. */
  onMessage?: DeviceCodeCallback | undefined;
  /** Stop waiting after this long even if the code is still valid. */
  timeoutMs?: number | undefined;
  /** How long each request may take; default 30 s. */
  requestTimeoutMs?: number | undefined;
  /** Where to keep the session; default `TESSERA_CONFIG_DIR` or `~/.tessera`. */
  configDir?: string | undefined;
}

/** One device-code flow's endpoints and parameters (v2 with `scope`, or v1 with `resource`). */
export interface DeviceCodeRequest {
  /** `…/oauth2/v2.0/devicecode` or `…/oauth2/devicecode`. */
  deviceCodeUrl: string;
  /** The matching token endpoint. */
  tokenUrl: string;
  clientId: string;
  /** `{ scope }` (v2) or `{ resource }` (v1). */
  target: { scope: string } | { resource: string };
  /** The poll's grant_type: RFC 8628's name (v2) or `device_code` (v1, as ADAL sends it). */
  grantType: string;
  onMessage: DeviceCodeCallback;
  timeoutMs?: number | undefined;
  /** Waits; tests pass their own to watch the intervals. */
  sleep?: ((ms: number) => Promise<unknown>) | undefined;
}

interface DeviceCodeResponse {
  user_code?: unknown;
  device_code?: unknown;
  verification_uri?: unknown;
  verification_url?: unknown;
  expires_in?: unknown;
  interval?: unknown;
  message?: unknown;
}

/** A number the server may send as a JSON number or a numeric string (the v1 shape). */
function seconds(value: unknown, fallback: number): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : fallback;
}

/** A token response of either shape, with `expires_in` a number. */
export function normalizeTokenResponse(body: unknown): TokenResponse & { expires_on?: number } {
  const r = body as (Omit<TokenResponse, 'expires_in'> & { expires_in?: unknown; expires_on?: unknown }) | undefined;
  const expiresIn = seconds(r?.expires_in, NaN);
  if (!r || typeof r.access_token !== 'string' || !Number.isFinite(expiresIn)) {
    throw new TesseraConnectionError('InvalidResponse', 'The token endpoint answered without an access token and its lifetime.');
  }
  const expiresOn = seconds(r.expires_on, NaN);
  return { ...r, expires_in: expiresIn, ...(Number.isFinite(expiresOn) ? { expires_on: expiresOn } : {}) } as TokenResponse & { expires_on?: number };
}

/**
 * Starts a device-code sign-in, hands the code to `onMessage`, and polls until the user
 * has signed in; resolves with the token response. Throws the server's refusal as a
 * {@link TesseraApiError} (`authorization_declined`, `expired_token`, `bad_verification_code`, …).
 */
export async function deviceCodeSignIn(client: HttpClient, request: DeviceCodeRequest): Promise<TokenResponse & { expires_on?: number }> {
  const wait = request.sleep ?? ((ms: number) => sleep(ms));
  const started = Date.now();
  const issued = await client.send<DeviceCodeResponse | undefined>({ method: 'POST', url: request.deviceCodeUrl, form: { client_id: request.clientId, ...request.target } });
  const deviceCode = issued?.device_code;
  const userCode = issued?.user_code;
  const verificationUri = issued?.verification_uri ?? issued?.verification_url;
  if (typeof deviceCode !== 'string' || typeof userCode !== 'string' || typeof verificationUri !== 'string') {
    throw new TesseraConnectionError('InvalidResponse', 'The device-code endpoint answered without a device code, a user code and a verification page.');
  }
  const expiresIn = seconds(issued?.expires_in, 900);
  let interval = seconds(issued?.interval, 5);
  const message = typeof issued?.message === 'string' ? printable(issued.message) : `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${userCode} to authenticate.`;
  const info: DeviceCodeInfo = { message, userCode, verificationUri, expiresIn, interval };

  let failure: unknown;
  let failed = false;
  Promise.resolve()
    .then(() => request.onMessage(message, info))
    .catch((err: unknown) => {
      failure = err;
      failed = true;
    });

  const expiresAt = started + expiresIn * 1000;
  const deadline = Math.min(expiresAt, request.timeoutMs === undefined ? Infinity : started + request.timeoutMs);
  const form = { grant_type: request.grantType, client_id: request.clientId, device_code: deviceCode };
  for (;;) {
    await wait(interval * 1000);
    if (failed) throw failure;
    if (Date.now() >= deadline) {
      throw new InteractiveSignInError(
        'Timeout',
        Date.now() >= expiresAt ? 'The code expired before the sign-in was finished: start again.' : `The sign-in with the code did not finish within ${Math.round((request.timeoutMs ?? 0) / 1000)} s.`,
      );
    }
    try {
      return normalizeTokenResponse(await client.send<unknown>({ method: 'POST', url: request.tokenUrl, form }));
    } catch (err) {
      if (!(err instanceof TesseraApiError)) throw err;
      if (err.code === 'authorization_pending') continue;
      if (err.code === 'slow_down') {
        interval += 5; // RFC 8628 §3.5: for this and every later poll
        continue;
      }
      if (err.status === 429 && err.retryAfter !== undefined) {
        await wait(err.retryAfter * 1000);
        continue;
      }
      throw err;
    }
  }
}

/** The default: the server's message on stderr. */
function printMessage(message: string): void {
  process.stderr.write(`${message}\n`);
}

/**
 * Signs in with a device code and keeps the session as {@link loginWithPassword} does
 * (the same file, the same account); a session it replaces is revoked.
 * @example await loginWithDeviceCode({ server: 'https://ml.example.com', onMessage: (m) => console.error(m) })
 */
export async function loginWithDeviceCode(options: DeviceCodeLoginOptions): Promise<Account> {
  const server = normalizeServerUrl(options.server);
  const tenant = options.tenant ?? 'organizations';
  const client = new HttpClient({ timeoutMs: options.requestTimeoutMs });
  const response = await deviceCodeSignIn(client, {
    deviceCodeUrl: `${server}/${encodeURIComponent(tenant)}/oauth2/v2.0/devicecode`,
    tokenUrl: tokenUrl(server, tenant),
    clientId: TESSERA_CLI_CLIENT_ID,
    target: { scope: `${Audience.ControlPlane}/.default openid profile offline_access` },
    grantType: 'urn:ietf:params:oauth:grant-type:device_code',
    onMessage: options.onMessage ?? printMessage,
    timeoutMs: options.timeoutMs,
  });
  return storeSession(configDir(options.configDir), userSessionFrom(server, response), client);
}
