/** Server base URLs: checked once, kept without a trailing slash so paths append cleanly. */

/**
 * The base URL of a Tessera server, validated: http(s), no query or fragment, no trailing slash.
 * @example normalizeServerUrl('https://ml.example.com/tessera/') // 'https://ml.example.com/tessera'
 */
export function normalizeServerUrl(server: string): string {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new TypeError(`The server URL is not a URL: '${server.slice(0, 200)}'.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('The server URL must start with https:// (or http://).');
  if (url.search || url.hash || url.username || url.password) throw new TypeError('The server URL may not have a query, a fragment or credentials.');
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}
