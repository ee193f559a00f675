/** Parameter helpers shared by the grant handlers. */
import { TesseraError } from '../../errors.js';
import { authenticateClient, type ClientIdentity } from '../clientAuth.js';
import type { OAuthClient } from '../clients.js';
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

/**
 * The public client of a user sign-in grant that takes no redirect (password, device
 * code), authenticated like every other client (so a credential sent along is checked,
 * never ignored); confidential clients may not use these grants, and a registered
 * application only when it allows public-client flows (`isFallbackPublicClient`).
 */
export async function publicClient(ctx: GrantContext): Promise<{ clientId: string; client: OAuthClient }> {
  const client = await authenticateClient(ctx);
  if (client.type !== 'public') {
    throw new TesseraError('UnauthorizedClient', 'A service principal signs in with client_credentials, not with a user grant.', { aadCodes: [700016] });
  }
  if (!client.client.allowPublicFlows) throw publicFlowsNotAllowed();
  return client;
}

/** Entra's answer when an application that does not allow public-client flows sends no secret. */
export function publicFlowsNotAllowed(): TesseraError {
  return new TesseraError('InvalidClient', "The request body must contain 'client_secret' or 'client_assertion': this application does not allow public-client flows (isFallbackPublicClient).", { aadCodes: [7000218] });
}

/** Any client: public, or confidential with its credential checked (the refresh and authorization-code grants). */
export function anyClient(ctx: GrantContext): Promise<ClientIdentity> {
  return authenticateClient(ctx);
}

/** The scope (v2) or resource (v1) asked for. */
export function askedScope(ctx: GrantContext, fallback?: string): ParsedScope {
  if (ctx.version === 'v1') {
    const resource = ctx.params.get('resource');
    if (resource) return parseResource(resource);
  }
  return parseScope(ctx.params.get('scope') ?? fallback);
}
