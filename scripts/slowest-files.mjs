// A node --test reporter that prints, after the run, the test files that took longest.
//
// The suite has a 15-minute budget on a 2-core machine and its files run side by side
// (scripts/test.mjs), so the run's length is set by its slowest files: this says which
// they are, with each file's time (the sum of its top-level tests and suites, which run
// one after another within a file). scripts/test.mjs adds it next to the spec reporter.
//
// Plain Node.js, no dependencies.

const SHOWN = 12;

export default async function* slowestFiles(source) {
  const perFile = new Map();
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { file, nesting, details } = event.data;
    if (nesting !== 0 || !file || typeof details?.duration_ms !== 'number') continue;
    perFile.set(file, (perFile.get(file) ?? 0) + details.duration_ms);
  }
  if (perFile.size === 0) return;
  const rows = [...perFile].sort((a, b) => b[1] - a[1]).slice(0, SHOWN);
  const cwd = process.cwd() + '/';
  yield `\nslowest test files (seconds, top-level tests summed):\n`;
  for (const [file, ms] of rows) yield `${(ms / 1000).toFixed(1).padStart(7)}  ${file.startsWith(cwd) ? file.slice(cwd.length) : file}\n`;
}
