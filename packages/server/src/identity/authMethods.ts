/**
 * How a user proved who they are in one sign-in: the `amr` claim (RFC 8176's values) and
 * the `acr` that follows from it. Every step that carries a sign-in forward (the browser
 * session, an authorization or device code, a refresh chain) keeps the methods, so a
 * token minted later says what the original sign-in was, never more.
 */

/** `pwd` password; `mfa` a second factor; `otp` a one-time code (TOTP); `rc` a recovery code. */
export const AUTH_METHODS = ['pwd', 'mfa', 'otp', 'rc'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** What a password alone gives. */
export const PASSWORD_ONLY: readonly AuthMethod[] = ['pwd'];

/** The stored form: the methods space-separated, in AUTH_METHODS order, each once. */
export function formatAmr(methods: readonly AuthMethod[]): string {
  return AUTH_METHODS.filter((m) => methods.includes(m)).join(' ');
}

/** Reads the stored form; anything unknown is dropped (a stored value is never trusted to add a method). */
export function parseAmr(stored: string | null | undefined): AuthMethod[] {
  if (!stored) return [...PASSWORD_ONLY];
  const given = new Set(stored.split(' '));
  const methods = AUTH_METHODS.filter((m) => given.has(m));
  return methods.length > 0 ? methods : [...PASSWORD_ONLY];
}

export function hasMfa(methods: readonly AuthMethod[]): boolean {
  return methods.includes('mfa');
}

/**
 * The `acr` claim: `"2"` when a second factor was used, `"1"` for a single factor, as
 * levels of assurance are commonly numbered (Keycloak's LoA, ISO/IEC 29115).
 */
export function acrOf(methods: readonly AuthMethod[]): '1' | '2' {
  return hasMfa(methods) ? '2' : '1';
}

/** Which way a token is being asked for: what conditional access calls the client app. */
export type ClientAppKind = 'browser' | 'deviceCode' | 'password' | 'clientCredentials' | 'refresh' | 'mlServerLogin';
