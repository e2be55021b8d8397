/** Who a request counts as (`limits.auth_failures`): the peer, or the X-Forwarded-For client behind trusted proxies. */
import assert from 'node:assert/strict';
import type http from 'node:http';
import { describe, it } from 'node:test';
import { clientAddress } from '../../src/http/client-address.js';

const request = (peer: string | undefined, xff?: string): http.IncomingMessage =>
  ({ socket: { remoteAddress: peer }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as unknown as http.IncomingMessage;

const TRUSTED = ['10.0.0.0/8', '192.0.2.10', '2001:db8:ffff::/48', '::ffff:172.16.0.0/108'];

describe('clientAddress', () => {
  const rows: { name: string; peer: string | undefined; xff?: string; trusted?: readonly string[]; expected: string }[] = [
    { name: 'an IPv4 peer is itself', peer: '203.0.113.7', expected: '203.0.113.7' },
    { name: 'an IPv4-mapped peer is its IPv4 address', peer: '::ffff:203.0.113.7', expected: '203.0.113.7' },
    { name: 'the hex spelling of a mapped address too', peer: '::ffff:cb00:7107', expected: '203.0.113.7' },
    { name: 'an IPv6 peer is its /64', peer: '2001:db8:1:2:3:4:5:6', expected: '2001:db8:1:2::/64' },
    { name: 'a compressed IPv6 peer with leading zeros', peer: '2001:0db8:0:0a::1', expected: '2001:db8:0:a::/64' },
    { name: 'the loopback ::1', peer: '::1', expected: '0:0:0:0::/64' },
    { name: 'a zone is dropped', peer: 'fe80::1%eth0', expected: 'fe80:0:0:0::/64' },
    { name: 'a socket without a peer', peer: undefined, expected: 'unknown' },
    { name: 'X-Forwarded-For from an untrusted peer is ignored', peer: '203.0.113.7', xff: '198.51.100.1', trusted: TRUSTED, expected: '203.0.113.7' },
    { name: 'X-Forwarded-For is ignored when no proxy is trusted', peer: '10.0.0.1', xff: '198.51.100.1', trusted: [], expected: '10.0.0.1' },
    { name: 'from a trusted peer, the right-most untrusted hop', peer: '10.0.0.1', xff: '6.6.6.6, 198.51.100.1, 10.2.3.4', trusted: TRUSTED, expected: '198.51.100.1' },
    { name: 'a trusted single address', peer: '192.0.2.10', xff: '198.51.100.1', trusted: TRUSTED, expected: '198.51.100.1' },
    { name: 'a mapped peer matches an IPv4 range', peer: '::ffff:10.1.1.1', xff: '198.51.100.1', trusted: TRUSTED, expected: '198.51.100.1' },
    { name: 'a mapped range matches its IPv4 peers', peer: '172.16.9.9', xff: '198.51.100.1', trusted: TRUSTED, expected: '198.51.100.1' },
    { name: 'a trusted IPv6 proxy', peer: '2001:db8:ffff::1', xff: '2001:db8:5:6::9', trusted: TRUSTED, expected: '2001:db8:5:6::/64' },
    { name: 'hops with ports and brackets', peer: '10.0.0.1', xff: '[2001:db8:5:6::9]:4711, 10.0.0.2:80', trusted: TRUSTED, expected: '2001:db8:5:6::/64' },
    { name: 'a hop that is no address stops the walk at the proxy that passed it', peer: '10.0.0.1', xff: 'nonsense, 10.0.0.2', trusted: TRUSTED, expected: '10.0.0.2' },
    { name: 'all hops trusted: the left-most', peer: '10.0.0.1', xff: '10.0.0.3, 10.0.0.2', trusted: TRUSTED, expected: '10.0.0.3' },
    { name: 'a trusted peer without the header is the client', peer: '10.0.0.1', trusted: TRUSTED, expected: '10.0.0.1' },
  ];
  for (const row of rows) {
    it(row.name, () => assert.equal(clientAddress(request(row.peer, row.xff), row.trusted ?? []), row.expected));
  }
});
