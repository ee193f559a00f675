/**
 * Browser sign-in (authorization code + PKCE): `GET /{tenant}/oauth2/v2.0/authorize`
 * checks the request, then signs the user in silently through the browser session, or
 * shows the sign-in page (or, for prompt=select_account, the account page); the forms
 * post back here, and the answer goes to the client's redirect URI as a query
 * (`code`, `state`, `iss`) or, with response_mode=form_post, as a self-submitting form.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import type { UserRow } from '../../identity/users.js';
import type { BrowserSessionRow } from '../../oauth/browserSessions.js';
import { routeConfig } from '../../audit/requestAudit.js';
import { PASSWORD_ONLY, parseAmr } from '../../identity/authMethods.js';
import { TesseraError } from '../../errors.js';
import {
  RedirectableError,
  parseAuthorizationRequest,
  redirectLocation,
  responseParameters,
  type AuthorizationRequest,
  type ErrorDestination,
} from '../../oauth/authorizationRequest.js';
import { cspSource } from '../pages/layout.js';
import { signInPage } from '../pages/signInPage.js';
import { accountPage } from '../pages/accountPage.js';
import { formPostPage } from '../pages/formPostPage.js';
import { checkCsrf, csrfFor, formOf, queryOf, sendPage, signInFromForm, signedInBrowser, startBrowserSession, userNames, type SignedInBrowser } from '../interactive.js';
import { nextStep, postStep, showBlocked, showStep, type StepTarget } from '../mfaStep.js';

interface TenantParams {
  tenant: string;
}

type TenantRequest = FastifyRequest<{ Params: TenantParams }>;

const SEALED_KIND = 'authorize';
/** The MFA step's sealed state (the request rides inside it). */
const MFA_KIND = 'mfa-authorize';

function destinationOf(req: AuthorizationRequest): ErrorDestination {
  return { redirectUri: req.redirectUri, responseMode: req.responseMode, state: req.state, tenantAsWritten: req.tenantAsWritten };
}

export function authorizeRoutes(app: FastifyInstance, services: Services): void {
  const options = { config: routeConfig({ errorStyle: 'page', audit: 'signIn' }) };
  const base = (tenantAsWritten: string) => `${services.publicUrl.pathPrefix}/${encodeURIComponent(tenantAsWritten)}/oauth2/v2.0/authorize`;

  /** Sends the answer to the client: 302/303 with a query, or a form_post page. */
  const respond = (request: FastifyRequest, reply: FastifyReply, destination: ErrorDestination, result: { code: string } | { error: TesseraError }) => {
    const parameters = responseParameters(services, destination, 'code' in result ? result : { error: result.error, requestId: request.id });
    if (destination.responseMode === 'form_post') return sendPage(reply, formPostPage(destination.redirectUri, parameters));
    // After a form post, 303 makes the browser follow with a GET.
    return reply.status(request.method === 'POST' ? 303 : 302).header('location', redirectLocation(destination.redirectUri, parameters)).send();
  };

  const issueCode = async (request: FastifyRequest, reply: FastifyReply, req: AuthorizationRequest, user: UserRow, session: BrowserSessionRow) => {
    request.audit.actorId = user.id;
    request.audit.actorName = user.username;
    const code = await services.authorizationCodes.issue({
      tenantId: req.tenantId,
      clientId: req.clientId,
      redirectUri: req.redirectUri,
      codeChallenge: req.codeChallenge,
      scope: req.scope,
      nonce: req.nonce,
      userId: user.id,
      sessionId: session.id,
      authTime: session.auth_time,
      amr: parseAmr(session.amr),
    });
    return respond(request, reply, destinationOf(req), { code });
  };

  const showSignIn = (request: FastifyRequest, reply: FastifyReply, req: AuthorizationRequest, problem?: { error: string; status: number; username?: string }) => {
    const target = cspSource(req.redirectUri);
    return sendPage(
      reply,
      signInPage({
        action: `${base(req.tenantAsWritten)}/signin`,
        csrf: csrfFor(services, request, reply, 'signin'),
        request: services.interactions.seal(SEALED_KIND, req),
        appName: req.clientName,
        tenantDomain: services.tenants.domainOf(req.tenantId),
        username: problem?.username ?? req.loginHint,
        error: problem?.error,
        status: problem?.status,
        formTargets: target ? [target] : [],
        allowCancel: true,
      }),
    );
  };

  /** Where the MFA step's forms post, for this request. */
  const stepTarget = (req: AuthorizationRequest): StepTarget => {
    const target = cspSource(req.redirectUri);
    return { kind: MFA_KIND, action: `${base(req.tenantAsWritten)}/mfa`, appName: req.clientName, formTargets: target ? [target] : [] };
  };

  /**
   * Signs in through the browser session: a code at once, unless conditional access or
   * the user's enrolled MFA asks for more than the session has done (then the step, or
   * with prompt=none an error to the client).
   */
  const withSession = async (request: FastifyRequest, reply: FastifyReply, req: AuthorizationRequest, browser: SignedInBrowser, silent: boolean) => {
    const amr = parseAmr(browser.session.amr);
    const step = await nextStep(services, request, { user: browser.user, amr, clientApp: 'browser', clientAppId: req.clientId, resource: req.resource });
    if (step.next === 'continue') return issueCode(request, reply, req, browser.user, browser.session);
    if (silent) {
      const error =
        step.next === 'block'
          ? new TesseraError('AccessDenied', 'Access has been blocked by conditional access policies.', { aadCodes: [53003] })
          : new TesseraError('LoginRequired', 'The sign-in needs multi-factor authentication, and prompt=none forbids asking.', { aadCodes: [50076], oauth: 'interaction_required' });
      return respond(request, reply, destinationOf(req), { error });
    }
    if (step.next === 'block') return showBlocked(request, reply, step.decision);
    request.audit.skip = true;
    return showStep(services, request, reply, stepTarget(req), browser.user, step.next, amr, req);
  };

  /** Opens the sealed request of a posted form, after its anti-forgery token. */
  const postedRequest = (request: TenantRequest, purpose: 'signin' | 'account'): { form: Map<string, string>; req: AuthorizationRequest } => {
    const form = formOf(request);
    checkCsrf(services, request, form, purpose);
    const req = services.interactions.open<AuthorizationRequest>(SEALED_KIND, form.get('request'));
    if (req.tenantId !== services.tenants.resolve(request.params.tenant).id) {
      throw new TesseraError('InvalidParameter', 'This sign-in page belongs to another tenant. Start the sign-in again.', { aadCodes: [90002] });
    }
    request.audit.tenantId = req.tenantId;
    return { form, req };
  };

  app.get<{ Params: TenantParams }>('/:tenant/oauth2/v2.0/authorize', options, async (request, reply) => {
    const tenant = services.tenants.resolve(request.params.tenant);
    request.audit.tenantId = tenant.id;
    request.audit.operation = 'authorize';
    let req: AuthorizationRequest;
    try {
      req = await parseAuthorizationRequest(services, tenant, request.params.tenant, queryOf(request));
    } catch (err) {
      if (err instanceof RedirectableError) return respond(request, reply, err.destination, { error: err.error });
      throw err;
    }
    const browser = await signedInBrowser(services, request, tenant.id);
    const fresh = browser !== undefined && (req.maxAge === undefined || services.clock.now() - browser.session.auth_time <= req.maxAge * 1000);
    if (req.prompts.includes('none')) {
      if (!browser || !fresh) {
        return respond(request, reply, destinationOf(req), { error: new TesseraError('LoginRequired', 'The user must sign in: there is no usable browser session, and prompt=none forbids asking.', { aadCodes: [50058] }) });
      }
      return withSession(request, reply, req, browser, true);
    }
    if (!browser || !fresh || req.prompts.includes('login')) {
      // Nothing is recorded for showing a page: the sign-in is recorded when the password is checked.
      request.audit.skip = true;
      return showSignIn(request, reply, req);
    }
    if (req.prompts.includes('select_account')) {
      request.audit.skip = true;
      const target = cspSource(req.redirectUri);
      return sendPage(
        reply,
        accountPage({
          action: `${base(req.tenantAsWritten)}/account`,
          csrf: csrfFor(services, request, reply, 'account'),
          request: services.interactions.seal(SEALED_KIND, req),
          appName: req.clientName,
          ...userNames(services, browser.user),
          formTargets: target ? [target] : [],
        }),
      );
    }
    return withSession(request, reply, req, browser, false);
  });

  app.post<{ Params: TenantParams }>('/:tenant/oauth2/v2.0/authorize/signin', options, async (request, reply) => {
    request.audit.operation = 'authorize/signin';
    const { form, req } = postedRequest(request, 'signin');
    if (form.get('action') === 'cancel') {
      return respond(request, reply, destinationOf(req), { error: new TesseraError('AccessDenied', 'The user cancelled the sign-in.', { aadCodes: [65004] }) });
    }
    const user = await signInFromForm(services, request, reply, req.tenantId, form);
    if (!('id' in user)) return showSignIn(request, reply, req, user);
    const step = await nextStep(services, request, { user, amr: PASSWORD_ONLY, clientApp: 'browser', clientAppId: req.clientId, resource: req.resource });
    if (step.next === 'block') return showBlocked(request, reply, step.decision);
    if (step.next !== 'continue') return showStep(services, request, reply, stepTarget(req), user, step.next, PASSWORD_ONLY, req);
    const session = await startBrowserSession(services, request, reply, user, PASSWORD_ONLY);
    return issueCode(request, reply, req, user, session);
  });

  /** The MFA step: a code, setting MFA up, or Continue after the recovery codes. */
  app.post<{ Params: TenantParams }>('/:tenant/oauth2/v2.0/authorize/mfa', options, async (request, reply) => {
    const outcome = await postStep<AuthorizationRequest>(services, request, reply, MFA_KIND, 'authorize/mfa', (req) => Promise.resolve(stepTarget(req)));
    if (outcome.kind === 'shown') return outcome.reply;
    const req = outcome.flow;
    if (req.tenantId !== services.tenants.resolve(request.params.tenant).id) {
      throw new TesseraError('InvalidParameter', 'This sign-in page belongs to another tenant. Start the sign-in again.', { aadCodes: [90002] });
    }
    if (outcome.kind === 'cancel') {
      return respond(request, reply, destinationOf(req), { error: new TesseraError('AccessDenied', 'The user cancelled the sign-in.', { aadCodes: [65004] }) });
    }
    const session = await startBrowserSession(services, request, reply, outcome.user, outcome.amr);
    return issueCode(request, reply, req, outcome.user, session);
  });

  app.post<{ Params: TenantParams }>('/:tenant/oauth2/v2.0/authorize/account', options, async (request, reply) => {
    request.audit.operation = 'authorize/account';
    const { form, req } = postedRequest(request, 'account');
    const browser = await signedInBrowser(services, request, req.tenantId);
    if (form.get('action') !== 'continue' || !browser) {
      request.audit.skip = true;
      return showSignIn(request, reply, req);
    }
    return withSession(request, reply, req, browser, false);
  });
}
