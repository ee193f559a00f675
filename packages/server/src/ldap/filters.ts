/**
 * Putting untrusted text into LDAP search filters (RFC 4515 §3): a value's `\`, `*`,
 * `(`, `)` and NUL (and, for safety, every other control character) become `\XX`, so a
 * typed name like `*)(uid=*` is searched for as those characters and can never change
 * the filter's shape. Non-ASCII text stays as UTF-8, which filters carry as is.
 */

/** The value escaped for use inside a filter assertion. */
export function escapeFilterValue(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\' || ch === '*' || ch === '(' || ch === ')' || code < 0x20 || code === 0x7f) {
      out += `\\${code.toString(16).padStart(2, '0')}`;
    } else {
      out += ch;
    }
  }
  return out;
}

/** A filter template with each `{name}` replaced by its value, escaped. */
export function fillFilter(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (key in values ? escapeFilterValue(values[key]!) : whole));
}

/** The name part of a DN's first RDN (`cn=Data Science,ou=groups,…` → `Data Science`), for showing. */
export function firstRdnValue(dn: string): string {
  const m = /^[^=]+=((?:\\.|[^,+\\])*)/.exec(dn);
  return (m?.[1] ?? dn).replace(/\\([0-9a-fA-F]{2}|.)/g, (_, e: string) => (e.length === 2 ? String.fromCharCode(parseInt(e, 16)) : e));
}
