/**
 * Conditional access: the one evaluation every token path calls ({@link ConditionalAccess.enforce})
 * and what-if calls too ({@link ConditionalAccess.evaluate}): the same function, so what-if
 * can never disagree with a sign-in.
 *
 * A policy applies when every condition it sets holds: the subject is included and not
 * excluded (users by id, group or role; service principals by id), the application (the
 * client's appId or the resource asked for) is included and not excluded, the client app
 * type is listed, and the address is in an included location and no excluded one. Of the
 * enforced policies that apply, any `block` blocks; otherwise any `mfa` the sign-in has not
 * satisfied (`amr` lacks `mfa`) requires MFA. Report-only policies are evaluated alike,
 * written to the audit trail, and never enforced.
 *
 * Policies and named locations reach the token path through a per-tenant view cached for
 * one second and dropped at once when this replica changes one, as principals are.
 */
import type { Store } from '../store/db.js';
import type { Clock } from '../clock.js';
import type { AccessControl } from '../access/assignments.js';
import type { AuditLog } from '../audit/auditLog.js';
import type { AuditInfo } from '../audit/requestAudit.js';
import { TesseraError } from '../errors.js';
import type { AuthMethod, ClientAppKind } from '../identity/authMethods.js';
import { findPublicClient } from '../oauth/clients.js';
import { audienceOf, RESOURCE_URIS } from '../tokens/audiences.js';
import { inRange, parseAddress, parseCidr, type Address, type CidrRange } from './addresses.js';
import { PolicyCatalog, policyView, locationView, type PolicyRow } from './catalog.js';
import type { ClientAppType, ConditionalAccessPolicy, PolicyBody, PolicyReferences, PolicyState } from './policies.js';

export type { ClientAppKind } from '../identity/authMethods.js';

export interface AccessRequest {
  tenantId: string;
  /** A user (with their group ids resolved by the evaluator) or a service principal. */
  subject: { kind: 'user'; userId: string } | { kind: 'servicePrincipal'; servicePrincipalId: string; appId: string };
  /** The client application's id (appId) asking for the token. */
  clientAppId: string;
  /** The resource URI asked for (e.g. api://tessera/management). */
  resource: string;
  /** The socket address (request.ip; X-Forwarded-For only through a configured trusted proxy). */
  address: string;
  clientApp: ClientAppKind;
  /** Methods already satisfied in this sign-in. */
  amr: readonly AuthMethod[];
}

export interface PolicyVerdict {
  id: string;
  displayName: string;
  state: PolicyState;
  applies: boolean;
  /** Why it applies or not, one line per condition. */
  reasons: string[];
  result?: 'block' | 'mfa' | 'allow';
}

export interface AccessDecision {
  result: 'allow' | 'block' | 'mfa';
  /** The enforced policy that decided a block or an MFA requirement. */
  decidedBy?: { id: string; displayName: string };
  policies: PolicyVerdict[];
}

/** What the evaluator is told about the server. */
export interface ConditionalAccessOptions {
  store: Store;
  clock: Clock;
  access: AccessControl;
  audit: AuditLog;
  /** TESSERA_CA_EXCLUDE_ADMIN: the built-in `admin` account is outside every policy. */
  excludeBuiltInAdmin: boolean;
}

/** Graph's client app type of each Tessera sign-in path (docs/conditional-access.md). */
export const CLIENT_APP_TYPE_OF: Record<ClientAppKind, ClientAppType | undefined> = {
  browser: 'browser',
  deviceCode: 'mobileAppsAndDesktopClients',
  password: 'mobileAppsAndDesktopClients',
  refresh: 'mobileAppsAndDesktopClients',
  // Machine Learning Server's /login takes a password outside OAuth: Entra's "other clients" (legacy authentication).
  mlServerLogin: 'other',
  clientCredentials: undefined,
};

/** The paths a user can sign in through, and a service principal's one. */
export const USER_CLIENT_APPS: readonly ClientAppKind[] = ['browser', 'deviceCode', 'password', 'refresh', 'mlServerLogin'];

const TTL_MS = 1000;
const SUBJECT_LIMIT = 50_000;
/** The id `decidedBy` names when the requirement is the user's own MFA enrolment, not a policy. */
export const MFA_REGISTRATION = { id: 'mfa-registration', displayName: 'MFA registration (the user has enrolled a second factor)' } as const;

interface CompiledLocation {
  id: string;
  displayName: string;
  trusted: boolean;
  ranges: CidrRange[];
}

interface CompiledPolicy {
  id: string;
  displayName: string;
  state: PolicyState;
  policy: ConditionalAccessPolicy;
  control: 'block' | 'mfa';
  needsGroups: boolean;
  needsRoles: boolean;
}

interface TenantView {
  at: number;
  policies: CompiledPolicy[];
  locations: Map<string, CompiledLocation>;
  /** Enforced or report-only policies (disabled ones are shown, never evaluated). */
  live: number;
  builtInAdminId: string | undefined;
}

/** What the evaluator knows of the subject. */
interface Facts {
  groups: ReadonlySet<string>;
  roles: ReadonlySet<string>;
}

const NO_FACTS: Facts = { groups: new Set(), roles: new Set() };

function compile(row: PolicyRow): CompiledPolicy {
  const policy = policyView(row);
  const users = policy.conditions.users;
  return {
    id: row.id,
    displayName: row.display_name,
    state: policy.state,
    policy,
    control: policy.grantControls.builtInControls[0] === 'block' ? 'block' : 'mfa',
    needsGroups: users !== null && (users.includeGroups.length > 0 || users.excludeGroups.length > 0),
    needsRoles: users !== null && (users.includeRoles.length > 0 || users.excludeRoles.length > 0),
  };
}

/** The canonical form of an application entry: a GUID lower-cased, a resource URI as its audience's URI. */
function canonicalResource(uri: string): string | undefined {
  const audience = audienceOf(uri);
  return audience ? RESOURCE_URIS[audience] : undefined;
}

/** Conditional access: policies, named locations, evaluation and enforcement. */
export class ConditionalAccess {
  /** Stored policies and named locations. */
  readonly catalog: PolicyCatalog;
  private readonly views = new Map<string, TenantView>();
  private readonly loading = new Map<string, Promise<TenantView>>();
  private generation = 0;
  private readonly groupCache = new Map<string, { at: number; groups: Set<string> }>();
  private groupGeneration = 0;

  /** Whether a user has MFA enrolled (the MFA module, see {@link useMfa}): password-only paths then require it. */
  private mfaEnrolled: (userId: string) => Promise<boolean> = () => Promise.resolve(false);

  constructor(private readonly options: ConditionalAccessOptions) {
    this.catalog = new PolicyCatalog(options.store, options.clock, (tenantId) => this.references(tenantId), () => this.invalidate());
  }

  /** Tells the evaluator how to ask whether a user has enrolled MFA (wired once the MFA module exists). */
  useMfa(isEnrolled: (userId: string) => Promise<boolean>): void {
    this.mfaEnrolled = isEnrolled;
  }

  /** Drops the cached policies and locations (after a change on this replica). */
  invalidate(): void {
    this.generation++;
    this.views.clear();
    this.loading.clear();
  }

  /** Drops cached group memberships (after a membership change on this replica). */
  forgetMemberships(): void {
    this.groupGeneration++;
    this.groupCache.clear();
  }

  /**
   * Which policies apply to a sign-in, why, and the result. The token paths call
   * {@link enforce}, which calls this; what-if calls it directly.
   * @example
   * const decision = await services.conditionalAccess.evaluate({ tenantId, subject: { kind: 'user', userId },
   *   clientAppId: TESSERA_CLI_CLIENT_ID, resource: 'api://tessera/management', address: request.ip, clientApp: 'browser', amr: ['pwd'] });
   */
  async evaluate(req: AccessRequest): Promise<AccessDecision> {
    return this.decide(req, await this.view(req.tenantId));
  }

  /**
   * Throws the AAD-style refusal for a non-allow decision (AADSTS53003 blocked;
   * AADSTS50076 interaction_required with a `claims` challenge), recording report-only
   * results in the audit trail; returns on allow. Used by the token paths.
   */
  async enforce(req: AccessRequest, audit: AuditInfo): Promise<void> {
    const decision = await this.evaluate(req);
    this.recordReportOnly(req, decision, audit);
    if (decision.result === 'allow') return;
    throw refusal(decision, req);
  }

  /**
   * The ways `req`'s subject could no longer sign in were `body` saved: evaluated alone,
   * as if enabled, through the same evaluation, for each path the subject can sign in by.
   * Empty when the policy would not block the subject at all.
   */
  async wouldBlock(req: Omit<AccessRequest, 'clientApp'>, body: PolicyBody): Promise<ClientAppKind[]> {
    const current = await this.view(req.tenantId);
    const row: PolicyRow = { id: '00000000-0000-0000-0000-000000000000', tenant_id: req.tenantId, display_name: body.displayName, state: 'enabled', body: JSON.stringify({ conditions: body.conditions, grantControls: body.grantControls }), created_at: 0, modified_at: null, created_by: null };
    const candidate: TenantView = { ...current, policies: [compile(row)], live: 1 };
    const kinds = req.subject.kind === 'user' ? USER_CLIENT_APPS : (['clientCredentials'] as const);
    const blocked: ClientAppKind[] = [];
    for (const clientApp of kinds) {
      const decision = await this.decide({ ...req, clientApp, amr: ['pwd', 'mfa'] }, candidate);
      if (decision.result === 'block') blocked.push(clientApp);
    }
    return blocked;
  }

  private async decide(req: AccessRequest, view: TenantView): Promise<AccessDecision> {
    const verdicts: PolicyVerdict[] = [];
    let block: CompiledPolicy | undefined;
    let mfa: CompiledPolicy | undefined;
    const subject = req.subject;
    const exempt = this.options.excludeBuiltInAdmin && subject.kind === 'user' && view.builtInAdminId === subject.userId;
    if (view.live > 0) {
      const needsGroups = subject.kind === 'user' && view.policies.some((p) => p.state !== 'disabled' && p.needsGroups);
      const needsRoles = subject.kind === 'user' && view.policies.some((p) => p.state !== 'disabled' && p.needsRoles);
      const id = subject.kind === 'user' ? subject.userId : subject.servicePrincipalId;
      const facts: Facts = needsGroups || needsRoles ? { groups: needsGroups ? await this.groupsOf(id) : NO_FACTS.groups, roles: needsRoles ? await this.rolesOf(id) : NO_FACTS.roles } : NO_FACTS;
      const address = parseAddress(req.address);
      for (const policy of view.policies) {
        const verdict = exempt ? exemptVerdict(policy) : this.judge(policy, req, facts, address, view.locations);
        verdicts.push(verdict);
        if (!verdict.applies || policy.state !== 'enabled') continue;
        if (verdict.result === 'block') block ??= policy;
        else if (verdict.result === 'mfa') mfa ??= policy;
      }
    } else {
      for (const policy of view.policies) verdicts.push({ id: policy.id, displayName: policy.displayName, state: policy.state, applies: false, reasons: ['state: disabled, so never evaluated'] });
    }
    if (block) return { result: 'block', decidedBy: { id: block.id, displayName: block.displayName }, policies: verdicts };
    if (mfa) return { result: 'mfa', decidedBy: { id: mfa.id, displayName: mfa.displayName }, policies: verdicts };
    // A password-only path cannot ask for the second factor a user enrolled: refused as an MFA policy would be.
    if (subject.kind === 'user' && (req.clientApp === 'password' || req.clientApp === 'mlServerLogin') && !req.amr.includes('mfa') && (await this.mfaEnrolled(subject.userId))) {
      return { result: 'mfa', decidedBy: { ...MFA_REGISTRATION }, policies: verdicts };
    }
    return { result: 'allow', policies: verdicts };
  }

  /** One policy against one request: whether it applies, why, and what it asks. */
  private judge(policy: CompiledPolicy, req: AccessRequest, facts: Facts, address: Address | undefined, locations: Map<string, CompiledLocation>): PolicyVerdict {
    const verdict: PolicyVerdict = { id: policy.id, displayName: policy.displayName, state: policy.state, applies: false, reasons: [] };
    if (policy.state === 'disabled') {
      verdict.reasons.push('state: disabled, so never evaluated');
      return verdict;
    }
    const { conditions } = policy.policy;
    const reasons = verdict.reasons;
    let applies = true;
    const fail = (reason: string) => {
      applies = false;
      reasons.push(reason);
    };
    const subject = req.subject;
    // Who.
    if (subject.kind === 'user') {
      const users = conditions.users;
      if (conditions.clientApplications) fail('users: the policy targets service principals (conditions.clientApplications); this is a user');
      else if (users) {
        const uid = subject.userId;
        const included = users.includeUsers.includes('All')
          ? 'includeUsers All'
          : users.includeUsers.includes(uid)
            ? 'includeUsers names the user'
            : users.includeGroups.find((g) => facts.groups.has(g)) !== undefined
              ? `includeGroups: member of group ${users.includeGroups.find((g) => facts.groups.has(g))}`
              : users.includeRoles.find((r) => facts.roles.has(r)) !== undefined
                ? `includeRoles: holds role ${users.includeRoles.find((r) => facts.roles.has(r))}`
                : undefined;
        const excluded = users.excludeUsers.includes(uid)
          ? 'excludeUsers names the user'
          : users.excludeGroups.find((g) => facts.groups.has(g)) !== undefined
            ? `excludeGroups: member of group ${users.excludeGroups.find((g) => facts.groups.has(g))}`
            : users.excludeRoles.find((r) => facts.roles.has(r)) !== undefined
              ? `excludeRoles: holds role ${users.excludeRoles.find((r) => facts.roles.has(r))}`
              : undefined;
        if (!included) fail(`users: not included (${users.includeUsers.includes('None') ? 'includeUsers None' : 'not in includeUsers, includeGroups or includeRoles'})`);
        else if (excluded) fail(`users: included (${included}) but excluded (${excluded})`);
        else reasons.push(`users: included (${included})`);
      }
    } else {
      const sps = conditions.clientApplications;
      if (!sps) fail('users: the policy targets users; this is a service principal');
      else {
        const spId = subject.servicePrincipalId;
        const included = sps.includeServicePrincipals.includes('ServicePrincipalsInMyTenant') ? 'ServicePrincipalsInMyTenant' : sps.includeServicePrincipals.includes(spId) ? 'includeServicePrincipals names it' : undefined;
        if (!included) fail('clientApplications: the service principal is not in includeServicePrincipals');
        else if (sps.excludeServicePrincipals.includes(spId)) fail(`clientApplications: included (${included}) but in excludeServicePrincipals`);
        else reasons.push(`clientApplications: included (${included})`);
      }
    }
    // What.
    const apps = conditions.applications;
    const resource = canonicalResource(req.resource) ?? req.resource;
    const client = req.clientAppId.toLowerCase();
    const appIncluded = apps.includeApplications.includes('All')
      ? 'All'
      : apps.includeApplications.includes(resource)
        ? `the resource ${resource}`
        : apps.includeApplications.includes(client)
          ? `the client ${client}`
          : undefined;
    const appExcluded = apps.excludeApplications.includes(resource) ? `the resource ${resource}` : apps.excludeApplications.includes(client) ? `the client ${client}` : undefined;
    if (!appIncluded) fail(`applications: neither the resource ${resource} nor the client ${client} is in includeApplications`);
    else if (appExcluded) fail(`applications: included (${appIncluded}) but excludeApplications names ${appExcluded}`);
    else reasons.push(`applications: included (${appIncluded})`);
    // How.
    const type = CLIENT_APP_TYPE_OF[req.clientApp];
    if (!conditions.clientAppTypes.includes('all')) {
      if (type === undefined || !conditions.clientAppTypes.includes(type)) fail(`clientAppTypes: a ${req.clientApp} sign-in (${type ?? 'no client app type'}) is not in [${conditions.clientAppTypes.join(', ')}]`);
      else reasons.push(`clientAppTypes: a ${req.clientApp} sign-in is ${type}`);
    }
    // Where.
    const where = conditions.locations;
    if (where) {
      const shown = address ? req.address : `${req.address || '(no address)'} (not an IP address)`;
      const inLocation = (id: string) => {
        const location = locations.get(id);
        return location !== undefined && address !== undefined && location.ranges.some((r) => inRange(address, r));
      };
      const inTrusted = () => address !== undefined && [...locations.values()].some((l) => l.trusted && l.ranges.some((r) => inRange(address, r)));
      const name = (id: string) => `'${locations.get(id)?.displayName ?? id}'`;
      const includedBy = where.includeLocations.includes('All')
        ? 'All'
        : where.includeLocations.includes('AllTrusted') && inTrusted()
          ? 'AllTrusted'
          : where.includeLocations.filter((id) => id !== 'AllTrusted').find(inLocation);
      const excludedBy = where.excludeLocations.includes('AllTrusted') && inTrusted() ? 'AllTrusted' : where.excludeLocations.filter((id) => id !== 'AllTrusted').find(inLocation);
      const label = (v: string) => (v === 'All' || v === 'AllTrusted' ? v : name(v));
      if (!includedBy) fail(`locations: ${shown} is in no included location`);
      else if (excludedBy) fail(`locations: ${shown} is included (${label(includedBy)}) but in excluded location ${label(excludedBy)}`);
      else reasons.push(`locations: ${shown} is included (${label(includedBy)})`);
    }
    verdict.applies = applies;
    if (applies) {
      verdict.result = policy.control === 'block' ? 'block' : req.amr.includes('mfa') ? 'allow' : 'mfa';
      reasons.push(policy.control === 'block' ? 'grant: block' : req.amr.includes('mfa') ? 'grant: mfa, satisfied by this sign-in' : 'grant: mfa, not yet satisfied');
      if (policy.state === 'enabledForReportingButNotEnforced') reasons.push('state: report-only, recorded and not enforced');
    }
    return verdict;
  }

  /** Report-only policies that applied: one SignIn record each, as Entra's sign-in log shows them. */
  private recordReportOnly(req: AccessRequest, decision: AccessDecision, audit: AuditInfo): void {
    for (const verdict of decision.policies) {
      if (verdict.state !== 'enabledForReportingButNotEnforced' || !verdict.applies) continue;
      const outcome = verdict.result === 'block' ? 'reportOnlyFailure' : verdict.result === 'mfa' ? 'reportOnlyInterrupted' : 'reportOnlySuccess';
      void this.options.audit.record({
        tenantId: req.tenantId,
        category: 'SignIn',
        operation: `conditionalAccess/reportOnly/${req.clientApp}`,
        result: 'Success',
        status: 200,
        reason: outcome,
        actorId: audit.actorId ?? (req.subject.kind === 'user' ? req.subject.userId : req.subject.servicePrincipalId),
        actorName: audit.actorName,
        target: `conditionalAccessPolicies/${verdict.id} ${verdict.displayName}`,
        requestId: audit.requestId ?? '',
        clientIp: req.address,
      });
    }
  }

  private async view(tenantId: string): Promise<TenantView> {
    const hit = this.views.get(tenantId);
    if (hit && this.options.clock.now() - hit.at < TTL_MS) return hit;
    let pending = this.loading.get(tenantId);
    if (!pending) {
      const generation = this.generation;
      pending = this.load(tenantId).then((view) => {
        if (generation === this.generation) this.views.set(tenantId, view);
        return view;
      });
      pending.finally(() => {
        if (this.loading.get(tenantId) === pending) this.loading.delete(tenantId);
      }).catch(() => undefined);
      this.loading.set(tenantId, pending);
    }
    return pending;
  }

  private async load(tenantId: string): Promise<TenantView> {
    const at = this.options.clock.now();
    const rows = await this.catalog.allPolicies(tenantId);
    const policies = rows.map(compile);
    const locations = new Map<string, CompiledLocation>();
    if (policies.some((p) => p.policy.conditions.locations !== null)) {
      for (const row of await this.catalog.listLocations(tenantId)) {
        const view = locationView(row);
        locations.set(row.id, { id: row.id, displayName: row.display_name, trusted: view.isTrusted, ranges: view.ipRanges.map((r) => parseCidr(r.cidrAddress)).filter((r): r is CidrRange => r !== undefined) });
      }
    }
    let builtInAdminId: string | undefined;
    if (this.options.excludeBuiltInAdmin) {
      const admin = await this.options.store.db.selectFrom('users').select('id').where('tenant_id', '=', tenantId).where('username', '=', 'admin').executeTakeFirst();
      builtInAdminId = admin?.id;
    }
    return { at, policies, locations, live: policies.filter((p) => p.state !== 'disabled').length, builtInAdminId };
  }

  private async groupsOf(principalId: string): Promise<Set<string>> {
    const now = this.options.clock.now();
    const hit = this.groupCache.get(principalId);
    if (hit && now - hit.at < TTL_MS) return hit.groups;
    const generation = this.groupGeneration;
    const rows = await this.options.store.db.selectFrom('group_members').select('group_id').where('member_id', '=', principalId).execute();
    const groups = new Set(rows.map((r) => r.group_id));
    if (generation === this.groupGeneration) {
      if (this.groupCache.size >= SUBJECT_LIMIT) this.groupCache.clear();
      this.groupCache.set(principalId, { at: now, groups });
    }
    return groups;
  }

  private async rolesOf(principalId: string): Promise<Set<string>> {
    return new Set((await this.options.access.reaching(principalId)).map((a) => a.role_definition_id));
  }

  /** What validation asks the directory, for one tenant. */
  private references(tenantId: string): PolicyReferences {
    const db = this.options.store.db;
    return {
      userExists: async (id) => (await db.selectFrom('users').select('id').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()) !== undefined,
      groupExists: async (id) => (await db.selectFrom('groups').select('id').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()) !== undefined,
      servicePrincipalId: async (idOrAppId) =>
        (await db.selectFrom('service_principals').select('id').where('tenant_id', '=', tenantId).where((eb) => eb.or([eb('id', '=', idOrAppId), eb('app_id', '=', idOrAppId)])).executeTakeFirst())?.id,
      roleId: async (idOrName) => (await this.options.access.roles.find(tenantId, idOrName))?.id.toLowerCase(),
      locationExists: async (id) => (await db.selectFrom('ca_named_locations').select('id').where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst()) !== undefined,
      applicationKnown: async (appId) =>
        findPublicClient(appId) !== undefined || (await db.selectFrom('service_principals').select('id').where('tenant_id', '=', tenantId).where('app_id', '=', appId).executeTakeFirst()) !== undefined,
      resource: canonicalResource,
    };
  }
}

function exemptVerdict(policy: CompiledPolicy): PolicyVerdict {
  return { id: policy.id, displayName: policy.displayName, state: policy.state, applies: false, reasons: ['users: the built-in admin is excluded from every policy (TESSERA_CA_EXCLUDE_ADMIN)'] };
}

/** The AAD-style refusal of a decision that is not allow. */
export function refusal(decision: AccessDecision, req: Pick<AccessRequest, 'resource'>): TesseraError {
  const by = decision.decidedBy ?? { id: 'unknown', displayName: 'unknown' };
  if (decision.result === 'block') {
    return new TesseraError(
      'ConditionalAccessBlocked',
      `Access has been blocked by Conditional Access policies. The access policy does not allow token issuance. Policy: '${by.displayName}' (${by.id}).`,
      { aadCodes: [53003], suberror: 'message_only' },
    );
  }
  const claims = by.id === MFA_REGISTRATION.id ? JSON.stringify({ access_token: { acrs: { essential: true, value: 'c1' } } }) : JSON.stringify({ access_token: { capolids: { essential: true, values: [by.id] } } });
  return new TesseraError(
    'MfaRequired',
    `Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '${req.resource}'. ${by.id === MFA_REGISTRATION.id ? 'The account has enrolled multi-factor authentication and this sign-in cannot ask for it: sign in through the browser or device code.' : `Policy: '${by.displayName}' (${by.id}).`}`,
    { aadCodes: [50076], oauth: 'interaction_required', suberror: 'basic_action', claims },
  );
}
