/**
 * The resources Tessera issues tokens for. A token is for one of them. Tessera's own
 * URIs come first; Azure's well-known ones are accepted as aliases so code written for
 * Azure runs unchanged. Resource URIs compare without regard to case or trailing slash.
 */
export type AudienceId = 'management' | 'workspace';

/** The canonical resource URI of each audience (what the SDK asks for). */
export const RESOURCE_URIS: Record<AudienceId, string> = {
  management: 'api://tessera/management',
  workspace: 'api://tessera/workspace',
};

const ALIASES: Record<AudienceId, string[]> = {
  management: [RESOURCE_URIS.management, 'https://management.azure.com/', 'https://management.core.windows.net/'],
  workspace: [RESOURCE_URIS.workspace, 'https://ml.azure.com'],
};

const byResource = new Map<string, AudienceId>();
for (const [id, uris] of Object.entries(ALIASES) as [AudienceId, string[]][]) {
  for (const uri of uris) byResource.set(normalizeResource(uri), id);
}

/**
 * Adds another URI for an audience: the server's own public URL names the control plane,
 * as Azure's SDK-auth files use `managementEndpointUrl` as a token resource.
 */
export function addResourceAlias(uri: string, audience: AudienceId): void {
  byResource.set(normalizeResource(uri), audience);
}

/** Lower-cased, without trailing slashes. */
export function normalizeResource(resource: string): string {
  return resource.toLowerCase().replace(/\/+$/, '');
}

/** The audience a resource URI names, or undefined when it is not one of ours. */
export function audienceOf(resource: string): AudienceId | undefined {
  return byResource.get(normalizeResource(resource));
}
