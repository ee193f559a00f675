/**
 * State carried by the sign-in pages between requests, without server-side rows for
 * pages nobody finishes: the pending request is sealed (AES-256-GCM under a key derived
 * from the master key, so it can be neither read nor altered, and any replica opens it)
 * into a hidden field, with an expiry. Forms are protected against cross-site request
 * forgery by a token bound to a random per-browser cookie (HMAC of it and the form's
 * purpose), compared in constant time: another site can make a browser post a form, but
 * cannot read the cookie to compute the token.
 */
import crypto from 'node:crypto';
import type { Clock } from '../clock.js';
import type { MasterKey } from '../crypto/masterKey.js';
import { TesseraError } from '../errors.js';

/** What a form is for; a token made for one purpose is refused for another. */
export type FormPurpose = 'signin' | 'account' | 'device-code' | 'device-signin' | 'device-consent' | 'signout' | 'mfa' | 'mfa-setup';

const CSRF_COOKIE_SHAPE = /^[A-Za-z0-9_-]{43}$/;
/** Sealed page state is small; anything longer was not made here. */
const MAX_SEALED_LENGTH = 16 * 1024;

export class Interactions {
  private readonly csrfKey: Buffer;

  constructor(
    private readonly master: MasterKey,
    private readonly clock: Clock,
    private readonly pageLifetimeMs: number,
  ) {
    this.csrfKey = master.derive('interaction-csrf');
  }

  /** A new value for the browser's anti-forgery cookie. */
  newBrowserNonce(): string {
    return crypto.randomBytes(32).toString('base64url');
  }

  /** Whether a cookie value has the shape of one we set. */
  isBrowserNonce(value: string | undefined): value is string {
    return value !== undefined && CSRF_COOKIE_SHAPE.test(value);
  }

  /** The token a form of `purpose` carries for the browser with this cookie. */
  csrfToken(browserNonce: string, purpose: FormPurpose): string {
    return crypto.createHmac('sha256', this.csrfKey).update(`${purpose}\n${browserNonce}`).digest('base64url');
  }

  /** Throws InvalidCsrfToken unless `token` is the one for this browser and purpose. */
  checkCsrf(browserNonce: string | undefined, purpose: FormPurpose, token: string | undefined): void {
    const refused = () => new TesseraError('InvalidCsrfToken', 'This form could not be accepted: it is missing its anti-forgery token, or the page was opened in another browser. Go back and try again.');
    if (!this.isBrowserNonce(browserNonce) || token === undefined || token.length !== 43) throw refused();
    const expected = Buffer.from(this.csrfToken(browserNonce, purpose));
    const given = Buffer.from(token);
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) throw refused();
  }

  /** Seals page state of one kind for the page lifetime. */
  seal(kind: string, state: object): string {
    const exp = this.clock.now() + this.pageLifetimeMs;
    return this.master.seal(JSON.stringify({ exp, state }), `tessera:interaction:${kind}`);
  }

  /** Opens page state sealed as `kind`; throws when it was altered, is of another kind, or expired. */
  open<T>(kind: string, sealed: string | undefined): T {
    const expired = new TesseraError('InvalidParameter', 'This sign-in page has expired or was altered. Start the sign-in again from the application.', { aadCodes: [50058] });
    if (sealed === undefined || sealed.length === 0 || sealed.length > MAX_SEALED_LENGTH) throw expired;
    let parsed: { exp: number; state: T };
    try {
      parsed = JSON.parse(this.master.open(sealed, `tessera:interaction:${kind}`)) as { exp: number; state: T };
    } catch {
      throw expired;
    }
    if (typeof parsed.exp !== 'number' || parsed.exp <= this.clock.now()) throw expired;
    return parsed.state;
  }
}
