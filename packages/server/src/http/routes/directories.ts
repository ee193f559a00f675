/**
 * The directories (LDAP, Active Directory) users sign in with:
 * `GET /admin/directories`, `GET|PUT|DELETE /admin/directories/{name}` (the service
 * account's password is write-only, sealed at rest), `POST /admin/directories/test`
 * (`{userName, directory?}`: what the account would get, never a password) and
 * `POST /admin/directories/sync`. The rules are in ldap/.
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services.js';
import { authorize, requireAuth } from '../auth.js';
import { TesseraError } from '../../errors.js';

const NAME = { type: 'string', pattern: '^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$' } as const;
const TEXT = { type: 'string', maxLength: 1024 } as const;
const FLAG = { type: 'boolean' } as const;
const WHOLE = { type: 'integer', minimum: 0, maximum: 604800 } as const;

const settingsBody = {
  type: 'object',
  additionalProperties: false,
  required: ['urls', 'searchBase'],
  properties: {
    kind: { type: 'string', enum: ['openldap', 'activeDirectory'] },
    urls: { type: 'array', minItems: 1, maxItems: 8, items: { type: 'string', minLength: 1, maxLength: 300 } },
    startTls: FLAG,
    insecure: FLAG,
    caFile: TEXT,
    bindDn: TEXT,
    bindPassword: { type: 'string', minLength: 1, maxLength: 1024 },
    searchBase: TEXT,
    searchFilter: TEXT,
    uniqueIdAttribute: TEXT,
    usernameAttribute: TEXT,
    displayNameAttribute: TEXT,
    mailAttribute: TEXT,
    groupAttribute: TEXT,
    groupSearchBase: TEXT,
    groupSearchFilter: TEXT,
    groupNameAttribute: TEXT,
    groupUniqueIdAttribute: TEXT,
    nestedGroups: { type: 'string', enum: ['none', 'recursive', 'inChain'] },
    timeoutMs: WHOLE,
    connectTimeoutMs: WHOLE,
    poolSize: WHOLE,
    maxGroups: { type: 'integer', minimum: 1, maximum: 100000 },
    syncIntervalSec: WHOLE,
  },
} as const;

const READ = 'Tessera.Directory/directories/read';

export function directoryRoutes(app: FastifyInstance, services: Services): void {
  const auth = { preHandler: requireAuth(services) };
  const named = { type: 'object', required: ['name'], properties: { name: NAME } } as const;

  app.get('/admin/directories', auth, async (request) => {
    await authorize(services, request, READ, '/');
    return { value: await services.directories.list() };
  });

  app.get<{ Params: { name: string } }>('/admin/directories/:name', { ...auth, schema: { params: named } }, async (request) => {
    await authorize(services, request, READ, '/');
    return services.directories.show(request.params.name);
  });

  app.put<{ Params: { name: string }; Body: Record<string, unknown> }>('/admin/directories/:name', { ...auth, schema: { params: named, body: settingsBody } }, async (request) => {
    const caller = await authorize(services, request, 'Tessera.Directory/directories/write', '/');
    return services.directories.put(request.params.name, request.body, caller.objectId);
  });

  app.delete<{ Params: { name: string } }>('/admin/directories/:name', { ...auth, schema: { params: named } }, async (request, reply) => {
    await authorize(services, request, 'Tessera.Directory/directories/delete', '/');
    await services.directories.remove(request.params.name);
    return reply.status(204).send();
  });

  app.post<{ Body: { userName?: unknown; directory?: unknown } }>(
    '/admin/directories/test',
    {
      ...auth,
      schema: {
        body: { type: 'object', additionalProperties: false, required: ['userName'], properties: { userName: { type: 'string', minLength: 1, maxLength: 256 }, directory: NAME } },
      },
    },
    async (request) => {
      const caller = await authorize(services, request, 'Tessera.Directory/directories/test/action', '/');
      const { userName, directory } = request.body;
      if (typeof userName !== 'string') throw new TesseraError('InvalidParameter', 'userName is required.');
      return { value: await services.directories.test(caller.tenantId, userName, typeof directory === 'string' ? directory : undefined) };
    },
  );

  app.post('/admin/directories/sync', auth, async (request) => {
    await authorize(services, request, 'Tessera.Directory/directories/sync/action', '/');
    return services.directories.sync();
  });
}
