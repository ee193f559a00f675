/**
 * `DeployClient`, as azureml-deploy had it: a client for one server, signed in with
 * Machine Learning Server's `/login`, with an Azure AD context (password or device code),
 * or with any other credential.
 */
import { AbstractAuthentication, type AuthenticationOptions } from './abstractAuthentication.js';
import { ActiveDirectoryAuthentication, type ActiveDirectoryContext } from './activeDirectoryAuthentication.js';
import { Audience, type AccessToken } from './audience.js';
import type { HttpClientOptions } from './http.js';
import { MLServerAuthentication } from './mlServerAuthentication.js';
import { TesseraClient, type HttpMethod, type Me } from './tesseraClient.js';
import { Service, ServiceDefinition, deleteService, getService, listServices, redeployService, type ServiceDescription, type ServiceUpdate } from './mlServerServices.js';

/** Options of {@link DeployClient}. */
export interface DeployClientOptions extends AuthenticationOptions, HttpClientOptions {
  /** The server flavour; Tessera speaks Machine Learning Server's API. */
  use: 'MLServer';
  /**
   * `[username, password]` or `{ username, password }` for `/login`; an Azure AD context
   * (`{ authuri, tenant, clientid, resource, username?, password?, userCodeCallback? }`);
   * or a credential such as {@link CliAuthentication}.
   */
  auth: readonly [username: string, password: string] | { username: string; password: string } | ActiveDirectoryContext | AbstractAuthentication;
}

/**
 * A signed-in client for one Tessera server.
 * @example
 * const client = new DeployClient('https://127.0.0.1:5080', { use: 'MLServer', auth: ['admin', password] });
 * console.log((await client.me()).userName);
 * await client.logout(); * @example
 * // Machine Learning Server's Azure AD context: no password, so a device code is shown.
 * const client = new DeployClient(server, { use: 'MLServer', auth: { authuri: server, tenant: 'tessera.local', clientid: TESSERA_CLI_CLIENT_ID, resource: Audience.ControlPlane, userCodeCallback: ({ message }) => console.error(message) } });
 */
export class DeployClient {
  readonly auth: AbstractAuthentication;
  private readonly client: TesseraClient;

  constructor(
    readonly host: string,
    options: DeployClientOptions,
  ) {
    if (options.use !== 'MLServer') throw new TypeError(`DeployClient supports use: 'MLServer', not '${String(options.use)}'.`);
    const { auth } = options;
    if (auth instanceof AbstractAuthentication) {
      this.auth = auth;
    } else if (auth !== null && typeof auth === 'object' && !Array.isArray(auth) && 'authuri' in auth) {
      this.auth = new ActiveDirectoryAuthentication(auth, options);
    } else {
      const [username, password] = Array.isArray(auth) ? auth : auth !== null && typeof auth === 'object' ? [(auth as { username?: unknown }).username, (auth as { password?: unknown }).password] : [];
      if (typeof username !== 'string' || typeof password !== 'string') {
        throw new TypeError('auth must be [username, password], { username, password }, an Azure AD context { authuri, tenant, clientid, resource, … } or an AbstractAuthentication.');
      }
      this.auth = new MLServerAuthentication(host, username, password, options);
    }
    this.client = new TesseraClient(host, this.auth, options);
  }

  /** A management-API access token (signing in, or refreshing, when needed). */
  getToken(): Promise<AccessToken> {
    return this.auth.getToken(Audience.ControlPlane);
  }

  /** The signed-in principal. */
  me(): Promise<Me> {
    return this.client.me();
  }

  /** An authenticated JSON request; see {@link TesseraClient.request}. */
  request<T = unknown>(method: HttpMethod, path: string, body?: unknown): Promise<T> {
    return this.client.request<T>(method, path, body);
  }

  /**
   * Starts a service definition to publish.
   * @example await client.service('add').version('1.0').codeStr('z = x + y').inputs({ x: 'numeric', y: 'numeric' }).outputs({ z: 'numeric' }).deploy()
   */
  service(name: string): ServiceDefinition {
    return new ServiceDefinition(this.client, name);
  }

  /** Updates a published version with `update` (absent fields stay). */
  redeployService(name: string, version: string, update: ServiceUpdate): Promise<Service> {
    return redeployService(this.client, name, version, update);
  }

  /** Descriptions of every service you may read, of `name`'s versions, or of one version. */
  listServices(name?: string, version?: string): Promise<ServiceDescription[]> {
    return listServices(this.client, name, version);
  }

  /** A version of a service to consume; the latest published without `version`. */
  getService(name: string, options: { version?: string } = {}): Promise<Service> {
    return getService(this.client, name, options);
  }

  /** Deletes one version of a service. */
  deleteService(name: string, options: { version: string }): Promise<void> {
    return deleteService(this.client, name, options);
  }

  /** Signs out: revokes the `/login` or Azure AD session's refresh token at the server; other credentials just forget their tokens. */
  async logout(): Promise<void> {
    if (this.auth instanceof MLServerAuthentication || this.auth instanceof ActiveDirectoryAuthentication) await this.auth.logout();
    else this.auth.clearCache();
  }
}
