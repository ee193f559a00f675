/**
 * Turning what people type into what the API takes: the account's subscription, an
 * `--assignee` (a user name or UPN, an object id, a service principal's appId or name, a
 * group name) into an object id, and a `--role` name into a role definition id.
 */
import { AccountProfile, SUBSCRIPTION_ENV, TesseraApiError, type RoleDefinition, type SubscriptionSource } from '@tessera/sdk';
import { info } from './log.js';
import type { SignedIn } from './signedIn.js';

/** A principal that roles can be assigned to. */
export interface Principal {
  id: string;
  /** Undefined for an object id the caller may not look up in the directory. */
  type: 'User' | 'Group' | 'ServicePrincipal' | undefined;
  displayName: string;
}

/**
 * The subscription to work in: `given` (an id or a name), else TESSERA_SUBSCRIPTION, else
 * the one `tessera account set` chose, else the first enabled one the account can see.
 */
export async function subscriptionOf(s: SignedIn, given: string | undefined): Promise<string> {
  const { subscriptionId, source } = await new AccountProfile({ auth: s.auth }).resolve(given);
  info(`Subscription ${subscriptionId} (${SOURCE_WORDS[source]})`);
  return subscriptionId;
}

const SOURCE_WORDS: Record<SubscriptionSource, string> = {
  argument: 'from --subscription',
  environment: `from ${SUBSCRIPTION_ENV}`,
  session: 'chosen with tessera account set',
  default: "the account's first enabled subscription",
};

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `lookup()`, or undefined when the server says there is no such object. */
async function found<T>(lookup: () => Promise<T>): Promise<T | undefined> {
  try {
    return await lookup();
  } catch (err) {
    if (err instanceof TesseraApiError && err.status === 404) return undefined;
    throw err;
  }
}

/**
 * Finds the principal `assignee` names, in the server's order: an object id (user, group,
 * service principal) or a service principal's application id; otherwise a user name or
 * UPN, then a service principal's name, then a group's name. A caller who may not read the
 * directory can still give an object id: it is passed on for the server to check, with no type.
 */
export async function resolveAssignee(s: SignedIn, assignee: string, option = '--assignee'): Promise<Principal> {
  const lookups: (() => Promise<Principal | undefined>)[] = [
    async () => {
      const u = await found(() => s.directory.getUser(assignee));
      return u && { id: u.id, type: 'User', displayName: u.displayName };
    },
    async () => {
      const g = await found(() => s.directory.getGroup(assignee));
      return g && { id: g.id, type: 'Group', displayName: g.displayName };
    },
    async () => {
      const p = await found(() => s.servicePrincipals.get(assignee));
      return p && { id: p.id, type: 'ServicePrincipal', displayName: p.displayName };
    },
  ];
  const isGuid = GUID.test(assignee);
  const [user, group, sp] = lookups;
  let forbidden: TesseraApiError | undefined;
  for (const lookup of isGuid ? [user!, group!, sp!] : [user!, sp!, group!]) {
    try {
      const principal = await lookup();
      if (principal) return principal;
    } catch (err) {
      if (!(err instanceof TesseraApiError && err.status === 403)) throw err;
      forbidden = err;
    }
  }
  if (forbidden && isGuid) return { id: assignee.toLowerCase(), type: undefined, displayName: '' };
  if (forbidden) throw new Error(`cannot look up ${option} '${assignee}' in the directory (${forbidden.code}): give its object id instead.`);
  throw new Error(`no user, group or service principal matches ${option} '${assignee}' (give a user name or UPN, an object id, a service principal's appId or name, or a group name).`);
}

/** The role `role` names (a GUID, a roleDefinitions resource ID, or a role name), looked up at `scope`. */
export async function resolveRole(s: SignedIn, role: string, scope: string): Promise<RoleDefinition> {
  const id = /(?:^|\/providers\/Microsoft\.Authorization\/roleDefinitions\/)([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i.exec(role)?.[1];
  const definition = id !== undefined ? await found(() => s.rbac.getRoleDefinition(scope, id)) : (await s.rbac.listRoleDefinitions(scope, { roleName: role }))[0];
  if (definition) return definition;
  throw new Error(`no role ${id !== undefined ? 'with the id' : 'named'} '${role}' can be assigned at scope '${scope}'.`);
}
