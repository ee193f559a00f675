/**
 * Registered applications, in Microsoft Graph's `application` shape under
 * `/v1.0/applications`: a client id with redirect URIs for public clients (native apps,
 * PKCE, no secret) and web apps (confidential). Each application has a service principal
 * with the same appId, created and deleted with it; its secrets (addPassword, shown
 * once) are the principal's.
 */
import type { TesseraClient } from './tesseraClient.js';
import type { AddPasswordOptions, NewPasswordCredential } from './servicePrincipals.js';

/** Redirect URIs of one kind. */
export interface RedirectUriSettings {
  redirectUris: string[];
}

/** A registered application. */
export interface Application {
  /** Object id of the application. */
  id: string;
  /** Application (client) id: what signs in, and its service principal's appId. */
  appId: string;
  displayName: string;
  createdDateTime: string;
  /** Device-code and password flows without a client secret ("allow public client flows"). */
  isFallbackPublicClient: boolean;
  /** Redirect URIs of a public client (native app, CLI): PKCE, no secret. */
  publicClient: RedirectUriSettings;
  /** Redirect URIs of a web app, which authenticates when it redeems a code. */
  web: RedirectUriSettings;
  signInAudience: string;
  /** Object id of its service principal (what role assignments name); null if it has none. */
  servicePrincipalId: string | null;
}

/** What {@link Applications.create} takes. */
export interface NewApplication {
  displayName: string;
  publicClient?: { redirectUris: string[] } | undefined;
  web?: { redirectUris: string[] } | undefined;
  isFallbackPublicClient?: boolean | undefined;
}

/** What {@link Applications.update} takes: only the fields given change; a list given replaces the old one. */
export interface ApplicationChanges {
  displayName?: string | undefined;
  publicClient?: { redirectUris: string[] } | undefined;
  web?: { redirectUris: string[] } | undefined;
  isFallbackPublicClient?: boolean | undefined;
}

const seg = encodeURIComponent;

/** The body without the fields left undefined (the server refuses nulls it does not know). */
function defined(input: NewApplication | ApplicationChanges): Record<string, unknown> {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
}

/**
 * Registered applications and their secrets. Ids may be object ids, application ids or display names.
 * @example
 * const apps = new Applications(client);
 * const app = await apps.create({ displayName: 'notebook', publicClient: { redirectUris: ['http://localhost'] } });
 * const { secretText } = await apps.addPassword(app.id);
 */
export class Applications {
  constructor(private readonly client: TesseraClient) {}

  /** Applications, at most `top` (1 to 999). */
  async list(top?: number): Promise<Application[]> {
    const query = top === undefined ? '' : `?$top=${top}`;
    return (await this.client.request<{ value: Application[] }>('GET', `/v1.0/applications${query}`)).value;
  }

  /** Registers an application (and its service principal), without credentials. */
  create(application: NewApplication): Promise<Application> {
    return this.client.request<Application>('POST', '/v1.0/applications', defined(application));
  }

  /** One application, by object id, application id or display name. */
  get(id: string): Promise<Application> {
    return this.client.request<Application>('GET', `/v1.0/applications/${seg(id)}`);
  }

  /** Renames an application (its service principal too), or replaces its redirect URIs or public-flow setting. */
  update(id: string, changes: ApplicationChanges): Promise<Application> {
    return this.client.request<Application>('PATCH', `/v1.0/applications/${seg(id)}`, defined(changes));
  }

  /** Deletes an application and its service principal, with its credentials and role assignments. */
  async delete(id: string): Promise<void> {
    await this.client.request('DELETE', `/v1.0/applications/${seg(id)}`);
  }

  /** Adds a client secret (to the application's service principal); the answer is the only time it is shown. */
  addPassword(id: string, options: AddPasswordOptions = {}): Promise<NewPasswordCredential> {
    const passwordCredential: Record<string, string> = {};
    if (options.displayName !== undefined) passwordCredential.displayName = options.displayName;
    if (options.endDateTime !== undefined) passwordCredential.endDateTime = options.endDateTime instanceof Date ? options.endDateTime.toISOString() : options.endDateTime;
    const body: Record<string, unknown> = { passwordCredential };
    if (options.removeOthers) body.removeOthers = true;
    return this.client.request<NewPasswordCredential>('POST', `/v1.0/applications/${seg(id)}/addPassword`, body);
  }

  /** Removes a client secret; sign-ins with it fail from then on. */
  async removePassword(id: string, keyId: string): Promise<void> {
    await this.client.request('POST', `/v1.0/applications/${seg(id)}/removePassword`, { keyId });
  }
}
