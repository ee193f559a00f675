/**
 * The device-code verification page (RFC 8628 §3.3), at `verification_uri`
 * (`/devicelogin`): the user types the code, signs in (or continues with the browser
 * session), sees which application asks for which resource, and approves or refuses.
 * Wrong codes are counted per address and per typed code, like failed passwords.
 */
import { PASSWORD_ONLY, parseAmr } from '../../identity/authMethods.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../services.js';
import type { DeviceCodeRow } from '../../oauth/deviceCodes.js';
import { routeConfig } from '../../audit/requestAudit.js';
import { TesseraError } from '../../errors.js';
import { addressKey } from '../../identity/throttle.js';
import { findClient } from '../../oauth/clients.js';
import { deviceCodePage } from '../pages/deviceCodePage.js';
import { signInPage } from '../pages/signInPage.js';
import { consentPage } from '../pages/consentPage.js';
import { messagePage } from '../pages/messagePage.js';
import { checkCsrf, csrfFor, formOf, sendPage, signInFromForm, signedInBrowser, startBrowserSession, userNames, type SignedInBrowser } from '../interactive.js';
import { nextStep, postStep, showBlocked, showStep, type StepTarget } from '../mfaStep.js';
import { parseResource, parseScope } from '../../oauth/scopes.js';
import type { AuthMethod } from '../../identity/authMethods.js';
import type { UserRow } from '../../identity/users.js';

/** What the sign-in and consent forms carry, sealed. */
interface DeviceState {
  deviceCodeHash: string;
}
interface ConsentState extends DeviceState {
  userId: string;
  sessionId: string;
}

/** The MFA step's sealed state (the device code's hash rides inside it). */
const MFA_KIND = 'mfa-device';

const NOT_VALID = 'That code is not valid, or it has expired or was already used. Check the code your device shows and try again.';

export function deviceLoginRoutes(app: FastifyInstance, services: Services): void {
  const options = { config: routeConfig({ errorStyle: 'page', audit: 'signIn' }) };
  const path = `${services.publicUrl.pathPrefix}/devicelogin`;

  const showCodeEntry = (request: FastifyRequest, reply: FastifyReply, problem?: { error: string; status: number; code?: string }) =>
    sendPage(reply, deviceCodePage({ action: path, csrf: csrfFor(services, request, reply, 'device-code'), error: problem?.error, status: problem?.status, code: problem?.code }));

  const clientName = async (row: DeviceCodeRow) => {
    const tenant = services.tenants.byId(row.tenant_id);
    const client = tenant ? await findClient(services.applications, tenant, row.client_id) : undefined;
    return client?.name ?? row.client_id;
  };

  const showSignIn = async (request: FastifyRequest, reply: FastifyReply, row: DeviceCodeRow, problem?: { error: string; status: number; username?: string }) =>
    sendPage(
      reply,
      signInPage({
        action: `${path}/signin`,
        csrf: csrfFor(services, request, reply, 'device-signin'),
        request: services.interactions.seal('device', { deviceCodeHash: row.device_code_hash } satisfies DeviceState),
        appName: await clientName(row),
        tenantDomain: services.tenants.domainOf(row.tenant_id),
        username: problem?.username,
        error: problem?.error,
        status: problem?.status,
        allowCancel: true,
      }),
    );

  const showConsent = async (request: FastifyRequest, reply: FastifyReply, row: DeviceCodeRow, browser: SignedInBrowser) =>
    sendPage(
      reply,
      consentPage({
        action: `${path}/consent`,
        csrf: csrfFor(services, request, reply, 'device-consent'),
        request: services.interactions.seal('device-consent', { deviceCodeHash: row.device_code_hash, userId: browser.user.id, sessionId: browser.session.id } satisfies ConsentState),
        appName: await clientName(row),
        resource: row.v1 === 1 ? row.scope : row.scope.split(' ').filter((s) => s.includes('/')).join(' ') || 'api://tessera/management/.default',
        ...userNames(services, browser.user),
      }),
    );

  const stepTarget = async (row: DeviceCodeRow): Promise<StepTarget> => ({ kind: MFA_KIND, action: `${path}/mfa`, appName: await clientName(row), formTargets: [] });

  /**
   * After the password (no session yet) or with the browser's session: the consent page,
   * unless conditional access blocks or the MFA step comes first.
   */
  const afterSignIn = async (request: FastifyRequest, reply: FastifyReply, row: DeviceCodeRow, user: UserRow, amr: readonly AuthMethod[], browser: SignedInBrowser | undefined) => {
    const resource = (row.v1 === 1 ? parseResource(row.scope) : parseScope(row.scope)).resource;
    const step = await nextStep(services, request, { user, amr, clientApp: 'deviceCode', clientAppId: row.client_id, resource });
    if (step.next === 'block') return showBlocked(request, reply, step.decision);
    if (step.next !== 'continue') return showStep(services, request, reply, await stepTarget(row), user, step.next, amr, { deviceCodeHash: row.device_code_hash } satisfies DeviceState);
    if (browser) return showConsent(request, reply, row, browser);
    const session = await startBrowserSession(services, request, reply, user, amr);
    return showConsent(request, reply, row, { session, user });
  };

  /** The request a sealed form names, still pending. */
  const pendingRow = async (deviceCodeHash: string): Promise<DeviceCodeRow> => {
    const row = await services.deviceCodes.byHash(deviceCodeHash);
    if (!row || row.status !== 'pending' || row.expires_at <= services.clock.now()) {
      throw new TesseraError('ExpiredToken', 'This sign-in request has expired or was already answered. Start again on your device.', { aadCodes: [70020] });
    }
    return row;
  };

  const refuse = async (request: FastifyRequest, reply: FastifyReply, row: DeviceCodeRow) => {
    request.audit.operation = 'devicelogin/refuse';
    await services.deviceCodes.decline(row.device_code_hash);
    return sendPage(reply, messagePage('Sign-in refused', `You refused the sign-in to ${await clientName(row)}. The device will not be signed in. You can close this window.`));
  };

  app.get('/devicelogin', options, async (request, reply) => {
    request.audit.skip = true;
    return showCodeEntry(request, reply);
  });

  app.post('/devicelogin', options, async (request, reply) => {
    request.audit.skip = true;
    const form = formOf(request);
    checkCsrf(services, request, form, 'device-code');
    const typed = form.get('user_code') ?? '';
    const keys = { account: services.throttle.userCodeKey(typed.slice(0, 64)), address: addressKey(request.ip) };
    try {
      await services.throttle.check(keys);
    } catch (err) {
      if (!(err instanceof TesseraError)) throw err;
      if (err.retryAfter !== undefined) reply.header('retry-after', String(err.retryAfter));
      return showCodeEntry(request, reply, { error: 'Too many wrong codes were entered from here. Wait a while, then try again.', status: 429 });
    }
    const row = typed.trim() === '' ? undefined : await services.deviceCodes.findPending(typed);
    if (!row) {
      await services.throttle.recordFailure(keys);
      return showCodeEntry(request, reply, { error: NOT_VALID, status: 400, code: typed.slice(0, 64) });
    }
    const browser = await signedInBrowser(services, request, row.tenant_id);
    return browser ? afterSignIn(request, reply, row, browser.user, parseAmr(browser.session.amr), browser) : showSignIn(request, reply, row);
  });

  app.post('/devicelogin/signin', options, async (request, reply) => {
    request.audit.operation = 'devicelogin/signin';
    const form = formOf(request);
    checkCsrf(services, request, form, 'device-signin');
    const state = services.interactions.open<DeviceState>('device', form.get('request'));
    const row = await pendingRow(state.deviceCodeHash);
    request.audit.tenantId = row.tenant_id;
    if (form.get('action') === 'cancel') return refuse(request, reply, row);
    const user = await signInFromForm(services, request, reply, row.tenant_id, form);
    if (!('id' in user)) return showSignIn(request, reply, row, user);
    return afterSignIn(request, reply, row, user, PASSWORD_ONLY, undefined);
  });

  /** The MFA step: a code, setting MFA up, or Continue after the recovery codes; then the consent page. */
  app.post('/devicelogin/mfa', options, async (request, reply) => {
    const outcome = await postStep<DeviceState>(services, request, reply, MFA_KIND, 'devicelogin/mfa', async (state) => stepTarget(await pendingRow(state.deviceCodeHash)));
    if (outcome.kind === 'shown') return outcome.reply;
    const row = await pendingRow(outcome.flow.deviceCodeHash);
    if (outcome.kind === 'cancel') return refuse(request, reply, row);
    const session = await startBrowserSession(services, request, reply, outcome.user, outcome.amr);
    return showConsent(request, reply, row, { session, user: outcome.user });
  });

  app.post('/devicelogin/consent', options, async (request, reply) => {
    request.audit.operation = 'devicelogin/approve';
    const form = formOf(request);
    checkCsrf(services, request, form, 'device-consent');
    const state = services.interactions.open<ConsentState>('device-consent', form.get('request'));
    const row = await pendingRow(state.deviceCodeHash);
    request.audit.tenantId = row.tenant_id;
    // The page was shown to this browser's session for this user: both must still hold.
    const browser = await signedInBrowser(services, request, row.tenant_id);
    if (!browser || browser.session.id !== state.sessionId || browser.user.id !== state.userId) {
      throw new TesseraError('LoginRequired', 'Your session ended before you answered. Enter the code again.', { aadCodes: [50058] });
    }
    request.audit.actorId = browser.user.id;
    request.audit.actorName = browser.user.username;
    const decision = form.get('decision');
    if (decision === 'refuse') return refuse(request, reply, row);
    if (decision !== 'approve') throw new TesseraError('InvalidParameter', 'Choose Continue or Refuse.', { aadCodes: [900144] });
    if (!(await services.deviceCodes.approve(row.device_code_hash, browser.user.id, browser.session.id, browser.session.auth_time, parseAmr(browser.session.amr)))) {
      throw new TesseraError('ExpiredToken', 'This sign-in request has expired or was already answered. Start again on your device.', { aadCodes: [70020] });
    }
    return sendPage(reply, messagePage("You're signed in", `You have signed in to ${await clientName(row)} on your other device. You can close this window.`));
  });
}
