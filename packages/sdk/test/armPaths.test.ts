/** Resource IDs and the management-API paths made from them. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { armQuery, odataString, resourceGroupId, scopePath, workspaceId } from '../src/armPaths.js';

describe('armPaths', () => {
  test('resource IDs in Azure\'s grammar; a name with a slash is refused', () => {
    assert.equal(workspaceId('s1', 'rg (dev)', 'ws1'), '/subscriptions/s1/resourceGroups/rg (dev)/providers/Microsoft.MachineLearningServices/workspaces/ws1');
    assert.throws(() => resourceGroupId('s1', 'a/b'), /resource group name must be a non-empty name without slashes/);
    assert.throws(() => workspaceId('s1', 'rg', ''), TypeError);
  });

  test('scopePath encodes each segment, drops a trailing slash, and is empty for /', () => {
    assert.equal(scopePath('/'), '');
    assert.equal(scopePath('/subscriptions/s1/resourceGroups/rg (dév)/'), '/subscriptions/s1/resourceGroups/rg%20(d%C3%A9v)');
    for (const bad of ['subscriptions/s1', '/a//b', '/a?x=1', '/a#b', '/a\nb']) assert.throws(() => scopePath(bad), TypeError, bad);
  });

  test('api-version and $filter, with OData quotes doubled', () => {
    assert.equal(armQuery('2022-04-01'), '?api-version=2022-04-01');
    assert.equal(armQuery('2022-04-01', `roleName eq ${odataString("O'Brien's role")}`), "?api-version=2022-04-01&$filter=roleName%20eq%20'O''Brien''s%20role'");
  });
});
