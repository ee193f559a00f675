/**
 * Test support: start a real server in-process on a loopback port, on SQLite (a temp
 * directory) or on PostgreSQL (a fresh database in the cluster scripts/test.mjs starts),
 * and talk to it over real HTTP.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import forge from 'node-forge';
import { resolveConfig, startServer, type Clock, type RunningServer, type ServerConfig } from '../src/index.js';

export type StoreKind = 'sqlite' | 'postgres';

/** Both stores: every suite that touches the store runs against each. */
export const STORE_KINDS: StoreKind[] = ['sqlite', 'postgres'];

export const ADMIN_PASSWORD = 'Adm1n-pass-for-tests!';

export interface TestServer {
  kind: StoreKind;
  url: string;
  running: RunningServer;
  /** Every JSON log line the server wrote. */
  logs: string[];
  dataDir: string;
  close(): Promise<void>;
}

function pgAdminUrl(): string {
  const url = process.env.TESSERA_TEST_PG_URL;
  if (!url) throw new Error('TESSERA_TEST_PG_URL is not set: run the suite with `npm test`, which starts PostgreSQL.');
  return url;
}

async function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = pgAdminUrl();
  const name = `t_${crypto.randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`create database ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export interface StartOptions {
  config?: Partial<ServerConfig>;
  env?: Record<string, string>;
  /** Reuse a data directory (and database) to test restarts. */
  dataDir?: string;
  databaseUrl?: string;
  /** The server's time source (a TestClock the test moves); real time when absent. */
  clock?: Clock;
}

/**
 * A server clock a test moves instead of sleeping, so that a window the test must hit
 * (a delay, a cache's lifetime, a poll interval) does not depend on how fast the machine
 * is: real time plus what advance() added, or stopped at one instant while frozen.
 */
export class TestClock implements Clock {
  private offsetMs = 0;
  private frozenAt: number | undefined;

  now(): number {
    return this.frozenAt ?? Date.now() + this.offsetMs;
  }

  /** Moves the clock forward by `ms`. */
  advance(ms: number): void {
    if (this.frozenAt !== undefined) this.frozenAt += ms;
    else this.offsetMs += ms;
  }

  /** Stops the clock at the present instant, until resume(). */
  freeze(): void {
    this.frozenAt = this.now();
  }

  /** Lets a frozen clock run on from where it stopped (it never goes back). */
  resume(): void {
    if (this.frozenAt === undefined) return;
    this.offsetMs = Math.max(this.offsetMs, this.frozenAt - Date.now());
    this.frozenAt = undefined;
  }
}

/** Starts a server with its own store; close() removes the store. */
export async function startTestServer(kind: StoreKind, options: StartOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-test-'));
  const database = kind === 'postgres' && !options.databaseUrl ? await createDatabase() : undefined;
  const config = {
    ...resolveConfig(
      { port: 0, data: dataDir, database: options.databaseUrl ?? database?.url, logLevel: 'info' },
      { TESSERA_ADMIN_PASSWORD: ADMIN_PASSWORD, ...options.env },
    ),
    ...options.config,
  };
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const running = await startServer(config, { logDestination: sink, clock: options.clock });
  return {
    kind,
    url: running.url,
    running,
    logs,
    dataDir,
    async close() {
      await running.close();
      if (!options.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
      await database?.drop();
    },
  };
}

export interface JsonResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** A JSON request; `body` objects are sent as JSON, strings as they are. */
export async function call<T = Record<string, unknown>>(
  url: string,
  init: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let body: string | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(url, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  const text = await res.text();
  let parsed: unknown = {};
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { raw: text };
    }
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

/** A form POST, as OAuth clients send. */
export async function postForm<T = Record<string, unknown>>(url: string, params: Record<string, string> | string, headers: Record<string, string> = {}): Promise<JsonResponse<T>> {
  const body = typeof params === 'string' ? params : new URLSearchParams(params).toString();
  return call<T>(url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
}

export interface LoginPair {
  token_type: string;
  access_token: string;
  expires_in: number;
  expires_on: number;
  refresh_token: string;
}

/** Signs in through Machine Learning Server's /login. */
export async function login(server: TestServer, username = 'admin', password = ADMIN_PASSWORD): Promise<LoginPair> {
  const res = await call<LoginPair>(`${server.url}/login`, { body: { username, password } });
  if (res.status !== 200) throw new Error(`login as ${username} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Creates a user as admin and returns its object id. */
export async function createUser(server: TestServer, adminToken: string, userName: string, password: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await call<{ id: string }>(`${server.url}/v1.0/users`, { token: adminToken, body: { userName, passwordProfile: { password }, ...extra } });
  if (res.status !== 201) throw new Error(`create user ${userName} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

/** Decodes a JWT's payload without verifying it (tests verify separately). */
export function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export function headerOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** A self-signed client certificate and its private key (RSA 2048), as a user would make with openssl. */
export function makeClientCertificate(commonName = 'tessera-test-client'): { certPem: string; keyPem: string; thumbprintSha256: string } {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = '01' + crypto.randomBytes(8).toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 365 * 24 * 3600_000);
  const subject = [{ name: 'commonName', value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  const der = new crypto.X509Certificate(certPem).raw;
  return { certPem, keyPem, thumbprintSha256: crypto.createHash('sha256').update(der).digest('base64url') };
}

export interface ServicePrincipalWithSecret {
  id: string;
  appId: string;
  secret: string;
  keyId: string;
}

/** Creates a service principal with one secret, as admin. */
export async function createServicePrincipal(server: TestServer, adminToken: string, displayName: string): Promise<ServicePrincipalWithSecret> {
  const sp = await call<{ id: string; appId: string }>(`${server.url}/v1.0/servicePrincipals`, { token: adminToken, body: { displayName } });
  if (sp.status !== 201) throw new Error(`create service principal failed: ${sp.status} ${JSON.stringify(sp.body)}`);
  const pw = await call<{ secretText: string; keyId: string }>(`${server.url}/v1.0/servicePrincipals/${sp.body.id}/addPassword`, { token: adminToken, body: { passwordCredential: { displayName: 'test' } } });
  if (pw.status !== 200) throw new Error(`addPassword failed: ${pw.status} ${JSON.stringify(pw.body)}`);
  return { id: sp.body.id, appId: sp.body.appId, secret: pw.body.secretText, keyId: pw.body.keyId };
}
