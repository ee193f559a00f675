/** The resources Tessera issues tokens for, and the token type every credential returns. */

/** A bearer token for one resource and when it stops working. */
export interface AccessToken {
  token: string;
  /** Epoch seconds. */
  expiresOn: number;
}

/**
 * Tessera's own resource URIs; ask for one with {@link AbstractAuthentication.getToken}.
 * Azure's `https://management.azure.com/` and `https://ml.azure.com` are accepted aliases.
 */
export const Audience = {
  /** The management API: directory, keys, workspaces. */
  ControlPlane: 'api://tessera/management',
  /** The workspace data plane. */
  Workspace: 'api://tessera/workspace',
  /** azureml's name for {@link Audience.ControlPlane}, so ported code reads as it did. */
  ARM: 'api://tessera/management',
  /** azureml's name for {@link Audience.Workspace}. */
  AZUREML: 'api://tessera/workspace',
} as const;

/** The first-party public client id the CLI and SDK present on OAuth endpoints. */
export const TESSERA_CLI_CLIENT_ID = '3c8a5a4e-0f7d-4b8e-9d3a-7e2b1c6f9a01';
