/**
 * Microsoft Graph's `conditionalAccessPolicy`, as Microsoft's documentation writes it,
 * and the rules a policy must follow here. {@link checkPolicy} turns a submitted body into
 * the normalized policy that is stored and shown (lower-cased ids, `All`/`None` spelled
 * as Graph spells them, every list present), or refuses it with a 400 naming the field.
 *
 * Supported: `conditions.users` (users, groups, roles), `conditions.applications`,
 * `conditions.clientApplications` (service principals: workload-identity policies),
 * `conditions.clientAppTypes`, `conditions.locations` (ip named locations), and
 * `grantControls.builtInControls` `block` or `mfa`. Conditions Tessera cannot observe
 * (risk, platforms, devices) are accepted only empty, as Graph shows them when unset.
 */
import { TesseraError } from '../errors.js';
import { hasControlChars, isGuid } from '../identity/validate.js';

export type PolicyState = 'enabled' | 'disabled' | 'enabledForReportingButNotEnforced';
export const POLICY_STATES: readonly PolicyState[] = ['enabled', 'disabled', 'enabledForReportingButNotEnforced'];

/** Graph's client app types; how Tessera's sign-in paths map onto them is in evaluate.ts. */
export const CLIENT_APP_TYPES = ['all', 'browser', 'mobileAppsAndDesktopClients', 'exchangeActiveSync', 'easSupported', 'other'] as const;
export type ClientAppType = (typeof CLIENT_APP_TYPES)[number];

export interface UsersCondition {
  includeUsers: string[];
  excludeUsers: string[];
  includeGroups: string[];
  excludeGroups: string[];
  /** Role definition ids (Tessera's RBAC roles; see docs/conditional-access.md). */
  includeRoles: string[];
  excludeRoles: string[];
}

export interface ApplicationsCondition {
  /** Application ids (the client's appId), resource URIs, `All` or `None`. */
  includeApplications: string[];
  excludeApplications: string[];
  includeUserActions: string[];
}

export interface ClientApplicationsCondition {
  /** Service principal object ids or appIds, or `ServicePrincipalsInMyTenant`. */
  includeServicePrincipals: string[];
  excludeServicePrincipals: string[];
}

export interface LocationsCondition {
  /** Named location ids, `All` or `AllTrusted`. */
  includeLocations: string[];
  excludeLocations: string[];
}

export interface PolicyConditions {
  users: UsersCondition | null;
  applications: ApplicationsCondition;
  clientApplications: ClientApplicationsCondition | null;
  clientAppTypes: ClientAppType[];
  locations: LocationsCondition | null;
  platforms: null;
  devices: null;
  signInRiskLevels: string[];
  userRiskLevels: string[];
  servicePrincipalRiskLevels: string[];
}

export interface GrantControls {
  operator: 'OR' | 'AND';
  builtInControls: ('block' | 'mfa')[];
  customAuthenticationFactors: string[];
  termsOfUse: string[];
}

/** The policy's content: what a create or update writes (Graph's read-only fields aside). */
export interface PolicyBody {
  displayName: string;
  state: PolicyState;
  conditions: PolicyConditions;
  grantControls: GrantControls;
  sessionControls: null;
}

/** A stored policy, in Graph's shape. */
export interface ConditionalAccessPolicy extends PolicyBody {
  id: string;
  createdDateTime: string;
  modifiedDateTime: string | null;
}

/** What the validation must ask the directory: every id a policy names must exist. */
export interface PolicyReferences {
  userExists(id: string): Promise<boolean>;
  groupExists(id: string): Promise<boolean>;
  /** A service principal by object id or appId: its object id. */
  servicePrincipalId(idOrAppId: string): Promise<string | undefined>;
  /** A role definition by id or name: its id. */
  roleId(idOrName: string): Promise<string | undefined>;
  locationExists(id: string): Promise<boolean>;
  /** A client application id this server knows (first-party, registered application, service principal). */
  applicationKnown(appId: string): Promise<boolean>;
  /** A resource URI this server issues tokens for: its canonical form. */
  resource(uri: string): string | undefined;
}

const MAX_ENTRIES = 200;
/** Fields Graph returns read-only: accepted in a body (a policy copied from a GET), ignored. */
const READ_ONLY = new Set(['id', 'createdDateTime', 'modifiedDateTime', 'templateId', '@odata.context', '@odata.type', 'deletedDateTime']);

function invalid(message: string): TesseraError {
  return new TesseraError('InvalidParameter', message);
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objectAt(value: unknown, path: string): Json {
  if (!isObject(value)) throw invalid(`'${path}' must be an object.`);
  return value;
}

/** Refuses fields outside `allowed` (read-only Graph fields pass when `readOnly`). */
function onlyFields(obj: Json, path: string, allowed: readonly string[], readOnly = false): void {
  for (const key of Object.keys(obj)) {
    if (allowed.includes(key) || (readOnly && READ_ONLY.has(key)) || key.endsWith('@odata.context')) continue;
    throw invalid(`'${path ? `${path}.` : ''}${printable(key)}' is not a field Tessera supports here (supported: ${allowed.join(', ')}).`);
  }
}

/** A name fit to quote in a message: printable, at most 64 characters. */
function printable(value: string): string {
  const cut = [...value].slice(0, 64).join('');
  return cut.replace(/[\u0000-\u001f\u007f'\\]/g, '?') + ([...value].length > 64 ? '…' : '');
}

function stringList(value: unknown, path: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(`'${path}' must be an array of strings.`);
  if (value.length > MAX_ENTRIES) throw invalid(`'${path}' may hold at most ${MAX_ENTRIES} entries.`);
  const out: string[] = [];
  for (const item of value) {
    if (typeof item !== 'string' || item.length === 0 || item.length > 512 || hasControlChars(item)) {
      throw invalid(`'${path}' must hold non-empty strings of at most 512 printable characters.`);
    }
    out.push(item.trim());
  }
  return out;
}

/** An unsupported condition: accepted only when unset (null, absent or an empty list). */
function unset(obj: Json, key: string, path: string): void {
  const value = obj[key];
  if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) return;
  throw invalid(`'${path}.${key}' is not supported by Tessera: leave it out (or null).`);
}

/** `All`, `None` and other keywords, matched without regard to case and spelled as Graph does. */
function keyword(value: string, words: readonly string[]): string | undefined {
  return words.find((w) => w.toLowerCase() === value.toLowerCase());
}

/** Keywords alone in a list: `All` with anything else is ambiguous, `None` with anything is a contradiction. */
function alone(list: string[], words: readonly string[], path: string): void {
  const found = list.filter((v) => words.includes(v));
  if (found.length > 0 && list.length > 1) throw invalid(`'${path}': '${found[0]}' must be the only entry of the list.`);
}

/**
 * Refuses an entry that is both included and excluded: the condition could never hold for
 * it, which is always a mistake (Tessera's definition of a circular exclusion).
 */
function noOverlap(include: string[], exclude: string[], path: string, what: string): void {
  const excluded = new Set(exclude.map((v) => v.toLowerCase()));
  const both = include.find((v) => excluded.has(v.toLowerCase()));
  if (both !== undefined) {
    throw invalid(`'${path}': ${what} '${printable(both)}' is both included and excluded, so the policy could never apply to it. Remove it from one of the lists.`);
  }
}

async function ids(list: string[], path: string, kind: string, exists: (id: string) => Promise<boolean>, words: readonly string[] = []): Promise<string[]> {
  const out: string[] = [];
  for (const raw of list) {
    const word = keyword(raw, words);
    if (word) {
      out.push(word);
      continue;
    }
    if (!isGuid(raw)) throw invalid(`'${path}' holds '${printable(raw)}', which is not ${kind} object id (a GUID)${words.length ? ` or one of ${words.join(', ')}` : ''}.`);
    const id = raw.toLowerCase();
    if (!(await exists(id))) throw invalid(`'${path}' names ${kind} '${id}' that does not exist.`);
    out.push(id);
  }
  return [...new Set(out)];
}

async function checkUsers(value: unknown, refs: PolicyReferences): Promise<UsersCondition> {
  const obj = objectAt(value, 'conditions.users');
  onlyFields(obj, 'conditions.users', ['includeUsers', 'excludeUsers', 'includeGroups', 'excludeGroups', 'includeRoles', 'excludeRoles', 'includeGuestsOrExternalUsers', 'excludeGuestsOrExternalUsers']);
  unset(obj, 'includeGuestsOrExternalUsers', 'conditions.users');
  unset(obj, 'excludeGuestsOrExternalUsers', 'conditions.users');
  const user = (id: string) => refs.userExists(id);
  const group = (id: string) => refs.groupExists(id);
  const includeUsers = await ids(stringList(obj.includeUsers, 'conditions.users.includeUsers'), 'conditions.users.includeUsers', 'a user', user, ['All', 'None', 'GuestsOrExternalUsers']);
  const excludeUsers = await ids(stringList(obj.excludeUsers, 'conditions.users.excludeUsers'), 'conditions.users.excludeUsers', 'a user', user, ['GuestsOrExternalUsers']);
  alone(includeUsers, ['All', 'None'], 'conditions.users.includeUsers');
  const includeGroups = await ids(stringList(obj.includeGroups, 'conditions.users.includeGroups'), 'conditions.users.includeGroups', 'a group', group);
  const excludeGroups = await ids(stringList(obj.excludeGroups, 'conditions.users.excludeGroups'), 'conditions.users.excludeGroups', 'a group', group);
  const roles = async (list: string[], path: string) => {
    const out: string[] = [];
    for (const raw of list) {
      const id = await refs.roleId(raw);
      if (!id) throw invalid(`'${path}' names a role '${printable(raw)}' that does not exist (give a role definition id or name).`);
      out.push(id);
    }
    return [...new Set(out)];
  };
  const includeRoles = await roles(stringList(obj.includeRoles, 'conditions.users.includeRoles'), 'conditions.users.includeRoles');
  const excludeRoles = await roles(stringList(obj.excludeRoles, 'conditions.users.excludeRoles'), 'conditions.users.excludeRoles');
  noOverlap(includeUsers, excludeUsers, 'conditions.users', 'the user');
  noOverlap(includeGroups, excludeGroups, 'conditions.users', 'the group');
  noOverlap(includeRoles, excludeRoles, 'conditions.users', 'the role');
  return { includeUsers, excludeUsers, includeGroups, excludeGroups, includeRoles, excludeRoles };
}

async function checkApplications(value: unknown, refs: PolicyReferences): Promise<ApplicationsCondition> {
  const obj = objectAt(value, 'conditions.applications');
  onlyFields(obj, 'conditions.applications', ['includeApplications', 'excludeApplications', 'includeUserActions', 'includeAuthenticationContextClassReferences', 'applicationFilter']);
  unset(obj, 'includeUserActions', 'conditions.applications');
  unset(obj, 'includeAuthenticationContextClassReferences', 'conditions.applications');
  unset(obj, 'applicationFilter', 'conditions.applications');
  const apps = async (list: string[], path: string, words: readonly string[]) => {
    const out: string[] = [];
    for (const raw of list) {
      const word = keyword(raw, words);
      if (word) {
        out.push(word);
        continue;
      }
      if (isGuid(raw)) {
        if (!(await refs.applicationKnown(raw.toLowerCase()))) throw invalid(`'${path}' names an application '${raw.toLowerCase()}' this server does not know (give a client's appId or a resource URI).`);
        out.push(raw.toLowerCase());
        continue;
      }
      const resource = refs.resource(raw);
      if (!resource) throw invalid(`'${path}' holds '${printable(raw)}', which is neither an application id (GUID) nor a resource URI this server issues tokens for (e.g. api://tessera/management).`);
      out.push(resource);
    }
    return [...new Set(out)];
  };
  const includeApplications = await apps(stringList(obj.includeApplications, 'conditions.applications.includeApplications'), 'conditions.applications.includeApplications', ['All', 'None']);
  const excludeApplications = await apps(stringList(obj.excludeApplications, 'conditions.applications.excludeApplications'), 'conditions.applications.excludeApplications', []);
  if (includeApplications.length === 0) throw invalid("'conditions.applications.includeApplications' is required: application ids, resource URIs, or ['All'].");
  alone(includeApplications, ['All', 'None'], 'conditions.applications.includeApplications');
  noOverlap(includeApplications, excludeApplications, 'conditions.applications', 'the application');
  return { includeApplications, excludeApplications, includeUserActions: [] };
}

async function checkClientApplications(value: unknown, refs: PolicyReferences): Promise<ClientApplicationsCondition> {
  const obj = objectAt(value, 'conditions.clientApplications');
  onlyFields(obj, 'conditions.clientApplications', ['includeServicePrincipals', 'excludeServicePrincipals', 'servicePrincipalFilter']);
  unset(obj, 'servicePrincipalFilter', 'conditions.clientApplications');
  const sps = async (list: string[], path: string, words: readonly string[]) => {
    const out: string[] = [];
    for (const raw of list) {
      const word = keyword(raw, words);
      if (word) {
        out.push(word);
        continue;
      }
      if (!isGuid(raw)) throw invalid(`'${path}' holds '${printable(raw)}', which is not a service principal's object id or appId (a GUID)${words.length ? ' or ServicePrincipalsInMyTenant' : ''}.`);
      const id = await refs.servicePrincipalId(raw.toLowerCase());
      if (!id) throw invalid(`'${path}' names a service principal '${raw.toLowerCase()}' that does not exist.`);
      out.push(id);
    }
    return [...new Set(out)];
  };
  const includeServicePrincipals = await sps(stringList(obj.includeServicePrincipals, 'conditions.clientApplications.includeServicePrincipals'), 'conditions.clientApplications.includeServicePrincipals', ['ServicePrincipalsInMyTenant']);
  const excludeServicePrincipals = await sps(stringList(obj.excludeServicePrincipals, 'conditions.clientApplications.excludeServicePrincipals'), 'conditions.clientApplications.excludeServicePrincipals', []);
  if (includeServicePrincipals.length === 0) throw invalid("'conditions.clientApplications.includeServicePrincipals' is required: service principal ids or ['ServicePrincipalsInMyTenant'].");
  alone(includeServicePrincipals, ['ServicePrincipalsInMyTenant'], 'conditions.clientApplications.includeServicePrincipals');
  noOverlap(includeServicePrincipals, excludeServicePrincipals, 'conditions.clientApplications', 'the service principal');
  return { includeServicePrincipals, excludeServicePrincipals };
}

async function checkLocations(value: unknown, refs: PolicyReferences): Promise<LocationsCondition> {
  const obj = objectAt(value, 'conditions.locations');
  onlyFields(obj, 'conditions.locations', ['includeLocations', 'excludeLocations']);
  const location = (id: string) => refs.locationExists(id);
  const includeLocations = await ids(stringList(obj.includeLocations, 'conditions.locations.includeLocations'), 'conditions.locations.includeLocations', 'a named location', location, ['All', 'AllTrusted']);
  const excludeLocations = await ids(stringList(obj.excludeLocations, 'conditions.locations.excludeLocations'), 'conditions.locations.excludeLocations', 'a named location', location, ['All', 'AllTrusted']);
  if (includeLocations.length === 0) throw invalid("'conditions.locations.includeLocations' is required when 'conditions.locations' is given: named location ids, ['All'] or ['AllTrusted'].");
  alone(includeLocations, ['All'], 'conditions.locations.includeLocations');
  if (excludeLocations.includes('All')) throw invalid("'conditions.locations.excludeLocations' cannot hold 'All': every address would be excluded, so the policy could never apply.");
  noOverlap(includeLocations, excludeLocations, 'conditions.locations', 'the location');
  return { includeLocations, excludeLocations };
}

function checkClientAppTypes(value: unknown): ClientAppType[] {
  const list = stringList(value, 'conditions.clientAppTypes');
  if (list.length === 0) return ['all'];
  const out: ClientAppType[] = [];
  for (const raw of list) {
    const type = keyword(raw, CLIENT_APP_TYPES) as ClientAppType | undefined;
    if (!type) throw invalid(`'conditions.clientAppTypes' holds '${printable(raw)}': use ${CLIENT_APP_TYPES.join(', ')}.`);
    out.push(type);
  }
  const unique = [...new Set(out)];
  alone(unique, ['all'], 'conditions.clientAppTypes');
  return unique;
}

function checkGrantControls(value: unknown): GrantControls {
  const obj = objectAt(value, 'grantControls');
  onlyFields(obj, 'grantControls', ['operator', 'builtInControls', 'customAuthenticationFactors', 'termsOfUse', 'authenticationStrength']);
  unset(obj, 'customAuthenticationFactors', 'grantControls');
  unset(obj, 'termsOfUse', 'grantControls');
  unset(obj, 'authenticationStrength', 'grantControls');
  const operator = obj.operator === undefined ? 'OR' : obj.operator;
  if (operator !== 'OR' && operator !== 'AND') throw invalid("'grantControls.operator' must be 'OR' or 'AND'.");
  const controls = [...new Set(stringList(obj.builtInControls, 'grantControls.builtInControls').map((c) => c.toLowerCase()))];
  if (controls.length !== 1 || (controls[0] !== 'block' && controls[0] !== 'mfa')) {
    throw invalid("'grantControls.builtInControls' must be ['block'] or ['mfa'] (Tessera supports these two controls, one per policy).");
  }
  return { operator, builtInControls: [controls[0]], customAuthenticationFactors: [], termsOfUse: [] };
}

/** A display name: 1 to 256 printable characters. */
export function checkPolicyName(value: unknown, field = 'displayName'): string {
  if (typeof value !== 'string') throw invalid(`'${field}' is required: 1 to 256 printable characters.`);
  const trimmed = value.trim().normalize('NFC');
  if (trimmed.length === 0 || [...trimmed].length > 256 || hasControlChars(trimmed)) throw invalid(`'${field}' must be 1 to 256 printable characters.`);
  return trimmed;
}

/**
 * Validates a whole policy body (a create, or an update merged over the stored policy) and
 * returns it normalized; every id it names must exist now.
 */
export async function checkPolicy(input: unknown, refs: PolicyReferences): Promise<PolicyBody> {
  const body = objectAt(input, 'the body');
  onlyFields(body, '', ['displayName', 'state', 'conditions', 'grantControls', 'sessionControls'], true);
  const displayName = checkPolicyName(body.displayName);
  const state = POLICY_STATES.find((s) => s === body.state);
  if (!state) throw invalid(`'state' must be one of ${POLICY_STATES.join(', ')}.`);
  if (body.sessionControls !== undefined && body.sessionControls !== null) throw invalid("'sessionControls' is not supported by Tessera: leave it out (or null).");
  if (body.grantControls === undefined || body.grantControls === null) throw invalid("'grantControls' is required: {\"operator\": \"OR\", \"builtInControls\": [\"block\"]} or [\"mfa\"].");
  const grantControls = checkGrantControls(body.grantControls);
  const c = objectAt(body.conditions, 'conditions');
  onlyFields(c, 'conditions', [
    'users', 'applications', 'clientApplications', 'clientAppTypes', 'locations',
    'platforms', 'devices', 'signInRiskLevels', 'userRiskLevels', 'servicePrincipalRiskLevels', 'insiderRiskLevels', 'authenticationFlows', 'deviceStates', 'times',
  ]);
  for (const key of ['platforms', 'devices', 'signInRiskLevels', 'userRiskLevels', 'servicePrincipalRiskLevels', 'insiderRiskLevels', 'authenticationFlows', 'deviceStates', 'times']) unset(c, key, 'conditions');
  if (c.applications === undefined || c.applications === null) throw invalid("'conditions.applications' is required (e.g. {\"includeApplications\": [\"All\"]}).");
  const applications = await checkApplications(c.applications, refs);
  const clientApplications = c.clientApplications === undefined || c.clientApplications === null ? null : await checkClientApplications(c.clientApplications, refs);
  let users = c.users === undefined || c.users === null ? null : await checkUsers(c.users, refs);
  const clientAppTypes = checkClientAppTypes(c.clientAppTypes);
  const locations = c.locations === undefined || c.locations === null ? null : await checkLocations(c.locations, refs);
  if (clientApplications) {
    // A workload-identity policy, as Entra has them: service principals only, and only block.
    const namesUsers = users && (users.includeUsers.some((u) => u !== 'None') || users.includeGroups.length > 0 || users.includeRoles.length > 0);
    if (namesUsers) throw invalid("A policy targets users ('conditions.users') or service principals ('conditions.clientApplications'), not both: set 'includeUsers' to ['None'] or leave 'conditions.users' out.");
    if (grantControls.builtInControls[0] !== 'block') throw invalid("A policy for service principals can only block: a service principal cannot do multi-factor authentication.");
    if (clientAppTypes.length !== 1 || clientAppTypes[0] !== 'all') throw invalid("A policy for service principals takes no 'conditions.clientAppTypes' (or ['all']).");
    users = users ?? { includeUsers: ['None'], excludeUsers: [], includeGroups: [], excludeGroups: [], includeRoles: [], excludeRoles: [] };
  } else if (!users || (users.includeUsers.length === 0 && users.includeGroups.length === 0 && users.includeRoles.length === 0)) {
    throw invalid("'conditions.users' must include someone: 'includeUsers' (ids, ['All'] or ['None']), 'includeGroups' or 'includeRoles' (or target service principals with 'conditions.clientApplications').");
  }
  return {
    displayName,
    state,
    conditions: {
      users,
      applications,
      clientApplications,
      clientAppTypes,
      locations,
      platforms: null,
      devices: null,
      signInRiskLevels: [],
      userRiskLevels: [],
      servicePrincipalRiskLevels: [],
    },
    grantControls,
    sessionControls: null,
  };
}
