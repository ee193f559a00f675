/** `--query`: JMESPath as az has it, on the JSON a command prints — paths, projections, filters, multiselects, functions. */
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

  test('filters, multiselects, functions and pipes, as in JMESPath', () => {
    const services = [
      { name: 's1', properties: { state: 'Healthy', scoringUri: 'https://h/1' } },
      { name: 's2', properties: { state: 'Failed', scoringUri: 'https://h/2' } },
    ];
    assert.deepEqual(q("[?properties.state=='Healthy'].name", services), ['s1']);
    assert.deepEqual(q('[].{name:name, uri:properties.scoringUri}', services), [
      { name: 's1', uri: 'https://h/1' },
      { name: 's2', uri: 'https://h/2' },
    ]);
    assert.equal(q('length(@)', services), 2);
    assert.deepEqual(q('sort_by(@, &name)[-1].name', services), 's2');
    assert.equal(q("[?contains(name, 's')] | length(@)", services), 2);
  });

  test('it sees the JSON as printed: an object is read through its toJSON()', () => {
    const sdkObject = { secretField: 'x', toJSON: () => ({ name: 'shown', scoringUri: 'https://h/s' }) };
    assert.equal(q('scoringUri', sdkObject), 'https://h/s');
    assert.equal(q('secretField', sdkObject), null);
  });

  test('a function given the wrong type is a usage error when it runs', () => {
    assert.throws(() => q('length(a)', { a: 5 }), /--query cannot be applied/);
  });

  test('a malformed query is an InvalidArgumentError (a usage error)', () => {
    for (const bad of ['', '   ', '.name', 'a..b', 'a.', 'a[x]', 'a b', '[0', '@foo', '[?', '{a:}', 'length(', '`{', "[?name=='x'"]) {
      assert.throws(() => parseQuery(bad), InvalidArgumentError, JSON.stringify(bad));
    }
  });
});
