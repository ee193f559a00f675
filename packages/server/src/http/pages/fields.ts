/** Pieces the page templates share: hidden fields and the error box. */
import { html, type Html } from './html.js';

/** The anti-forgery token and the sealed page state every form carries. */
export function formState(csrf: string, request?: string): Html {
  return html`<input type="hidden" name="csrf" value="${csrf}">${request !== undefined ? html`<input type="hidden" name="request" value="${request}">` : ''}`;
}

/** An error message, announced to screen readers. */
export function errorBox(message: string | undefined): Html {
  return message ? html`<p class="error" role="alert" id="error">${message}</p>` : html``;
}
