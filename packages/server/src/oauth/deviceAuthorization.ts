/**
 * The device authorization endpoint (RFC 8628 §3.1-3.2, and MSAL's shape):
 * `POST /{tenant}/oauth2/v2.0/devicecode` with `client_id` and `scope` (v1:
 * `/oauth2/devicecode` with `resource`). Only public clients that allow public-client
 * flows may start one. The answer names the page where the user types the code.
 */
import { TesseraError } from '../errors.js';
import type { Services } from '../services.js';
import { authenticateClient, type ClientAuthRequest } from './clientAuth.js';
import { publicFlowsNotAllowed } from './grants/common.js';
import { parseResource, parseScope } from './scopes.js';

export type DeviceAuthorizationResponse = Record<string, string | number>;

/** The page at `verification_uri`. */
export function verificationUri(services: Services): string {
  return `${services.publicUrl.base}/devicelogin`;
}

export async function startDeviceAuthorization(req: ClientAuthRequest & { version: 'v1' | 'v2' }): Promise<DeviceAuthorizationResponse> {
  const { services, params } = req;
  const identity = await authenticateClient(req);
  if (identity.type !== 'public') {
    throw new TesseraError('UnauthorizedClient', 'The device-code flow is for public clients: a service principal signs in with client_credentials.', { aadCodes: [700016] });
  }
  if (!identity.client.allowPublicFlows) throw publicFlowsNotAllowed();
  const resource = params.get('resource');
  const v1 = req.version === 'v1' && resource !== undefined;
  const scope = v1 ? parseResource(resource) : parseScope(params.get('scope'));
  const issued = await services.deviceCodes.create({ tenantId: req.tenant.id, clientId: identity.clientId, scope: v1 ? scope.resource : scope.asked, v1 });
  const uri = verificationUri(services);
  const response: DeviceAuthorizationResponse = {
    user_code: issued.userCode,
    device_code: issued.deviceCode,
    verification_uri: uri,
    expires_in: issued.expiresIn,
    interval: issued.interval,
    message: `To sign in, use a web browser to open the page ${uri} and enter the code ${issued.userCode} to authenticate.`,
  };
  // ADAL and the v1 endpoint spell it verification_url.
  if (req.version === 'v1') response.verification_url = uri;
  return response;
}
