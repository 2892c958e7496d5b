import { isIP } from 'node:net';
import type { Context } from 'hono';

/** An IPv4 address seen through an IPv6 socket (`::ffff:192.0.2.1`) in its IPv4 form; others lower-cased. */
export function canonicalAddress(address: string): string {
  const lower = address.toLowerCase();
  return lower.startsWith('::ffff:') && isIP(lower.slice(7)) === 4 ? lower.slice(7) : lower;
}

/** An IPv6 address as its eight 16-bit groups (a zone id left out, a dotted IPv4 tail as two groups). */
function ipv6Groups(address: string): number[] {
  const [head = '', tail] = address.replace(/%.*$/, '').split('::');
  const groups = (text: string): number[] =>
    text === ''
      ? []
      : text.split(':').flatMap((group) => {
          if (!group.includes('.')) return [Number.parseInt(group, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
          return [a * 256 + b, c * 256 + d];
        });
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  return tail === undefined ? left : [...left, ...Array.from({ length: 8 - left.length - right.length }, () => 0), ...right];
}

/**
 * The client an address counts as for limits: an IPv4 address itself, however it arrives (also as
 * an IPv4-mapped `::ffff:` address in any spelling, or through a NAT64 translator's `64:ff9b::/96`),
 * and an IPv6 one by its /64 prefix (`2001:db8:1:2::/64`), since one host is given a whole /64 and
 * could otherwise be any number of clients. Anything else (no address known) as it is.
 */
export function clientKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const groups = ipv6Groups(address);
  const mapped = groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff;
  const translated = groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((group) => group === 0);
  if (mapped || translated) {
    const [high = 0, low = 0] = groups.slice(6);
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
  }
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}

/**
 * Who sent a request: the TCP peer, unless the peer is a trusted reverse proxy; then the nearest
 * address in X-Forwarded-For that is not itself a trusted proxy (entries further left were written
 * by the client and cannot be believed). A malformed entry stops the walk at the last good address.
 */
export function requestClient(peer: string, forwardedFor: string | undefined, trusted: ReadonlySet<string>): string {
  let client = canonicalAddress(peer);
  if (!trusted.has(client) || forwardedFor === undefined) return client;
  const hops = forwardedFor.split(',').map((hop) => hop.trim());
  for (let index = hops.length - 1; index >= 0; index -= 1) {
    const hop = hops[index] ?? '';
    if (isIP(hop) === 0) break;
    client = canonicalAddress(hop);
    if (!trusted.has(client)) break;
  }
  return client;
}

/** The client of a request under hono's Node adapter (`unknown` in process, when no socket exists). */
export function clientAddress(c: Context, trusted: ReadonlySet<string>): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  const peer = env?.incoming?.socket?.remoteAddress;
  return peer === undefined ? 'unknown' : requestClient(peer, c.req.header('x-forwarded-for'), trusted);
}
