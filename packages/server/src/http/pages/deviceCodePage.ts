/** The device-code page (verification_uri): the user types the code their device shows. */
import { html } from './html.js';
import { page, type Page } from './layout.js';
import { errorBox, formState } from './fields.js';

export interface DeviceCodePageInput {
  action: string;
  csrf: string;
  code?: string | undefined;
  error?: string | undefined;
  status?: number;
}

export function deviceCodePage(input: DeviceCodePageInput): Page {
  return page({
    title: 'Enter code',
    status: input.status,
    body: html`<h1>Enter code</h1>
<p>Enter the code shown by the application or device you want to sign in to.</p>
${errorBox(input.error)}
<form method="post" action="${input.action}">
${formState(input.csrf)}
<label for="user_code">Code</label>
<input type="text" id="user_code" name="user_code" value="${input.code ?? ''}" autocomplete="one-time-code" autocapitalize="characters" spellcheck="false" maxlength="64" required autofocus${input.error ? html` aria-describedby="error"` : ''}>
<div class="actions"><button type="submit">Next</button></div>
</form>`,
  });
}
