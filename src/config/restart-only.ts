/**
 * The settings a SIGHUP reload cannot change: the process built its listeners, connections,
 * caches, timers and logger from them at start. A reload that changes one says so by name,
 * rather than reporting the new config as in effect while the old value still runs.
 */
import type { GatewayConfig } from './types.js';

const FIXED_AT_START: readonly { readonly path: string; readonly read: (config: GatewayConfig) => unknown }[] = [
  { path: 'registry', read: (c) => c.registry },
  { path: 'listen', read: (c) => c.listen },
  { path: 'upstream.url', read: (c) => c.upstream.url },
  // The forwarder's header timer and the existence probe are built with these.
  { path: 'upstream.timeout', read: (c) => c.upstream.timeoutMs },
  { path: 'upstream.probe_timeout', read: (c) => c.upstream.probeTimeoutMs },
  { path: 'upstream.probe_cache', read: (c) => c.upstream.probeCacheMs },
  { path: 'redis.url', read: (c) => c.redis.url },
  { path: 'redis.command_timeout', read: (c) => c.redis.commandTimeoutMs },
  { path: 'redis.key_prefix', read: (c) => c.redis.keyPrefix },
  { path: 'redis.sentinels', read: (c) => c.redis.sentinels },
  { path: 'redis.name', read: (c) => c.redis.name },
  { path: 'redis.cluster_nodes', read: (c) => c.redis.clusterNodes },
  { path: 'cache.enabled', read: (c) => c.cache.enabled },
  { path: 'cache.ttl', read: (c) => c.cache.ttlMs },
  { path: 'cache.max_entries', read: (c) => c.cache.maxEntries },
  { path: 'workers', read: (c) => c.workers },
  { path: 'reminders.interval', read: (c) => c.reminders.intervalMs },
  { path: 'audit.max_entries', read: (c) => c.audit.maxEntries },
  { path: 'admin.listen', read: (c) => c.admin.listen },
  { path: 'log.level', read: (c) => c.log.level },
  // An option of the listener, set when it is created.
  { path: 'limits.request_timeout', read: (c) => c.limits.requestTimeoutMs },
];

/** The YAML paths of the settings `next` changes that only a restart puts in effect, in file order. */
export function changesNeedingRestart(running: GatewayConfig, next: GatewayConfig): string[] {
  // Loaded values are plain data assembled in one key order, so equal JSON means equal values.
  return FIXED_AT_START.filter(({ read }) => JSON.stringify(read(running)) !== JSON.stringify(read(next))).map(({ path }) => path);
}
