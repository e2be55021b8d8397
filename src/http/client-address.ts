/**
 * The address a request came from, as `limits.auth_failures` counts it: the socket's peer, or,
 * when that peer is a trusted proxy (`limits.trusted_proxies`), the right-most `X-Forwarded-For`
 * address that is not one. Left of it the header is whatever the client wrote (each proxy appends
 * the peer it saw), so a client behind no trusted proxy cannot pick its own address.
 * IPv4-mapped IPv6 (`::ffff:1.2.3.4`, a dual-stack listener's view of an IPv4 peer) is the IPv4
 * address; an IPv6 client is its /64, which one host is usually given whole (RFC 6177).
 */
import type http from 'node:http';
import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** A parsed address: IPv4 dotted, or IPv6 as eight 16-bit groups. */
type Address = { readonly family: 'ipv4'; readonly text: string } | { readonly family: 'ipv6'; readonly text: string; readonly groups: readonly number[] };

/** Compiled once per loaded list (a reload brings a new one). */
const compiled = new WeakMap<readonly string[], BlockList>();

/** The client's address, for counting: IPv4, or an IPv6 /64 (`2001:db8:1:2::/64`). */
export function clientAddress(req: http.IncomingMessage, trustedProxies: readonly string[]): string {
  const peer = parseAddress(req.socket.remoteAddress ?? '');
  // A socket without a peer address is already closed; one shared bucket is as good as any.
  if (peer === null) return 'unknown';
  return bucket(trustedProxies.length === 0 ? peer : forwardedClient(req, peer, trustList(trustedProxies)));
}

function forwardedClient(req: http.IncomingMessage, peer: Address, trusted: BlockList): Address {
  // Node joins repeated X-Forwarded-For headers with ", ", in order.
  const header = req.headers['x-forwarded-for'];
  const hops = typeof header === 'string' ? header.split(',') : [];
  let client = peer;
  for (let i = hops.length - 1; i >= 0 && trusted.check(client.text, client.family); i--) {
    const hop = parseAddress(hops[i]!);
    // Not an address: the trusted proxy that passed it on is the client as far as can be told.
    if (hop === null) break;
    client = hop;
  }
  return client;
}

function trustList(cidrs: readonly string[]): BlockList {
  let list = compiled.get(cidrs);
  if (list === undefined) {
    list = new BlockList();
    for (const cidr of cidrs) {
      const [text, prefix] = cidr.split('/');
      const address = parseAddress(text!);
      if (address === null) continue; // the config loader accepts only addresses (cidrList)
      // An IPv4-mapped range (`::ffff:10.0.0.0/104`) is the IPv4 range it maps, as its peers are.
      const full = address.family === 'ipv4' ? 32 : 128;
      const bits = prefix === undefined ? full : Number(prefix) - (address.family === 'ipv4' && text!.includes(':') ? 96 : 0);
      list.addSubnet(address.text, Math.max(0, bits), address.family);
    }
    compiled.set(cidrs, list);
  }
  return list;
}

/**
 * An address as a socket or a proxy writes it: `1.2.3.4`, `2001:db8::1`, also with a port
 * (`1.2.3.4:5678`, `[2001:db8::1]:5678`) or a zone (`fe80::1%eth0`); null when it is none.
 */
export function parseAddress(raw: string): Address | null {
  let text = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::[0-9]+)?$/.exec(text);
  if (bracketed !== null) text = bracketed[1]!;
  else if (/^[0-9.]+:[0-9]+$/.test(text)) text = text.slice(0, text.indexOf(':'));
  text = text.replace(/%.*$/, '');
  if (isIPv4(text)) return { family: 'ipv4', text };
  if (!isIPv6(text)) return null;
  const groups = ipv6Groups(text);
  // ::ffff:a.b.c.d (and its hex spelling ::ffff:0102:0304) is an IPv4 peer.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return { family: 'ipv4', text: [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.') };
  }
  return { family: 'ipv6', text: groups.map((g) => g.toString(16)).join(':'), groups };
}

/** The eight groups of an address `isIPv6` accepted (`::` expanded, a dotted IPv4 tail as two). */
function ipv6Groups(text: string): number[] {
  const [head, tail] = text.includes('::') ? text.split('::') as [string, string] : [text, undefined];
  const words = (part: string): number[] => part === '' ? [] : part.split(':').flatMap((w) => {
    if (!w.includes('.')) return [parseInt(w, 16)];
    const [a, b, c, d] = w.split('.').map(Number) as [number, number, number, number];
    return [(a << 8) | b, (c << 8) | d];
  });
  const front = words(head);
  if (tail === undefined) return front;
  const back = words(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

function bucket(address: Address): string {
  if (address.family === 'ipv4') return address.text;
  return `${address.groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}
