/** The device-code approval page: which application asks, for which resource, for whom. */
import { html } from './html.js';
import { page, type Page } from './layout.js';
import { formState } from './fields.js';

export interface ConsentPageInput {
  action: string;
  csrf: string;
  request: string;
  appName: string;
  resource: string;
  displayName: string;
  username: string;
}

export function consentPage(input: ConsentPageInput): Page {
  return page({
    title: 'Approve sign-in',
    body: html`<h1>Are you trying to sign in to ${input.appName}?</h1>
<p>Only continue if you started this sign-in on a device or in an application yourself, and it shows the code you entered.</p>
<dl>
<dt>Application</dt><dd>${input.appName}</dd>
<dt>Access to</dt><dd class="details">${input.resource}</dd>
<dt>Signed in as</dt><dd>${input.displayName} <span class="muted">(${input.username})</span></dd>
</dl>
<form method="post" action="${input.action}">
${formState(input.csrf, input.request)}
<div class="actions">
<button type="submit" name="decision" value="approve">Continue</button>
<button type="submit" name="decision" value="refuse" class="secondary">Refuse</button>
</div>
</form>`,
  });
}
