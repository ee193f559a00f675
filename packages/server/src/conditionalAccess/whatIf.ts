/**
 * What-if: a sign-in described in a request body, turned into the {@link AccessRequest}
 * the token paths build, so `POST /v1.0/identity/conditionalAccess/evaluate` runs the
 * very evaluation a real sign-in runs.
 */
import { TesseraError } from '../errors.js';
import { AUTH_METHODS, type AuthMethod, type ClientAppKind } from '../identity/authMethods.js';
import { hasControlChars, isGuid } from '../identity/validate.js';
import { TESSERA_CLI_CLIENT_ID } from '../oauth/clients.js';
import { RESOURCE_URIS } from '../tokens/audiences.js';
import { parseAddress } from './addresses.js';
import type { AccessRequest } from './evaluate.js';

export const WHAT_IF_CLIENT_APPS: readonly ClientAppKind[] = ['browser', 'deviceCode', 'password', 'clientCredentials', 'refresh', 'mlServerLogin'];

/** The body of a what-if request. */
export interface WhatIfInput {
  /** A user's object id or user name. */
  user?: string;
  /** A service principal's appId, object id or display name. */
  servicePrincipal?: string;
  /** The client application's appId (default: the Tessera CLI for a user, the principal's own appId for a service principal). */
  clientAppId?: string;
  /** Default api://tessera/management. */
  resource?: string;
  ipAddress: string;
  clientApp: ClientAppKind;
  /** Methods the sign-in has done (default ['pwd'] for a user). */
  amr?: AuthMethod[];
}

/** The JSON schema the route declares (shape only; the rules are below). */
export const WHAT_IF_SCHEMA = {
  type: 'object',
  required: ['ipAddress', 'clientApp'],
  additionalProperties: false,
  properties: {
    user: { type: 'string', minLength: 1, maxLength: 320 },
    servicePrincipal: { type: 'string', minLength: 1, maxLength: 256 },
    clientAppId: { type: 'string', minLength: 1, maxLength: 64 },
    resource: { type: 'string', minLength: 1, maxLength: 512 },
    ipAddress: { type: 'string', minLength: 1, maxLength: 64 },
    clientApp: { type: 'string', enum: [...WHAT_IF_CLIENT_APPS] },
    amr: { type: 'array', maxItems: 4, items: { type: 'string', enum: [...AUTH_METHODS] } },
  },
} as const;

export interface WhatIfLookups {
  user(idOrName: string): Promise<{ id: string } | undefined>;
  servicePrincipal(idOrName: string): Promise<{ id: string; appId: string } | undefined>;
}

/** Checks a what-if body and resolves its subject; a 400 names what is wrong. */
export async function whatIfRequest(tenantId: string, input: WhatIfInput, lookups: WhatIfLookups): Promise<AccessRequest> {
  if ((input.user === undefined) === (input.servicePrincipal === undefined)) throw new TesseraError('InvalidParameter', "Give exactly one of 'user' and 'servicePrincipal'.");
  if (!parseAddress(input.ipAddress)) throw new TesseraError('InvalidParameter', "'ipAddress' must be an IPv4 or IPv6 address.");
  if (input.clientAppId !== undefined && !isGuid(input.clientAppId)) throw new TesseraError('InvalidParameter', "'clientAppId' must be an application id (a GUID).");
  if (input.resource !== undefined && hasControlChars(input.resource)) throw new TesseraError('InvalidParameter', "'resource' must be a resource URI.");
  const resource = input.resource ?? RESOURCE_URIS.management;
  if (input.user !== undefined) {
    if (input.clientApp === 'clientCredentials') throw new TesseraError('InvalidParameter', "A user does not sign in with clientCredentials: give 'servicePrincipal', or another clientApp.");
    const user = hasControlChars(input.user) ? undefined : await lookups.user(input.user);
    if (!user) throw new TesseraError('InvalidParameter', "'user' names no user (give an object id or user name).");
    return { tenantId, subject: { kind: 'user', userId: user.id }, clientAppId: (input.clientAppId ?? TESSERA_CLI_CLIENT_ID).toLowerCase(), resource, address: input.ipAddress, clientApp: input.clientApp, amr: input.amr ?? ['pwd'] };
  }
  if (input.clientApp !== 'clientCredentials') throw new TesseraError('InvalidParameter', "A service principal signs in with clientCredentials only.");
  const sp = hasControlChars(input.servicePrincipal!) ? undefined : await lookups.servicePrincipal(input.servicePrincipal!);
  if (!sp) throw new TesseraError('InvalidParameter', "'servicePrincipal' names no service principal (give an appId, object id or name).");
  return { tenantId, subject: { kind: 'servicePrincipal', servicePrincipalId: sp.id, appId: sp.appId }, clientAppId: (input.clientAppId ?? sp.appId).toLowerCase(), resource, address: input.ipAddress, clientApp: 'clientCredentials', amr: [] };
}
