/**
 * The page a browser or device-code sign-in ends on when a conditional-access policy
 * blocks it: what happened, the policy's name (escaped like every value), AADSTS53003,
 * the correlation id and the time to quote to an administrator, and nothing submitted.
 */
import { html } from './html.js';
import { page, type Page } from './layout.js';

export interface AccessBlockedPageInput {
  /** The blocking policy's display name (decision.decidedBy.displayName). */
  policyName: string;
  correlationId: string;
  timestamp: string;
}

export function accessBlockedPage(input: AccessBlockedPageInput): Page {
  return page({
    title: 'Access blocked',
    status: 403,
    body: html`<h1>You cannot access this right now</h1>
<p class="error" role="alert">AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.</p>
<p>Your sign-in was successful, but the policy <strong>${input.policyName}</strong> does not allow access from here. Contact your administrator.</p>
<dl class="details">
<dt>Policy</dt><dd>${input.policyName}</dd>
<dt>Correlation ID</dt><dd>${input.correlationId}</dd>
<dt>Timestamp</dt><dd>${input.timestamp}</dd>
</dl>`,
  });
}
