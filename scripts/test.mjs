// Body of `npm test` (which runs `tsc -b && node scripts/test.mjs`).
//
//   node scripts/test.mjs                      # every packages/*/dist/test/**/*.test.js
//   node scripts/test.mjs path/a.test.js ...   # just these files
//   node scripts/test.mjs --test-name-pattern=login   # options starting with `-`
//                                              # go to `node --test` (use --opt=value)
//
// Starts a throwaway PostgreSQL cluster (scripts/postgres.mjs), hands its URL to
// the tests as TESSERA_TEST_PG_URL, runs `node --test --test-reporter=spec`,
// stops the cluster and exits with the test runner's exit code. PostgreSQL is
// required: if it cannot be started the run fails (also in CI); nothing is
// skipped.
//
// Plain Node.js, no dependencies.

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgres } from './postgres.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TAG = 'tessera test:';

function collectTestFiles() {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile() && entry.name.endsWith('.test.js')) files.push(p);
    }
  };
  const packagesDir = path.join(ROOT, 'packages');
  if (existsSync(packagesDir)) {
    for (const pkg of readdirSync(packagesDir).sort()) {
      const testDir = path.join(packagesDir, pkg, 'dist', 'test');
      if (existsSync(testDir) && statSync(testDir).isDirectory()) walk(testDir);
    }
  }
  return files.map((f) => path.relative(process.cwd(), f) || f).sort();
}

/**
 * Test files run side by side: most of their time is spent waiting on servers, child
 * processes, PostgreSQL, slapd and Chromium, not on the CPU, so more files than cores fit
 * (node --test's default is one fewer than the cores: one file at a time on two).
 * TESSERA_TEST_CONCURRENCY, or --test-concurrency=N among the options, sets it.
 */
function concurrencyOption() {
  if (nodeTestOptions.some((a) => a.startsWith('--test-concurrency'))) return [];
  const asked = process.env.TESSERA_TEST_CONCURRENCY;
  const n = asked !== undefined && /^\d{1,2}$/.test(asked) && Number(asked) > 0 ? Number(asked) : Math.max(3, os.availableParallelism() + 1);
  return [`--test-concurrency=${n}`];
}

function signalExitCode(signal) {
  return 128 + (os.constants.signals[signal] ?? 0);
}

const args = process.argv.slice(2);
const nodeTestOptions = args.filter((a) => a.startsWith('-'));
let files = args.filter((a) => !a.startsWith('-'));
if (files.length === 0) {
  files = collectTestFiles();
  if (files.length === 0) {
    console.error(
      `${TAG} no test files found: expected packages/*/dist/test/**/*.test.js under ${ROOT} ` +
        '(they are compiled from packages/*/test/ by `tsc -b`, which `npm test` runs first).',
    );
    process.exit(1);
  }
}

// Signals: remember the first one; forward it to the test runner if it is
// running, and exit with 128+signo once everything is cleaned up.
// (scripts/postgres.mjs stops the cluster on these signals by itself too.)
let interrupted = null;
let runner = null;
let pg = null;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = sig;
    console.error(`\n${TAG} ${sig}: stopping tests and PostgreSQL`);
    if (runner && runner.exitCode === null && runner.signalCode === null) {
      runner.kill(sig);
      // The runner gets 10 s to wind down.
      setTimeout(() => runner.kill('SIGKILL'), 10_000).unref();
    } else if (!runner) {
      // Still starting PostgreSQL: startPostgres() is aborted by postgres.mjs's
      // own handler and rejects; the catch below exits.
    }
  });
}

try {
  pg = await startPostgres();
} catch (err) {
  if (interrupted) process.exit(signalExitCode(interrupted));
  console.error(`${TAG} cannot start PostgreSQL, which the tests need:\n${err.message}`);
  process.exit(1);
}
if (interrupted) {
  await pg.stop();
  process.exit(signalExitCode(interrupted));
}

const versionText = pg.version.replace(/^postgres \(PostgreSQL\) /, 'PostgreSQL ');
console.error(`${TAG} ${versionText} on ${new URL(pg.url).host} (throwaway cluster); ${files.length} test file(s)`);

const code = await new Promise((resolve) => {
  // The spec reporter on stdout; the slowest files, once the run is over, on stderr.
  const reporters = ['--test-reporter=spec', '--test-reporter-destination=stdout', `--test-reporter=${path.join(ROOT, 'scripts', 'slowest-files.mjs')}`, '--test-reporter-destination=stderr'];
  runner = spawn(process.execPath, ['--test', ...reporters, ...concurrencyOption(), ...nodeTestOptions, ...files], {
    stdio: 'inherit',
    env: { ...process.env, TESSERA_TEST_PG_URL: pg.url },
  });
  runner.on('error', (err) => {
    console.error(`${TAG} could not run node --test: ${err.message}`);
    resolve(1);
  });
  runner.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? signalExitCode(signal) : 1)));
});

await pg.stop();
process.exit(interrupted ? signalExitCode(interrupted) : code);
