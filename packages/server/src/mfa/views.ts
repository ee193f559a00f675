/**
 * A user's authentication methods in Microsoft Graph's shapes
 * (`/users/{id}/authentication/methods`): the password, and the TOTP authenticator as a
 * `softwareOathAuthenticationMethod` whose `secretKey` is never returned. Tessera adds
 * when it was set up, last used, and how many recovery codes are left.
 */
import type { MfaStatus } from './mfa.js';

/** Graph's fixed id of the password method. */
export const PASSWORD_METHOD_ID = '28c10230-6103-485e-b985-444c60001490';

export interface PasswordMethodView {
  '@odata.type': '#microsoft.graph.passwordAuthenticationMethod';
  id: string;
  password: null;
  createdDateTime: string | null;
}

export interface SoftwareOathMethodView {
  '@odata.type': '#microsoft.graph.softwareOathAuthenticationMethod';
  id: string;
  secretKey: null;
  createdDateTime: string;
  lastUsedDateTime: string | null;
  recoveryCodesRemaining: number;
}

export function passwordMethodView(passwordChangedAt: number | null): PasswordMethodView {
  return { '@odata.type': '#microsoft.graph.passwordAuthenticationMethod', id: PASSWORD_METHOD_ID, password: null, createdDateTime: passwordChangedAt === null ? null : new Date(passwordChangedAt).toISOString() };
}

export function softwareOathMethodView(status: MfaStatus): SoftwareOathMethodView {
  return {
    '@odata.type': '#microsoft.graph.softwareOathAuthenticationMethod',
    id: status.methodId,
    secretKey: null,
    createdDateTime: new Date(status.createdAt).toISOString(),
    lastUsedDateTime: status.lastUsedAt === null ? null : new Date(status.lastUsedAt).toISOString(),
    recoveryCodesRemaining: status.recoveryCodesRemaining,
  };
}
