/** `tessera ad user mfa show|reset --id`: a user's multi-factor authentication, for administrators. */
import type { Command } from 'commander';
import { MultiFactorAuthentication } from '@tessera/sdk';
import { signedIn } from '../signedIn.js';
import { printing } from './action.js';

/** Adds `mfa` to the `ad user` command. */
export function registerAdUserMfa(ad: Command): void {
  const user = ad.commands.find((c) => c.name() === 'user');
  if (!user) throw new Error('register `ad user` before `ad user mfa`');
  const mfa = user.command('mfa').description("a user's multi-factor authentication (users set it up at <server>/<tenant>/mfa/setup)");

  const client = async () => new MultiFactorAuthentication((await signedIn()).client);

  mfa
    .command('show')
    .description('whether the user has an authenticator app set up, since when, last used, and recovery codes left (never a secret)')
    .requiredOption('--id <id>', 'object id or user name')
    .action(printing(async (o: { id: string }) => (await client()).show(o.id)));

  mfa
    .command('reset')
    .description("remove the user's authenticator and recovery codes and end their sessions; they set MFA up again at the next sign-in that needs it")
    .requiredOption('--id <id>', 'object id or user name')
    .action(printing(async (o: { id: string }) => (await client()).reset(o.id)));
}
