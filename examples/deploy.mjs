#!/usr/bin/env node
// The walkthrough with the SDK only (@tessera/sdk), the same steps as deploy.sh: sign in,
// register the iris model, deploy it as a web service with key authentication, call it
// with the primary key, regenerate the key (the old one is refused, the new one
// accepted), clean up.
//
//   TESSERA_SERVER=http://127.0.0.1:5080 TESSERA_USER=admin TESSERA_PASSWORD=… node examples/deploy.mjs examples/score.mjs
//
// The argument is an entry script (score.mjs or score.py); without one the ONNX model is
// served as it is. Optional settings as deploy.sh: RESOURCE_GROUP (default
// tessera-examples-sdk; it must not exist yet, as it is deleted at the end), WORKSPACE
// (examples), SERVICE (iris-onnx-sdk, iris-py-sdk or iris-js-sdk). From another project,
// install the SDK first (docs/installation.md).
//
// The password and the keys stay in variables: nothing secret is printed.

import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  Audience,
  ClusterWebservice,
  InferenceConfig,
  MLServerAuthentication,
  Model,
  ResourceManagement,
  TesseraApiError,
  TesseraClient,
  Workspace,
} from '@tessera/sdk';
import { irisModel } from './model/make-model.mjs';

/** A step went wrong: said in one line, after the clean-up has run. */
class StepFailed extends Error {}
/** The script was started wrongly (a setting missing): exit status 2, as a usage error. */
class UsageError extends StepFailed {}
function fail(message) {
  throw new StepFailed(message);
}

async function main() {
  for (const name of ['TESSERA_SERVER', 'TESSERA_USER', 'TESSERA_PASSWORD']) {
    if (!process.env[name]) throw new UsageError(`set ${name}: TESSERA_SERVER is the server's URL (e.g. http://127.0.0.1:5080), TESSERA_USER and TESSERA_PASSWORD the account to sign in with`);
  }
  const { TESSERA_SERVER: server, TESSERA_USER: user, TESSERA_PASSWORD: password } = process.env;
  const entryScript = process.argv[2];
  const runtime = entryScript === undefined ? 'onnx' : entryScript.endsWith('.py') ? 'py' : 'js';
  const group = process.env.RESOURCE_GROUP || 'tessera-examples-sdk';
  const workspaceName = process.env.WORKSPACE || 'examples';
  const serviceName = process.env.SERVICE || `iris-${runtime}-sdk`;
  // The ONNX runtime takes the model's own input names; the entry scripts take {"data": rows}.
  const rows = [[5.1, 3.5, 1.4, 0.2], [6.4, 3.2, 4.5, 1.5], [6.3, 3.3, 6.0, 2.5]];
  const body = runtime === 'onnx' ? { inputs: { features: rows } } : { data: rows };

  console.log(`1. sign in to ${server} as ${user}`);
  // A username and password, kept in memory (no session file is written).
  const auth = new MLServerAuthentication(server, user, password);
  try {
    await auth.getToken(Audience.ControlPlane);
  } catch (err) {
    fail(`sign-in failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  const arm = new ResourceManagement(new TesseraClient(server, auth));
  const [subscription] = await arm.listSubscriptions();
  if (!subscription) fail(`${user} may read no subscription`);
  const subscriptionId = subscription.subscriptionId;

  console.log(`2. a resource group and a workspace: ${group}/${workspaceName}`);
  const groupExists = await arm.getResourceGroup(subscriptionId, group).then(
    () => true,
    (err) => (err instanceof TesseraApiError && err.status === 404 ? false : Promise.reject(err)),
  );
  if (groupExists) fail(`the resource group '${group}' exists; set RESOURCE_GROUP to a new name (this script deletes it at the end)`);
  await arm.createOrUpdateResourceGroup(subscriptionId, group, { location: 'local' });
  const work = mkdtempSync(path.join(os.tmpdir(), 'tessera-example-'));
  try {
    await arm.createOrUpdateWorkspace(subscriptionId, group, workspaceName);
    const workspace = await Workspace.get({ name: workspaceName, subscriptionId, resourceGroup: group, auth, serverUrl: server });

    console.log('3. make the model and register it');
    const modelPath = path.join(work, 'iris.onnx');
    await writeFile(modelPath, irisModel());
    const model = await Model.register({ workspace, modelPath, modelName: 'iris' });
    console.log(`   iris version ${model.version}`);

    console.log(`4. deploy it as the web service '${serviceName}', with key authentication`);
    const service = await Model.deploy({
      workspace,
      name: serviceName,
      models: [model],
      inferenceConfig: entryScript === undefined ? undefined : new InferenceConfig({ entryScript }),
      deploymentConfig: ClusterWebservice.deployConfiguration({ authEnabled: true }), // key auth, said explicitly
    });
    try {
      await service.waitForDeployment({ showOutput: (line) => console.log(`   ${line}`) });
      console.log(`   scoring URI: ${service.scoringUri}`);

      /** POSTs the body to the scoring URI with `key`, as any HTTP client would. */
      const score = (key) =>
        fetch(service.scoringUri, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

      console.log('5. call it with the primary key');
      const oldKey = (await service.getKeys()).primaryKey;
      const answer = await score(oldKey);
      if (answer.status !== 200) fail(`scoring answered ${answer.status}: ${await answer.text()}`);
      console.log(`   answer: ${JSON.stringify(await answer.json())}`);

      console.log('6. regenerate the primary key');
      await service.regenKey('Primary');
      const newKey = (await service.getKeys()).primaryKey;
      const refused = await score(oldKey);
      if (refused.status !== 401) fail(`the old key should be refused, but scoring answered ${refused.status}`);
      console.log(`   the old primary key is refused: ${refused.status}`);
      const accepted = await score(newKey);
      if (accepted.status !== 200) fail(`the new key should be accepted, but scoring answered ${accepted.status}`);
      console.log(`   the new primary key is accepted: ${accepted.status}`);
    } finally {
      console.log('7. clean up: the service, the model, the workspace and the resource group');
      await service.delete();
    }
    await Model.deleteAll(workspace, 'iris');
  } finally {
    await arm.deleteResourceGroup(subscriptionId, group);
    rmSync(work, { recursive: true, force: true });
    await auth.logout();
  }
}

main().catch((err) => {
  // An expected failure is one line; anything else (a refused request) also names its code.
  console.error(`deploy.mjs: ${err instanceof StepFailed ? err.message : err instanceof TesseraApiError ? `(${err.code}) ${err.message}` : err instanceof Error ? err.message : String(err)}`);
  process.exitCode = err instanceof UsageError ? 2 : 1;
});
