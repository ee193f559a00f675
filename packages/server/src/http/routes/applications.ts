/**
 * Registered applications, in Microsoft Graph's shape under `/v1.0/applications`: a
 * client id with redirect URIs for public clients and web apps. Graph's credential
 * actions (addPassword / removePassword) are here too; the secrets belong to the
 * application's service principal (same appId), which is what signs in.
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import type { ApplicationRow } from '../../identity/applications.js';
import type { ServicePrincipalRow } from '../../identity/servicePrincipals.js';
import { TesseraError } from '../../errors.js';
import { MAX_REDIRECT_URIS, MAX_REDIRECT_URI_LENGTH } from '../../oauth/redirectUris.js';
import { authorize, requireAuth } from '../auth.js';
import { DISPLAY_NAME_PATTERN } from '../../identity/validate.js';
import { topOf, type ListQuery } from './listing.js';

interface IdParams {
  id: string;
}

interface ApplicationBody {
  displayName?: string;
  publicClient?: { redirectUris?: string[] };
  web?: { redirectUris?: string[] };
  isFallbackPublicClient?: boolean;
}

const idParams = { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 256 } } } as const;
const displayName = { type: 'string', minLength: 1, maxLength: 256, pattern: DISPLAY_NAME_PATTERN } as const;
const dateTime = { type: 'string', minLength: 10, maxLength: 40 } as const;
const redirectUris = { type: 'array', maxItems: MAX_REDIRECT_URIS, items: { type: 'string', minLength: 1, maxLength: MAX_REDIRECT_URI_LENGTH } } as const;
const redirectSettings = { type: 'object', additionalProperties: false, properties: { redirectUris } } as const;
const applicationProperties = { displayName, publicClient: redirectSettings, web: redirectSettings, isFallbackPublicClient: { type: 'boolean' } } as const;

/** Room for Entra's limits: 256 URIs of 256 characters, of each kind (the server's default limit is 64 KiB). */
const APPLICATION_BODY_LIMIT = 256 * 1024;

const createSchema = {
  body: { type: 'object', required: ['displayName'], additionalProperties: false, properties: applicationProperties },
} as const;
const patchSchema = {
  params: idParams,
  body: { type: 'object', additionalProperties: false, minProperties: 1, properties: applicationProperties },
} as const;
const addPasswordSchema = {
  params: idParams,
  body: {
    type: 'object',
    additionalProperties: false,
    properties: {
      passwordCredential: { type: 'object', additionalProperties: false, properties: { displayName, endDateTime: dateTime, startDateTime: dateTime } },
      /** Tessera's own: remove every other secret in the same call (az's credential reset without --append). */
      removeOthers: { type: 'boolean' },
    },
  },
} as const;
const removeSchema = {
  params: idParams,
  body: { type: 'object', required: ['keyId'], additionalProperties: false, properties: { keyId: { type: 'string', minLength: 1, maxLength: 64 } } },
} as const;

function inputOf(body: ApplicationBody) {
  return {
    displayName: body.displayName,
    publicRedirectUris: body.publicClient?.redirectUris,
    webRedirectUris: body.web?.redirectUris,
    isFallbackPublicClient: body.isFallbackPublicClient,
  };
}

export function applicationRoutes(app: FastifyInstance, services: Services): void {
  const auth = { preHandler: requireAuth(services) };
  const apps = services.applications;
  const sps = services.servicePrincipals;
  const read = 'Tessera.Directory/applications/read';
  const write = 'Tessera.Directory/applications/write';

  /** The service principal that holds an application's credentials. */
  async function principalOf(row: ApplicationRow): Promise<ServicePrincipalRow> {
    const sp = await sps.byAppId(row.app_id);
    if (!sp || sp.tenant_id !== row.tenant_id) throw new TesseraError('ResourceNotFound', 'The application has no service principal to hold its credentials.');
    return sp;
  }

  app.get<{ Querystring: ListQuery }>('/v1.0/applications', auth, async (request) => {
    const caller = await authorize(services, request, read, '/');
    const rows = await apps.list(caller.tenantId, topOf(request.query));
    return { value: await Promise.all(rows.map((r) => apps.describe(r))) };
  });

  app.post<{ Body: ApplicationBody & { displayName: string } }>(
    '/v1.0/applications',
    { ...auth, schema: createSchema, bodyLimit: APPLICATION_BODY_LIMIT },
    async (request, reply) => {
      const caller = await authorize(services, request, write, '/');
      const row = await apps.create(caller.tenantId, { ...inputOf(request.body), displayName: request.body.displayName }, caller.objectId);
      return reply.status(201).send(await apps.describe(row));
    },
  );

  app.get<{ Params: IdParams }>('/v1.0/applications/:id', { ...auth, schema: { params: idParams } }, async (request) => {
    const caller = await authorize(services, request, read, '/');
    return apps.describe(await apps.get(caller.tenantId, request.params.id));
  });

  app.patch<{ Params: IdParams; Body: ApplicationBody }>('/v1.0/applications/:id', { ...auth, schema: patchSchema, bodyLimit: APPLICATION_BODY_LIMIT }, async (request) => {
    const caller = await authorize(services, request, write, '/');
    return apps.describe(await apps.update(caller.tenantId, request.params.id, inputOf(request.body)));
  });

  app.delete<{ Params: IdParams }>('/v1.0/applications/:id', { ...auth, schema: { params: idParams } }, async (request, reply) => {
    const caller = await authorize(services, request, 'Tessera.Directory/applications/delete', '/');
    await apps.delete(caller.tenantId, request.params.id);
    // Its service principal's role assignments went with it.
    services.access.invalidate();
    return reply.status(204).send();
  });

  app.post<{ Params: IdParams; Body: { passwordCredential?: { displayName?: string; endDateTime?: string }; removeOthers?: boolean } | undefined }>(
    '/v1.0/applications/:id/addPassword',
    { ...auth, schema: addPasswordSchema },
    async (request) => {
      const caller = await authorize(services, request, write, '/');
      const sp = await principalOf(await apps.get(caller.tenantId, request.params.id));
      const input = request.body?.passwordCredential ?? {};
      return sps.addPassword(caller.tenantId, sp.id, { displayName: input.displayName, endDateTime: input.endDateTime }, request.body?.removeOthers === true);
    },
  );

  app.post<{ Params: IdParams; Body: { keyId: string } }>('/v1.0/applications/:id/removePassword', { ...auth, schema: removeSchema }, async (request, reply) => {
    const caller = await authorize(services, request, write, '/');
    const sp = await principalOf(await apps.get(caller.tenantId, request.params.id));
    await sps.removeCredential(caller.tenantId, sp.id, request.body.keyId, 'secret');
    return reply.status(204).send();
  });
}
