import type { HostRow } from '../meta/index.js';
import { fidPath } from '../protocol/fid-path.js';

/** Who asked, for the alt-IP rule of spec tracker-protocol.md §4.3. */
export interface UrlAudience {
  readonly clientIp?: string;
  /** `alt` asks for hosts' alternate addresses. */
  readonly zone?: string;
}

/**
 * `upload` URLs use the host's `http_port` (uploads, and the tracker's own deletes and copy
 * sources unless `repl_use_get_port`); `read` URLs its `http_get_port`, falling back to
 * `http_port`.
 */
export type UrlKind = 'upload' | 'read';

export function storageUrl(
  host: HostRow,
  devid: number,
  fid: number,
  kind: UrlKind,
  audience: UrlAudience = {},
): string {
  return `${hostBaseUrl(host, kind, audience)}${fidPath(devid, fid)}`;
}

export function hostBaseUrl(host: HostRow, kind: UrlKind, audience: UrlAudience = {}): string {
  const ip = usesAltIp(host, audience) ? host.altIp! : host.ip;
  const port = kind === 'read' && host.httpGetPort ? host.httpGetPort : (host.httpPort ?? 7500);
  return `http://${ip}:${port}`;
}

function usesAltIp(host: HostRow, audience: UrlAudience): boolean {
  if (!host.altIp || !host.altMask) return false;
  if (audience.zone === 'alt') return true;
  return audience.clientIp !== undefined && ipv4InCidr(audience.clientIp, host.altMask);
}

/** True when an IPv4 address (or an IPv4-mapped IPv6 one) lies inside `a.b.c.d/n`. */
export function ipv4InCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  const address = ipv4ToInt(ip.replace(/^::ffff:/, ''));
  const network = ipv4ToInt(base ?? '');
  if (
    address === undefined ||
    network === undefined ||
    !Number.isInteger(bits) ||
    bits < 0 ||
    bits > 32
  ) {
    return false;
  }
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (address & mask) >>> 0 === (network & mask) >>> 0;
}

function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((part) => !/^\d{1,3}$/.test(part) || Number(part) > 255)) {
    return undefined;
  }
  return parts.reduce((value, part) => ((value << 8) | Number(part)) >>> 0, 0);
}
