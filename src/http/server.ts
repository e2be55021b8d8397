/** Wires the pipeline to an HTTP server. No 'upgrade' listener is ever registered (DESIGN §2). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { gatewayError } from '../core/errors.js';
import { changesNeedingRestart } from '../config/restart-only.js';
import type { GatewayConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { adapterFor } from '../registries/select.js';
import { NO_AUDIT, type AuditSink } from '../store/audit-log.js';
import type { AuthFailures } from '../store/auth-failures.js';
import { CredentialMemo } from '../store/credential-memo.js';
import type { PublishedCrates } from '../store/published-crates.js';
import type { TokenStore } from '../store/token-store.js';
import { createUsageRecorder } from '../store/usage.js';
import { createUpstreamClient } from '../upstream/client.js';
import { createExistenceProbe } from '../upstream/existence-probe.js';
import { createForwarder } from '../upstream/forward.js';
import type { GatewayDeps } from './context.js';
import { createMetrics, type GatewayMetrics } from './metrics.js';
import { createRequestHandler } from './pipeline.js';
import { answerTimedOut, sendErrorToSocket } from './respond.js';
import { continueOnFirstRead } from './body.js';

export interface Gateway {
  readonly server: http.Server;
  readonly deps: GatewayDeps;
  /**
   * Swaps in a reloaded config (SIGHUP). Routes, token policy and limits take effect at once; what
   * the process built at start (src/config/restart-only.ts) needs a restart, and a warning names it.
   */
  reload(config: GatewayConfig): void;
  /** Starts listening on `config.listen` (port 0: any free port); resolves with the bound port. */
  listen(): Promise<number>;
  /**
   * Stops accepting connections and closes idle ones; requests in flight get up to `drainMs`
   * (default 0: none) to finish before their connections are cut. Then writes the last uses.
   */
  close(options?: { drainMs?: number }): Promise<void>;
}

export interface GatewayOptions {
  readonly store: TokenStore;
  /** Publishes the upstream accepted, shared like the store (open-store.ts `Backends.published`). */
  readonly published: PublishedCrates;
  /** Failed credential checks per client, shared like the store (open-store.ts `Backends.authFailures`). */
  readonly authFailures: AuthFailures;
  readonly logger: Logger;
  readonly clock?: () => number;
  /** The audit trail; default: none. */
  readonly audit?: AuditSink;
  /** Default: a fresh registry (the admin API serves `gateway.deps.metrics.registry`). */
  readonly metrics?: GatewayMetrics;
}

export function createGateway(config: GatewayConfig, options: GatewayOptions): Gateway {
  const clock = options.clock ?? Date.now;
  const adapter = adapterFor(config.registry);
  // The public URL is read per answer: a reload may change it (the upstream needs a restart).
  const forwarder = createForwarder({
    upstreamUrl: config.upstream.url, timeoutMs: config.upstream.timeoutMs, publicUrl: () => live.deps.config.publicUrl, closing: () => live.draining,
  });
  const upstream = createUpstreamClient(config.upstream.url, forwarder.agent);
  const probe = createExistenceProbe({ client: upstream, adapter, timeoutMs: config.upstream.probeTimeoutMs, cacheMs: config.upstream.probeCacheMs, clock });
  const usage = createUsageRecorder(options.store);
  const metrics = options.metrics ?? createMetrics({ processMetrics: false });
  metrics.trackRedisErrors('usage', () => usage.failures);
  // Opened credentials are remembered (masked) whether or not records are cached: a memo is only
  // opened after this request's record, read from the cache or from Redis, has been decided on,
  // and only for the sealed form in that record, so it cannot outlive a revocation or a reissue.
  const credentials = new CredentialMemo({ ttlMs: config.cache.ttlMs, maxEntries: config.cache.maxEntries });
  const deps: GatewayDeps = {
    config, adapter, store: options.store, published: options.published, authFailures: options.authFailures, credentials, forwarder, upstream, probe,
    usage, audit: options.audit ?? NO_AUDIT, metrics, logger: options.logger, clock,
  };
  const live = { deps, draining: false };
  const pipeline = createRequestHandler(() => live.deps);
  // While draining, a request still arriving on a kept-alive connection is served, and told to
  // reconnect (to another process or host) for the next one.
  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (live.draining) res.setHeader('connection', 'close');
    pipeline(req, res);
  };
  // Node's default (5 min for a whole request) cut off slow uploads of large publishes. Node
  // checks the limit every `connectionsCheckingInterval` (30 s by default), which would stretch
  // a short limit by up to that much.
  const requestTimeout = config.limits.requestTimeoutMs;
  const connectionsCheckingInterval = Math.min(30_000, Math.max(1_000, Math.floor(requestTimeout / 10)));
  const server = http.createServer({ requestTimeout, connectionsCheckingInterval }, handle);
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => handle(continueOnFirstRead(req, res), res));
  server.on('clientError', (err: Error & { code?: string; reason?: string }, socket: Duplex) => answerClientError(live.deps, err, socket));
  return {
    server,
    get deps() { return live.deps; },
    reload: (next) => {
      const fixed = changesNeedingRestart(config, next);
      if (fixed.length > 0) {
        options.logger.warn({ restart_needed: fixed }, `${fixed.join(', ')} changed, which only a restart puts in effect; the rest of the new config is in effect`);
      }
      // The adapter (and the store's name rules) are fixed at start, so the registry is too.
      live.deps = { ...live.deps, config: { ...next, registry: config.registry, upstream: { ...next.upstream, url: config.upstream.url } } };
    },
    listen: () => new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.listen.port, config.listen.host, () => resolve((server.address() as AddressInfo).port));
    }),
    close: async ({ drainMs = 0 } = {}) => {
      live.draining = true;
      await drain(server, drainMs);
      forwarder.close();
      // The last uses are written before the store is closed (main.ts closes it after this).
      await usage.flush();
    },
  };
}

/**
 * Closes the server, letting requests in flight finish for up to `drainMs`: a deploy's SIGTERM
 * must not cut off a publish half uploaded. Node (19+) closes idle keep-alive connections on
 * `close()`; an answer written from now on says `Connection: close`, and a connection whose
 * answer was already under way idles out (keep-alive timeout, 5 s). Whatever is still open at
 * the deadline is cut.
 */
function drain(server: http.Server, drainMs: number): Promise<void> {
  return new Promise((resolve) => {
    const deadline = setTimeout(() => server.closeAllConnections(), drainMs);
    server.close(() => {
      clearTimeout(deadline);
      resolve();
    });
    if (drainMs === 0) server.closeAllConnections();
  });
}

/**
 * A request Node's parser refused never reaches the pipeline; without this, Node answers a bare
 * `400 Bad Request` with no body, which cargo and npm show with no explanation. Answered in the
 * registry's error format and logged once (no request line: there was no request).
 */
function answerClientError(deps: GatewayDeps, err: Error & { code?: string; reason?: string }, socket: Duplex): void {
  // Mid-response (a later pipelined request failed to parse), raw bytes would corrupt the answer
  // in progress; Node's own handler checks the same private field.
  const inFlight = (socket as { _httpMessage?: unknown })._httpMessage;
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' && inFlight instanceof http.ServerResponse && !inFlight.headersSent) {
    // The request is in the pipeline (its body still arriving, maybe already forwarded): it is
    // answered through its own response, which the pipeline and the forwarder then see as done.
    answerTimedOut(inFlight, deps.adapter, gatewayError('SG_REQUEST_TIMEOUT'), deps.config.publicUrl);
    return;
  }
  if (err.code === 'ECONNRESET' || !socket.writable || (inFlight !== undefined && inFlight !== null)) {
    socket.destroy();
    return;
  }
  const error = err.code === 'HPE_HEADER_OVERFLOW' ? gatewayError('SG_REQUEST_HEADERS_TOO_LARGE')
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? gatewayError('SG_REQUEST_TIMEOUT')
    : gatewayError('SG_REQUEST_MALFORMED', { why: err.reason ?? err.code ?? err.message });
  deps.logger.warn({ 'error.code': error.code, 'err.code': err.code, 'err.reason': err.reason }, 'refused a request Node could not parse');
  sendErrorToSocket(socket, deps.adapter, error);
}
