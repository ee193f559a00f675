/**
 * response_mode=form_post (OAuth 2.0 Form Post Response Mode): the answer travels to the
 * client's redirect URI as a form the page submits itself; with JavaScript off, the user
 * presses Continue.
 */
import { html } from './html.js';
import { cspSource, page, type Page } from './layout.js';

export function formPostPage(redirectUri: string, parameters: Array<[string, string]>): Page {
  const target = cspSource(redirectUri);
  return page({
    title: 'Signing in',
    formTargets: target ? [target] : [],
    autoSubmit: true,
    body: html`<h1>Signing in…</h1>
<form method="post" action="${redirectUri}">
${parameters.map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
<noscript><p>JavaScript is off: press Continue to return to the application.</p></noscript>
<div class="actions"><button type="submit">Continue</button></div>
</form>`,
  });
}
