/** `tessera keys list|rotate`: the tenant's token signing keys. */
import { Option, type Command } from 'commander';
import type { SigningAlg } from '@tessera/sdk';
import { signedIn } from '../signedIn.js';
import { printing } from './action.js';

/** Adds `keys` to `program`. */
export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('token signing keys');

  keys
    .command('list')
    .description('list signing keys, newest first')
    .action(printing(async () => (await signedIn()).admin.listSigningKeys()));

  keys
    .command('rotate')
    .description('make a new current signing key; the old one stays published while its tokens live')
    .addOption(new Option('--alg <alg>', 'signature algorithm (default: the server\'s)').choices(['ES256', 'RS256']))
    .action(printing(async (o: { alg?: SigningAlg }) => (await signedIn()).admin.rotateSigningKey(o.alg)));
}
