/** `tessera audit list`: the audit trail (management changes, refusals, sign-ins). */
import { Option, type Command } from 'commander';
import { signedIn } from '../signedIn.js';
import { printing } from './action.js';
import { UsageError } from '../usageError.js';

interface ListOptions {
  top?: string;
  category?: 'Management' | 'SignIn';
  since?: string;
  actorId?: string;
}

/** Adds `audit` to `program`. */
export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the audit trail: management changes, refusals and sign-ins');

  audit
    .command('list')
    .description('list audit records, newest first')
    .option('--top <n>', 'at most this many records (1 to 999; default 999)')
    .addOption(new Option('--category <category>', 'only this kind').choices(['Management', 'SignIn']))
    .option('--since <time>', 'only records at or after this ISO 8601 time')
    .option('--actor-id <objectId>', 'only records of this principal')
    .action(
      printing(async (o: ListOptions) => {
        const top = o.top === undefined ? undefined : Number(o.top);
        if (top !== undefined && !(Number.isInteger(top) && top >= 1 && top <= 999)) throw new UsageError('--top must be a whole number from 1 to 999.');
        return (await signedIn()).admin.listAuditRecords({ top, category: o.category, since: o.since, actorId: o.actorId });
      }),
    );
}
