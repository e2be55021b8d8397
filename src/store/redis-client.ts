/**
 * The ioredis connection, configured to fail closed fast (DESIGN §5): while Redis is down or slow
 * every command rejects within `commandTimeoutMs` instead of waiting in a queue, so the gateway
 * answers 503 at once rather than holding requests open until Redis returns.
 */
import { Redis } from 'ioredis';
import { StoreUnavailableError } from './token-store.js';

/** Options for {@link createRedisClient}. */
export interface RedisClientOptions {
  /** `redis://[user:password@]host:port/db` (or `rediss://` for TLS). */
  readonly url: string;
  /** How long one command may take before it rejects. Default 100 ms. */
  readonly commandTimeoutMs?: number;
  /**
   * Called with every connection error (refused, reset, timed out). ioredis emits one per failed
   * reconnect attempt, so a caller that logs should rate-limit. Without it errors are dropped.
   */
  readonly onError?: (error: Error) => void;
}

const DEFAULT_COMMAND_TIMEOUT_MS = 100;
const MAX_RECONNECT_DELAY_MS = 500;
/** A connect that has not completed by then is abandoned and retried (a hung host never refuses). */
const CONNECT_TIMEOUT_MS = 1_000;
/**
 * How long a disconnect waits for the socket to close gracefully. ioredis's 2 s default keeps the
 * process alive that long when a client is closed while Redis is down (it waits on a dead socket).
 */
const DISCONNECT_TIMEOUT_MS = 200;

/** Creates a client that rejects at once while disconnected and keeps reconnecting for ever. */
export function createRedisClient(options: RedisClientOptions): Redis {
  const client = new Redis(options.url, {
    commandTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    connectTimeout: CONNECT_TIMEOUT_MS,
    disconnectTimeout: DISCONNECT_TIMEOUT_MS,
    // No offline queue: a command issued while disconnected rejects immediately (fail closed).
    enableOfflineQueue: false,
    // Commands in flight when the connection drops are rejected rather than retried or resent:
    // a resent write may already have been applied, and the caller has long answered 503 anyway.
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // Never give up: the gateway must recover by itself once Redis is back.
    retryStrategy: (times) => Math.min(times * 50, MAX_RECONNECT_DELAY_MS),
  });
  // Without an 'error' listener ioredis prints every reconnect failure to stderr itself.
  client.on('error', (error: Error) => options.onError?.(error));
  return client;
}

/**
 * Resolves once the client is connected and ready; rejects with {@link StoreUnavailableError}
 * after `timeoutMs`. Needed at start-up because, with no offline queue, commands sent before
 * the first connection completes would fail.
 */
export function waitForReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    let lastError: Error | undefined;
    const onError = (error: Error): void => {
      lastError = error;
    };
    const onReady = (): void => {
      settle();
      resolve();
    };
    const timer = setTimeout(() => {
      settle();
      const cause = lastError ? `; last error: ${lastError.message}` : '';
      const message = `redis not ready after ${timeoutMs} ms (status ${client.status}${cause})`;
      reject(new StoreUnavailableError(message, { cause: lastError }));
    }, timeoutMs);
    function settle(): void {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
    }
    client.on('ready', onReady);
    client.on('error', onError);
  });
}
