/** Parameter helpers shared by the grant handlers. */
import { TesseraError } from '../../errors.js';
import { findPublicClient, type PublicClient } from '../clients.js';
import { parseResource, parseScope, type ParsedScope } from '../scopes.js';
import type { GrantContext } from './types.js';

export function required(ctx: GrantContext, name: string, maxLength = 4096): string {
  const value = ctx.params.get(name);
  if (value === undefined || value === '') {
    throw new TesseraError('InvalidParameter', `The request body must contain the parameter '${name}'.`, { aadCodes: [900144] });
  }
  if (value.length > maxLength) throw new TesseraError('InvalidParameter', `The parameter '${name}' is too long.`, { aadCodes: [90100] });
  return value;
}

/** The public client named by `client_id`. */
export function publicClient(ctx: GrantContext): PublicClient {
  const client = findPublicClient(required(ctx, 'client_id', 128));
  if (!client) {
    throw new TesseraError('UnauthorizedClient', 'The application with that client_id was not found in the tenant, or may not use this grant.', { aadCodes: [700016] });
  }
  return client;
}

/** The scope (v2) or resource (v1) asked for. */
export function askedScope(ctx: GrantContext, fallback?: string): ParsedScope {
  if (ctx.version === 'v1') {
    const resource = ctx.params.get('resource');
    if (resource) return parseResource(resource);
  }
  return parseScope(ctx.params.get('scope') ?? fallback);
}
