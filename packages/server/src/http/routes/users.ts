/**
 * Users, in Microsoft Graph's shape under `/v1.0/users` (so Graph scripts carry over).
 * Every route needs a Tessera.Directory permission at the root scope `/`.
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import { TesseraError } from '../../errors.js';
import { authorize, callerOf, requireAuth } from '../auth.js';
import { DISPLAY_NAME_PATTERN, EMAIL_PATTERN } from '../../identity/validate.js';
import { topOf, type ListQuery } from './listing.js';
import { filterOne, parseGraphFilter } from '../../identity/graphFilter.js';

interface IdParams {
  id: string;
}

interface PasswordProfile {
  password: string;
}

interface CreateBody {
  userName?: string;
  userPrincipalName?: string;
  displayName?: string;
  mail?: string | null;
  accountEnabled?: boolean;
  passwordProfile: PasswordProfile;
}

interface PatchBody {
  displayName?: string;
  mail?: string | null;
  accountEnabled?: boolean;
  passwordProfile?: PasswordProfile;
}

const passwordProfile = {
  type: 'object',
  required: ['password'],
  additionalProperties: false,
  properties: { password: { type: 'string', minLength: 1, maxLength: 1024 }, forceChangePasswordNextSignIn: { type: 'boolean' } },
} as const;

const idParams = { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 320 } } } as const;

const createSchema = {
  body: {
    type: 'object',
    required: ['passwordProfile'],
    additionalProperties: false,
    properties: {
      userName: { type: 'string', minLength: 1, maxLength: 64 },
      userPrincipalName: { type: 'string', minLength: 1, maxLength: 320 },
      displayName: { type: 'string', minLength: 1, maxLength: 256, pattern: DISPLAY_NAME_PATTERN },
      mail: { anyOf: [{ type: 'string', maxLength: 320, pattern: EMAIL_PATTERN }, { type: 'null' }] },
      accountEnabled: { type: 'boolean' },
      mailNickname: { type: 'string', maxLength: 64 },
      passwordProfile,
    },
  },
} as const;

const patchSchema = {
  params: idParams,
  body: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: {
      displayName: { type: 'string', minLength: 1, maxLength: 256, pattern: DISPLAY_NAME_PATTERN },
      mail: { anyOf: [{ type: 'string', maxLength: 320, pattern: EMAIL_PATTERN }, { type: 'null' }] },
      accountEnabled: { type: 'boolean' },
      passwordProfile,
    },
  },
} as const;

const changePasswordSchema = {
  body: {
    type: 'object',
    required: ['currentPassword', 'newPassword'],
    additionalProperties: false,
    properties: { currentPassword: { type: 'string', minLength: 1, maxLength: 1024 }, newPassword: { type: 'string', minLength: 1, maxLength: 1024 } },
  },
} as const;

/** The user name from `userName`, or from a `userPrincipalName` in this tenant's domain. */
function usernameOf(body: CreateBody, domain: string): string {
  if (body.userName) return body.userName;
  const upn = body.userPrincipalName;
  if (!upn) throw new TesseraError('InvalidParameter', "The request must name the user: give 'userName' (or 'userPrincipalName').");
  const at = upn.lastIndexOf('@');
  if (at < 0) return upn;
  if (upn.slice(at + 1).toLowerCase() !== domain) throw new TesseraError('InvalidParameter', `userPrincipalName must end in @${domain}, this tenant's domain.`);
  return upn.slice(0, at);
}

export function userRoutes(app: FastifyInstance, services: Services): void {
  const auth = { preHandler: requireAuth(services) };
  const { users, throttle } = services;

  app.get<{ Querystring: ListQuery }>('/v1.0/users', auth, async (request) => {
    const caller = await authorize(services, request, 'Tessera.Directory/users/read', '/');
    const filter = parseGraphFilter(request.query.$filter, ['userPrincipalName', 'id']);
    if (filter) {
      const found = async (value: string) => { const row = await users.find(caller.tenantId, value); return row && users.view(row); };
      return { value: await filterOne(filter, found, (v, p) => (p === 'id' ? v.id : v.userPrincipalName)) };
    }
    const rows = await users.list(caller.tenantId, topOf(request.query));
    return { value: rows.map((r) => users.view(r)) };
  });

  app.post<{ Body: CreateBody }>('/v1.0/users', { ...auth, schema: createSchema }, async (request, reply) => {
    const caller = await authorize(services, request, 'Tessera.Directory/users/write', '/');
    const body = request.body;
    const row = await users.create(caller.tenantId, {
      username: usernameOf(body, services.tenants.domainOf(caller.tenantId)),
      displayName: body.displayName,
      email: body.mail,
      enabled: body.accountEnabled,
      password: body.passwordProfile.password,
    });
    return reply.status(201).send(users.view(row));
  });

  app.get<{ Params: IdParams }>('/v1.0/users/:id', { ...auth, schema: { params: idParams } }, async (request) => {
    const caller = await authorize(services, request, 'Tessera.Directory/users/read', '/');
    return users.view(await users.get(caller.tenantId, request.params.id));
  });

  app.patch<{ Params: IdParams; Body: PatchBody }>('/v1.0/users/:id', { ...auth, schema: patchSchema }, async (request) => {
    const caller = await authorize(services, request, 'Tessera.Directory/users/write', '/');
    const b = request.body;
    const row = await users.update(
      caller.tenantId,
      request.params.id,
      { displayName: b.displayName, email: b.mail, enabled: b.accountEnabled, password: b.passwordProfile?.password },
      caller.objectId,
    );
    return users.view(row);
  });

  app.delete<{ Params: IdParams }>('/v1.0/users/:id', { ...auth, schema: { params: idParams } }, async (request, reply) => {
    const caller = await authorize(services, request, 'Tessera.Directory/users/delete', '/');
    await users.delete(caller.tenantId, request.params.id, caller.objectId);
    return reply.status(204).send();
  });

  /** Clears the user's failed sign-ins and lockout (not in Graph: Tessera's own). */
  app.post<{ Params: IdParams }>('/v1.0/users/:id/unlock', { ...auth, schema: { params: idParams } }, async (request, reply) => {
    const caller = await authorize(services, request, 'Tessera.Directory/users/write', '/');
    const row = await users.get(caller.tenantId, request.params.id);
    await throttle.clear(throttle.userKey(caller.tenantId, row.id));
    return reply.status(204).send();
  });

  app.get('/v1.0/me', auth, async (request) => {
    const caller = callerOf(request);
    return users.view(await users.get(caller.tenantId, caller.objectId));
  });

  /** A user changes their own password; the current one must be given. */
  app.post<{ Body: { currentPassword: string; newPassword: string } }>('/v1.0/me/changePassword', { ...auth, schema: changePasswordSchema }, async (request, reply) => {
    const caller = callerOf(request);
    const me = await users.get(caller.tenantId, caller.objectId);
    await services.signIn.signIn({ tenantId: caller.tenantId, username: me.username, password: request.body.currentPassword, address: request.ip });
    await users.update(caller.tenantId, caller.objectId, { password: request.body.newPassword });
    return reply.status(204).send();
  });
}
