/** `tessera login` and `tessera logout`. */
import type { Command } from 'commander';
import { loginWithPassword, logout } from '@tessera/sdk';
import { parseServerUrl } from '../parsers.js';
import { printing } from './action.js';

interface LoginOptions {
  server: string;
  username: string;
  password: string;
  tenant?: string;
}

/** Adds `login` and `logout` to `program`. */
export function registerLogin(program: Command): void {
  program
    .command('login')
    .description('sign in with a username and password and keep the session in ~/.tessera (TESSERA_CONFIG_DIR)')
    .requiredOption('--server <url>', 'the server, e.g. https://127.0.0.1:5080', parseServerUrl)
    .requiredOption('-u, --username <name>', 'user name')
    .requiredOption('-p, --password <password>', 'password')
    .option('--tenant <tenant>', 'tenant id or domain (default: the server\'s default tenant)')
    .action(printing((o: LoginOptions) => loginWithPassword({ server: o.server, username: o.username, password: o.password, tenant: o.tenant })));

  program
    .command('logout')
    .description('revoke the session at the server and delete it here')
    .action(async () => {
      const result = await logout();
      if (!result.signedOut) process.stderr.write('Not signed in: nothing to do.\n');
      if (result.revokeError) {
        throw new Error(`signed out here, but the server did not revoke the session (it lapses after 14 days unused): ${result.revokeError.message}`);
      }
    });
}
