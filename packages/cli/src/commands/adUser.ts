/** `tessera ad user …`: create, list, show, update, disable, delete, set-password, unlock. */
import type { Command } from 'commander';
import type { UserChanges } from '@tessera/sdk';
import { parseBoolean, parseTop } from '../parsers.js';
import { signedIn } from '../signedIn.js';
import { UsageError } from '../usageError.js';
import { printing } from './action.js';

interface UpdateOptions {
  id: string;
  displayName?: string;
  email?: string;
  accountEnabled?: boolean;
}

/** Adds `user` to the `ad` command. */
export function registerAdUser(ad: Command): void {
  const user = ad.command('user').description('user accounts');

  user
    .command('create')
    .description('create a user')
    .requiredOption('--user-name <name>', 'sign-in name: letters, digits, . _ -')
    .requiredOption('--password <password>', 'initial password (at least 12 characters, not a common one)')
    .option('--display-name <name>', 'display name')
    .option('--email <address>', 'email address')
    .option('--disabled', 'create the account disabled')
    .action(
      printing(async (o: { userName: string; password: string; displayName?: string; email?: string; disabled?: boolean }) => {
        const { directory } = await signedIn();
        return directory.createUser({ userName: o.userName, password: o.password, displayName: o.displayName, mail: o.email, accountEnabled: o.disabled ? false : undefined });
      }, 'user'),
    );

  user
    .command('list')
    .description('list users')
    .option('--top <n>', 'at most this many (1 to 999)', parseTop)
    .action(printing(async (o: { top?: number }) => (await signedIn()).directory.listUsers(o.top), 'user'));

  user
    .command('show')
    .description('show a user')
    .requiredOption('--id <id>', 'object id or user name')
    .action(printing(async (o: { id: string }) => (await signedIn()).directory.getUser(o.id), 'user'));

  user
    .command('update')
    .description('change a user')
    .requiredOption('--id <id>', 'object id or user name')
    .option('--display-name <name>', 'new display name')
    .option('--email <address>', "new email address ('' clears it)")
    .option('--account-enabled <bool>', 'true or false', parseBoolean)
    .action(
      printing(async (o: UpdateOptions) => {
        const changes: UserChanges = {};
        if (o.displayName !== undefined) changes.displayName = o.displayName;
        if (o.email !== undefined) changes.mail = o.email === '' ? null : o.email;
        if (o.accountEnabled !== undefined) changes.accountEnabled = o.accountEnabled;
        if (Object.keys(changes).length === 0) throw new UsageError('nothing to update: give --display-name, --email or --account-enabled.');
        return (await signedIn()).directory.updateUser(o.id, changes);
      }, 'user'),
    );

  user
    .command('disable')
    .description('disable a user (ends their sessions)')
    .requiredOption('--id <id>', 'object id or user name')
    .action(printing(async (o: { id: string }) => (await signedIn()).directory.updateUser(o.id, { accountEnabled: false })));

  user
    .command('delete')
    .description('delete a user')
    .requiredOption('--id <id>', 'object id or user name')
    .action(printing(async (o: { id: string }) => (await signedIn()).directory.deleteUser(o.id)));

  user
    .command('set-password')
    .description("set a user's password (ends their sessions)")
    .requiredOption('--id <id>', 'object id or user name')
    .requiredOption('--password <password>', 'the new password')
    .action(printing(async (o: { id: string; password: string }) => (await signedIn()).directory.updateUser(o.id, { password: o.password })));

  user
    .command('unlock')
    .description("clear a user's failed sign-ins and lockout")
    .requiredOption('--id <id>', 'object id or user name')
    .action(printing(async (o: { id: string }) => (await signedIn()).directory.unlockUser(o.id)));
}
