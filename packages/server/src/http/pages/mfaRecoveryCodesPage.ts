/**
 * The recovery codes, shown once, right after MFA is set up: each works once, in place of
 * a code from the app. During a sign-in a Continue button carries the sign-in on.
 */
import { html } from './html.js';
import { page, type Page } from './layout.js';
import { formState } from './fields.js';

export interface MfaRecoveryCodesPageInput {
  codes: string[];
  /** The form that continues the sign-in; without it, the page ends the setup. */
  next?: { action: string; csrf: string; request: string; appName: string } | undefined;
  formTargets?: string[];
}

export function mfaRecoveryCodesPage(input: MfaRecoveryCodesPageInput): Page {
  const next = input.next;
  return page({
    title: 'Save your recovery codes',
    formTargets: input.formTargets,
    body: html`<h1>Multi-factor authentication is set up</h1>
<p>Save these recovery codes somewhere safe, away from your phone. If you lose the phone, each code signs you in once in place of a code from the app.</p>
<p><strong>They are shown only now.</strong></p>
<ol id="recovery-codes">
${input.codes.map((c) => html`<li><code>${c}</code></li>\n`)}</ol>
${next
  ? html`<form method="post" action="${next.action}">
${formState(next.csrf, next.request)}
<div class="actions"><button type="submit" name="action" value="continue">Continue to ${next.appName}</button></div>
</form>`
  : html`<p>You can close this window.</p>`}`,
  });
}
