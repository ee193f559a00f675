/** How results print: JSON by default, az-style aligned tables, and header-less TSV. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatOutput } from '../src/output.js';

const rows = [
  { id: 'a1', userName: 'ada', accountEnabled: true, mail: null, tags: ['x'] },
  { id: 'b22', userName: 'grace', accountEnabled: false, mail: 'g@example.com', tags: [] },
];

describe('formatOutput', () => {
  test('json is indented JSON with a newline; nothing at all for no result', () => {
    assert.equal(formatOutput({ a: 1 }, 'json'), '{\n  "a": 1\n}\n');
    assert.equal(formatOutput(undefined, 'json'), '');
    assert.equal(formatOutput(undefined, 'table'), '');
  });

  test('table titles the scalar fields, rules them, aligns the columns and leaves out nested values', () => {
    assert.equal(
      formatOutput(rows, 'table'),
      ['Id   UserName  AccountEnabled  Mail', '---  --------  --------------  -------------', 'a1   ada       true', 'b22  grace     false           g@example.com', ''].join('\n'),
    );
  });

  test('table of one object is one row; of an empty list, nothing', () => {
    assert.equal(formatOutput({ kid: 'k', alg: 'ES256' }, 'table'), 'Kid  Alg\n---  -----\nk    ES256\n');
    assert.equal(formatOutput([], 'table'), '');
  });

  test('tsv is one line per item, tab-separated, no header; tabs and newlines in values become spaces', () => {
    assert.equal(formatOutput(rows, 'tsv'), 'a1\tada\ttrue\t\nb22\tgrace\tfalse\tg@example.com\n');
    assert.equal(formatOutput({ note: 'two\tparts\nand lines' }, 'tsv'), 'two parts and lines\n');
    assert.equal(formatOutput('plain', 'tsv'), 'plain\n');
  });

  test('table and tsv print an object with toJSON() (an SDK Model or Webservice) as json does, never its private fields', () => {
    class Handle {
      private readonly cachedKey = 'tssk_secret';
      constructor(readonly name: string) {}
      toJSON() {
        return { name: this.name, state: 'Healthy' };
      }
      keyLength() {
        return this.cachedKey.length;
      }
    }
    assert.equal(formatOutput([new Handle('a'), new Handle('b')], 'table'), 'Name  State\n----  -------\na     Healthy\nb     Healthy\n');
    assert.equal(formatOutput(new Handle('a'), 'tsv'), 'a\tHealthy\n');
  });

  test('yaml prints the JSON as YAML; none prints nothing; jsonc and yamlc colour it and say the same', () => {
    const value = { name: 'svc <b>', replicas: 2, auth: { key: true }, tags: ['a', 'b'], gone: undefined };
    assert.equal(formatOutput(value, 'yaml'), 'name: svc <b>\nreplicas: 2\nauth:\n  key: true\ntags:\n  - a\n  - b\n');
    assert.equal(formatOutput(value, 'none'), '');
    const plain = (text: string) => text.replace(/\u001b\[\d+m/g, '');
    assert.equal(plain(formatOutput(value, 'jsonc')), formatOutput(value, 'json'));
    assert.equal(plain(formatOutput(value, 'yamlc')), formatOutput(value, 'yaml'));
    assert.match(formatOutput(value, 'jsonc'), /\u001b\[36m"name"\u001b\[0m/);
  });
});
