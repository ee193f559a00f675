/**
 * The one escaping rule of every page: the `html` tagged template escapes everything
 * interpolated into it (names, codes, messages, URLs), unless it is itself the result of
 * `html`. So markup a user typed or named (a display name, an application name) can never
 * become markup on a page, and a template cannot forget to escape.
 */

/** Markup that is already safe: made by {@link html}. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Text as HTML text or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

function render(value: unknown): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(String(value));
}

/**
 * Builds markup; interpolated values are escaped, arrays are joined, `undefined`, `null`
 * and `false` render as nothing.
 * @example html`<p>Signed in as ${user.displayName}</p>`
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new Html(out);
}
