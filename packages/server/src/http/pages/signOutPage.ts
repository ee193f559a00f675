/** The end-session page: confirm signing out (a link alone cannot sign anyone out). */
import { html } from './html.js';
import { page, type Page } from './layout.js';
import { formState } from './fields.js';

export interface SignOutPageInput {
  action: string;
  csrf: string;
  request: string;
  displayName: string;
  username: string;
  formTargets: string[];
}

export function signOutPage(input: SignOutPageInput): Page {
  return page({
    title: 'Sign out',
    formTargets: input.formTargets,
    body: html`<h1>Sign out?</h1>
<p>You are signed in as <strong>${input.displayName}</strong> <span class="muted">(${input.username})</span>. Signing out ends this browser's session and the sessions of applications you signed in to from it.</p>
<form method="post" action="${input.action}">
${formState(input.csrf, input.request)}
<div class="actions"><button type="submit">Sign out</button></div>
</form>`,
  });
}
