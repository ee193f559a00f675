/**
 * Azure Resource Manager's cloud metadata, `GET {arm}/metadata/endpoints`: how the Azure
 * CLI (and msrestazure) learn a custom cloud's sign-in authority and token audience from
 * its Resource Manager URL alone, as they do for Azure Stack Hub.
 *
 * The authority is `{public URL}/adfs`: an authority ending in `/adfs` is an ADFS one to
 * azure-cli and MSAL, so they skip instance discovery (a call to login.microsoftonline.com
 * that would refuse an unknown host) and discard the tenant (`adfs` is an alias of the
 * default tenant). The Graph endpoint is the server itself: its `/v1.0` API is Graph's
 * shape, and `az role` resolves principals there.
 */
import { TesseraError } from '../errors.js';
import { RESOURCE_URIS } from '../tokens/audiences.js';

/** The 2015-01-01 document `az cloud register --endpoint-resource-manager` reads. */
export interface EndpointsV2015 {
  graphEndpoint: string;
  authentication: { loginEndpoint: string; audiences: string[] };
}

/** One cloud of the 2019-05-01 and later list (`ARM_CLOUD_METADATA_URL` reads it). */
export interface CloudV2019 {
  name: string;
  resourceManager: string;
  graph: string;
  graphAudience: string;
  microsoftGraphResourceId: string;
  authentication: { loginEndpoint: string; audiences: string[]; tenant: string; identityProvider: string };
  suffixes: Record<string, string>;
}

/** The cloud's name in `az cloud list` when loaded from the 2019-05-01 list. */
export const CLOUD_NAME = 'Tessera';

const API_VERSION = /^(\d{4}-\d{2}-\d{2})(-preview)?$/;
/** From this version on, ARM answers a list of clouds instead of one object. */
const LIST_FROM = '2019-05-01';

/**
 * The metadata document for `api-version` (missing means the oldest shape, as ARM's
 * first clients sent none). `base` is the public URL without a trailing slash.
 */
export function cloudMetadata(base: string, apiVersion: string | undefined): EndpointsV2015 | CloudV2019[] {
  const match = apiVersion === undefined ? undefined : API_VERSION.exec(apiVersion);
  if (apiVersion !== undefined && !match) throw new TesseraError('InvalidParameter', "The api-version must be a date such as '2015-01-01' or '2022-09-01'.");
  const root = `${base}/`;
  const loginEndpoint = `${base}/adfs`;
  // The control plane's own resource URI: az asks for `{audience}/.default` tokens.
  const audiences = [RESOURCE_URIS.management];
  if (match && match[1]! >= LIST_FROM) {
    return [{
      name: CLOUD_NAME,
      resourceManager: root,
      graph: root,
      graphAudience: root,
      microsoftGraphResourceId: root,
      authentication: { loginEndpoint, audiences, tenant: 'adfs', identityProvider: 'ADFS' },
      suffixes: {},
    }];
  }
  return { graphEndpoint: root, authentication: { loginEndpoint, audiences } };
}
