/**
 * A service principal signing in as itself (the client-credentials grant) with a client
 * secret or a certificate, as azureml's ServicePrincipalAuthentication does: for CI/CD
 * jobs and other automation. Tokens are cached per audience until shortly before expiry.
 */
import { AbstractAuthentication, type AuthenticationOptions } from './abstractAuthentication.js';
import type { AccessToken } from './audience.js';
import { createClientAssertion, loadClientCertificate, type AssertionAlgorithm, type ClientCertificate } from './clientAssertion.js';
import { HttpClient, type HttpClientOptions } from './http.js';
import { normalizeServerUrl } from './serverUrl.js';
import { clientCredentialsGrant, tokenUrl, type ClientCredential } from './tokenEndpoint.js';

/** Options of {@link ServicePrincipalAuthentication}: a secret or a certificate, not both. */
export interface ServicePrincipalAuthenticationOptions extends AuthenticationOptions, HttpClientOptions {
  /** The Tessera server's base URL, e.g. `https://ml.example.com`. */
  server: string;
  /** The tenant id (or domain). */
  tenantId: string;
  /** The service principal's application (client) id. */
  servicePrincipalId: string;
  /** A client secret (`tscs_…`). */
  servicePrincipalPassword?: string | undefined;
  /** A PEM holding the registered certificate and its private key. */
  certificate?: string | undefined;
  /** The password of an encrypted private key in `certificate`. */
  certificatePassword?: string | undefined;
  /** The client assertion's algorithm: RS256 (default for RSA keys) or PS256; EC keys use ES256. */
  assertionAlgorithm?: AssertionAlgorithm | undefined;
}

/** The environment variables {@link ServicePrincipalAuthentication.fromEnv} reads. */
export const SERVICE_PRINCIPAL_ENV = {
  tenantId: 'AML_TENANT_ID',
  servicePrincipalId: 'AML_PRINCIPAL_ID',
  servicePrincipalPassword: 'AML_PRINCIPAL_PASS',
  /** The server URL; `TESSERA_SERVER` is read when this is not set. */
  server: 'AML_SERVER_URL',
} as const;

function required(value: string | undefined, name: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new TypeError(`ServicePrincipalAuthentication needs ${name}.`);
  return value;
}

/**
 * Authenticates as a service principal.
 * @example
 * const auth = new ServicePrincipalAuthentication({ server, tenantId, servicePrincipalId: appId, servicePrincipalPassword: secret });
 * const { token } = await auth.getToken(Audience.ControlPlane);
 * @example
 * // In CI: AML_SERVER_URL, AML_TENANT_ID, AML_PRINCIPAL_ID and AML_PRINCIPAL_PASS set by the pipeline.
 * const auth = ServicePrincipalAuthentication.fromEnv();
 */
export class ServicePrincipalAuthentication extends AbstractAuthentication {
  readonly server: string;
  readonly tenantId: string;
  readonly servicePrincipalId: string;
  private readonly http: HttpClient;
  private readonly secret: string | undefined;
  private readonly cert: ClientCertificate | undefined;
  private readonly algorithm: AssertionAlgorithm | undefined;

  constructor(options: ServicePrincipalAuthenticationOptions) {
    super(options);
    this.server = normalizeServerUrl(required(options.server, 'the server URL (server)'));
    this.tenantId = required(options.tenantId, 'tenantId');
    this.servicePrincipalId = required(options.servicePrincipalId, "servicePrincipalId (the principal's application id)");
    const hasSecret = options.servicePrincipalPassword !== undefined;
    const hasCert = options.certificate !== undefined;
    if (hasSecret === hasCert) throw new TypeError('ServicePrincipalAuthentication needs either servicePrincipalPassword or certificate (exactly one).');
    if (hasSecret) this.secret = required(options.servicePrincipalPassword, 'a non-empty servicePrincipalPassword');
    else {
      this.cert = loadClientCertificate(options.certificate!, options.certificatePassword);
      this.algorithm = options.assertionAlgorithm;
      this.assertionFor(0); // the key and algorithm fit together: fail here, not at the first getToken
    }
    this.http = new HttpClient(options);
  }

  /**
   * A credential from `AML_TENANT_ID`, `AML_PRINCIPAL_ID`, `AML_PRINCIPAL_PASS` and
   * `AML_SERVER_URL` (or `TESSERA_SERVER`); `options` may supply or override any of them.
   * A missing variable is named in the error; no value is ever quoted.
   */
  static fromEnv(env: NodeJS.ProcessEnv = process.env, options: Partial<ServicePrincipalAuthenticationOptions> = {}): ServicePrincipalAuthentication {
    const server = options.server ?? env[SERVICE_PRINCIPAL_ENV.server] ?? env.TESSERA_SERVER;
    const tenantId = options.tenantId ?? env[SERVICE_PRINCIPAL_ENV.tenantId];
    const servicePrincipalId = options.servicePrincipalId ?? env[SERVICE_PRINCIPAL_ENV.servicePrincipalId];
    const servicePrincipalPassword = options.certificate === undefined ? (options.servicePrincipalPassword ?? env[SERVICE_PRINCIPAL_ENV.servicePrincipalPassword]) : undefined;
    const missing = [
      [server, `${SERVICE_PRINCIPAL_ENV.server} (or TESSERA_SERVER)`],
      [tenantId, SERVICE_PRINCIPAL_ENV.tenantId],
      [servicePrincipalId, SERVICE_PRINCIPAL_ENV.servicePrincipalId],
      [options.certificate ?? servicePrincipalPassword, SERVICE_PRINCIPAL_ENV.servicePrincipalPassword],
    ]
      .filter(([value]) => value === undefined || value.trim() === '')
      .map(([, name]) => name);
    if (missing.length > 0) throw new TypeError(`ServicePrincipalAuthentication.fromEnv: set ${missing.join(', ')}.`);
    return new ServicePrincipalAuthentication({ ...options, server: server!, tenantId: tenantId!, servicePrincipalId: servicePrincipalId!, servicePrincipalPassword });
  }

  protected async fetchToken(audience: string): Promise<AccessToken> {
    // The lifetime counts from before the request, so the cached expiry is never late.
    const askedAtSec = Math.floor(this.clock() / 1000);
    const credential: ClientCredential = this.secret !== undefined ? { secret: this.secret } : { assertion: this.assertionFor(askedAtSec) };
    const response = await clientCredentialsGrant(this.http, { server: this.server, tenant: this.tenantId, clientId: this.servicePrincipalId, credential, resource: audience });
    return { token: response.access_token, expiresOn: askedAtSec + response.expires_in };
  }

  private assertionFor(nowSec: number): string {
    return createClientAssertion(this.cert!, {
      clientId: this.servicePrincipalId,
      audience: tokenUrl(this.server, this.tenantId),
      nowSec,
      algorithm: this.algorithm,
    });
  }
}
