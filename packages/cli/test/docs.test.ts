/**
 * The manual holds together: README.md opens with the two commands (a project rule),
 * every relative link in README.md, docs/*.md and examples/README.md reaches a file that
 * exists (and, with a #fragment, a heading of that file), the README links every docs
 * page, and docs/api.md's error-code table lists exactly the codes and statuses of
 * packages/server/src/errors.ts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

/** The repository's root: this file runs as packages/cli/dist/test/docs.test.js. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

function read(relative: string): string {
  return fs.readFileSync(path.join(ROOT, relative), 'utf8');
}

/** The Markdown files whose links are checked, relative to the root. */
function manualFiles(): string[] {
  const docs = fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`);
  const files = ['README.md', ...docs];
  if (fs.existsSync(path.join(ROOT, 'examples/README.md'))) files.push('examples/README.md');
  return files;
}

/** The text outside fenced code blocks, with inline code spans blanked (links in code are not links). */
function prose(markdown: string): string[] {
  const lines: string[] = [];
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const opener = /^\s*(```+|~~~+)/.exec(line);
    if (opener) {
      if (fence === undefined) fence = opener[1]![0];
      else if (opener[1]![0] === fence) fence = undefined;
      lines.push('');
      continue;
    }
    lines.push(fence === undefined ? line.replace(/(`+)[^`]*?\1/g, (m) => ' '.repeat(m.length)) : '');
  }
  return lines;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, each space a hyphen; repeats get -1, -2 …. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const opener = /^\s*(```+|~~~+)/.exec(line);
    if (opener) {
      if (fence === undefined) fence = opener[1]![0];
      else if (opener[1]![0] === fence) fence = undefined;
      continue;
    }
    if (fence !== undefined) continue;
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const text = heading[1]!
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/[`*]/g, '')
      .replace(/<[^>]+>/g, '');
    const base = text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

interface Link {
  file: string;
  line: number;
  target: string;
}

/** Every inline link and image `[text](target)` in the prose of a file. */
function linksOf(file: string): Link[] {
  const links: Link[] = [];
  prose(read(file)).forEach((text, i) => {
    for (const m of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ file, line: i + 1, target: m[1]! });
  });
  return links;
}

/** Why a relative link does not resolve, or undefined when it does. */
function brokenReason(link: Link): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(link.target)) return undefined; // https:, mailto:
  const hash = link.target.indexOf('#');
  const pathPart = decodeURIComponent(hash < 0 ? link.target : link.target.slice(0, hash));
  const fragment = hash < 0 ? undefined : decodeURIComponent(link.target.slice(hash + 1));
  if (pathPart.startsWith('/')) return 'an absolute path (use a relative one)';
  const resolved = pathPart === '' ? path.join(ROOT, link.file) : path.resolve(path.dirname(path.join(ROOT, link.file)), pathPart);
  if (!resolved.startsWith(ROOT + path.sep) && resolved !== ROOT) return 'outside the repository';
  if (!fs.existsSync(resolved)) return `no such file: ${path.relative(ROOT, resolved)}`;
  if (fragment === undefined || fragment === '') return undefined;
  if (!resolved.endsWith('.md')) return `a #fragment on a file that is not Markdown`;
  const anchors = anchorsOf(fs.readFileSync(resolved, 'utf8'));
  return anchors.has(fragment) ? undefined : `no heading #${fragment} in ${path.relative(ROOT, resolved)}`;
}

describe('the manual', () => {
  test('README.md opens with the two commands: npm install && npm start, then npm test', () => {
    const lines = read('README.md').split('\n');
    assert.equal(lines[0], '# Tessera');
    const first = lines.findIndex((l, i) => i > 0 && l.trim() !== '');
    assert.equal(lines[first], '```sh', 'the first thing after the title is a sh code block');
    assert.match(lines[first + 1]!, /^npm install && npm start(\s+#.*)?$/);
    assert.match(lines[first + 2]!, /^npm test(\s+#.*)?$/);
    assert.equal(lines[first + 3], '```');
  });

  test('every relative link in README.md, docs/*.md and examples/README.md reaches a file and a heading', () => {
    const files = manualFiles();
    const links = files.flatMap(linksOf);
    assert.ok(links.length > 50, `found only ${links.length} links: is the link parser broken?`);
    const broken = links.flatMap((link) => {
      const reason = brokenReason(link);
      return reason === undefined ? [] : [`${link.file}:${link.line}: (${link.target}) ${reason}`];
    });
    assert.deepEqual(broken, [], `broken links:\n${broken.join('\n')}`);
  });

  test('the README links every docs page', () => {
    const readme = new Set(linksOf('README.md').map((l) => l.target.split('#')[0]));
    const pages = fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md'));
    const missing = pages.filter((p) => !readme.has(`docs/${p}`));
    assert.deepEqual(missing, [], 'docs pages the README does not link');
  });

  test("docs/api.md's error-code table has exactly errors.ts's codes, each with its status", () => {
    const catalogue = new Map<string, number>();
    const source = read('packages/server/src/errors.ts');
    const body = source.slice(source.indexOf('export const ERROR_CATALOGUE'), source.indexOf('} as const satisfies'));
    for (const m of body.matchAll(/^\s+(\w+): \{ status: (\d{3}),/gm)) catalogue.set(m[1]!, Number(m[2]));
    assert.ok(catalogue.size > 30, `read only ${catalogue.size} codes from errors.ts`);

    const api = read('docs/api.md');
    const section = api.slice(api.indexOf('\n## Error codes'));
    assert.ok(section.length > 1, 'docs/api.md has an "Error codes" section');
    const table = new Map<string, number>();
    for (const m of section.matchAll(/^\| `(\w+)` \| (\d{3}) \|/gm)) {
      assert.ok(!table.has(m[1]!), `${m[1]} is listed twice`);
      table.set(m[1]!, Number(m[2]));
    }
    assert.deepEqual(Object.fromEntries([...table].sort()), Object.fromEntries([...catalogue].sort()));
  });

  test('the anchor rule gives GitHub\'s anchors', () => {
    const anchors = anchorsOf('# A `b` c\n## The management API (Azure Resource Manager\'s paths)\n## x\n## x\n```\n## not a heading\n```\n## Node protocol (`Bearer tsnd_…`)');
    assert.deepEqual([...anchors], ['a-b-c', 'the-management-api-azure-resource-managers-paths', 'x', 'x-1', 'node-protocol-bearer-tsnd_']);
  });
});
