/**
 * The `scope` parameter: OpenID Connect scopes plus at most one resource scope
 * (`<resource>/.default` or `<resource>/user_impersonation`). The resource must be one
 * of ours (tokens/audiences.ts). The response echoes the scope as asked, because the
 * client libraries cache a token only under exactly the scopes they requested.
 */
import { TesseraError } from '../errors.js';
import { RESOURCE_URIS, audienceOf, type AudienceId } from '../tokens/audiences.js';

export const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);
const MAX_SCOPE_LENGTH = 2048;

export interface ParsedScope {
  /** The scope string as asked, whitespace normalized. */
  asked: string;
  /** The resource URI as written (without `/.default`), which becomes `aud`. */
  resource: string;
  audience: AudienceId;
  /** The permission after the resource: `.default` or `user_impersonation`. */
  permission: string;
  oidc: Set<string>;
}

function invalidScope(message: string, aadCode: number): TesseraError {
  return new TesseraError('InvalidScope', message, { aadCodes: [aadCode] });
}

/**
 * Parses a v2 `scope`. With no resource scope, the token is for the control plane.
 * @example parseScope('api://tessera/management/.default offline_access')
 */
export function parseScope(scope: string | undefined): ParsedScope {
  const text = (scope ?? '').trim();
  if (text.length > MAX_SCOPE_LENGTH) throw invalidScope(`The scope is longer than ${MAX_SCOPE_LENGTH} characters.`, 70011);
  const items = text === '' ? [] : text.split(/\s+/);
  const oidc = new Set<string>();
  let resource: { uri: string; permission: string; audience: AudienceId } | undefined;
  for (const item of items) {
    if (OIDC_SCOPES.has(item.toLowerCase())) {
      oidc.add(item.toLowerCase());
      continue;
    }
    const slash = item.endsWith('//.default') ? item.length - '/.default'.length : item.lastIndexOf('/');
    if (slash <= 0 || /[\u0000-\u0020\u007f"\\]/.test(item)) throw invalidScope('The scope is malformed: each entry is an OpenID scope or <resource>/.default.', 70011);
    const uri = item.slice(0, slash);
    const permission = item.slice(slash + 1);
    if (permission !== '.default' && permission !== 'user_impersonation') {
      throw invalidScope("The scope names a permission this server does not have: use '<resource>/.default'.", 70011);
    }
    const audience = audienceOf(uri);
    if (!audience) throw invalidScope('The resource in the scope is not a resource of this server.', 500011);
    if (resource && audienceOf(resource.uri) !== audience) throw invalidScope('The scope names more than one resource: ask for one resource per token.', 28000);
    resource ??= { uri, permission, audience };
  }
  const chosen = resource ?? { uri: RESOURCE_URIS.management, permission: '.default', audience: 'management' as const };
  return { asked: items.join(' '), resource: chosen.uri, audience: chosen.audience, permission: chosen.permission, oidc };
}

/** Parses the v1 endpoint's `resource` parameter. */
export function parseResource(resource: string): ParsedScope {
  if (resource.length > 512 || /[\u0000-\u0020\u007f]/.test(resource)) throw invalidScope('The resource is malformed.', 50001);
  const audience = audienceOf(resource);
  if (!audience) throw invalidScope('The resource is not a resource of this server.', 500011);
  return { asked: '', resource, audience, permission: 'user_impersonation', oidc: new Set(['openid']) };
}
