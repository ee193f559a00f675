/**
 * A real OpenLDAP `slapd` (Debian's) for the directory suites: its own configuration
 * (slapd.conf: mdb database, the memberOf overlay, TLS with a test CA made by openssl),
 * listening on loopback only, for plain LDAP (StartTLS) and LDAPS, loaded with the
 * fixture through the running server (so the memberOf overlay sees every group), and
 * stopped by close(). A missing slapd fails: it is never skipped.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, type Change } from 'ldapts';

export const SUFFIX = 'dc=example,dc=test';
export const ROOT_DN = `cn=admin,${SUFFIX}`;
export const ROOT_PASSWORD = 'root-secret-for-tests';
/** The read-only service account Tessera searches with. */
export const SERVICE_DN = `cn=tessera-svc,ou=services,${SUFFIX}`;
export const SERVICE_PASSWORD = 'svc-secret-for-tests';

export interface Slapd {
  /** ldap://127.0.0.1:PORT (StartTLS available). */
  ldapUrl: string;
  /** ldaps://127.0.0.1:PORT. */
  ldapsUrl: string;
  /** The test CA's certificate file (PEM). */
  caFile: string;
  dir: string;
  /** Runs `fn` with a client bound as the root DN. */
  asRoot<T>(fn: (client: Client) => Promise<T>): Promise<T>;
  modify(dn: string, changes: Change[]): Promise<void>;
  /** Stops the server (the data stays: start() brings it back on the same ports). */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

const SLAPD = '/usr/sbin/slapd';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function makeCertificates(dir: string): { caFile: string; certFile: string; keyFile: string } {
  const caKey = path.join(dir, 'ca.key');
  const caFile = path.join(dir, 'ca.pem');
  const keyFile = path.join(dir, 'server.key');
  const csr = path.join(dir, 'server.csr');
  const certFile = path.join(dir, 'server.pem');
  const ext = path.join(dir, 'server.ext');
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', caKey, '-out', caFile, '-days', '2', '-subj', '/CN=Tessera test directory CA']);
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', '/CN=127.0.0.1']);
  fs.writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
  run(['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-out', certFile, '-days', '2', '-extfile', ext]);
  return { caFile, certFile, keyFile };
}

function slapdConf(dir: string, tls: { caFile: string; certFile: string; keyFile: string }, maxGroups: number): string {
  return [
    'include /etc/ldap/schema/core.schema',
    'include /etc/ldap/schema/cosine.schema',
    'include /etc/ldap/schema/inetorgperson.schema',
    'include /etc/ldap/schema/nis.schema',
    `pidfile ${path.join(dir, 'slapd.pid')}`,
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    'moduleload memberof',
    `TLSCACertificateFile ${tls.caFile}`,
    `TLSCertificateFile ${tls.certFile}`,
    `TLSCertificateKeyFile ${tls.keyFile}`,
    `sizelimit ${Math.max(500, maxGroups + 100)}`,
    'database mdb',
    `suffix "${SUFFIX}"`,
    `rootdn "${ROOT_DN}"`,
    `rootpw ${ROOT_PASSWORD}`,
    `directory ${path.join(dir, 'db')}`,
    'maxsize 104857600',
    'index objectClass eq',
    'index uid,mail,member eq',
    'overlay memberof',
    // The service account reads; users may bind (auth) and read themselves; nobody else reads passwords.
    'access to attrs=userPassword by self write by anonymous auth by * none',
    `access to * by dn.exact="${SERVICE_DN}" read by self read by * none`,
    '',
  ].join('\n');
}

export interface SlapdOptions {
  /** Extra entries after the base ones, added through the running server. */
  entries?: Array<{ dn: string; attributes: Record<string, string | string[]> }>;
}

/** The base tree: the suffix, ou=people, ou=groups, ou=services and the service account. */
function baseEntries(): Array<{ dn: string; attributes: Record<string, string | string[]> }> {
  return [
    { dn: SUFFIX, attributes: { objectClass: ['top', 'dcObject', 'organization'], dc: 'example', o: 'Example' } },
    { dn: `ou=people,${SUFFIX}`, attributes: { objectClass: ['organizationalUnit'], ou: 'people' } },
    { dn: `ou=groups,${SUFFIX}`, attributes: { objectClass: ['organizationalUnit'], ou: 'groups' } },
    { dn: `ou=services,${SUFFIX}`, attributes: { objectClass: ['organizationalUnit'], ou: 'services' } },
    { dn: SERVICE_DN, attributes: { objectClass: ['person'], cn: 'tessera-svc', sn: 'svc', userPassword: SERVICE_PASSWORD } },
  ];
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`slapd exited with ${child.exitCode}: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`slapd did not listen on ${port}: ${log()}`);
}

export async function startSlapd(options: SlapdOptions = {}): Promise<Slapd> {
  if (!fs.existsSync(SLAPD)) throw new Error(`${SLAPD} is missing: install Debian's slapd and ldap-utils (.ci/run does).`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-slapd-'));
  fs.mkdirSync(path.join(dir, 'db'));
  const tls = makeCertificates(dir);
  const confFile = path.join(dir, 'slapd.conf');
  fs.writeFileSync(confFile, slapdConf(dir, tls, (options.entries ?? []).length));
  const [ldapPort, ldapsPort] = [await freePort(), await freePort()];
  const ldapUrl = `ldap://127.0.0.1:${ldapPort}`;
  const ldapsUrl = `ldaps://127.0.0.1:${ldapsPort}`;
  let child: ChildProcess | undefined;
  let output = '';

  const start = async () => {
    output = '';
    // -d 0: stay in the foreground (so it dies with us) and log nothing but errors.
    const started = spawn(SLAPD, ['-f', confFile, '-h', `${ldapUrl}/ ${ldapsUrl}/`, '-d', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    started.stdout.on('data', (b: Buffer) => (output += b.toString()));
    started.stderr.on('data', (b: Buffer) => (output += b.toString()));
    child = started;
    await waitForPort(ldapPort, started, () => output);
    await waitForPort(ldapsPort, started, () => output);
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((r) => running.once('exit', r));
    running.kill('SIGTERM');
    const timer = setTimeout(() => running.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  const asRoot = async <T>(fn: (client: Client) => Promise<T>): Promise<T> => {
    const client = new Client({ url: ldapUrl, timeout: 30_000 });
    try {
      await client.bind(ROOT_DN, ROOT_PASSWORD);
      return await fn(client);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  };

  await start();
  try {
    await asRoot(async (client) => {
      for (const entry of [...baseEntries(), ...(options.entries ?? [])]) await client.add(entry.dn, entry.attributes);
    });
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    ldapUrl,
    ldapsUrl,
    caFile: tls.caFile,
    dir,
    asRoot,
    modify: (dn, changes) => asRoot((client) => client.modify(dn, changes)),
    stop,
    start,
    async close() {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
