/**
 * A Tessera server in this process for tests: port 0 on loopback, a temp data directory,
 * a known admin password, and its JSON log lines collected so tests can count requests.
 */
import { Writable } from 'node:stream';
import { resolveConfig, startServer, type RunningServer } from '@tessera/server';
import { tempDir } from './tempDirs.js';

/** The admin password every test server is started with. */
export const ADMIN_PASSWORD = 'Quartz-lantern-91-violet';

/** One request line of the server's log. */
export interface RequestLog {
  method: string;
  path: string;
  status: number;
}

/** A started test server and what it logged. */
export interface TestServer {
  url: string;
  running: RunningServer;
  dataDir: string;
  /** The request lines logged so far. */
  requests(): RequestLog[];
  /** Every log line so far, as written. */
  logText(): string;
  close(): Promise<void>;
}

/** Starts a server; close it in `after()`. */
export async function startTestServer(): Promise<TestServer> {
  const lines: string[] = [];
  const logDestination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      callback();
    },
  });
  const dataDir = tempDir('data');
  const config = resolveConfig({ port: 0, host: '127.0.0.1', data: dataDir }, { TESSERA_ADMIN_PASSWORD: ADMIN_PASSWORD });
  // Cheaper password hashing: the tests sign in often and measure nothing about argon2.
  config.argon2 = { memoryCost: 4096, timeCost: 1, parallelism: 1 };
  const running = await startServer(config, { logDestination });
  return {
    url: running.url,
    running,
    dataDir,
    requests: () =>
      lines
        .map((l) => JSON.parse(l) as { msg?: string; method?: string; path?: string; status?: number })
        .filter((l) => l.msg === 'request')
        .map((l) => ({ method: l.method!, path: l.path!, status: l.status! })),
    logText: () => lines.join('\n'),
    close: () => running.close(),
  };
}
