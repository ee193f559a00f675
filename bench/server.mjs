// Starts a Tessera server for the benchmark in its own process (so load generation and
// serving do not share an event loop) and prints {"url": …} on stdout when ready.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveConfig, startServer } from '@tessera/server';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tessera-bench-'));
// TESSERA_* settings pass through (the client-credentials measure starts one with TESSERA_APP_TOKEN_REUSE=0).
// BENCH_LOG_LEVEL=info measures with the per-request log lines a default server writes.
const config = resolveConfig({ port: 0, data: dataDir, logLevel: process.env.BENCH_LOG_LEVEL ?? 'warn' }, { ...process.env, TESSERA_ADMIN_PASSWORD: process.env.BENCH_ADMIN_PASSWORD });
// The benchmark signs in thousands of times, up to 16 at once, as one account from one
// address: lift the throttle's address rule and both in-flight caps (the account's is 1,
// which would answer 429 to all but one of the concurrent sign-ins), so that what is
// measured is the password check itself.
config.throttle.address = { ...config.throttle.address, delayAfter: 1e9, lockoutAfter: 1e9, maxInFlight: 1e9 };
config.throttle.account = { ...config.throttle.account, maxInFlight: 1e9 };
const server = await startServer(config);
process.stdout.write(JSON.stringify({ url: server.url, argon2: config.argon2 }) + '\n');
const stop = async () => {
  await server.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
