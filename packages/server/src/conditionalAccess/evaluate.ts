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
  /** A workload-identity policy (conditions.clientApplications): it never applies to users, nor the others to service principals. */
  forServicePrincipals: boolean;
}

interface TenantView {
  at: number;
  policies: CompiledPolicy[];
  locations: Map<string, CompiledLocation>;
  /** Enforced or report-only policies (disabled ones are shown, never evaluated). */
  live: number;
  /** Whether any live policy names groups, or roles: only then are a user's looked up. */
  needsGroups: boolean;
  needsRoles: boolean;
  builtInAdminId: string | undefined;
}

/** What every policy of one evaluation looks at, worked out once. */
interface RequestContext {
  req: AccessRequest;
  facts: Facts;
  resource: string;
  client: string;
  type: ClientAppType | undefined;
  address: Address | undefined;
  locations: Map<string, CompiledLocation>;
  /** Whether the address is in a trusted location (worked out on first use). */
  inTrusted(): boolean;
}

function requestContext(req: AccessRequest, facts: Facts, locations: Map<string, CompiledLocation>): RequestContext {
  const address = parseAddress(req.address);
  let trusted: boolean | undefined;
  return {
    req,
    facts,
    resource: canonicalResource(req.resource) ?? req.resource,
    client: req.clientAppId.toLowerCase(),
    type: CLIENT_APP_TYPE_OF[req.clientApp],
    address,
    locations,
    inTrusted: () => (trusted ??= address !== undefined && [...locations.values()].some((l) => l.trusted && l.ranges.some((r) => inRange(address, r)))),
  };
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
    forServicePrincipals: policy.conditions.clientApplications !== null,
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
   * Which policies apply to a sign-in, why (every reason written), and the result. What-if
   * and the sign-in pages call this; the token paths call {@link enforce}, which runs the
   * same `decide` without writing reasons.
   * @example
   * const decision = await services.conditionalAccess.evaluate({ tenantId, subject: { kind: 'user', userId },
   *   clientAppId: TESSERA_CLI_CLIENT_ID, resource: 'api://tessera/management', address: request.ip, clientApp: 'browser', amr: ['pwd'] });
   */
  async evaluate(req: AccessRequest): Promise<AccessDecision> {
    return this.decide(req, await this.view(req.tenantId), true);
  }

  /**
   * Throws the AAD-style refusal for a non-allow decision (AADSTS53003 blocked;
   * AADSTS50076 interaction_required with a `claims` challenge), recording report-only
   * results in the audit trail; returns on allow. Used by the token paths.
   */
  async enforce(req: AccessRequest, audit: AuditInfo): Promise<void> {
    // The same evaluation, without writing reasons nobody reads (the decision is identical).
    const decision = await this.decide(req, await this.view(req.tenantId), false);
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
    const compiled = compile(row);
    const candidate: TenantView = { ...current, policies: [compiled], live: 1, needsGroups: compiled.needsGroups, needsRoles: compiled.needsRoles };
    const kinds = req.subject.kind === 'user' ? USER_CLIENT_APPS : (['clientCredentials'] as const);
    const blocked: ClientAppKind[] = [];
    for (const clientApp of kinds) {
      const decision = await this.decide({ ...req, clientApp, amr: ['pwd', 'mfa'] }, candidate, false);
      if (decision.result === 'block') blocked.push(clientApp);
    }
    return blocked;
  }

  private async decide(req: AccessRequest, view: TenantView, explain: boolean): Promise<AccessDecision> {
    const verdicts: PolicyVerdict[] = [];
    let block: CompiledPolicy | undefined;
    let mfa: CompiledPolicy | undefined;
    const subject = req.subject;
    const exempt = this.options.excludeBuiltInAdmin && subject.kind === 'user' && view.builtInAdminId === subject.userId;
    if (view.live > 0) {
      const needsGroups = subject.kind === 'user' && view.needsGroups;
      const needsRoles = subject.kind === 'user' && view.needsRoles;
      const id = subject.kind === 'user' ? subject.userId : subject.servicePrincipalId;
      const facts: Facts = needsGroups || needsRoles ? { groups: needsGroups ? await this.groupsOf(id) : NO_FACTS.groups, roles: needsRoles ? await this.rolesOf(id) : NO_FACTS.roles } : NO_FACTS;
      const ctx = requestContext(req, facts, view.locations);
      for (const policy of view.policies) {
        // The token paths need not even look at a policy for the other kind of subject.
        if (!explain && policy.forServicePrincipals !== (subject.kind === 'servicePrincipal')) continue;
        const verdict = exempt ? exemptVerdict(policy) : this.judge(policy, ctx, explain);
        if (explain || verdict.applies) verdicts.push(verdict);
        if (!verdict.applies || policy.state !== 'enabled') continue;
        if (verdict.result === 'block') block ??= policy;
        else if (verdict.result === 'mfa') mfa ??= policy;
      }
    } else if (explain) {
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

  /**
   * One policy against one request: whether it applies, why, and what it asks. With
   * `explain` off (the token paths) no reason is written and the first condition that
   * fails ends the judgement; the answer is the same either way.
   */
  private judge(policy: CompiledPolicy, ctx: RequestContext, explain: boolean): PolicyVerdict {
    const verdict: PolicyVerdict = { id: policy.id, displayName: policy.displayName, state: policy.state, applies: false, reasons: [] };
    const reasons = verdict.reasons;
    if (policy.state === 'disabled') {
      if (explain) reasons.push('state: disabled, so never evaluated');
      return verdict;
    }
    const { conditions } = policy.policy;
    let applies = true;
    /** Records a failed condition; false when judging may stop. */
    const fail = (reason: () => string): boolean => {
      applies = false;
      if (explain) reasons.push(reason());
      return explain;
    };
    const note = (reason: () => string): void => {
      if (explain) reasons.push(reason());
    };
    const { req, facts } = ctx;
    const subject = req.subject;
    // Who.
    if (subject.kind === 'user') {
      const users = conditions.users;
      if (conditions.clientApplications) {
        if (!fail(() => 'users: the policy targets service principals (conditions.clientApplications); this is a user')) return verdict;
      } else if (users) {
        const uid = subject.userId;
        const inGroup = (list: string[]) => list.find((g) => facts.groups.has(g));
        const hasRole = (list: string[]) => list.find((r) => facts.roles.has(r));
        const group = inGroup(users.includeGroups);
        const role = group === undefined ? hasRole(users.includeRoles) : undefined;
        const included = users.includeUsers.includes('All') ? 'includeUsers All' : users.includeUsers.includes(uid) ? 'includeUsers names the user' : group !== undefined ? `includeGroups: member of group ${group}` : role !== undefined ? `includeRoles: holds role ${role}` : undefined;
        if (!included) {
          if (!fail(() => `users: not included (${users.includeUsers.includes('None') ? 'includeUsers None' : 'not in includeUsers, includeGroups or includeRoles'})`)) return verdict;
        } else {
          const xGroup = inGroup(users.excludeGroups);
          const xRole = xGroup === undefined ? hasRole(users.excludeRoles) : undefined;
          const excluded = users.excludeUsers.includes(uid) ? 'excludeUsers names the user' : xGroup !== undefined ? `excludeGroups: member of group ${xGroup}` : xRole !== undefined ? `excludeRoles: holds role ${xRole}` : undefined;
          if (excluded) {
            if (!fail(() => `users: included (${included}) but excluded (${excluded})`)) return verdict;
          } else note(() => `users: included (${included})`);
        }
      }
    } else {
      const sps = conditions.clientApplications;
      if (!sps) {
        if (!fail(() => 'users: the policy targets users; this is a service principal')) return verdict;
      } else {
        const spId = subject.servicePrincipalId;
        const included = sps.includeServicePrincipals.includes('ServicePrincipalsInMyTenant') ? 'ServicePrincipalsInMyTenant' : sps.includeServicePrincipals.includes(spId) ? 'includeServicePrincipals names it' : undefined;
        if (!included) {
          if (!fail(() => 'clientApplications: the service principal is not in includeServicePrincipals')) return verdict;
        } else if (sps.excludeServicePrincipals.includes(spId)) {
          if (!fail(() => `clientApplications: included (${included}) but in excludeServicePrincipals`)) return verdict;
        } else note(() => `clientApplications: included (${included})`);
      }
    }
    // What.
    const apps = conditions.applications;
    const { resource, client } = ctx;
    const appIncluded = apps.includeApplications.includes('All') ? 'All' : apps.includeApplications.includes(resource) ? `the resource ${resource}` : apps.includeApplications.includes(client) ? `the client ${client}` : undefined;
    if (!appIncluded) {
      if (!fail(() => `applications: neither the resource ${resource} nor the client ${client} is in includeApplications`)) return verdict;
    } else {
      const appExcluded = apps.excludeApplications.includes(resource) ? `the resource ${resource}` : apps.excludeApplications.includes(client) ? `the client ${client}` : undefined;
      if (appExcluded) {
        if (!fail(() => `applications: included (${appIncluded}) but excludeApplications names ${appExcluded}`)) return verdict;
      } else note(() => `applications: included (${appIncluded})`);
    }
    // How.
    const type = ctx.type;
    if (!conditions.clientAppTypes.includes('all')) {
      if (type === undefined || !conditions.clientAppTypes.includes(type)) {
        if (!fail(() => `clientAppTypes: a ${req.clientApp} sign-in (${type ?? 'no client app type'}) is not in [${conditions.clientAppTypes.join(', ')}]`)) return verdict;
      } else note(() => `clientAppTypes: a ${req.clientApp} sign-in is ${type}`);
    }
    // Where.
    const where = conditions.locations;
    if (where) {
      const { address, locations } = ctx;
      const shown = () => (address ? req.address : `${req.address || '(no address)'} (not an IP address)`);
      const inLocation = (id: string) => {
        const location = locations.get(id);
        return location !== undefined && address !== undefined && location.ranges.some((r) => inRange(address, r));
      };
      const label = (v: string) => (v === 'All' || v === 'AllTrusted' ? v : `'${locations.get(v)?.displayName ?? v}'`);
      const includedBy = where.includeLocations.includes('All') ? 'All' : where.includeLocations.includes('AllTrusted') && ctx.inTrusted() ? 'AllTrusted' : where.includeLocations.find((id) => id !== 'AllTrusted' && inLocation(id));
      if (!includedBy) {
        if (!fail(() => `locations: ${shown()} is in no included location`)) return verdict;
      } else {
        const excludedBy = where.excludeLocations.includes('AllTrusted') && ctx.inTrusted() ? 'AllTrusted' : where.excludeLocations.find((id) => id !== 'AllTrusted' && inLocation(id));
        if (excludedBy) {
          if (!fail(() => `locations: ${shown()} is included (${label(includedBy)}) but in excluded location ${label(excludedBy)}`)) return verdict;
        } else note(() => `locations: ${shown()} is included (${label(includedBy)})`);
      }
    }
    verdict.applies = applies;
    if (applies) {
      const mfaDone = req.amr.includes('mfa');
      verdict.result = policy.control === 'block' ? 'block' : mfaDone ? 'allow' : 'mfa';
      note(() => (policy.control === 'block' ? 'grant: block' : mfaDone ? 'grant: mfa, satisfied by this sign-in' : 'grant: mfa, not yet satisfied'));
      if (policy.state === 'enabledForReportingButNotEnforced') note(() => 'state: report-only, recorded and not enforced');
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
    // Always loaded: the lockout check evaluates a new policy against this view's locations too.
    for (const row of await this.catalog.listLocations(tenantId)) {
      const view = locationView(row);
      locations.set(row.id, { id: row.id, displayName: row.display_name, trusted: view.isTrusted, ranges: view.ipRanges.map((r) => parseCidr(r.cidrAddress)).filter((r): r is CidrRange => r !== undefined) });
    }
    let builtInAdminId: string | undefined;
    if (this.options.excludeBuiltInAdmin) {
      const admin = await this.options.store.db.selectFrom('users').select('id').where('tenant_id', '=', tenantId).where('username', '=', 'admin').executeTakeFirst();
      builtInAdminId = admin?.id;
    }
    const live = policies.filter((p) => p.state !== 'disabled');
    return { at, policies, locations, live: live.length, needsGroups: live.some((p) => p.needsGroups), needsRoles: live.some((p) => p.needsRoles), builtInAdminId };
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
