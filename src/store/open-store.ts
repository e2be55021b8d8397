/** Opens the configured token store: Redis (the default) or, for `redis.url: memory`, in process. */
import type { GatewayConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { adapterFor } from '../registries/select.js';
import { MemoryAuditLog, RedisAuditLog, type AuditLog } from './audit-log.js';
import { MemoryAuthFailures, RedisAuthFailures, type AuthFailures } from './auth-failures.js';
import { MemoryTokenStore } from './memory-store.js';
import { MemoryPublishedCrates, RedisPublishedCrates, type PublishedCrates } from './published-crates.js';
import { connectRedis, waitForReady } from './redis-client.js';
import { withTokenCache } from './revocation-feed.js';
import { RedisTokenDirectory } from './redis-directory.js';
import { RedisTokenStore } from './redis-store.js';
import type { TokenDirectory } from './token-directory.js';
import type { TokenStore } from './token-store.js';

const ERROR_LOG_INTERVAL_MS = 10_000;

export async function openTokenStore(config: GatewayConfig, logger: Logger): Promise<TokenStore> {
  return (await openBackends(config, logger)).store;
}

/** Everything that lives in Redis: the token store, the operators' directory, the audit trail, recent publishes, failed credential checks. */
export interface Backends {
  readonly store: TokenStore;
  readonly directory: TokenDirectory;
  readonly audit: AuditLog;
  readonly published: PublishedCrates;
  /** Failed credential checks per client address (`limits.auth_failures`). */
  readonly authFailures: AuthFailures;
  /** Flushes the audit trail, then closes the connection. */
  close(): Promise<void>;
}

export interface BackendOptions {
  /** Overrides `redis.command_timeout` (the CLI is no hot path and may wait longer). */
  readonly commandTimeoutMs?: number;
  /** Reject with StoreUnavailableError when Redis is not ready in time, instead of starting anyway. */
  readonly requireReady?: boolean;
  /** Serve lookups from the token cache (`cache.*`; the gateway does, one-shot tools do not). */
  readonly tokenCache?: boolean;
  /**
   * Write revocations on a second connection (RedisTokenStoreOptions.revocations): the gateway
   * does, so that a revocation waiting for a replica never holds up its requests' lookups.
   */
  readonly revocationConnection?: boolean;
}

/** Opens the backends on one Redis connection (two with `revocationConnection`), or in memory for `redis.url: memory`. */
export async function openBackends(config: GatewayConfig, logger: Logger, options: BackendOptions = {}): Promise<Backends> {
  // Stored crate patterns are parsed by the configured registry's name rules.
  const naming = adapterFor(config.registry).naming;
  if (config.redis.url === 'memory') {
    logger.warn('redis.url is "memory": tokens live in this process only and vanish on restart; never use this in production or with workers');
    const store = new MemoryTokenStore(naming);
    const audit = new MemoryAuditLog(config.audit.maxEntries);
    return { store, directory: store, audit, published: new MemoryPublishedCrates(naming), authFailures: new MemoryAuthFailures(), close: () => store.close() };
  }
  // One error line per interval for the process, however many connections it has.
  const onError = throttledErrorLog(logger);
  const commandTimeoutMs = options.commandTimeoutMs ?? config.redis.commandTimeoutMs;
  const client = connectRedis(config.redis, { commandTimeoutMs, onError });
  try {
    await waitForReady(client, 2_000);
  } catch (error) {
    if (options.requireReady) {
      client.disconnect();
      throw error;
    }
    logger.warn('redis is not reachable yet; starting anyway and failing closed (503) until it is');
  }
  const keyPrefix = config.redis.keyPrefix;
  // The gateway revokes on a connection of its own, which a slow replica's WAIT cannot make every
  // request wait behind (RedisTokenStoreOptions.revocations); a one-shot tool needs no second one.
  const revocations = options.revocationConnection ? connectRedis(config.redis, { commandTimeoutMs, onError }) : undefined;
  const redisStore = new RedisTokenStore(client, { keyPrefix, naming, revocations });
  const store = options.tokenCache ? withTokenCache(redisStore, config, client, logger) : redisStore;
  const audit = new RedisAuditLog(client, { keyPrefix, maxEntries: config.audit.maxEntries });
  return {
    store, audit, directory: new RedisTokenDirectory(client, { keyPrefix, naming }),
    published: new RedisPublishedCrates(client, { keyPrefix, naming }),
    authFailures: new RedisAuthFailures(client, { keyPrefix }),
    close: async () => {
      await audit.close();
      await store.close();
    },
  };
}

/** ioredis reports every failed reconnect, per connection; one line per interval is enough to see an outage. */
function throttledErrorLog(logger: Logger): (error: Error) => void {
  let lastLogged = 0;
  return (error) => {
    const now = Date.now();
    if (now - lastLogged < ERROR_LOG_INTERVAL_MS) return;
    lastLogged = now;
    logger.error({ err: { message: error.message } }, 'redis connection error; requests that need a token get 503 until it is back');
  };
}
