/**
 * Tokens from a function you supply, as azureml's TokenAuthentication: for code that gets
 * its tokens some other way (a secret store, another library, a parent process). The
 * function is asked once per audience and again shortly before each token expires.
 */
import { AbstractAuthentication, type AuthenticationOptions } from './abstractAuthentication.js';
import type { AccessToken } from './audience.js';

/**
 * What the function may return: an {@link AccessToken}, a `[token, expiresOn]` pair
 * (epoch seconds, as azureml's callback returns), or a bare JWT whose `exp` gives the expiry.
 */
export type SuppliedToken = AccessToken | readonly [token: string, expiresOn: number] | string;

/** Gets a token for one audience (a resource URI such as {@link Audience.Workspace}). */
export type GetTokenForAudience = (audience: string) => SuppliedToken | Promise<SuppliedToken>;

/** The `exp` claim of a JWT, or undefined when it is not a JWT with one. */
function expiryOfJwt(jwt: string): number | undefined {
  const payload = jwt.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined;
  } catch {
    return undefined;
  }
}

/** Checks and normalizes what the function returned; errors never quote the token. */
function accessTokenOf(value: SuppliedToken): AccessToken {
  let token: unknown;
  let expiresOn: unknown;
  if (typeof value === 'string') {
    token = value;
    expiresOn = expiryOfJwt(value);
    if (expiresOn === undefined) throw new TypeError('TokenAuthentication: the function returned a string that is not a JWT with an exp claim; return { token, expiresOn } instead.');
  } else if (Array.isArray(value)) {
    [token, expiresOn] = value as readonly unknown[];
  } else if (value !== null && typeof value === 'object') {
    ({ token, expiresOn } = value as AccessToken);
  }
  if (typeof token !== 'string' || token === '') throw new TypeError('TokenAuthentication: the function must return a non-empty token.');
  if (typeof expiresOn !== 'number' || !Number.isFinite(expiresOn)) throw new TypeError('TokenAuthentication: the function must return the expiry as epoch seconds.');
  return { token, expiresOn };
}

/**
 * Authenticates with tokens from `getTokenForAudience`.
 * @example
 * const auth = new TokenAuthentication(async (audience) => vault.tokenFor(audience));
 * const client = new TesseraClient(server, auth);
 */
export class TokenAuthentication extends AbstractAuthentication {
  constructor(
    private readonly getTokenForAudience: GetTokenForAudience,
    options: AuthenticationOptions = {},
  ) {
    super(options);
    if (typeof getTokenForAudience !== 'function') throw new TypeError('TokenAuthentication needs a function (audience) => token.');
  }

  protected async fetchToken(audience: string): Promise<AccessToken> {
    return accessTokenOf(await this.getTokenForAudience(audience));
  }
}
