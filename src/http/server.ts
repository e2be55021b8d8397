/** Wires the pipeline to an HTTP server. No 'upgrade' listener is ever registered (DESIGN §2). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GatewayConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { adapterFor } from '../registries/select.js';
import { NO_AUDIT, type AuditSink } from '../store/audit-log.js';
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

export interface Gateway {
  readonly server: http.Server;
  readonly deps: GatewayDeps;
  /**
   * Swaps in a reloaded config (SIGHUP). Routes, token policy and limits take effect at once; the
   * listener, upstream and Redis connection are fixed at start and need a restart to change.
   */
  reload(config: GatewayConfig): void;
  /** Starts listening on `config.listen` (port 0: any free port); resolves with the bound port. */
  listen(): Promise<number>;
  close(): Promise<void>;
}

export interface GatewayOptions {
  readonly store: TokenStore;
  /** Publishes the upstream accepted, shared like the store (open-store.ts `Backends.published`). */
  readonly published: PublishedCrates;
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
  const forwarder = createForwarder({ upstreamUrl: config.upstream.url, timeoutMs: config.upstream.timeoutMs });
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
    config, adapter, store: options.store, published: options.published, credentials, forwarder, upstream, probe,
    usage, audit: options.audit ?? NO_AUDIT, metrics, logger: options.logger, clock,
  };
  const live = { deps };
  const server = http.createServer(createRequestHandler(() => live.deps));
  return {
    server,
    get deps() { return live.deps; },
    reload: (next) => {
      if (next.upstream.url !== config.upstream.url || next.redis.url !== config.redis.url || next.listen.port !== config.listen.port || next.registry !== config.registry) {
        options.logger.warn('listen, registry, upstream.url and redis.url changes need a restart; the rest of the new config is in effect');
      }
      // The adapter (and the store's name rules) are fixed at start, so the registry is too.
      live.deps = { ...live.deps, config: { ...next, registry: config.registry, upstream: { ...next.upstream, url: config.upstream.url } } };
    },
    listen: () => new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.listen.port, config.listen.host, () => resolve((server.address() as AddressInfo).port));
    }),
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        forwarder.close();
      });
      // The last uses are written before the store is closed (main.ts closes it after this).
      await usage.flush();
    },
  };
}
