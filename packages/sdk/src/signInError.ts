/** Why an interactive sign-in (browser or device code) ended without tokens, when the server did not say so itself. */

/** What went wrong on this side of an interactive sign-in. */
export type InteractiveSignInErrorCode =
  /** Nobody finished the sign-in in time. */
  | 'Timeout'
  /** The redirect named another issuer than the server's (RFC 9207: a mix-up attack, or a misconfigured proxy). */
  | 'IssuerMismatch'
  /** The id token does not answer the nonce this sign-in sent. */
  | 'NonceMismatch'
  /** The loopback listener could not be started. */
  | 'ListenerFailed';

/** An interactive sign-in failed on this side (the server's refusals arrive as TesseraApiError). */
export class InteractiveSignInError extends Error {
  constructor(
    readonly code: InteractiveSignInErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'InteractiveSignInError';
  }
}

/** `text` without control characters (which could drive a terminal), at most `max` characters. */
export function printable(text: string, max = 500): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, ' ').slice(0, max);
}
