/** Opens the configured token store: Redis (the default) or, for `redis.url: memory`, in process. */
import type { GatewayConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { MemoryTokenStore } from './memory-store.js';
import { createRedisClient, waitForReady } from './redis-client.js';
import { RedisTokenStore } from './redis-store.js';
import type { TokenStore } from './token-store.js';

const ERROR_LOG_INTERVAL_MS = 10_000;

export async function openTokenStore(config: GatewayConfig, logger: Logger): Promise<TokenStore> {
  if (config.redis.url === 'memory') {
    logger.warn('redis.url is "memory": tokens live in this process only and vanish on restart; never use this in production or with workers');
    return new MemoryTokenStore();
  }
  let lastLogged = 0;
  const client = createRedisClient({
    url: config.redis.url,
    commandTimeoutMs: config.redis.commandTimeoutMs,
    // ioredis reports every failed reconnect; one line per interval is enough to see an outage.
    onError: (error) => {
      const now = Date.now();
      if (now - lastLogged < ERROR_LOG_INTERVAL_MS) return;
      lastLogged = now;
      logger.error({ err: { message: error.message } }, 'redis connection error; requests that need a token get 503 until it is back');
    },
  });
  await waitForReady(client, 2_000).catch(() => {
    logger.warn('redis is not reachable yet; starting anyway and failing closed (503) until it is');
  });
  return new RedisTokenStore(client, { keyPrefix: config.redis.keyPrefix });
}
