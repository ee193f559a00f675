/**
 * Users' multi-factor authentication, for administrators: what a user has set up (Graph's
 * `/users/{id}/authentication/methods`; never a secret) and resetting it, which removes
 * the authenticator and the recovery codes and ends the user's sessions. Users set MFA up
 * themselves in the browser, at `{server}/{tenant}/mfa/setup`.
 */
import type { TesseraClient } from './tesseraClient.js';

/** The password, as Graph lists it (never the password itself). */
export interface PasswordAuthenticationMethod {
  '@odata.type': '#microsoft.graph.passwordAuthenticationMethod';
  id: string;
  password: null;
  createdDateTime: string | null;
}

/** A TOTP authenticator app, as Graph lists it (`secretKey` is never returned). */
export interface SoftwareOathAuthenticationMethod {
  '@odata.type': '#microsoft.graph.softwareOathAuthenticationMethod';
  id: string;
  secretKey: null;
  createdDateTime: string;
  lastUsedDateTime: string | null;
  /** Tessera's own: unused recovery codes (ten are given at setup). */
  recoveryCodesRemaining: number;
}

export type AuthenticationMethod = PasswordAuthenticationMethod | SoftwareOathAuthenticationMethod;

/** Whether a user has MFA, and since when. */
export interface UserMfa {
  userId: string;
  userName: string;
  enrolled: boolean;
  /** The authenticator's id (what a reset removes), when enrolled. */
  methodId: string | null;
  createdDateTime: string | null;
  lastUsedDateTime: string | null;
  recoveryCodesRemaining: number | null;
}

/** What a reset did. */
export interface MfaResetResult {
  userId: string;
  userName: string;
  /** False when the user had no authenticator (nothing changed). */
  reset: boolean;
}

const seg = encodeURIComponent;

/**
 * Users' MFA; needs a token with Tessera.Directory permissions (read to show, write to reset).
 * @example
 * const mfa = new MultiFactorAuthentication(new TesseraClient(server, new CliAuthentication()));
 * const { enrolled, recoveryCodesRemaining } = await mfa.show('ada');
 */
export class MultiFactorAuthentication {
  constructor(private readonly client: TesseraClient) {}

  /** The user's authentication methods (by object id or user name), in Graph's shapes. */
  async listMethods(user: string): Promise<AuthenticationMethod[]> {
    return (await this.client.request<{ value: AuthenticationMethod[] }>('GET', `/v1.0/users/${seg(user)}/authentication/methods`)).value;
  }

  /** Whether the user (object id or user name) has MFA set up, when, and how many recovery codes are left. */
  async show(user: string): Promise<UserMfa> {
    const { id, userName } = await this.client.request<{ id: string; userName: string }>('GET', `/v1.0/users/${seg(user)}`);
    const methods = (await this.client.request<{ value: SoftwareOathAuthenticationMethod[] }>('GET', `/v1.0/users/${seg(id)}/authentication/softwareOathMethods`)).value;
    const m = methods[0];
    return {
      userId: id,
      userName,
      enrolled: m !== undefined,
      methodId: m?.id ?? null,
      createdDateTime: m?.createdDateTime ?? null,
      lastUsedDateTime: m?.lastUsedDateTime ?? null,
      recoveryCodesRemaining: m?.recoveryCodesRemaining ?? null,
    };
  }

  /** Removes the user's authenticator and recovery codes and ends their sessions; they may set MFA up again. */
  async reset(user: string): Promise<MfaResetResult> {
    const status = await this.show(user);
    if (status.methodId === null) return { userId: status.userId, userName: status.userName, reset: false };
    await this.client.request('DELETE', `/v1.0/users/${seg(status.userId)}/authentication/softwareOathMethods/${seg(status.methodId)}`);
    return { userId: status.userId, userName: status.userName, reset: true };
  }
}
