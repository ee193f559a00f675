// A run's script: gets tokens through @azure/identity's ManagedIdentityCredential, unmodified,
// in the shape chosen by argv[2] (app-service: IDENTITY_*, ml: MSI_* only), and calls Tessera.
import { writeFileSync } from 'node:fs';
const shape = process.argv[2];
if (shape === 'ml') {
  delete process.env.IDENTITY_ENDPOINT;
  delete process.env.IDENTITY_HEADER;
}
const { ManagedIdentityCredential } = await import('@azure/identity');
const credential = new ManagedIdentityCredential();
const token = await credential.getToken('https://management.azure.com/.default');
const base = process.env.AZUREML_SERVICE_ENDPOINT;
const ws = `/subscriptions/${process.env.AZUREML_ARM_SUBSCRIPTION}/resourceGroups/${process.env.AZUREML_ARM_RESOURCEGROUP}/providers/Microsoft.MachineLearningServices/workspaces/${process.env.AZUREML_ARM_WORKSPACE_NAME}`;
const res = await fetch(`${base}${ws}?api-version=2024-04-01`, { headers: { authorization: `Bearer ${token.token}` } });
const claims = JSON.parse(Buffer.from(token.token.split('.')[1], 'base64url').toString());
console.log(`shape=${shape} status=${res.status} appid=${claims.appid} idtyp=${claims.idtyp}`);
writeFileSync('outputs/result.json', JSON.stringify({ shape, status: res.status, appid: claims.appid, oid: claims.oid }));
// The SDK is shown to every run as @tessera/sdk: its Run logs with the run token.
const { Run } = await import('@tessera/sdk');
const run = Run.getContext();
run.log('workspace_status', res.status);
await run.flush();
