/** Wires the pipeline to an HTTP server. No 'upgrade' listener is ever registered (DESIGN §2). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GatewayConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { cargoAdapter } from '../registries/cargo.js';
import type { TokenStore } from '../store/token-store.js';
import { createUsageRecorder } from '../store/usage.js';
import { createUpstreamClient } from '../upstream/client.js';
import { createExistenceProbe } from '../upstream/existence-probe.js';
import { createForwarder } from '../upstream/forward.js';
import type { GatewayDeps } from './context.js';
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

export function createGateway(config: GatewayConfig, options: { store: TokenStore; logger: Logger; clock?: () => number }): Gateway {
  const clock = options.clock ?? Date.now;
  const adapter = cargoAdapter;
  const forwarder = createForwarder({ upstreamUrl: config.upstream.url, timeoutMs: config.upstream.timeoutMs });
  const upstream = createUpstreamClient(config.upstream.url, forwarder.agent);
  const probe = createExistenceProbe({ client: upstream, adapter, timeoutMs: config.upstream.probeTimeoutMs, cacheMs: config.upstream.probeCacheMs, clock });
  const deps: GatewayDeps = {
    config, adapter, store: options.store, forwarder, upstream, probe,
    usage: createUsageRecorder(options.store), logger: options.logger, clock,
  };
  const live = { deps };
  const server = http.createServer(createRequestHandler(() => live.deps));
  return {
    server,
    get deps() { return live.deps; },
    reload: (next) => {
      if (next.upstream.url !== config.upstream.url || next.redis.url !== config.redis.url || next.listen.port !== config.listen.port) {
        options.logger.warn('listen, upstream.url and redis.url changes need a restart; the rest of the new config is in effect');
      }
      live.deps = { ...live.deps, config: { ...next, upstream: { ...next.upstream, url: config.upstream.url } } };
    },
    listen: () => new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.listen.port, config.listen.host, () => resolve((server.address() as AddressInfo).port));
    }),
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
      forwarder.close();
    }),
  };
}
