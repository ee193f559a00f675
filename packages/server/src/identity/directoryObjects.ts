/**
 * Graph's `POST /v1.0/directoryObjects/getByIds`: users, groups and service principals by
 * object id, each marked with its `@odata.type`. The Azure CLI calls it to name the
 * principals of role assignments and to tell what kind of principal an object id is.
 */
import { TesseraError } from '../errors.js';
import type { Users } from './users.js';
import type { ServicePrincipals } from './servicePrincipals.js';
import type { Groups } from './groups.js';
import { isGuid } from './validate.js';
import { absentWhenNotFound } from './graphFilter.js';

export type DirectoryObjectType = 'user' | 'group' | 'servicePrincipal';

const TYPES: readonly DirectoryObjectType[] = ['user', 'group', 'servicePrincipal'];
/** Graph accepts this type too; Tessera has no such objects. */
const PARTNER_REFERENCE = 'directoryObjectPartnerReference';

/** The types a request names (all three when it names none); an unknown one is a 400. */
export function objectTypesOf(types: readonly string[] | undefined): DirectoryObjectType[] {
  if (types === undefined || types.length === 0) return [...TYPES];
  const out = new Set<DirectoryObjectType>();
  for (const t of types) {
    const known = TYPES.find((k) => k.toLowerCase() === t.toLowerCase());
    if (known) out.add(known);
    else if (t.toLowerCase() !== PARTNER_REFERENCE.toLowerCase()) throw new TesseraError('InvalidParameter', `'types' takes ${[...TYPES, PARTNER_REFERENCE].join(', ')}.`);
  }
  return [...out];
}

/** The objects among `ids` of the given types, in the order of `ids`; unknown ids are left out, as Graph does. */
export async function objectsByIds(
  directory: { users: Users; servicePrincipals: ServicePrincipals; groups: Groups },
  tenantId: string,
  ids: readonly string[],
  types: readonly DirectoryObjectType[],
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const id of ids) {
    if (!isGuid(id)) throw new TesseraError('InvalidParameter', "Every entry of 'ids' must be an object id (a GUID).");
    if (types.includes('user')) {
      const user = await directory.users.find(tenantId, id);
      if (user) {
        out.push({ '@odata.type': '#microsoft.graph.user', ...directory.users.view(user) });
        continue;
      }
    }
    if (types.includes('servicePrincipal')) {
      const sp = await directory.servicePrincipals.get(tenantId, id).catch(absentWhenNotFound);
      // The application id is the principal's first name, as in Graph (az shows it).
      if (sp && sp.id === id.toLowerCase()) {
        out.push({ '@odata.type': '#microsoft.graph.servicePrincipal', ...(await directory.servicePrincipals.view(sp)), servicePrincipalNames: [sp.app_id] });
        continue;
      }
    }
    if (types.includes('group')) {
      const group = await directory.groups.get(tenantId, id).catch(absentWhenNotFound);
      if (group) out.push({ '@odata.type': '#microsoft.graph.group', ...directory.groups.view(group) });
    }
  }
  return out;
}
