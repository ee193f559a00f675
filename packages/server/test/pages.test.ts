/**
 * The pages' one escaping rule and their security headers, without a server.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { escapeHtml, html } from '../src/http/pages/html.js';
import { contentSecurityPolicy, page } from '../src/http/pages/layout.js';
import { signInPage } from '../src/http/pages/signInPage.js';
import { consentPage } from '../src/http/pages/consentPage.js';
import { errorPage } from '../src/http/pages/errorPage.js';
import { formPostPage } from '../src/http/pages/formPostPage.js';

const HOSTILE = `<script>alert("x")</script><img src=x onerror='alert(1)'>\`&`;

describe('pages', () => {
  it('escapes every interpolated value, in text and in attributes', () => {
    assert.equal(escapeHtml(HOSTILE), '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=&#39;alert(1)&#39;&gt;&#96;&amp;');
    const out = html`<p title="${HOSTILE}">${HOSTILE}</p>`.text;
    assert.ok(!out.includes('<script>') && !out.includes('<img'));
    assert.ok(!/title="[^"]*"[^>]*onerror/.test(out), 'the attribute cannot be broken out of');
  });

  it('renders nested markup made by html as markup, and arrays joined', () => {
    assert.equal(html`<ul>${['a<', 'b'].map((x) => html`<li>${x}</li>`)}</ul>`.text, '<ul><li>a&lt;</li><li>b</li></ul>');
    assert.equal(html`${undefined}${null}${false}${0}`.text, '0');
  });

  it('keeps names people chose from becoming markup on the sign-in and consent pages', () => {
    const signIn = signInPage({ action: '/x', csrf: 'c', request: 'r', appName: HOSTILE, tenantDomain: 't', username: HOSTILE, error: HOSTILE, allowCancel: true });
    const consent = consentPage({ action: '/x', csrf: 'c', request: 'r', appName: HOSTILE, resource: HOSTILE, displayName: HOSTILE, username: HOSTILE });
    for (const shown of [signIn, consent]) {
      assert.ok(!shown.html.includes('<script>alert') && !shown.html.includes('<img src=x'), 'no markup from names');
      assert.match(shown.headers['content-security-policy']!, /script-src 'none'/);
    }
  });

  it('shows an error page with the AAD code and correlation id, and no stack', () => {
    const shown = errorPage({ status: 400, message: 'The redirect URI is wrong.', aadCode: 50011, correlationId: 'abc-123', timestamp: '2026-12-06 12:00:00Z' });
    assert.equal(shown.status, 400);
    assert.match(shown.html, /AADSTS50011: The redirect URI is wrong\./);
    assert.match(shown.html, /abc-123/);
    assert.ok(!/at .*\.js:\d+/.test(shown.html));
  });

  it('lets a form_post page post only to its redirect URI, with the one script it needs', () => {
    const shown = formPostPage('http://localhost:5000/', [['code', 'tsac_x'], ['state', HOSTILE]]);
    const csp = shown.headers['content-security-policy']!;
    assert.match(csp, /form-action 'self' http:\/\/localhost:5000(;|$)/);
    assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/=]+'/);
    assert.ok(!shown.html.includes('<script>alert'));
    assert.match(shown.html, /<noscript>/);
  });

  it('drops form targets that are not plain origins from the policy', () => {
    assert.equal(contentSecurityPolicy([], false).includes("form-action 'self'"), true);
    const shown = page({ title: 't', body: html``, formTargets: ["https://a.example; script-src *", 'https://ok.example'] });
    const csp = shown.headers['content-security-policy']!;
    assert.ok(!csp.includes('script-src *'));
    assert.match(csp, /form-action 'self' https:\/\/ok\.example/);
    assert.equal(shown.headers['x-frame-options'], 'DENY');
    assert.match(shown.html, /<meta name="viewport"/);
  });
});
