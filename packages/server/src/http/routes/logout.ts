/**
 * The end-session endpoint (OpenID Connect RP-Initiated Logout):
 * `GET /{tenant}/oauth2/v2.0/logout` asks the signed-in user to confirm (a link alone,
 * which any site can make a browser follow, must not sign anyone out); the confirming
 * form ends the browser session and every refresh-token chain begun through it, clears
 * the cookie, and returns to `post_logout_redirect_uri` only if it is registered for the
 * client named by `client_id` (no open redirect), otherwise shows the signed-out page.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import type { Services } from '../../services.js';
import { routeConfig } from '../../audit/requestAudit.js';
import { findClient } from '../../oauth/clients.js';
import { findRedirectUri } from '../../oauth/redirectUris.js';
import type { Tenant } from '../../oauth/tenants.js';
import { cspSource } from '../pages/layout.js';
import { messagePage } from '../pages/messagePage.js';
import { signOutPage } from '../pages/signOutPage.js';
import { checkCsrf, clearBrowserSession, csrfFor, formOf, queryOf, sendPage, signedInBrowser, userNames } from '../interactive.js';

interface TenantParams {
  tenant: string;
}

interface SignOutState {
  tenantId: string;
  /** A checked post-logout redirect URI, with state appended. */
  returnTo?: string | undefined;
}

/** The client a logout names: client_id, else the audience of the id token hint (only used to pick whose URIs to check). */
function clientIdOf(params: Map<string, string>): string | undefined {
  const explicit = params.get('client_id');
  if (explicit) return explicit;
  const hint = params.get('id_token_hint');
  if (!hint || hint.length > 16 * 1024) return undefined;
  try {
    const aud = decodeJwt(hint).aud;
    return typeof aud === 'string' ? aud : undefined;
  } catch {
    return undefined;
  }
}

async function returnTarget(services: Services, tenant: Tenant, params: Map<string, string>): Promise<string | undefined> {
  const uri = params.get('post_logout_redirect_uri');
  const clientId = clientIdOf(params);
  if (!uri || !clientId || clientId.length > 64) return undefined;
  const client = await findClient(services.applications, tenant, clientId);
  if (!client || !findRedirectUri([...client.publicRedirectUris, ...client.webRedirectUris], uri)) return undefined;
  const state = params.get('state');
  const url = new URL(uri);
  if (state !== undefined && state.length <= 4096) url.searchParams.append('state', state);
  return url.toString();
}

export function logoutRoutes(app: FastifyInstance, services: Services): void {
  const options = { config: routeConfig({ errorStyle: 'page', audit: 'signIn' }) };
  const signedOut = (reply: FastifyReply, returnTo: string | undefined, method: string) =>
    returnTo
      ? reply.status(method === 'POST' ? 303 : 302).header('location', returnTo).send()
      : sendPage(reply, messagePage('Signed out', 'You have signed out. You can close this window.'));

  app.get<{ Params: TenantParams }>('/:tenant/oauth2/v2.0/logout', options, async (request, reply) => {
    request.audit.skip = true;
    const tenant = services.tenants.resolve(request.params.tenant);
    const returnTo = await returnTarget(services, tenant, queryOf(request));
    const browser = await signedInBrowser(services, request, tenant.id);
    if (!browser) return signedOut(reply, returnTo, 'GET');
    const target = returnTo ? cspSource(returnTo) : undefined;
    return sendPage(
      reply,
      signOutPage({
        action: `${services.publicUrl.pathPrefix}/${encodeURIComponent(request.params.tenant)}/oauth2/v2.0/logout`,
        csrf: csrfFor(services, request, reply, 'signout'),
        request: services.interactions.seal('signout', { tenantId: tenant.id, returnTo } satisfies SignOutState),
        ...userNames(services, browser.user),
        formTargets: target ? [target] : [],
      }),
    );
  });

  app.post<{ Params: TenantParams }>('/:tenant/oauth2/v2.0/logout', options, async (request: FastifyRequest<{ Params: TenantParams }>, reply) => {
    request.audit.operation = 'logout';
    const form = formOf(request);
    checkCsrf(services, request, form, 'signout');
    const state = services.interactions.open<SignOutState>('signout', form.get('request'));
    request.audit.tenantId = state.tenantId;
    const browser = await signedInBrowser(services, request, state.tenantId);
    if (browser) {
      request.audit.actorId = browser.user.id;
      request.audit.actorName = browser.user.username;
      await services.browserSessions.revoke(browser.session.id);
      await services.refreshTokens.revokeBrowserSession(browser.session.id);
    } else {
      request.audit.skip = true;
    }
    clearBrowserSession(services, reply);
    return signedOut(reply, state.returnTo, 'POST');
  });
}
