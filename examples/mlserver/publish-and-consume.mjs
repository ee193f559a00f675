#!/usr/bin/env node
// Machine Learning Server's way: sign in with /login, publish Python code and a model file
// as a versioned web service, consume it, delete it. This is the "manualTransmission"
// service of ML Server's own quickstart: the chance that a car has a manual
// transmission, from its horsepower and weight, with the coefficients of a logistic
// regression on R's mtcars data (transmission.json, the model file).
//
//   TESSERA_SERVER=http://127.0.0.1:5080 TESSERA_USER=admin TESSERA_PASSWORD=… node examples/mlserver/publish-and-consume.mjs
//
// It consumes twice: with the SDK's DeployClient (azureml-model-management-sdk's
// DeployClient, in JavaScript), and with two plain HTTP requests, POST /login and
// POST /api/{name}/{version}, which is all an application in any language needs.
// Optional: SERVICE (default manualTransmission), VERSION (1.0).

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeployClient, TesseraApiError } from '@tessera/sdk';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Run once when the service starts: load the model file the service was published with. */
const INIT_CODE = `import json, math, os
with open(os.path.join(os.environ['AZUREML_MODEL_DIR'], 'transmission.json')) as f:
    coef = json.load(f)
`;

/** Run on every request: the inputs hp and wt are variables; the output answer is read back. */
const CODE = `answer = 1 / (1 + math.exp(-(coef['intercept'] + coef['hp'] * hp + coef['wt'] * wt)))
`;

class StepFailed extends Error {}
/** The script was started wrongly (a setting missing): exit status 2, as a usage error. */
class UsageError extends StepFailed {}

async function main() {
  for (const name of ['TESSERA_SERVER', 'TESSERA_USER', 'TESSERA_PASSWORD']) {
    if (!process.env[name]) throw new UsageError(`set ${name}: TESSERA_SERVER is the server's URL (e.g. http://127.0.0.1:5080), TESSERA_USER and TESSERA_PASSWORD the account to sign in with`);
  }
  const { TESSERA_SERVER: server, TESSERA_USER: user, TESSERA_PASSWORD: password } = process.env;
  const name = process.env.SERVICE || 'manualTransmission';
  const version = process.env.VERSION || '1.0';

  console.log(`1. sign in to ${server} as ${user} (POST /login)`);
  const client = new DeployClient(server, { use: 'MLServer', auth: [user, password] });
  try {
    await client.getToken();
  } catch (err) {
    throw new StepFailed(`sign-in failed: ${err instanceof Error ? err.message : String(err)}`);
  }

  console.log(`2. publish ${name} ${version}: Python code, inputs hp and wt, output answer, the model file transmission.json`);
  const service = await client
    .service(name)
    .version(version)
    .runtime('Python')
    .initStr(INIT_CODE)
    .codeStr(CODE)
    .inputs({ hp: 'numeric', wt: 'numeric' })
    .outputs({ answer: 'numeric' })
    .models(path.join(here, 'transmission.json'))
    .description('The chance that a car has a manual transmission, from its horsepower and weight (1000 lb)')
    .operationId('manualTransmission')
    .deploy();
  try {
    console.log(`   ${service.details.state} at ${service.details.url}`);

    console.log('3. consume it with the SDK: hp 120, wt 2.8');
    const result = await service.consume({ hp: 120, wt: 2.8 });
    if (!result.success) throw new StepFailed(`the code failed: ${result.errorMessage}`);
    console.log(`   answer: ${JSON.stringify(result.outputParameters)}`);

    console.log(`4. consume it with plain HTTP: POST /login, then POST /api/${name}/${version}`);
    const login = await fetch(`${server}/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user, password }) });
    if (login.status !== 200) throw new StepFailed(`/login answered ${login.status}`);
    const { access_token: accessToken, refresh_token: refreshToken } = await login.json();
    const consumed = await fetch(`${server}/api/${encodeURIComponent(name)}/${encodeURIComponent(version)}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ hp: 120, wt: 2.8 }),
    });
    if (consumed.status !== 200) throw new StepFailed(`consume answered ${consumed.status}: ${await consumed.text()}`);
    console.log(`   answer: ${JSON.stringify((await consumed.json()).outputParameters)}`);
    // Sign that session out again: its refresh token stops working.
    const signOut = await fetch(`${server}/login/refreshToken?refreshToken=${encodeURIComponent(refreshToken)}`, { method: 'DELETE', headers: { authorization: `Bearer ${accessToken}` } });
    if (!signOut.ok) throw new StepFailed(`signing out answered ${signOut.status}`);
  } finally {
    console.log(`5. delete ${name} ${version} (its model file goes with it)`);
    await client.deleteService(name, { version });
    await client.logout();
  }
}

main().catch((err) => {
  const detail = err instanceof StepFailed ? err.message : err instanceof TesseraApiError ? `(${err.code}) ${err.message}` : err instanceof Error ? err.message : String(err);
  console.error(`publish-and-consume.mjs: ${detail}`);
  process.exitCode = err instanceof UsageError ? 2 : 1;
});
