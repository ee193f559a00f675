/**
 * The layout's one hard rule, checked on the sources: nothing below the HTTP layer
 * imports from `http/` (the services know nothing about HTTP; the routes are thin over
 * them). A new import from a lower room into http/ fails here, naming the file.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/test/layout.test.js → the package's src/ (the TypeScript sources).
const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

describe('layout', () => {
  it('no module outside http/ imports from http/', () => {
    const httpDir = path.join(SRC, 'http') + path.sep;
    const offenders: string[] = [];
    const all = sources(SRC);
    assert.ok(all.length > 100, `found the sources under ${SRC}`);
    for (const file of all) {
      if (file.startsWith(httpDir)) continue;
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
        const target = m[1]!;
        if (!target.startsWith('.')) continue;
        if (path.resolve(path.dirname(file), target).startsWith(httpDir)) offenders.push(`${path.relative(SRC, file)} → ${target}`);
      }
    }
    // server.ts and index.ts build and export the app: they sit above http/, at the top.
    const allowed = (o: string) => /^(server|index)\.ts → /.test(o);
    assert.deepEqual(offenders.filter((o) => !allowed(o)), []);
  });
});
