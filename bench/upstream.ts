/**
 * The benchmark's upstream: a tiny registry stand-in in its own process. Every request gets a small
 * JSON answer once its body has been drained (a publish body is read and dropped, not kept), so
 * what the benchmark measures is the hop in front of it. Prints its port to the parent over IPC.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const SMALL = Buffer.from(JSON.stringify({ ok: true, crate: { name: 'foo', max_version: '1.0.0' } }));
const PUBLISHED = Buffer.from(JSON.stringify({ warnings: { invalid_categories: [], invalid_badges: [], other: [] } }));
const HEADERS = { 'content-type': 'application/json; charset=utf-8' };

const server = http.createServer((req, res) => {
  const answer = req.method === 'PUT' ? PUBLISHED : SMALL;
  req.resume();
  req.once('end', () => {
    res.writeHead(200, { ...HEADERS, 'content-length': answer.length });
    res.end(answer);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('disconnect', () => process.exit(0));
// A clean exit, so that --cpu-prof writes its profile.
process.on('SIGTERM', () => process.exit(0));
