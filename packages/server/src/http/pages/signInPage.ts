/** The sign-in page: user name and password, for the browser flow and the device-code flow. */
import { html } from './html.js';
import { page, type Page } from './layout.js';
import { errorBox, formState } from './fields.js';

export interface SignInPageInput {
  /** Where the form posts. */
  action: string;
  csrf: string;
  /** Sealed page state. */
  request: string;
  appName: string;
  tenantDomain: string;
  username?: string | undefined;
  error?: string | undefined;
  status?: number;
  /** Origins the answer to the form may redirect to (the client's redirect URI). */
  formTargets?: string[];
  /** Whether a Cancel button sends the user back to the application. */
  allowCancel: boolean;
}

export function signInPage(input: SignInPageInput): Page {
  const described = input.error ? 'error' : undefined;
  return page({
    title: 'Sign in',
    status: input.status,
    formTargets: input.formTargets,
    body: html`<h1>Sign in</h1>
<p>to continue to <strong>${input.appName}</strong></p>
${errorBox(input.error)}
<form method="post" action="${input.action}">
${formState(input.csrf, input.request)}
<label for="username">User name</label>
<input type="text" id="username" name="username" value="${input.username ?? ''}" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="320" required${input.username ? '' : html` autofocus`}${described ? html` aria-describedby="error"` : ''}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" maxlength="1024" required${input.username ? html` autofocus` : ''}>
<p class="muted">Accounts of ${input.tenantDomain}</p>
<div class="actions">
<button type="submit" name="action" value="signin">Sign in</button>
${input.allowCancel ? html`<button type="submit" name="action" value="cancel" class="secondary" formnovalidate>Cancel</button>` : ''}
</div>
</form>`,
  });
}
