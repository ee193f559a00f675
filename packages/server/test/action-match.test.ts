/**
 * Azure's action grammar, matched in time proportional to the pattern and action lengths
 * whatever the pattern: a role written to make matching slow cannot stall the server.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { actionMatches } from '../src/access/match.js';

describe('action patterns', () => {
  const cases: [string, string, boolean][] = [
    ['*', 'Microsoft.MachineLearningServices/workspaces/read', true],
    ['*/read', 'Microsoft.MachineLearningServices/workspaces/read', true],
    ['*/read', 'Microsoft.MachineLearningServices/workspaces/write', false],
    ['Microsoft.MachineLearningServices/workspaces/*/read', 'Microsoft.MachineLearningServices/workspaces/computes/read', true],
    ['Microsoft.MachineLearningServices/workspaces/*/read', 'Microsoft.MachineLearningServices/workspaces/read', true],
    ['Microsoft.MachineLearningServices/workspaces/computes/*/write', 'Microsoft.MachineLearningServices/workspaces/computes/write', true],
    ['Microsoft.MachineLearningServices/workspaces/computes/*/write', 'Microsoft.MachineLearningServices/workspaces/computes/start/action', false],
    ['microsoft.authorization/*/WRITE', 'Microsoft.Authorization/roleAssignments/write', true],
    ['Microsoft.Authorization/*/Delete', 'Microsoft.Authorization/roleAssignments/delete', true],
    ['Microsoft.Authorization/*', 'Microsoft.Authorization', false],
    ['Tessera.Directory/*/write', 'Tessera.Directory/groups/members/write', true],
    ['Micro*.Machine*/work*/read', 'Microsoft.MachineLearningServices/workspaces/read', true],
    ['Microsoft.MachineLearningServices/workspaces/read', 'Microsoft.MachineLearningServices/workspaces/readx', false],
  ];
  for (const [pattern, action, expected] of cases) {
    it(`'${pattern}' ${expected ? 'matches' : 'does not match'} '${action}'`, () => {
      assert.equal(actionMatches(pattern, action), expected);
    });
  }

  it('a pattern built to make a backtracking matcher take seconds is answered at once', () => {
    const hostile = `${'*'.repeat(60)}/${'a*'.repeat(60)}Z`;
    const action = `Microsoft.Resources/subscriptions/resourceGroups/${'a'.repeat(200)}`;
    for (let i = 0; i < 100; i++) assert.equal(actionMatches(hostile, action), false);
    assert.equal(actionMatches('*********/Z', 'Microsoft.Resources/subscriptions/resourceGroups/read'), false);
  });
});
