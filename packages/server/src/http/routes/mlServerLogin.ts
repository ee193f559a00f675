/**
 * Machine Learning Server's sign-in API, kept as it was: `POST /login`,
 * `POST /login/refreshToken` (rotates the pair) and `DELETE /login/refreshToken`.
 */
import { PASSWORD_ONLY } from '../../identity/authMethods.js';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import { TesseraError } from '../../errors.js';
import { ML_SERVER_CLIENT_ID } from '../../oauth/clients.js';
import { RESOURCE_URIS } from '../../tokens/audiences.js';
import type { UserRow } from '../../identity/users.js';
import type { RefreshTokenRow } from '../../oauth/refreshTokens.js';
import { userSubject } from '../../oauth/userTokens.js';
import { continueSession, type BeforeSpending } from '../../oauth/sessions.js';
import { routeConfig } from '../../audit/requestAudit.js';

interface LoginBody {
  username: string;
  password: string;
}

const loginSchema = {
  body: {
    type: 'object',
    required: ['username', 'password'],
    additionalProperties: false,
    properties: {
      username: { type: 'string', minLength: 1, maxLength: 320 },
      password: { type: 'string', minLength: 1, maxLength: 1024 },
    },
  },
} as const;

const refreshSchema = {
  body: {
    type: 'object',
    required: ['refreshToken'],
    additionalProperties: false,
    properties: { refreshToken: { type: 'string', minLength: 1, maxLength: 512 } },
  },
} as const;

export function mlServerLoginRoutes(app: FastifyInstance, services: Services): void {
  async function tokenPair(user: UserRow, previous?: RefreshTokenRow) {
    const domain = services.tenants.domainOf(user.tenant_id);
    const amr = previous?.amr ?? PASSWORD_ONLY;
    const access = await services.minter.accessToken({
      subject: userSubject(user, domain, amr),
      resource: RESOURCE_URIS.management,
      clientId: ML_SERVER_CLIENT_ID,
      scp: 'user_impersonation',
      lifetimeSec: services.config.accessTokenLifetimeSec,
    });
    const refreshToken = await services.refreshTokens.issue({ tenantId: user.tenant_id, userId: user.id, clientId: ML_SERVER_CLIENT_ID, scope: '', previous, amr });
    return {
      token_type: 'Bearer',
      access_token: access.token,
      expires_in: access.expiresIn,
      expires_on: access.expiresOn,
      refresh_token: refreshToken,
    };
  }

  const config = routeConfig({ audit: 'signIn' });

  app.post<{ Body: LoginBody }>('/login', { schema: loginSchema, config }, async (request) => {
    const tenant = services.tenants.defaultTenant();
    request.audit.tenantId = tenant.id;
    request.audit.operation = 'mlserver/login';
    const user = await services.signIn.signIn({ tenantId: tenant.id, username: request.body.username, password: request.body.password, address: request.ip, audit: request.audit });
    await services.conditionalAccess.enforce(
      { tenantId: tenant.id, subject: { kind: 'user', userId: user.id }, clientAppId: ML_SERVER_CLIENT_ID, resource: RESOURCE_URIS.management, address: request.ip, clientApp: 'mlServerLogin', amr: PASSWORD_ONLY },
      request.audit,
    );
    return tokenPair(user);
  });

  app.post<{ Body: { refreshToken: string } }>('/login/refreshToken', { schema: refreshSchema, config }, async (request) => {
    request.audit.tenantId = services.tenants.defaultTenant().id;
    request.audit.operation = 'mlserver/refreshToken';
    // Conditional access judges before the token is spent: a refusal leaves the session to retry.
    const judge: BeforeSpending = async (held, holder) => {
      request.audit.actorId = holder.id;
      request.audit.actorName = holder.username;
      await services.conditionalAccess.enforce(
        { tenantId: holder.tenant_id, subject: { kind: 'user', userId: holder.id }, clientAppId: ML_SERVER_CLIENT_ID, resource: RESOURCE_URIS.management, address: request.ip, clientApp: 'refresh', amr: held.amr ?? PASSWORD_ONLY },
        request.audit,
      );
    };
    const { previous, user } = await continueSession(services, request.body.refreshToken, ML_SERVER_CLIENT_ID, undefined, false, judge);
    request.audit.actorId = user.id;
    request.audit.actorName = user.username;
    return tokenPair(user, previous);
  });

  app.delete<{ Querystring: { refreshToken?: string } }>('/login/refreshToken', async (request, reply) => {
    const token = request.query.refreshToken;
    if (typeof token !== 'string' || token === '') throw new TesseraError('InvalidParameter', "The query parameter 'refreshToken' is required.");
    if (token.length > 512) throw new TesseraError('InvalidParameter', "The query parameter 'refreshToken' is too long.");
    await services.refreshTokens.revoke(token);
    return reply.status(204).send();
  });
}
