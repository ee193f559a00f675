/** prompt=select_account: continue as the signed-in user, or sign in as someone else. */
import { html } from './html.js';
import { page, type Page } from './layout.js';
import { formState } from './fields.js';

export interface AccountPageInput {
  action: string;
  csrf: string;
  request: string;
  appName: string;
  displayName: string;
  username: string;
  formTargets: string[];
}

export function accountPage(input: AccountPageInput): Page {
  return page({
    title: 'Pick an account',
    formTargets: input.formTargets,
    body: html`<h1>Pick an account</h1>
<p>to continue to <strong>${input.appName}</strong></p>
<form method="post" action="${input.action}">
${formState(input.csrf, input.request)}
<dl><dt>${input.displayName}</dt><dd class="muted">${input.username}</dd></dl>
<div class="actions">
<button type="submit" name="action" value="continue">Continue as ${input.displayName}</button>
<button type="submit" name="action" value="other" class="secondary">Use another account</button>
</div>
</form>`,
  });
}
