/**
 * Client addresses and the CIDR ranges of named locations. Every address is kept as 16
 * bytes, IPv4 as its IPv4-mapped IPv6 form (`::ffff:a.b.c.d`), so an IPv4 client seen on a
 * dual-stack socket (`::ffff:127.0.0.1`) matches an IPv4 range, and a range is a prefix
 * of those bytes.
 */
import net from 'node:net';

/** An address as 16 bytes. */
export type Address = Uint8Array;

/** A parsed range: the first `bits` bits of `base`. */
export interface CidrRange {
  family: 'ipv4' | 'ipv6';
  base: Address;
  bits: number;
  /** As written, for display. */
  text: string;
}

function mapped(v4: string): Address {
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  v4.split('.').forEach((part, i) => (out[12 + i] = Number(part)));
  return out;
}

function ipv6Bytes(text: string): Address {
  let head = text;
  let tailV4: string | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tailV4 = text.slice(lastColon + 1);
    head = text.slice(0, lastColon + 1) + '0:0';
  }
  const [left, right] = head.includes('::') ? head.split('::') as [string, string] : [head, undefined];
  const leftParts = left === '' ? [] : left.split(':');
  const rightParts = right === undefined || right === '' ? [] : right.split(':');
  const fill = right === undefined ? 0 : 8 - leftParts.length - rightParts.length;
  const groups = [...leftParts, ...Array<string>(fill).fill('0'), ...rightParts].map((g) => parseInt(g, 16));
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  if (tailV4) out.set(mapped(tailV4).subarray(12), 12);
  return out;
}

/** The address as 16 bytes, or undefined when `text` is not an IPv4 or IPv6 address (zone ids are refused). */
export function parseAddress(text: string): Address | undefined {
  if (text.length > 64) return undefined;
  if (net.isIPv4(text)) return mapped(text);
  if (net.isIPv6(text) && !text.includes('%')) return ipv6Bytes(text);
  return undefined;
}

/** Whether the address is an IPv4 one (plain or mapped). */
function isMappedV4(a: Address): boolean {
  for (let i = 0; i < 10; i++) if (a[i] !== 0) return false;
  return a[10] === 0xff && a[11] === 0xff;
}

/** `a.b.c.d/n` (n 0–32) or `x:y::z/n` (n 0–128); undefined when malformed. */
export function parseCidr(text: string): CidrRange | undefined {
  const match = /^([^/\s]{2,45})\/(\d{1,3})$/.exec(text);
  if (!match) return undefined;
  const [, host, prefix] = match as unknown as [string, string, string];
  const n = Number(prefix);
  if (prefix.length > 1 && prefix.startsWith('0')) return undefined;
  if (net.isIPv4(host)) return n <= 32 ? { family: 'ipv4', base: mapped(host), bits: 96 + n, text } : undefined;
  if (net.isIPv6(host) && !host.includes('%')) return n <= 128 ? { family: 'ipv6', base: ipv6Bytes(host), bits: n, text } : undefined;
  return undefined;
}

/** Whether `address` lies in `range` (host bits written into the range are ignored, as Entra does). */
export function inRange(address: Address, range: CidrRange): boolean {
  if (range.family === 'ipv4' && !isMappedV4(address)) return false;
  const full = range.bits >> 3;
  for (let i = 0; i < full; i++) if (address[i] !== range.base[i]) return false;
  const rest = range.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((address[full]! ^ range.base[full]!) & mask) === 0;
}
