/** The second step of a sign-in: the code from the user's authenticator app, or a recovery code. */
import { html } from './html.js';
import { page, type Page } from './layout.js';
import { errorBox, formState } from './fields.js';

export interface MfaCodePageInput {
  /** Where the form posts. */
  action: string;
  csrf: string;
  /** Sealed page state. */
  request: string;
  appName: string;
  /** The account signing in, as `name@domain`. */
  username: string;
  error?: string | undefined;
  status?: number | undefined;
  /** Origins the answer to the form may redirect to (the client's redirect URI). */
  formTargets?: string[];
}

export function mfaCodePage(input: MfaCodePageInput): Page {
  return page({
    title: 'Enter code',
    status: input.status,
    formTargets: input.formTargets,
    body: html`<h1>Enter code</h1>
<p>Enter the code shown by the authenticator app on your phone for <strong>${input.username}</strong>, to continue to <strong>${input.appName}</strong>.</p>
${errorBox(input.error)}
<form method="post" action="${input.action}">
${formState(input.csrf, input.request)}
<label for="code">Code</label>
<input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" autocapitalize="none" spellcheck="false" maxlength="64" required autofocus${input.error ? html` aria-describedby="error"` : ''}>
<p class="muted">Lost your phone? Enter one of your recovery codes instead (like <code>abcd-efgh-ijkm</code>).</p>
<div class="actions">
<button type="submit" name="action" value="verify">Verify</button>
<button type="submit" name="action" value="cancel" class="secondary" formnovalidate>Cancel</button>
</div>
</form>`,
  });
}
