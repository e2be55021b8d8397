/**
 * Forwarding to the upstream registry with http-proxy's API (the `http-proxy-3` line; see README).
 * The caller has already decided; this module only moves bytes, with the credential it is given.
 */
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { createProxyServer } from 'http-proxy-3';

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) plus `Expect` and `HTTP2-Settings`: never forwarded.
 * cargo over plain http sends `Connection: Upgrade, HTTP2-Settings` + `Upgrade: h2c`
 * (wire-facts §1.5); Node already answered any `Expect: 100-continue` itself (§1.2).
 */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'http2-settings', 'expect', 'proxy-authorization'];

export type ForwardOutcome =
  | { readonly kind: 'answered'; readonly status: number }
  | { readonly kind: 'unreachable'; readonly cause: string }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'client-gone' };

export interface ForwardRequest {
  /** The normalised path + query to request upstream. */
  readonly path: string;
  /** The `Authorization` value to send upstream, or null for none. */
  readonly credential: string | null;
  /** The body to send instead of reading `req` (publish: the peeked head + the rest). */
  readonly body?: Readable;
}

export interface Forwarder {
  /** Agent shared with the upstream client (probes, identity, config), so every hop reuses sockets. */
  readonly agent: http.Agent;
  forward(req: http.IncomingMessage, res: http.ServerResponse, request: ForwardRequest): Promise<ForwardOutcome>;
  close(): void;
}

export function createForwarder(options: { upstreamUrl: string; timeoutMs: number }): Forwarder {
  const agentOptions = { keepAlive: true, maxSockets: 256, maxFreeSockets: 64, timeout: 60_000 };
  const agent = new URL(options.upstreamUrl).protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  // No `ws` option: the proxy must register no 'upgrade' listener (DESIGN §2, wire-facts §1.5).
  const proxy = createProxyServer({ target: options.upstreamUrl, agent, changeOrigin: true, xfwd: false });
  // `upstream.timeout` bounds the wait for response headers. A timer of our own, because a
  // socket idle timeout set here races with the keep-alive agent's own socket timeout.
  proxy.on('proxyReq', (proxyReq) => {
    const timer = setTimeout(() => proxyReq.destroy(Object.assign(new Error('upstream timeout'), { code: 'SG_TIMEOUT' })), options.timeoutMs);
    const clear = (): void => clearTimeout(timer);
    proxyReq.once('response', clear);
    proxyReq.once('close', clear);
  });

  function forward(req: http.IncomingMessage, res: http.ServerResponse, request: ForwardRequest): Promise<ForwardOutcome> {
    prepareHeaders(req, request.credential);
    req.url = request.path;
    return new Promise((resolve) => {
      res.once('finish', () => resolve({ kind: 'answered', status: res.statusCode }));
      res.once('close', () => { if (!res.writableFinished) resolve({ kind: 'client-gone' }); });
      const opts = request.body ? { buffer: request.body } : {};
      proxy.web(req, res, opts, (err: Error & { code?: string }) => {
        if (res.headersSent) res.destroy();
        // Not `req.destroyed`: an IncomingMessage auto-destroys once its body has been read.
        if (!res.socket || res.socket.destroyed) resolve({ kind: 'client-gone' });
        else if (err.code === 'SG_TIMEOUT') resolve({ kind: 'timeout' });
        else resolve({ kind: 'unreachable', cause: err.code ?? err.message });
      });
    });
  }

  return { agent, forward, close: () => { proxy.close(); agent.destroy(); } };
}

/**
 * Strips the client's `Authorization` from the request itself, before the proxy copies headers:
 * http-proxy skips `proxyReq` hooks for requests carrying `Expect`, so a hook is not a safe place.
 */
function prepareHeaders(req: http.IncomingMessage, credential: string | null): void {
  const connectionTokens = String(req.headers.connection ?? '').split(',').map((t) => t.trim().toLowerCase()).filter(Boolean);
  for (const name of [...HOP_BY_HOP, ...connectionTokens]) delete req.headers[name];
  delete req.headers.authorization;
  if (credential !== null) req.headers.authorization = credential;
}
