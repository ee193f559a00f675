/** `tessera ad lockout list|clear`: failed sign-ins recorded per account name and address. */
import type { Command } from 'commander';
import { signedIn } from '../signedIn.js';
import { printing } from './action.js';

/** Adds `lockout` to the `ad` command. */
export function registerAdLockout(ad: Command): void {
  const lockout = ad.command('lockout').description('sign-in lockouts');

  lockout
    .command('list')
    .description('list account names and addresses with recent failed sign-ins')
    .action(printing(async () => (await signedIn()).admin.listSignInLockouts()));

  lockout
    .command('clear')
    .description('clear the failures and lockout under a key')
    .requiredOption('--key <key>', 'account:<name> or address:<ip>, as the list shows')
    .action(printing(async (o: { key: string }) => (await signedIn()).admin.clearSignInLockout(o.key)));
}
