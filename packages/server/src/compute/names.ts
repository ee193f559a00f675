/** Naming rules of compute resources, identities and runs (Azure's), checked before any query. */
import { TesseraError } from '../errors.js';
import { shown } from '../workspace/names.js';

const IDENTITY_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$/;
const COMPUTE_NAME = /^[A-Za-z][A-Za-z0-9-]{1,31}$/;
const RUN_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,254}$/;
const EXPERIMENT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;
const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export const IDENTITY_TYPE = 'Microsoft.ManagedIdentity/userAssignedIdentities';
export const COMPUTE_TYPE = 'Microsoft.MachineLearningServices/workspaces/computes';
export const NODE_TYPE = 'Microsoft.MachineLearningServices/workspaces/computes/nodes';
export const JOB_TYPE = 'Microsoft.MachineLearningServices/workspaces/jobs';

function check(value: string, pattern: RegExp, what: string, rule: string): string {
  if (!pattern.test(value)) throw new TesseraError('InvalidParameter', `The ${what} ${shown(value)} is invalid: ${rule}.`);
  return value;
}

export const checkIdentityName = (name: string) => check(name, IDENTITY_NAME, 'identity name', 'use 3 to 128 letters, digits, hyphens or underscores, starting with a letter or digit');
export const checkComputeName = (name: string) => check(name, COMPUTE_NAME, 'compute name', 'use 2 to 32 letters, digits or hyphens, starting with a letter');
export const checkRunName = (name: string) => check(name, RUN_NAME, 'job name', 'use 1 to 255 letters, digits, underscores or hyphens');
export const checkExperimentName = (name: string) => check(name, EXPERIMENT_NAME, 'experiment name', 'use 1 to 255 letters, digits, underscores, hyphens or periods');
export const checkNodeName = (name: string) => check(name, NODE_NAME, 'node name', 'use 1 to 64 letters, digits, underscores, hyphens or periods');
