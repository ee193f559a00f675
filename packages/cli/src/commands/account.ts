/** `tessera account show` and `tessera account get-access-token`. */
import type { Command } from 'commander';
import { Audience, CliAuthentication } from '@tessera/sdk';
import { printing } from './action.js';

/** Adds `account` to `program`. */
export function registerAccount(program: Command): void {
  const account = program.command('account').description('the signed-in account');

  account
    .command('show')
    .description('show the server, tenant and user of the session')
    .action(printing(() => new CliAuthentication().account()));

  account
    .command('get-access-token')
    .description('print an access token, refreshing it silently when needed')
    .option('--resource <uri>', 'resource the token is for (aliases such as https://management.azure.com/ work)', Audience.ControlPlane)
    .action(
      printing(async (o: { resource: string }) => {
        const auth = new CliAuthentication();
        const { tenantId } = await auth.account();
        const token = await auth.getToken(o.resource);
        return {
          accessToken: token.token,
          expiresOn: new Date(token.expiresOn * 1000).toISOString(),
          expires_on: token.expiresOn,
          tenant: tenantId,
          tokenType: 'Bearer',
        };
      }),
    );
}
