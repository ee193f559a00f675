/**
 * Microsoft Graph's `ipNamedLocation`: a named set of IPv4 and IPv6 CIDR ranges that
 * policies include or exclude by id. Country locations are refused (Tessera has no
 * geolocation).
 */
import { TesseraError } from '../errors.js';
import { parseCidr } from './addresses.js';
import { checkPolicyName } from './policies.js';

export interface IpRange {
  '@odata.type': '#microsoft.graph.iPv4CidrRange' | '#microsoft.graph.iPv6CidrRange';
  cidrAddress: string;
}

export interface NamedLocationBody {
  displayName: string;
  isTrusted: boolean;
  ipRanges: IpRange[];
}

/** A stored named location, in Graph's shape. */
export interface IpNamedLocation extends NamedLocationBody {
  '@odata.type': '#microsoft.graph.ipNamedLocation';
  id: string;
  createdDateTime: string;
  modifiedDateTime: string | null;
}

const MAX_RANGES = 2000;
const READ_ONLY = new Set(['id', 'createdDateTime', 'modifiedDateTime', '@odata.context']);

function invalid(message: string): TesseraError {
  return new TesseraError('InvalidParameter', message);
}

/** A CIDR as typed, quoted safely in a message. */
function quoted(value: string): string {
  return value.slice(0, 64).replace(/[^\x20-\x7e]|['\\]/g, '?');
}

/** Validates a named location's body (a create, or an update merged over the stored one). */
export function checkNamedLocation(input: unknown): NamedLocationBody {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalid("The body must be an object: {\"@odata.type\": \"#microsoft.graph.ipNamedLocation\", \"displayName\", \"ipRanges\"}.");
  const body = input as Record<string, unknown>;
  for (const key of Object.keys(body)) {
    if (!['@odata.type', 'displayName', 'isTrusted', 'ipRanges'].includes(key) && !READ_ONLY.has(key)) {
      throw invalid(`'${quoted(key)}' is not a field of an ipNamedLocation (displayName, isTrusted, ipRanges).`);
    }
  }
  const type = body['@odata.type'];
  if (type === '#microsoft.graph.countryNamedLocation') throw invalid('Country named locations are not supported: Tessera has no geolocation. Use an ipNamedLocation.');
  if (type !== undefined && type !== '#microsoft.graph.ipNamedLocation') throw invalid("'@odata.type' must be '#microsoft.graph.ipNamedLocation'.");
  const displayName = checkPolicyName(body.displayName);
  if (body.isTrusted !== undefined && typeof body.isTrusted !== 'boolean') throw invalid("'isTrusted' must be true or false.");
  const raw = body.ipRanges;
  if (!Array.isArray(raw) || raw.length === 0) throw invalid("'ipRanges' must be a non-empty array of {\"cidrAddress\": \"a.b.c.d/n\"}.");
  if (raw.length > MAX_RANGES) throw invalid(`'ipRanges' may hold at most ${MAX_RANGES} ranges.`);
  const ipRanges: IpRange[] = [];
  const seen = new Set<string>();
  for (const item of raw) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw invalid("Each of 'ipRanges' must be {\"cidrAddress\": \"a.b.c.d/n\"}.");
    const range = item as Record<string, unknown>;
    for (const key of Object.keys(range)) {
      if (key !== '@odata.type' && key !== 'cidrAddress') throw invalid(`'ipRanges[].${quoted(key)}' is not a field of a CIDR range (cidrAddress).`);
    }
    const cidr = range.cidrAddress;
    if (typeof cidr !== 'string') throw invalid("Each of 'ipRanges' needs 'cidrAddress', e.g. '10.0.0.0/8' or '2001:db8::/32'.");
    const parsed = parseCidr(cidr.trim());
    if (!parsed) throw invalid(`'ipRanges' holds '${quoted(cidr)}', which is not a CIDR range: write an IPv4 address/prefix (0-32) or IPv6 address/prefix (0-128), e.g. '10.0.0.0/8'.`);
    const odata = parsed.family === 'ipv4' ? '#microsoft.graph.iPv4CidrRange' : '#microsoft.graph.iPv6CidrRange';
    if (range['@odata.type'] !== undefined && range['@odata.type'] !== odata) throw invalid(`'${quoted(cidr)}' is an ${parsed.family === 'ipv4' ? 'IPv4' : 'IPv6'} range: its '@odata.type' must be '${odata}'.`);
    if (seen.has(parsed.text)) continue;
    seen.add(parsed.text);
    ipRanges.push({ '@odata.type': odata, cidrAddress: parsed.text });
  }
  return { displayName, isTrusted: body.isTrusted === true, ipRanges };
}
