/** `--query`: the JMESPath subset az scripts use — fields, dotted paths, indexes, [] projections. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidArgumentError } from 'commander';
import { applyQuery, parseQuery } from '../src/query.js';

const q = (text: string, value: unknown) => applyQuery(value, parseQuery(text));

const assignments = [
  { name: 'a1', properties: { scope: '/s/1', roleName: 'Reader' } },
  { name: 'a2', properties: { scope: '/s/2' } },
];

describe('--query', () => {
  test('a field, a dotted path, a quoted field', () => {
    assert.equal(q('accessToken', { accessToken: 'eyJ', tenant: 't' }), 'eyJ');
    assert.equal(q('properties.roleName', assignments[0]), 'Reader');
    assert.equal(q('tags."cost-center"', { tags: { 'cost-center': '42' } }), '42');
    assert.deepEqual(q('properties', assignments[1]), { scope: '/s/2' });
  });

  test('indexes (negative from the end) and [] projections, which drop nulls', () => {
    assert.equal(q('[0].name', assignments), 'a1');
    assert.equal(q('[-1].properties.scope', assignments), '/s/2');
    assert.deepEqual(q('[].name', assignments), ['a1', 'a2']);
    assert.deepEqual(q('[].properties.roleName', assignments), ['Reader']);
    assert.deepEqual(q('value[].id', { value: [{ id: 1 }, { id: 2 }] }), [1, 2]);
  });

  test('what is not there is null, as in JMESPath: a missing field, a field of a list, an index past the end', () => {
    assert.equal(q('missing', { a: 1 }), null);
    assert.equal(q('name', assignments), null);
    assert.equal(q('[5]', assignments), null);
    assert.equal(q('a.b.c', { a: null }), null);
    assert.equal(q('constructor', {}), null, 'inherited properties are not fields');
  });

  test('a malformed query is an InvalidArgumentError (a usage error)', () => {
    for (const bad of ['', '.name', 'a..b', 'a[x]', 'a b', '[0', 'a.', '@foo']) {
      assert.throws(() => parseQuery(bad), InvalidArgumentError, JSON.stringify(bad));
    }
  });
});
