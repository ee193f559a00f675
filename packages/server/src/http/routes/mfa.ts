/**
 * Multi-factor authentication outside the sign-in flows:
 * - `GET /{tenant}/mfa/setup`: a signed-in browser user sets up an authenticator app
 *   (QR code and key, first code, recovery codes shown once); without a session the page
 *   asks for the password first. A user who already has one is told to ask an
 *   administrator to reset it.
 * - Graph's `/v1.0/users/{id}/authentication/methods` and `…/softwareOathMethods[/{id}]`
 *   for administrators: what a user has set up (never a secret), and DELETE to reset it,
 *   which also ends the user's browser sessions and refresh-token chains.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import type { UserRow } from '../../identity/users.js';
import { PASSWORD_ONLY } from '../../identity/authMethods.js';
import { routeConfig } from '../../audit/requestAudit.js';
import { TesseraError } from '../../errors.js';
import { authorize, requireAuth } from '../auth.js';
import { passwordMethodView, softwareOathMethodView } from '../../mfa/views.js';
import { csrfFor, checkCsrf, formOf, sendPage, signInFromForm, signedInBrowser, startBrowserSession } from '../interactive.js';
import { postStep, showStep, type StepTarget } from '../mfaStep.js';
import { signInPage } from '../pages/signInPage.js';
import { messagePage } from '../pages/messagePage.js';

interface TenantParams {
  tenant: string;
}
interface UserParams {
  id: string;
}
interface MethodParams extends UserParams {
  methodId: string;
}

/** The self-service setup's sealed state: the browser session it belongs to. */
interface SetupFlow {
  sessionId: string;
}

const SETUP_KIND = 'mfa-setup';
const SIGNIN_KIND = 'mfa-setup-signin';

const userParams = { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 320 } } } as const;
const methodParams = { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 320 }, methodId: { type: 'string', minLength: 1, maxLength: 64 } } } as const;

const ALREADY = 'Multi-factor authentication is already set up for this account. If you lost your authenticator app and your recovery codes, ask an administrator to reset it.';

export function mfaRoutes(app: FastifyInstance, services: Services): void {
  const pageOptions = { config: routeConfig({ errorStyle: 'page', audit: 'signIn' }) };
  const setupPath = (tenant: string) => `${services.publicUrl.pathPrefix}/${encodeURIComponent(tenant)}/mfa/setup`;
  const target = (tenant: string): StepTarget => ({ kind: SETUP_KIND, action: setupPath(tenant), appName: 'Tessera', formTargets: [], reason: 'self-service' });

  const showPasswordPage = (request: FastifyRequest, reply: FastifyReply, tenantId: string, tenantAsWritten: string, problem?: { error: string; status: number; username?: string }) =>
    sendPage(
      reply,
      signInPage({
        action: `${setupPath(tenantAsWritten)}/signin`,
        csrf: csrfFor(services, request, reply, 'signin'),
        request: services.interactions.seal(SIGNIN_KIND, { tenantId }),
        appName: 'multi-factor authentication setup',
        tenantDomain: services.tenants.domainOf(tenantId),
        username: problem?.username,
        error: problem?.error,
        status: problem?.status,
        allowCancel: false,
      }),
    );

  const startSetup = async (request: FastifyRequest, reply: FastifyReply, tenantAsWritten: string, user: UserRow, sessionId: string) => {
    if (await services.mfa.isEnrolled(user.id)) return sendPage(reply, messagePage('Already set up', ALREADY));
    return showStep<SetupFlow>(services, request, reply, target(tenantAsWritten), user, 'enroll', PASSWORD_ONLY, { sessionId });
  };

  app.get<{ Params: TenantParams }>('/:tenant/mfa/setup', pageOptions, async (request, reply) => {
    const tenant = services.tenants.resolve(request.params.tenant);
    request.audit.skip = true;
    const browser = await signedInBrowser(services, request, tenant.id);
    if (!browser) return showPasswordPage(request, reply, tenant.id, request.params.tenant);
    return startSetup(request, reply, request.params.tenant, browser.user, browser.session.id);
  });

  app.post<{ Params: TenantParams }>('/:tenant/mfa/setup/signin', pageOptions, async (request, reply) => {
    request.audit.operation = 'mfa/setup/signin';
    const form = formOf(request);
    checkCsrf(services, request, form, 'signin');
    const { tenantId } = services.interactions.open<{ tenantId: string }>(SIGNIN_KIND, form.get('request'));
    if (tenantId !== services.tenants.resolve(request.params.tenant).id) {
      throw new TesseraError('InvalidParameter', 'This sign-in page belongs to another tenant. Start again.', { aadCodes: [90002] });
    }
    request.audit.tenantId = tenantId;
    const user = await signInFromForm(services, request, reply, tenantId, form);
    if (!('id' in user)) return showPasswordPage(request, reply, tenantId, request.params.tenant, user);
    // A user who has MFA gets no password-only session here.
    if (await services.mfa.isEnrolled(user.id)) return sendPage(reply, messagePage('Already set up', ALREADY));
    const session = await startBrowserSession(services, request, reply, user, PASSWORD_ONLY);
    return startSetup(request, reply, request.params.tenant, user, session.id);
  });

  app.post<{ Params: TenantParams }>('/:tenant/mfa/setup', pageOptions, async (request, reply) => {
    const tenant = services.tenants.resolve(request.params.tenant);
    const outcome = await postStep<SetupFlow>(services, request, reply, SETUP_KIND, 'mfa/setup', async (flow) => {
      // The page belongs to the browser session that opened it, in this tenant.
      const browser = await signedInBrowser(services, request, tenant.id);
      if (!browser || browser.session.id !== flow.sessionId) {
        throw new TesseraError('LoginRequired', 'Your session ended before you finished. Open the setup page again.', { aadCodes: [50058] });
      }
      return target(request.params.tenant);
    });
    if (outcome.kind === 'shown') return outcome.reply;
    request.audit.skip = true;
    if (outcome.kind === 'cancel') return sendPage(reply, messagePage('Setup cancelled', 'Multi-factor authentication was not set up. You can close this window.'));
    return sendPage(reply, messagePage("You're all set", 'Multi-factor authentication is set up: the next sign-ins will ask for a code from your authenticator app. You can close this window.'));
  });

  const auth = { preHandler: requireAuth(services) };

  /** The user's methods and their authenticator, if any. */
  const methodsOf = async (tenantId: string, id: string) => {
    const user = await services.users.get(tenantId, id);
    return { user, status: await services.mfa.status(user.id) };
  };

  app.get<{ Params: UserParams }>('/v1.0/users/:id/authentication/methods', { ...auth, schema: { params: userParams } }, async (request) => {
    const caller = await authorize(services, request, 'Tessera.Directory/users/read', '/');
    const { user, status } = await methodsOf(caller.tenantId, request.params.id);
    const value: object[] = [];
    if (user.password_hash !== null) value.push(passwordMethodView(user.password_changed_at));
    if (status) value.push(softwareOathMethodView(status));
    return { value };
  });

  app.get<{ Params: UserParams }>('/v1.0/users/:id/authentication/softwareOathMethods', { ...auth, schema: { params: userParams } }, async (request) => {
    const caller = await authorize(services, request, 'Tessera.Directory/users/read', '/');
    const { status } = await methodsOf(caller.tenantId, request.params.id);
    return { value: status ? [softwareOathMethodView(status)] : [] };
  });

  const methodNotFound = () => new TesseraError('ResourceNotFound', 'The user has no software OATH authentication method with that id.');

  app.get<{ Params: MethodParams }>('/v1.0/users/:id/authentication/softwareOathMethods/:methodId', { ...auth, schema: { params: methodParams } }, async (request) => {
    const caller = await authorize(services, request, 'Tessera.Directory/users/read', '/');
    const { status } = await methodsOf(caller.tenantId, request.params.id);
    if (!status || status.methodId !== request.params.methodId.toLowerCase()) throw methodNotFound();
    return softwareOathMethodView(status);
  });

  app.delete<{ Params: MethodParams }>('/v1.0/users/:id/authentication/softwareOathMethods/:methodId', { ...auth, schema: { params: methodParams } }, async (request, reply) => {
    const caller = await authorize(services, request, 'Tessera.Directory/users/write', '/');
    const { user, status } = await methodsOf(caller.tenantId, request.params.id);
    if (!status || status.methodId !== request.params.methodId.toLowerCase()) throw methodNotFound();
    request.audit.target = `/v1.0/users/${user.id}/authentication/softwareOathMethods/${status.methodId}`;
    await services.mfa.reset(user);
    return reply.status(204).send();
  });
}
