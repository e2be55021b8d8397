/**
 * The benchmark's limit: a bare reverse proxy with the gateway's own forwarding library and agent
 * settings (http-proxy-3, keep-alive, the same socket limits as `src/upstream/forward.ts`) and no
 * authorization at all. Every gateway figure is a ratio against this, measured in the same round.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProxyServer } from 'http-proxy-3';

const target = process.argv[2];
if (target === undefined) throw new Error('usage: bare-proxy <upstream url>');
const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64, timeout: 60_000 });
const proxy = createProxyServer({ target, agent, changeOrigin: true, xfwd: false });
const server = http.createServer((req, res) => {
  proxy.web(req, res, {}, () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
process.on('disconnect', () => process.exit(0));
// A clean exit, so that --cpu-prof writes its profile.
process.on('SIGTERM', () => process.exit(0));
