/**
 * Forwarding to the upstream registry with http-proxy's API (the `http-proxy-3` line; see README).
 * The caller has already decided; this module only moves bytes, with the credential it is given.
 */
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { createProxyServer } from 'http-proxy-3';
import { createUploadAgent } from './upload-agent.js';

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) plus `Expect` and `HTTP2-Settings`: never forwarded.
 * cargo over plain http sends `Connection: Upgrade, HTTP2-Settings` + `Upgrade: h2c`
 * (wire-facts §1.5); Node already answered any `Expect: 100-continue` itself (§1.2).
 */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'http2-settings', 'expect', 'proxy-authorization'];
/**
 * Never sent upstream either: what would let a client change what the registry does or believes
 * behind the route the gateway matched. A method override turns an allowed GET into a DELETE on
 * frameworks that honour it; `Forwarded` / `X-Forwarded-*` would let a client name the host and
 * address the registry builds URLs from or logs (an adapter that needs them sets its own, after
 * this); a `Cookie` would authenticate upstream as a browser session instead of the swapped
 * credential. cargo and npm send none of these.
 */
const CLIENT_ONLY = ['x-http-method-override', 'x-http-method', 'x-method-override', 'forwarded', 'cookie'];
const STRIPPED = new Set([...HOP_BY_HOP, ...CLIENT_ONLY]);
/**
 * A client may name headers in `Connection` to have them dropped at the hop; never these. Dropping
 * `Content-Length` would leave a body unframed on the shared upstream socket (request smuggling);
 * `Host` and `Authorization` are the gateway's to set.
 */
const NOT_NOMINABLE = new Set(['content-length', 'transfer-encoding', 'host', 'authorization']);

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
  /** Rewrites the upstream's answer (publish warnings); without it the answer streams through untouched. */
  readonly rewrite?: ResponseRewrite;
  /** Headers that replace the client's; a `host` here is sent instead of the upstream's own. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Runs once the upstream has answered and before any of the answer reaches the client, so what
   * it records is in place before the client can act on the answer (a publish: see
   * `existence-step.ts`). It never rejects. Costs the answer's wait for it, nothing else: the
   * body is handed over only when a `rewrite` buffers it anyway.
   */
  readonly settle?: (answer: UpstreamAnswer) => Promise<void>;
  /**
   * Asked with the upstream's status before anything of its answer reaches the client: a function
   * returned writes the client's answer instead, and the upstream's body is discarded. null: the
   * answer goes through as usual.
   */
  readonly replace?: (status: number) => (() => void) | null;
  /** Headers that replace the upstream's on a 401 answer (the gateway's own login challenge). */
  readonly challenge?: Readonly<Record<string, string>>;
}

/** The upstream's answer as {@link ForwardRequest.settle} sees it. */
export interface UpstreamAnswer {
  readonly status: number;
  readonly contentType: string | undefined;
  /** The whole body when a rewrite buffered it; null when it streams through unread. */
  readonly body: Buffer | null;
}

/**
 * A bounded rewrite of the upstream's response body. The body is buffered up to `maxBytes`;
 * a longer or content-encoded one is passed through unchanged, as is one `rewrite` returns null for.
 */
export interface ResponseRewrite {
  readonly maxBytes: number;
  rewrite(status: number, contentType: string | undefined, body: Buffer): Buffer | null;
}

export interface Forwarder {
  /** Agent shared with the upstream client (probes, identity, config), so every hop reuses sockets. */
  readonly agent: http.Agent;
  forward(req: http.IncomingMessage, res: http.ServerResponse, request: ForwardRequest): Promise<ForwardOutcome>;
  close(): void;
}

export interface ForwarderOptions {
  readonly upstreamUrl: string;
  readonly timeoutMs: number;
  readonly publicUrl: () => string;
  /** True while the gateway shuts down: answers then close their connection (default: never). */
  readonly closing?: () => boolean;
}

export function createForwarder(options: ForwarderOptions): Forwarder {
  const agentOptions = { keepAlive: true, maxSockets: 256, maxFreeSockets: 64, timeout: 60_000 };
  const agent = new URL(options.upstreamUrl).protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  // Uploads go on connections of their own, where a registry's early answer is not lost.
  const uploadAgent = createUploadAgent(options.upstreamUrl);
  // No `ws` option: the proxy must register no 'upgrade' listener (DESIGN §2, wire-facts §1.5).
  const proxy = createProxyServer({ target: options.upstreamUrl, agent, changeOrigin: true, xfwd: false });
  // `upstream.timeout` bounds the wait for response headers. A timer of our own, because a
  // socket idle timeout set here races with the keep-alive agent's own socket timeout.
  // Requests whose answer is rewritten or settled first (http-proxy-3's per-call `selfHandleResponse`).
  const handled = new WeakMap<http.IncomingMessage, AnswerHandling>();
  const challenges = new WeakMap<http.IncomingMessage, Readonly<Record<string, string>>>();
  const upstreamBase = options.upstreamUrl.replace(/\/+$/, '');
  proxy.on('proxyRes', (proxyRes, req, res) => {
    const location = proxyRes.headers.location;
    if (location !== undefined) proxyRes.headers.location = onGateway(location, upstreamBase, options.publicUrl());
    if (proxyRes.statusCode === 401) Object.assign(proxyRes.headers, challenges.get(req));
    // The proxy copies the upstream's `Connection` (or adds `keep-alive`) onto the answer, which
    // would override the `close` a shutting-down gateway sets (server.ts).
    if (options.closing?.() === true) proxyRes.headers.connection = 'close';
    const handling = handled.get(req);
    if (handling === undefined) return;
    handled.delete(req);
    answerHandled(proxyRes, res, handling);
  });
  // The wait starts again with every chunk of the body the upstream takes: a registry answers a
  // publish only once it has the whole upload, and an upload slower than `upstream.timeout` (a
  // large crate on a slow link) is progress, not silence. An upstream that stops reading stops
  // the chunks, and the timeout runs out as before.
  // Only requests with a body are tracked: most (yank, owners, reads) have none, and are spared
  // the map entry and the 'data' listener on the hot path.
  const restarts = new WeakMap<http.IncomingMessage, () => void>();
  proxy.on('proxyReq', (proxyReq, req) => {
    const expire = (): void => void proxyReq.destroy(Object.assign(new Error('upstream timeout'), { code: 'SG_TIMEOUT' }));
    let timer = setTimeout(expire, options.timeoutMs);
    const uploading = hasBody(req);
    if (uploading) {
      restarts.set(req, () => {
        clearTimeout(timer);
        timer = setTimeout(expire, options.timeoutMs);
      });
    }
    const clear = (): void => {
      clearTimeout(timer);
      if (uploading) restarts.delete(req);
    };
    proxyReq.once('response', clear);
    proxyReq.once('close', clear);
  });

  function forward(req: http.IncomingMessage, res: http.ServerResponse, request: ForwardRequest): Promise<ForwardOutcome> {
    prepareHeaders(req, request.credential);
    Object.assign(req.headers, request.headers);
    req.url = request.path;
    if (request.challenge !== undefined) challenges.set(req, request.challenge);
    return new Promise((resolve) => {
      res.once('finish', () => resolve({ kind: 'answered', status: res.statusCode }));
      res.once('close', () => { if (!res.writableFinished) resolve({ kind: 'client-gone' }); });
      const opts: { buffer?: Readable; selfHandleResponse?: boolean; changeOrigin?: boolean; agent?: http.Agent } = request.body ? { buffer: request.body } : {};
      if (request.headers?.host !== undefined) opts.changeOrigin = false;
      if (uploadAgent !== null && hasBody(req)) opts.agent = uploadAgent;
      if (request.rewrite !== undefined) {
        // Ask for an uncompressed answer: a compressed one could not be rewritten.
        delete req.headers['accept-encoding'];
      }
      if (request.rewrite !== undefined || request.settle !== undefined || request.replace !== undefined) {
        handled.set(req, { rewrite: request.rewrite, settle: request.settle, replace: request.replace });
        opts.selfHandleResponse = true;
      }
      proxy.web(req, res, opts, (err: Error & { code?: string }) => {
        if (res.headersSent) res.destroy();
        // Not `req.destroyed`: an IncomingMessage auto-destroys once its body has been read.
        if (!res.socket || res.socket.destroyed) resolve({ kind: 'client-gone' });
        else if (err.code === 'SG_TIMEOUT') resolve({ kind: 'timeout' });
        else resolve({ kind: 'unreachable', cause: err.code ?? err.message });
      });
      // Listened to only now that the proxy has piped the body: a 'data' listener added earlier
      // would set it flowing before anything read it.
      if (hasBody(req)) (request.body ?? req).on('data', () => restarts.get(req)?.());
    });
  }

  return { agent, forward, close: () => { proxy.close(); agent.destroy(); uploadAgent?.destroy(); } };
}

/** Whether a body follows the request's headers (as prepared for the upstream: a length or chunked). */
function hasBody(req: http.IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/**
 * Strips the client's `Authorization` from the request itself, before the proxy copies headers:
 * http-proxy skips `proxyReq` hooks for requests carrying `Expect`, so a hook is not a safe place.
 */
function prepareHeaders(req: http.IncomingMessage, credential: string | null): void {
  const headers = req.headers;
  // The pipeline let through only plain `chunked` bodies on methods Node's client frames (body.ts
  // framingProblem); the coding is hop-by-hop, so it is dropped below and said again, explicitly.
  const chunked = headers['transfer-encoding'] !== undefined;
  if (headers.connection !== undefined) {
    for (const token of String(headers.connection).split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '' && !NOT_NOMINABLE.has(name)) delete headers[name];
    }
  }
  // Only what is there is deleted (a request has a handful of headers; the list is longer), and
  // the credential is overwritten in place: a `delete` moves the object to V8's slow dictionary
  // mode for the proxy's copy of it.
  for (const name in headers) if (STRIPPED.has(name) || name.startsWith('x-forwarded-')) delete headers[name];
  // Unless the body was read whole and given a length (body-step.ts): never both (RFC 9112 §6.3).
  if (chunked && headers['content-length'] === undefined) headers['transfer-encoding'] = 'chunked';
  if (credential !== null) headers.authorization = credential;
  else if (headers.authorization !== undefined) delete headers.authorization;
}

/**
 * A `Location` on the upstream itself, moved to the gateway (nginx's `proxy_redirect default`): a
 * registry that redirects a download to another of its own paths would otherwise send cargo
 * straight to the upstream, past the gateway (and, where the upstream is only reachable from the
 * gateway, nowhere). Relative locations already resolve against the gateway; other origins (a
 * CDN, crates.io's static.crates.io) are left alone.
 */
export function onGateway(location: string, upstreamBase: string, publicUrl: string): string {
  if (!location.startsWith(upstreamBase)) return location;
  const rest = location.slice(upstreamBase.length);
  return rest === '' || /^[/?#]/.test(rest) ? publicUrl + rest : location;
}

interface AnswerHandling {
  readonly rewrite: ResponseRewrite | undefined;
  readonly settle: ((answer: UpstreamAnswer) => Promise<void>) | undefined;
  readonly replace: ((status: number) => (() => void) | null) | undefined;
}

/**
 * Settles, then writes the answer: unchanged and streamed, or (with a rewrite) buffered (bounded),
 * rewritten, and written with a recomputed Content-Length.
 */
function answerHandled(proxyRes: http.IncomingMessage, res: http.ServerResponse, { rewrite, settle, replace }: AnswerHandling): void {
  const status = proxyRes.statusCode ?? 502;
  const instead = replace?.(status) ?? null;
  if (instead !== null) {
    proxyRes.resume();
    return instead();
  }
  const contentType = proxyRes.headers['content-type'];
  /** Runs `then` once settled; the upstream's body waits unread (paused) meanwhile. */
  const settled = (body: Buffer | null, then: () => void): void => {
    if (settle === undefined) return then();
    void settle({ status, contentType, body }).catch(() => undefined).then(() => {
      if (res.destroyed) proxyRes.destroy();
      else then();
    });
  };
  /** Copies the upstream's headers (not hop-by-hop ones); `length` replaces its Content-Length. */
  const writeHead = (length: number | null): void => {
    for (const [name, value] of Object.entries(proxyRes.headers)) {
      if (value === undefined || HOP_BY_HOP.includes(name) || (length !== null && name === 'content-length')) continue;
      res.setHeader(name, value);
    }
    if (length !== null) res.setHeader('content-length', String(length));
    res.writeHead(status, proxyRes.statusMessage);
  };
  const passThrough = (buffered: Buffer[]): void => settled(null, () => {
    writeHead(null);
    for (const chunk of buffered) res.write(chunk);
    proxyRes.pipe(res);
  });
  proxyRes.on('error', () => res.destroy());
  const encoding = proxyRes.headers['content-encoding'];
  if (rewrite === undefined || (encoding !== undefined && encoding !== 'identity')) return passThrough([]);
  const chunks: Buffer[] = [];
  let size = 0;
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
    size += chunk.length;
    if (size <= rewrite.maxBytes) return;
    proxyRes.pause();
    proxyRes.off('data', onData);
    proxyRes.off('end', onEnd);
    passThrough(chunks);
  };
  const onEnd = (): void => {
    const body = Buffer.concat(chunks);
    const rewritten = rewrite.rewrite(status, contentType, body) ?? body;
    settled(body, () => {
      writeHead(rewritten.length);
      res.end(rewritten);
    });
  };
  proxyRes.on('data', onData);
  proxyRes.on('end', onEnd);
}
