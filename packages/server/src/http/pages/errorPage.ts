/**
 * The error page: what went wrong in words, the AAD error code and the correlation id to
 * quote to an administrator, and never a stack trace or a submitted value.
 */
import { html } from './html.js';
import { page, type Page } from './layout.js';

export interface ErrorPageInput {
  status: number;
  message: string;
  aadCode: number | undefined;
  correlationId: string;
  timestamp: string;
}

export function errorPage(input: ErrorPageInput): Page {
  return page({
    title: 'Sign-in error',
    status: input.status,
    body: html`<h1>We couldn't sign you in</h1>
<p class="error" role="alert">${input.aadCode !== undefined ? `AADSTS${input.aadCode}: ` : ''}${input.message}</p>
<dl class="details">
<dt>Correlation ID</dt><dd>${input.correlationId}</dd>
<dt>Timestamp</dt><dd>${input.timestamp}</dd>
</dl>`,
  });
}
