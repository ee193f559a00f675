/**
 * The frame of every server-rendered page and its security headers, in one place: a
 * strict Content-Security-Policy (nothing loads from anywhere; the one stylesheet and the
 * one script are allowed by their hashes; forms may post only here and, where a page
 * hands a code back, to that client's redirect URI), no framing, no referrer. Pages work
 * with JavaScript off and read well on a phone.
 */
import crypto from 'node:crypto';
import { Html, html } from './html.js';

const STYLE = `
:root{color-scheme:light dark;--fg:#1b1b1b;--bg:#f4f4f4;--card:#fff;--muted:#5c5c5c;--accent:#0b5cad;--err:#a4262c;--line:#c8c8c8}
@media (prefers-color-scheme:dark){:root{--fg:#f0f0f0;--bg:#1b1b1b;--card:#262626;--muted:#b4b4b4;--accent:#6cb8f6;--err:#f1707b;--line:#555}}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:28rem;margin:2rem auto;padding:2rem 1.5rem;background:var(--card);border:1px solid var(--line);border-radius:4px}
@media (max-width:30rem){main{margin:0;border:0;border-radius:0;min-height:100vh}}
h1{font-size:1.5rem;margin:0 0 1rem}
.brand{font-weight:600;letter-spacing:.02em;color:var(--muted);margin:0 0 1.5rem}
label{display:block;margin:1rem 0 .25rem;font-weight:600}
input[type=text],input[type=password]{width:100%;padding:.6rem;font:inherit;color:inherit;background:transparent;border:1px solid var(--line);border-radius:2px}
input:focus,button:focus{outline:2px solid var(--accent);outline-offset:2px}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:1.5rem}
button{font:inherit;padding:.6rem 1.2rem;border:1px solid var(--accent);border-radius:2px;background:var(--accent);color:#fff;cursor:pointer}
button.secondary{background:transparent;color:var(--accent)}
.error{color:var(--err);border-left:4px solid var(--err);padding:.25rem .75rem;margin:1rem 0}
.muted,.details{color:var(--muted);font-size:.875rem}
.details{word-break:break-all}
dl{margin:1rem 0}dt{font-weight:600}dd{margin:0 0 .5rem}
code.usercode{font-size:1.25rem;letter-spacing:.1em}
`;

/** Submits the one form of a form_post page; with JavaScript off, its button does. */
const AUTOSUBMIT = 'document.forms[0].submit();';

const hash = (text: string) => `'sha256-${crypto.createHash('sha256').update(text, 'utf8').digest('base64')}'`;
const STYLE_HASH = hash(STYLE);
const AUTOSUBMIT_HASH = hash(AUTOSUBMIT);

export interface Page {
  status: number;
  html: string;
  headers: Record<string, string>;
}

export interface PageOptions {
  title: string;
  body: Html;
  status?: number;
  /** Origins (besides this server) the page's forms may post to, or redirect to after posting. */
  formTargets?: string[];
  /** form_post: submit the form on load. */
  autoSubmit?: boolean;
}

/** The Content-Security-Policy of a page. */
export function contentSecurityPolicy(formTargets: string[], autoSubmit: boolean): string {
  return [
    "default-src 'none'",
    `style-src ${STYLE_HASH}`,
    autoSubmit ? `script-src ${AUTOSUBMIT_HASH}` : "script-src 'none'",
    "img-src 'self' data:",
    `form-action 'self'${formTargets.map((t) => ` ${t}`).join('')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** The origin of a URL, as a CSP source (custom schemes by scheme). */
export function cspSource(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : u.protocol;
  } catch {
    return undefined;
  }
}

/** A whole page with its headers. */
export function page(options: PageOptions): Page {
  const formTargets = (options.formTargets ?? []).filter((t) => /^[a-z][a-z0-9+.-]*:(\/\/[^\s;,']+)?$/i.test(t));
  const markup = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${options.title} – Tessera</title>
<style>${new Html(STYLE)}</style>
</head>
<body>
<main>
<p class="brand">Tessera</p>
${options.body}
</main>
${options.autoSubmit ? new Html(`<script>${AUTOSUBMIT}</script>`) : ''}
</body>
</html>
`;
  return {
    status: options.status ?? 200,
    html: markup.text,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': contentSecurityPolicy(formTargets, options.autoSubmit === true),
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      'cross-origin-opener-policy': 'same-origin',
    },
  };
}
