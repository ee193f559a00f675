// Starts a Tessera server for the benchmark in its own process (so load generation and
// serving do not share an event loop) and prints {"url": …} on stdout when ready.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveConfig, startServer } from '@tessera/server';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-bench-'));
const config = resolveConfig({ port: 0, data: dataDir, logLevel: 'warn' }, { TESSERA_ADMIN_PASSWORD: process.env.BENCH_ADMIN_PASSWORD });
// The benchmark signs in thousands of times from one address: lift the throttle's address rule.
config.throttle.address = { ...config.throttle.address, delayAfter: 1e9, lockoutAfter: 1e9 };
const server = await startServer(config);
process.stdout.write(JSON.stringify({ url: server.url, argon2: config.argon2 }) + '\n');
const stop = async () => {
  await server.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
