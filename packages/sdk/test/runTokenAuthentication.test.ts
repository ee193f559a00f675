/**
 * AzureMLTokenAuthentication: one registered instance per run scope, the run token for
 * every audience until it expires, and the run's environment read whole or refused by name.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AzureMLTokenAuthentication, RunTokenAuthentication } from '../src/runTokenAuthentication.js';
import { RunError } from '../src/errors.js';

const now = () => Math.floor(Date.now() / 1000);
const SERVER = 'https://127.0.0.1:5080';
const scope = ['sub-1', 'ml', 'ws1', 'mnist'] as const;

describe('AzureMLTokenAuthentication.create', () => {
  test('the same run scope gives back the same instance; a later token replaces the held one', async () => {
    const a = AzureMLTokenAuthentication.create('tok-1', now() + 3600, SERVER, ...scope, 'run_a');
    const b = AzureMLTokenAuthentication.create('tok-2', now() + 7200, SERVER, ...scope, 'run_a');
    assert.equal(a, b);
    assert.equal((await a.getToken()).token, 'tok-2');
  });

  test('a token that expires sooner than the held one is not taken', async () => {
    const a = AzureMLTokenAuthentication.create('tok-long', now() + 7200, SERVER, ...scope, 'run_b');
    AzureMLTokenAuthentication.create('tok-short', now() + 60, SERVER, ...scope, 'run_b');
    assert.equal((await a.getToken()).token, 'tok-long');
  });

  test('another run, experiment, workspace, resource group or subscription is another instance', () => {
    const base = AzureMLTokenAuthentication.create('t', now() + 3600, SERVER, 'sub-1', 'ml', 'ws1', 'mnist', 'run_c');
    const others = [
      AzureMLTokenAuthentication.create('t', now() + 3600, SERVER, 'sub-1', 'ml', 'ws1', 'mnist', 'run_d'),
      AzureMLTokenAuthentication.create('t', now() + 3600, SERVER, 'sub-1', 'ml', 'ws1', 'other', 'run_c'),
      AzureMLTokenAuthentication.create('t', now() + 3600, SERVER, 'sub-1', 'ml', 'ws2', 'mnist', 'run_c'),
      AzureMLTokenAuthentication.create('t', now() + 3600, SERVER, 'sub-1', 'rg2', 'ws1', 'mnist', 'run_c'),
      AzureMLTokenAuthentication.create('t', now() + 3600, SERVER, 'sub-2', 'ml', 'ws1', 'mnist', 'run_c'),
    ];
    for (const other of others) assert.notEqual(other, base);
    assert.equal(new Set(others).size, others.length);
  });

  test('RunTokenAuthentication is the same class', () => {
    assert.equal(RunTokenAuthentication, AzureMLTokenAuthentication);
  });

  test('the expiry may be a Date, epoch seconds or an ISO string; anything else is refused', () => {
    const at = new Date(Date.now() + 3_600_000);
    const a = AzureMLTokenAuthentication.create('t', at, SERVER, ...scope, 'run_e');
    assert.equal(a.expiryTimeUtc.getTime(), Math.floor(at.getTime() / 1000) * 1000);
    AzureMLTokenAuthentication.create('t', at.toISOString(), SERVER, ...scope, 'run_f');
    assert.throws(() => AzureMLTokenAuthentication.create('t', 'tomorrow', SERVER, ...scope, 'run_g'), /expiry must be a Date/);
    assert.throws(() => AzureMLTokenAuthentication.create('', now() + 60, SERVER, ...scope, 'run_h'), /needs the run token/);
  });
});

describe('AzureMLTokenAuthentication tokens', () => {
  test('the run token answers for every audience', async () => {
    const auth = AzureMLTokenAuthentication.create('one-token', now() + 3600, SERVER, ...scope, 'run_i');
    assert.equal((await auth.getToken('api://tessera/management')).token, 'one-token');
    assert.equal((await auth.getToken('api://tessera/workspace')).token, 'one-token');
    assert.equal((await auth.getToken('https://management.azure.com/')).token, 'one-token');
  });

  test('an expired run token is refused with RunTokenExpired, without quoting it', async () => {
    let clock = Date.now();
    const auth = new AzureMLTokenAuthentication('secret-run-token', Math.floor(clock / 1000) + 60, SERVER, { subscriptionId: 's', resourceGroupName: 'r', workspaceName: 'w', experimentName: 'e', runId: 'run_j' }, { clock: () => clock });
    assert.equal((await auth.getToken()).token, 'secret-run-token');
    clock += 61_000;
    await assert.rejects(auth.getToken(), (e) => e instanceof RunError && e.code === 'RunTokenExpired' && /run_j expired at/.test(e.message) && !e.message.includes('secret-run-token'));
  });
});

describe('AzureMLTokenAuthentication.fromEnvironment', () => {
  const env = {
    AZUREML_RUN_ID: 'mnist_1_abcd',
    AZUREML_RUN_TOKEN: 'env-token',
    AZUREML_RUN_TOKEN_EXPIRY: String(now() + 3600),
    AZUREML_SERVICE_ENDPOINT: 'https://127.0.0.1:5080/',
    AZUREML_ARM_SUBSCRIPTION: 'sub-env',
    AZUREML_ARM_RESOURCEGROUP: 'ml',
    AZUREML_ARM_WORKSPACE_NAME: 'ws1',
    AZUREML_ARM_PROJECT_NAME: 'mnist',
  };

  test("reads the run's scope and server, and registers the instance create() returns", async () => {
    const auth = AzureMLTokenAuthentication.fromEnvironment(env);
    assert.deepEqual(auth.scope, { subscriptionId: 'sub-env', resourceGroupName: 'ml', workspaceName: 'ws1', experimentName: 'mnist', runId: 'mnist_1_abcd' });
    assert.equal(auth.server, 'https://127.0.0.1:5080');
    assert.equal(AzureMLTokenAuthentication.fromEnvironment(env), auth);
    assert.equal(AzureMLTokenAuthentication.create('x', 0, SERVER, 'sub-env', 'ml', 'ws1', 'mnist', 'mnist_1_abcd'), auth);
    assert.equal((await auth.getToken()).token, 'env-token');
  });

  test('without an expiry variable the JWT exp is used', () => {
    const exp = now() + 600;
    const jwt = `e30.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.sig`;
    const auth = AzureMLTokenAuthentication.fromEnvironment({ ...env, AZUREML_RUN_ID: 'jwt_run', AZUREML_RUN_TOKEN: jwt, AZUREML_RUN_TOKEN_EXPIRY: '' });
    assert.equal(auth.expiryTimeUtc.getTime(), exp * 1000);
  });

  test('missing variables are named; a malformed expiry is refused', () => {
    assert.throws(
      () => AzureMLTokenAuthentication.fromEnvironment({ AZUREML_RUN_ID: 'x', AZUREML_RUN_TOKEN: 't' }),
      (e) => e instanceof RunError && e.code === 'NotInRun' && /AZUREML_SERVICE_ENDPOINT, AZUREML_ARM_SUBSCRIPTION, AZUREML_ARM_RESOURCEGROUP, AZUREML_ARM_WORKSPACE_NAME, AZUREML_ARM_PROJECT_NAME are not set/.test(e.message),
    );
    assert.throws(() => AzureMLTokenAuthentication.fromEnvironment({ ...env, AZUREML_RUN_ID: 'bad_exp', AZUREML_RUN_TOKEN_EXPIRY: 'soon' }), /must be epoch seconds/);
  });
});
