/**
 * `tessera admin quota show|usage|set|delete`: limits on web services, workers, memory and
 * model storage per workspace and per principal, and the server-wide defaults.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { Quotas, workspaceId, type QuotaName, type QuotaOverride, type QuotaScope, type QuotaTarget } from '@tessera/sdk';
import { parseScope } from '../parsers.js';
import { resolveAssignee, subscriptionOf } from '../resolve.js';
import { signedIn, type SignedIn } from '../signedIn.js';
import { UsageError } from '../usageError.js';
import { printing } from './action.js';
import { subscriptionOption } from './group.js';

const GIB = 1024 ** 3;

/** A limit as typed: a number, `unlimited` (null), or `default` (inherit: the override drops it). */
type LimitValue = number | 'unlimited' | 'default';

function limitParser(scale: number, fractional: boolean): (value: string) => LimitValue {
  return (value) => {
    // Kept as words: commander turns a parser's null into ''.
    if (value === 'unlimited' || value === 'default') return value;
    const pattern = fractional ? /^\d{1,9}(\.\d{1,9})?$/ : /^\d{1,15}$/;
    if (!pattern.test(value)) throw new InvalidArgumentError(`It must be a ${fractional ? 'number' : 'whole number'} from 0, 'unlimited', or 'default' (inherit).`);
    return Math.round(Number(value) * scale);
  };
}

/** The options that name whom a quota is about. */
interface TargetOptions {
  workspaceId?: string;
  workspaceName?: string;
  resourceGroup?: string;
  subscription?: string;
  principal?: string;
}

interface SetOptions extends TargetOptions {
  default?: boolean;
  appliesTo?: QuotaScope | 'both';
  services?: LimitValue;
  workers?: LimitValue;
  memoryGb?: LimitValue;
  modelStorageGb?: LimitValue;
  modelStorageBytes?: LimitValue;
}

function targetOptions(command: Command, what: string): Command {
  return subscriptionOption(
    command
      .option('--workspace-id <resourceId>', `the workspace ${what}, by resource ID`, parseScope)
      .option('-w, --workspace-name <name>', `the workspace ${what}, by name (with -g)`)
      .option('-g, --resource-group <name>', "the workspace's resource group")
      .option('--principal <principal>', `the principal ${what}: user name or UPN, object id, or a service principal's appId or name`),
  );
}

/** Checks that the options name exactly one workspace or principal (a usage error, before any request). */
function checkTarget(o: TargetOptions): void {
  const byName = o.workspaceName !== undefined || o.resourceGroup !== undefined;
  const given = [o.workspaceId !== undefined, byName, o.principal !== undefined].filter(Boolean).length;
  if (given !== 1) throw new UsageError('give one of --workspace-id, -w/--workspace-name with -g/--resource-group, or --principal.');
  if (byName && (o.workspaceName === undefined || o.resourceGroup === undefined)) throw new UsageError('-w/--workspace-name and -g/--resource-group go together.');
}

/** True when any workspace or principal option is given. */
function anyTarget(o: TargetOptions): boolean {
  return [o.workspaceId, o.workspaceName, o.resourceGroup, o.principal].some((v) => v !== undefined);
}

/** The workspace or principal the options name (checked by {@link checkTarget}). */
async function targetOf(s: SignedIn, o: TargetOptions): Promise<QuotaTarget> {
  if (o.workspaceId !== undefined) return { workspace: o.workspaceId };
  if (o.principal !== undefined) return { principal: (await resolveAssignee(s, o.principal, '--principal')).id };
  return { workspace: workspaceId(await subscriptionOf(s, o.subscription), o.resourceGroup!, o.workspaceName!) };
}

/** The limits the options change: a number or null to set, undefined to drop (inherit). */
function changesOf(o: SetOptions): Partial<Record<QuotaName, number | null | undefined>> {
  if (o.modelStorageGb !== undefined && o.modelStorageBytes !== undefined) throw new UsageError('give --model-storage-gb or --model-storage-bytes, not both.');
  const given: [QuotaName, LimitValue | undefined][] = [
    ['services', o.services],
    ['workers', o.workers],
    ['memoryGb', o.memoryGb],
    ['modelStorageBytes', o.modelStorageGb ?? o.modelStorageBytes],
  ];
  const changes: Partial<Record<QuotaName, number | null | undefined>> = {};
  for (const [name, value] of given) if (value !== undefined) changes[name] = value === 'default' ? undefined : value === 'unlimited' ? null : value;
  if (Object.keys(changes).length === 0) throw new UsageError('give at least one of --services, --workers, --memory-gb, --model-storage-gb, --model-storage-bytes.');
  return changes;
}

/** `base` with `changes` applied: the named limits set or dropped, the others kept. */
function merged(base: QuotaOverride | undefined, changes: Partial<Record<QuotaName, number | null | undefined>>): QuotaOverride {
  const out: QuotaOverride = { ...base };
  for (const [name, value] of Object.entries(changes) as [QuotaName, number | null | undefined][]) {
    if (value === undefined) delete out[name];
    else out[name] = value;
  }
  return out;
}

async function set(o: SetOptions): Promise<unknown> {
  const changes = changesOf(o);
  if (o.default && anyTarget(o)) throw new UsageError('--default sets the server-wide default: give no workspace or principal with it.');
  if (!o.default && o.appliesTo !== undefined) throw new UsageError('--applies-to goes with --default only.');
  if (!o.default) checkTarget(o);
  const s = await signedIn();
  const quotas = new Quotas(s.client);
  const overview = await quotas.show();
  const stored = (scope: string, id: string) => overview.overrides.find((x) => x.scope === scope && x.id.toLowerCase() === id.toLowerCase())?.limits;
  if (o.default) {
    const kinds: QuotaScope[] = o.appliesTo === undefined || o.appliesTo === 'both' ? ['workspace', 'principal'] : [o.appliesTo];
    const next: Partial<Record<QuotaScope, QuotaOverride>> = {};
    for (const kind of ['workspace', 'principal'] as const) {
      const current = stored('default', kind);
      // PUT replaces both kinds: the one not named is sent back as it is.
      const value = kinds.includes(kind) ? merged(current, changes) : current;
      if (value !== undefined) next[kind] = value;
    }
    return (await quotas.setDefaults(next)).defaults;
  }
  const target = await targetOf(s, o);
  const id = 'workspace' in target ? target.workspace : target.principal;
  return quotas.set(target, merged(stored('workspace' in target ? 'workspace' : 'principal', id), changes));
}

/** Adds `admin quota` to `program`. */
export function registerAdminQuota(program: Command): void {
  const admin = program.command('admin').description('server administration: quotas');
  const quota = admin.command('quota').description('limits on web services, workers, memory and model storage, per workspace and per principal');

  quota
    .command('show')
    .description('the defaults (configured, and as stored over them) and every override')
    .action(printing(async () => new Quotas((await signedIn()).client).show()));

  targetOptions(quota.command('usage').description('usage against limits of a workspace or a principal'), 'to report on').action(
    printing(async (o: TargetOptions) => {
      checkTarget(o);
      const s = await signedIn();
      return new Quotas(s.client).usage(await targetOf(s, o));
    }),
  );

  targetOptions(
    quota
      .command('set')
      .description("set limits of a workspace, a principal, or (--default) everyone; limits not named keep their setting, 'default' drops one (inherit)")
      .option('--default', 'the server-wide default, over the configuration')
      .addOption(new Option('--applies-to <kind>', 'with --default: which scope kind (default: both)').choices(['workspace', 'principal', 'both']))
      .option('--services <n>', 'web services (both kinds, every ML Server version counts)', limitParser(1, false))
      .option('--workers <n>', 'workers: the sum of replicas', limitParser(1, false))
      .option('--memory-gb <n>', 'memory: the sum of replicas × memoryGb, in GB', limitParser(1, false))
      .option('--model-storage-gb <n>', 'model storage in GB (2^30 bytes; fractions allowed)', limitParser(GIB, true))
      .option('--model-storage-bytes <n>', 'model storage in bytes', limitParser(1, false)),
    'to limit',
  ).action(printing(set));

  targetOptions(
    quota
      .command('delete')
      .description("remove a workspace's or principal's override, or (--default) the stored defaults; the defaults apply again")
      .option('--default', 'the stored server-wide defaults (the configuration applies again)'),
    'whose override to remove',
  ).action(
    printing(async (o: TargetOptions & { default?: boolean }) => {
      if (o.default && anyTarget(o)) throw new UsageError('--default removes the server-wide default: give no workspace or principal with it.');
      if (!o.default) checkTarget(o);
      const s = await signedIn();
      const quotas = new Quotas(s.client);
      if (o.default) {
        await quotas.deleteDefaults();
        return undefined;
      }
      await quotas.delete(await targetOf(s, o));
      return undefined;
    }),
  );
}
