/**
 * The second step of the interactive sign-ins (browser and device code), shared by
 * routes/authorize.ts and routes/deviceLogin.ts. Once the password is right (or a browser
 * session is there), {@link nextStep} asks conditional access and the user's own MFA what
 * comes next: a block page, the code page (a user who enrolled is always asked in these
 * flows), setting MFA up when a policy asks for it and the user has none (the
 * registration interrupt), or nothing. The step's forms carry the sign-in sealed, bound to
 * the browser's anti-forgery cookie, and {@link postStep} turns a right code into the
 * methods the new browser session records: `pwd mfa otp` after a TOTP code, `pwd mfa rc`
 * after a recovery code, `pwd mfa otp` after setting MFA up.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../services.js';
import type { UserRow } from '../identity/users.js';
import type { AuthMethod } from '../identity/authMethods.js';
import type { AccessDecision } from '../conditionalAccess/evaluate.js';
import { TesseraError, isTesseraError } from '../errors.js';
import { checkCsrf, csrfFor, formOf, sendPage, userNames } from './interactive.js';
import { mfaCodePage } from './pages/mfaCodePage.js';
import { mfaSetupPage, qrDataUrl } from './pages/mfaSetupPage.js';
import { mfaRecoveryCodesPage } from './pages/mfaRecoveryCodesPage.js';
import { accessBlockedPage } from './pages/accessBlockedPage.js';
import type { PendingEnrollment } from '../mfa/mfa.js';

/** What an interactive sign-in has done so far, for {@link nextStep}. */
export interface SignInSoFar {
  user: UserRow;
  /** Methods already satisfied: `pwd` after the password, or the browser session's. */
  amr: readonly AuthMethod[];
  clientApp: 'browser' | 'deviceCode';
  /** The client application's id. */
  clientAppId: string;
  /** The resource URI the token will be for. */
  resource: string;
}

export type NextStep = { next: 'continue' } | { next: 'block'; decision: AccessDecision } | { next: 'verify' } | { next: 'enroll' };

/** What comes after the password (or with a session): conditional access first, then the user's own MFA. */
export async function nextStep(services: Services, request: FastifyRequest, so: SignInSoFar): Promise<NextStep> {
  const decision = await services.conditionalAccess.evaluate({
    tenantId: so.user.tenant_id,
    subject: { kind: 'user', userId: so.user.id },
    clientAppId: so.clientAppId,
    resource: so.resource,
    address: request.ip,
    clientApp: so.clientApp,
    amr: so.amr,
  });
  if (decision.result === 'block') return { next: 'block', decision };
  if (so.amr.includes('mfa')) return { next: 'continue' };
  if (await services.mfa.isEnrolled(so.user.id)) return { next: 'verify' };
  return decision.result === 'mfa' ? { next: 'enroll' } : { next: 'continue' };
}

/** The block page, recorded as a refusal. */
export function showBlocked(request: FastifyRequest, reply: FastifyReply, decision: AccessDecision): FastifyReply {
  request.audit.reason = 'ConditionalAccessBlocked';
  return sendPage(reply, accessBlockedPage({ policyName: decision.decidedBy?.displayName ?? 'conditional access', correlationId: request.id, timestamp: new Date().toISOString() }));
}

/** Where a flow's step forms post and what they show. */
export interface StepTarget {
  /** The sealed-state kind: one per flow, so one flow's page cannot be posted to another. */
  kind: string;
  action: string;
  appName: string;
  /** Origins the answer may redirect to (the client's redirect URI). */
  formTargets: string[];
  /** Why MFA is set up here: a sign-in needs it (default), or the user came to set it up. */
  reason?: 'required' | 'self-service';
}

type Stage = 'verify' | 'enroll' | 'done';

/** What the step's pages carry, sealed. `F` is the flow's own state (the authorize request, a device code). */
interface StepState<F> {
  stage: Stage;
  userId: string;
  tenantId: string;
  amr: AuthMethod[];
  /** The form's anti-forgery token when the step began: the state works only in that browser. */
  browser: string;
  /** The secret being set up (stage `enroll`). */
  secret?: string | undefined;
  flow: F;
}

interface Problem {
  error: string;
  status: number;
}

function issuerOf(services: Services, user: UserRow): string {
  return `Tessera (${services.tenants.domainOf(user.tenant_id)})`;
}

async function render<F>(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  target: StepTarget,
  user: UserRow,
  state: Omit<StepState<F>, 'browser'>,
  problem?: Problem,
  pending?: PendingEnrollment,
): Promise<FastifyReply> {
  const csrf = csrfFor(services, request, reply, 'mfa');
  const sealed = services.interactions.seal(target.kind, { ...state, browser: csrf } satisfies StepState<F>);
  const { username } = userNames(services, user);
  if (state.stage === 'verify') {
    return sendPage(reply, mfaCodePage({ action: target.action, csrf, request: sealed, appName: target.appName, username, error: problem?.error, status: problem?.status, formTargets: target.formTargets }));
  }
  const enrollment = pending ? { ...pending, qrDataUrl: await qrDataUrl(pending.uri) } : undefined;
  return sendPage(
    reply,
    mfaSetupPage({ action: target.action, csrf, request: sealed, username, reason: target.reason ?? 'required', appName: target.appName, enrollment, error: problem?.error, status: problem?.status, formTargets: target.formTargets }),
  );
}

/**
 * Shows the step {@link nextStep} asked for: the code page, or the setup page with a new
 * secret (stored only once the user confirms it with a code).
 */
export function showStep<F>(services: Services, request: FastifyRequest, reply: FastifyReply, target: StepTarget, user: UserRow, stage: 'verify' | 'enroll', amr: readonly AuthMethod[], flow: F): Promise<FastifyReply> {
  const base = { userId: user.id, tenantId: user.tenant_id, amr: [...amr], flow };
  if (stage === 'verify') return render<F>(services, request, reply, target, user, { ...base, stage });
  const pending = services.mfa.newEnrollment(issuerOf(services, user), userNames(services, user).username);
  return render<F>(services, request, reply, target, user, { ...base, stage, secret: pending.secret }, undefined, pending);
}

export type StepOutcome<F> =
  | { kind: 'shown'; reply: FastifyReply }
  | { kind: 'cancel'; flow: F }
  | { kind: 'done'; flow: F; user: UserRow; amr: AuthMethod[] };

/** The methods a sign-in carries once the second factor is given. */
function withSecondFactor(amr: readonly AuthMethod[], method: 'otp' | 'rc'): AuthMethod[] {
  return [...new Set<AuthMethod>([...amr, 'mfa', method])];
}

/**
 * Handles a posted step form of a flow: checks its token and sealed state, then the code
 * (throttled; wrong codes are shown in place and recorded), or the first code of a new
 * authenticator (then the recovery codes, once), or the Continue after them. `targetOf`
 * gives the flow's pages for its state (its application's name may be looked up).
 */
export async function postStep<F>(services: Services, request: FastifyRequest, reply: FastifyReply, kind: string, operation: string, targetOf: (flow: F) => Promise<StepTarget>): Promise<StepOutcome<F>> {
  request.audit.operation = operation;
  const form = formOf(request);
  checkCsrf(services, request, form, 'mfa');
  const state = services.interactions.open<StepState<F>>(kind, form.get('request'));
  if (state.browser !== form.get('csrf')) {
    throw new TesseraError('InvalidCsrfToken', 'This form could not be accepted: the page was opened in another browser. Start the sign-in again.');
  }
  request.audit.tenantId = state.tenantId;
  const user = await services.users.byId(state.userId);
  if (!user || user.enabled !== 1 || user.tenant_id !== state.tenantId) {
    throw new TesseraError('LoginRequired', 'The account can no longer sign in. Start the sign-in again.', { aadCodes: [50058] });
  }
  request.audit.actorId = user.id;
  request.audit.actorName = user.username;
  const action = form.get('action');
  if (action === 'cancel') return { kind: 'cancel', flow: state.flow };
  const target = await targetOf(state.flow);
  const { browser: _bound, ...rest } = state;

  if (state.stage === 'done') {
    if (action !== 'continue') throw new TesseraError('InvalidParameter', 'Choose Continue.', { aadCodes: [900144] });
    request.audit.skip = true;
    return { kind: 'done', flow: state.flow, user, amr: state.amr };
  }

  if (state.stage === 'enroll') {
    request.audit.operation = `${operation}/enroll`;
    if (action === 'restart') {
      request.audit.skip = true;
      return { kind: 'shown', reply: await showStep(services, request, reply, target, user, 'enroll', state.amr, state.flow) };
    }
    if (action !== 'verify') throw new TesseraError('InvalidParameter', 'Choose Verify, Start again or Cancel.', { aadCodes: [900144] });
    const codes = await services.mfa.confirmEnrollment(user, state.secret ?? '', form.get('code') ?? '');
    if (!codes) {
      request.audit.reason = 'InvalidMfaCode';
      return { kind: 'shown', reply: await render(services, request, reply, target, user, rest, { error: 'That code is not right. Enter the code the app shows now (it changes every 30 seconds), or start again.', status: 400 }) };
    }
    const amr = withSecondFactor(state.amr, 'otp');
    const csrf = csrfFor(services, request, reply, 'mfa');
    const next = services.interactions.seal(kind, { ...rest, stage: 'done', secret: undefined, amr, browser: csrf } satisfies StepState<F>);
    return { kind: 'shown', reply: sendPage(reply, mfaRecoveryCodesPage({ codes, next: { action: target.action, csrf, request: next, appName: target.appName }, formTargets: target.formTargets })) };
  }

  if (action !== 'verify') throw new TesseraError('InvalidParameter', 'Choose Verify or Cancel.', { aadCodes: [900144] });
  const typed = form.get('code') ?? '';
  if (typed.trim() === '') {
    request.audit.skip = true;
    return { kind: 'shown', reply: await render(services, request, reply, target, user, rest, { error: 'Enter the code from your authenticator app.', status: 400 }) };
  }
  try {
    const method = await services.mfa.verify(user, typed, request.ip);
    return { kind: 'done', flow: state.flow, user, amr: withSecondFactor(state.amr, method) };
  } catch (err) {
    if (!isTesseraError(err) || !['InvalidMfaCode', 'AccountLocked', 'TooManyRequests'].includes(err.code)) throw err;
    request.audit.reason = err.code;
    if (err.retryAfter !== undefined) reply.header('retry-after', String(err.retryAfter));
    const message =
      err.code === 'InvalidMfaCode' ? err.message : err.code === 'AccountLocked' ? 'Too many wrong codes were entered. The second sign-in step is locked for a while; try again later, or ask an administrator.' : 'Too many wrong codes: wait a moment before trying again.';
    return { kind: 'shown', reply: await render(services, request, reply, target, user, rest, { error: message, status: err.status }) };
  }
}
