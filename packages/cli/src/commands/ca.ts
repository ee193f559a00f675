/**
 * `tessera ca …`: conditional access. `policy create|list|show|update|delete` (the policy
 * is Microsoft Graph's conditionalAccessPolicy JSON, inline or `@file`), `location
 * create|list|show|delete` (ip named locations), and `what-if`, which asks the server's own
 * evaluation which policies apply to a sign-in, which do not and why, and the result.
 */
import type { Command } from 'commander';
import { ConditionalAccess, TesseraApiError, type ClientAppKind, type WhatIfInput, type WhatIfResult } from '@tessera/sdk';
import { readJsonArgument } from '../fileArguments.js';
import { signedIn } from '../signedIn.js';
import { UsageError } from '../usageError.js';
import { printing } from './action.js';
import { warn } from '../log.js';

const CLIENT_APPS: readonly ClientAppKind[] = ['browser', 'deviceCode', 'password', 'clientCredentials', 'refresh', 'mlServerLogin'];

async function conditionalAccess(): Promise<ConditionalAccess> {
  return new ConditionalAccess((await signedIn()).client);
}

/** The policy JSON of `--policy`; it must be an object. */
function policyArgument(value: string): Record<string, unknown> {
  const policy = readJsonArgument(value, '--policy');
  if (typeof policy !== 'object' || policy === null || Array.isArray(policy)) throw new UsageError('--policy: give a conditionalAccessPolicy JSON object (inline or @file).');
  return policy as Record<string, unknown>;
}

/** A policy that would lock the caller out: a warning, and what to do about it. */
async function guarded<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (err instanceof TesseraApiError && err.code === 'ConditionalAccessLockout') {
      warn(err.message.replace(/ Exclude yourself, or send it again.*$/, ''));
      throw new UsageError('Not saved: exclude yourself from the policy, or run the command again with --force.');
    }
    throw err;
  }
}

/** What-if's answer arranged for reading: the result, then the policies that apply and those that do not, each with its reasons. */
export function whatIfReport(answer: WhatIfResult): Record<string, unknown> {
  return {
    result: answer.result,
    decidedBy: answer.decidedBy ?? null,
    applies: answer.policies.filter((p) => p.applies).map((p) => ({ displayName: p.displayName, id: p.id, state: p.state, result: p.result, reasons: p.reasons })),
    doesNotApply: answer.policies.filter((p) => !p.applies).map((p) => ({ displayName: p.displayName, id: p.id, state: p.state, reasons: p.reasons })),
    request: answer.request,
  };
}

interface WhatIfOptions {
  user?: string;
  sp?: string;
  app?: string;
  resource?: string;
  ip: string;
  clientApp: string;
  amr?: string;
}

/** Adds `ca` to the program. */
export function registerCa(program: Command): void {
  const ca = program.command('ca').description('conditional access: policies, named locations, what-if');
  const policy = ca.command('policy').description('conditional-access policies (Microsoft Graph conditionalAccessPolicy JSON)');

  policy
    .command('create')
    .description('create a policy; one that would block you needs --force')
    .requiredOption('--policy <json|@file>', 'the policy, as Graph writes it')
    .option('--force', 'save it even though it would block you')
    .action(printing(async (o: { policy: string; force?: boolean }) => guarded(async () => (await conditionalAccess()).createPolicy(policyArgument(o.policy), { force: o.force === true })), 'conditionalAccessPolicy'));

  policy
    .command('list')
    .description('list policies')
    .action(printing(async () => (await conditionalAccess()).listPolicies(), 'conditionalAccessPolicy'));

  policy
    .command('show')
    .description('show a policy')
    .requiredOption('--id <id>', 'policy id')
    .action(printing(async (o: { id: string }) => (await conditionalAccess()).getPolicy(o.id), 'conditionalAccessPolicy'));

  policy
    .command('update')
    .description("update a policy: the policy's top-level fields given replace the stored ones")
    .requiredOption('--id <id>', 'policy id')
    .requiredOption('--policy <json|@file>', 'the fields to change (or a whole policy)')
    .option('--force', 'save it even though it would block you')
    .action(printing(async (o: { id: string; policy: string; force?: boolean }) => guarded(async () => (await conditionalAccess()).updatePolicy(o.id, policyArgument(o.policy), { force: o.force === true })), 'conditionalAccessPolicy'));

  policy
    .command('delete')
    .description('delete a policy')
    .requiredOption('--id <id>', 'policy id')
    .action(printing(async (o: { id: string }) => (await conditionalAccess()).deletePolicy(o.id)));

  const location = ca.command('location').description('ip named locations');

  location
    .command('create')
    .description('create an ip named location')
    .requiredOption('--name <name>', 'display name')
    .requiredOption('--cidr <ranges...>', 'IPv4 or IPv6 CIDR ranges, e.g. 10.0.0.0/8 2001:db8::/32')
    .option('--trusted', 'mark it trusted (policies may name AllTrusted)')
    .action(printing(async (o: { name: string; cidr: string[]; trusted?: boolean }) => (await conditionalAccess()).createNamedLocation({ displayName: o.name, cidrs: o.cidr, isTrusted: o.trusted === true }), 'namedLocation'));

  location
    .command('list')
    .description('list named locations')
    .action(printing(async () => (await conditionalAccess()).listNamedLocations(), 'namedLocation'));

  location
    .command('show')
    .description('show a named location')
    .requiredOption('--id <id>', 'named location id')
    .action(printing(async (o: { id: string }) => (await conditionalAccess()).getNamedLocation(o.id), 'namedLocation'));

  location
    .command('delete')
    .description('delete a named location (refused while a policy names it)')
    .requiredOption('--id <id>', 'named location id')
    .action(printing(async (o: { id: string }) => (await conditionalAccess()).deleteNamedLocation(o.id)));

  ca.command('what-if')
    .description('which policies would apply to a sign-in, which would not and why, and the result (allow, block, mfa)')
    .option('--user <user>', 'user object id or name')
    .option('--sp <appId>', 'service principal appId (or object id or name)')
    .option('--app <appId>', "the client application's appId (default: the Tessera CLI, or the service principal)")
    .option('--resource <uri>', 'the resource asked for (default api://tessera/management)')
    .requiredOption('--ip <address>', 'the address the sign-in comes from')
    .requiredOption('--client-app <kind>', CLIENT_APPS.join('|'))
    .option('--amr <methods>', 'methods already done, comma-separated (pwd,mfa,otp,rc; default pwd)')
    .action(
      printing(async (o: WhatIfOptions) => {
        if ((o.user === undefined) === (o.sp === undefined)) throw new UsageError('Give exactly one of --user and --sp.');
        if (!CLIENT_APPS.includes(o.clientApp as ClientAppKind)) throw new UsageError(`--client-app must be one of ${CLIENT_APPS.join(', ')}.`);
        const input: WhatIfInput = { ipAddress: o.ip, clientApp: o.clientApp as ClientAppKind };
        if (o.user !== undefined) input.user = o.user;
        if (o.sp !== undefined) input.servicePrincipal = o.sp;
        if (o.app !== undefined) input.clientAppId = o.app;
        if (o.resource !== undefined) input.resource = o.resource;
        if (o.amr !== undefined) input.amr = o.amr.split(',').map((m) => m.trim()) as WhatIfInput['amr'];
        return whatIfReport(await (await conditionalAccess()).whatIf(input));
      }),
    );
}
