/**
 * Service principals, in Microsoft Graph's shapes under `/v1.0/servicePrincipals`, and
 * their credentials: secrets (addPassword, shown once) and certificates (addKey).
 */
import type { TesseraClient } from './tesseraClient.js';

/** A client secret as listed: never the secret itself, only its first characters' hint. */
export interface PasswordCredential {
  keyId: string;
  displayName: string;
  /** The secret's first characters after its prefix, to tell secrets apart. */
  hint: string;
  startDateTime: string;
  endDateTime: string;
}

/** A new client secret: the only time `secretText` is shown. */
export interface NewPasswordCredential extends PasswordCredential {
  secretText: string;
}

/** A certificate registered for client assertions. */
export interface KeyCredential {
  keyId: string;
  displayName: string;
  type: 'AsymmetricX509Cert';
  usage: 'Verify';
  /** The certificate's SHA-1 thumbprint, upper-case hex. */
  customKeyIdentifier: string;
  startDateTime: string;
  endDateTime: string;
}

/** An identity for automation. */
export interface ServicePrincipal {
  /** Object id. */
  id: string;
  /** Application (client) id: what signs in. */
  appId: string;
  displayName: string;
  accountEnabled: boolean;
  servicePrincipalType: string;
  createdDateTime: string;
  passwordCredentials: PasswordCredential[];
  keyCredentials: KeyCredential[];
}

/** Options of {@link ServicePrincipals.addPassword}. */
export interface AddPasswordOptions {
  displayName?: string | undefined;
  /** When the secret stops working (at most 2 years ahead; default 1 year). */
  endDateTime?: Date | string | undefined;
  /** Remove every other secret of the principal in the same call. */
  removeOthers?: boolean | undefined;
}

const seg = encodeURIComponent;

/**
 * Service principals and their credentials. Ids may be object ids, application ids or display names.
 * @example
 * const sps = new ServicePrincipals(client);
 * const sp = await sps.create('ci-deployer');
 * const { secretText } = await sps.addPassword(sp.id);
 */
export class ServicePrincipals {
  constructor(private readonly client: TesseraClient) {}

  /** Service principals, at most `top` (1 to 999). */
  async list(top?: number): Promise<ServicePrincipal[]> {
    const query = top === undefined ? '' : `?$top=${top}`;
    return (await this.client.request<{ value: ServicePrincipal[] }>('GET', `/v1.0/servicePrincipals${query}`)).value;
  }

  /** Creates a service principal without credentials. */
  create(displayName: string): Promise<ServicePrincipal> {
    return this.client.request<ServicePrincipal>('POST', '/v1.0/servicePrincipals', { displayName });
  }

  /** One service principal, by object id, application id or display name. */
  get(id: string): Promise<ServicePrincipal> {
    return this.client.request<ServicePrincipal>('GET', `/v1.0/servicePrincipals/${seg(id)}`);
  }

  /** Renames, enables or disables a service principal. */
  update(id: string, changes: { displayName?: string; accountEnabled?: boolean }): Promise<ServicePrincipal> {
    return this.client.request<ServicePrincipal>('PATCH', `/v1.0/servicePrincipals/${seg(id)}`, changes);
  }

  /** Deletes a service principal, its credentials and its role assignments. */
  async delete(id: string): Promise<void> {
    await this.client.request('DELETE', `/v1.0/servicePrincipals/${seg(id)}`);
  }

  /** Adds a client secret; the answer is the only time it is shown. */
  addPassword(id: string, options: AddPasswordOptions = {}): Promise<NewPasswordCredential> {
    const passwordCredential: Record<string, string> = {};
    if (options.displayName !== undefined) passwordCredential.displayName = options.displayName;
    if (options.endDateTime !== undefined) passwordCredential.endDateTime = options.endDateTime instanceof Date ? options.endDateTime.toISOString() : options.endDateTime;
    const body: Record<string, unknown> = { passwordCredential };
    if (options.removeOthers) body.removeOthers = true;
    return this.client.request<NewPasswordCredential>('POST', `/v1.0/servicePrincipals/${seg(id)}/addPassword`, body);
  }

  /** Removes a client secret; sign-ins with it fail from then on. */
  async removePassword(id: string, keyId: string): Promise<void> {
    await this.client.request('POST', `/v1.0/servicePrincipals/${seg(id)}/removePassword`, { keyId });
  }

  /** Registers a certificate (PEM, or base64 of DER) for client assertions. Send the certificate only, never its key. */
  addKey(id: string, key: string, displayName?: string): Promise<KeyCredential> {
    const keyCredential: Record<string, string> = { type: 'AsymmetricX509Cert', usage: 'Verify', key };
    if (displayName !== undefined) keyCredential.displayName = displayName;
    return this.client.request<KeyCredential>('POST', `/v1.0/servicePrincipals/${seg(id)}/addKey`, { keyCredential });
  }

  /** Removes a certificate credential. */
  async removeKey(id: string, keyId: string): Promise<void> {
    await this.client.request('POST', `/v1.0/servicePrincipals/${seg(id)}/removeKey`, { keyId });
  }
}
