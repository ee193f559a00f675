/**
 * Setting up multi-factor authentication: a QR code of the `otpauth://` URI for the
 * authenticator app, the same secret in text (for typing in, or a password manager), and
 * the first code, which proves the app works. The secret is shown on this page once; a
 * wrong code shows the form again without it (start again for a new secret).
 */
import QRCode from 'qrcode';
import { html } from './html.js';
import { page, type Page } from './layout.js';
import { errorBox, formState } from './fields.js';

export interface MfaSetupPageInput {
  action: string;
  csrf: string;
  request: string;
  /** The account being set up, as `name@domain`. */
  username: string;
  /** Why the page is shown: a policy asks for MFA during a sign-in, or the user came to set it up. */
  reason: 'required' | 'self-service';
  /** The application the sign-in continues to (registration during a sign-in). */
  appName?: string | undefined;
  /** The new secret and its URI and QR code; absent when the form is shown again after a wrong code. */
  enrollment?: { secret: string; uri: string; qrDataUrl: string } | undefined;
  error?: string | undefined;
  status?: number | undefined;
  formTargets?: string[];
}

/** The QR code of an `otpauth://` URI, as a PNG data URL (the pages' CSP allows `img-src data:`). */
export function qrDataUrl(uri: string): Promise<string> {
  return QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, width: 220 });
}

/** The secret in groups of four, as authenticator apps show it. */
function grouped(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ');
}

export function mfaSetupPage(input: MfaSetupPageInput): Page {
  const e = input.enrollment;
  return page({
    title: 'Set up multi-factor authentication',
    status: input.status,
    formTargets: input.formTargets,
    body: html`<h1>Set up multi-factor authentication</h1>
${input.reason === 'required'
  ? html`<p>Your organization requires a second sign-in step${input.appName ? html` to continue to <strong>${input.appName}</strong>` : ''}. Set up an authenticator app for <strong>${input.username}</strong> now.</p>`
  : html`<p>Add a second sign-in step to <strong>${input.username}</strong> with an authenticator app.</p>`}
${errorBox(input.error)}
${e
  ? html`<p>1. Scan this QR code with your authenticator app (Microsoft Authenticator, Google Authenticator, 1Password, …):</p>
<p><img id="totp-qr" src="${e.qrDataUrl}" width="220" height="220" alt="QR code of the key for ${input.username}"></p>
<p>Or enter this key in the app (time-based, 6 digits, every 30 seconds):</p>
<p><code id="totp-secret" class="usercode" data-secret="${e.secret}">${grouped(e.secret)}</code></p>
<p class="muted">On this phone? <a href="${e.uri}">Open the key in your authenticator app</a>. The key is shown only on this page: keep it secret.</p>
<p>2. Enter the 6-digit code the app shows:</p>`
  : html`<p>Enter the current code from the app you just set up, or start again for a new key.</p>`}
<form method="post" action="${input.action}">
${formState(input.csrf, input.request)}
<label for="code">Code</label>
<input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" spellcheck="false" maxlength="64" required${e ? '' : html` autofocus`}${input.error ? html` aria-describedby="error"` : ''}>
<div class="actions">
<button type="submit" name="action" value="verify">Verify</button>
${e ? '' : html`<button type="submit" name="action" value="restart" class="secondary" formnovalidate>Start again</button>`}
<button type="submit" name="action" value="cancel" class="secondary" formnovalidate>Cancel</button>
</div>
</form>`,
  });
}
