/**
 * The ioredis connection, configured to fail closed fast (DESIGN §5): while Redis is down or slow
 * every command rejects within `commandTimeoutMs` instead of waiting in a queue, so the gateway
 * answers 503 at once rather than holding requests open until Redis returns.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { GatewayConfig, HostPort } from '../config/types.js';
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
  /**
   * Redis Sentinel: ask these sentinels for the master named `name` (on every reconnect), and
   * reconnect when they announce a failover or the master stops answering (see
   * {@link watchSentinelMaster}). `url` then supplies only user, password, database and TLS.
   */
  readonly sentinels?: readonly HostPort[] | null;
  readonly name?: string;
  /** Reconnect attempts before the client gives up and emits 'end'. Default: for ever. */
  readonly maxReconnects?: number;
  /** A pub/sub connection: its owner subscribes again itself after a reconnect (and knows when). */
  readonly subscriber?: boolean;
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
/** How often a Sentinel command client checks that it is still talking to the master. */
const MASTER_CHECK_INTERVAL_MS = 1_000;
/** Unanswered checks in a row after which the client reconnects, asking Sentinel again. */
const MASTER_CHECK_FAILURES = 3;
/**
 * Cluster: how often the slot map is refreshed anyway (ioredis 5 documents a 5 s default but sets
 * none, so without it a timing-out node is never replaced), and the least time between refreshes
 * triggered by command timeouts (each one opens a connection to a node).
 */
const SLOTS_REFRESH_INTERVAL_MS = 5_000;
const SLOTS_REFRESH_AFTER_TIMEOUT_MS = 1_000;

/**
 * Creates a client that rejects at once while disconnected and keeps reconnecting (for ever,
 * unless `maxReconnects` says otherwise).
 */
export function createRedisClient(options: RedisClientOptions): Redis {
  const maxReconnects = options.maxReconnects ?? Number.POSITIVE_INFINITY;
  const settings: RedisOptions = {
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
    retryStrategy: (times) => (times > maxReconnects ? null : Math.min(times * 50, MAX_RECONNECT_DELAY_MS)),
    autoResubscribe: !options.subscriber,
    // One write per loop turn for the turn's commands (measured: cache off 0.55-0.56x -> 0.63-0.70x
    // of the bare proxy, bench/profile-notes.md). The next batch waits for the one in flight, so a
    // command can wait one timeout behind it before its own starts: ~2x the timeout at worst.
    enableAutoPipelining: !options.subscriber,
  };
  const sentinels = options.sentinels?.map(({ host, port }) => ({ host, port }));
  const client = sentinels
    ? new Redis({ ...settings, ...urlCredentials(options.url), ...sentinelSettings, sentinels, name: options.name ?? 'mymaster' })
    : new Redis(options.url, settings);
  // Without an 'error' listener ioredis prints every reconnect failure to stderr itself.
  client.on('error', (error: Error) => {
    if (!isRefusedSelect(error)) return options.onError?.(error);
    // ioredis sends SELECT on connect and, when the server refuses it (a database beyond its
    // `databases`), only emits the error and carries on in database 0: another deployment's
    // tokens. Dropping the connection fails closed instead, and reconnecting keeps trying.
    client.disconnect(true);
    options.onError?.(new Error(`redis refused to select database ${String(error.command?.args[0])} (${error.message}): set redis.url (REDIS_URL) to a database the server has (its \`databases\` setting)`));
  });
  // A subscriber cannot send ROLE (RESP2 allows only (UN)SUBSCRIBE and PING once subscribed): the
  // revocation feed watches its own connection by heartbeat instead (revocation-feed.ts).
  if (sentinels) {
    if (!options.subscriber) watchSentinelMaster(client);
    // quit() ends the client without telling its connector, whose failover detector would keep
    // its sentinel connections (and the process) alive; disconnect() closes them.
    client.once('end', () => client.disconnect());
  }
  return client;
}

/** A server's error reply to the SELECT ioredis sends on connect. */
function isRefusedSelect(error: Error & { command?: { name?: string; args?: unknown[] } }): error is Error & { command: { name: string; args: unknown[] } } {
  return error.name === 'ReplyError' && error.command?.name === 'select' && Array.isArray(error.command.args);
}

/**
 * ioredis asks Sentinel for the master only when it (re)connects, and a frozen master (SIGSTOP, a
 * hung VM) never closes the socket, so without these a client stays on it after Sentinel has
 * promoted a replica: every command times out, and once the old master thaws it answers with
 * pre-failover data (a token revoked since reads as valid) until Sentinel demotes it.
 * `failoverDetector` subscribes to `+switch-master` on the sentinels and reconnects at once.
 */
const sentinelSettings: RedisOptions = { failoverDetector: true };

/**
 * For an announcement that is missed (the detector's sentinel connection was down, the process
 * started mid-failover): every second the client asks its server for ROLE, and reconnects, which
 * asks Sentinel again, when the answer is not `master` or after {@link MASTER_CHECK_FAILURES}
 * unanswered checks in a row. Until then commands time out and fail closed (503). (On reconnect
 * ioredis itself refuses a server whose INFO says it is not the master.)
 */
function watchSentinelMaster(client: Redis): void {
  let failures = 0;
  const timer = setInterval(() => {
    if (client.status !== 'ready') {
      failures = 0;
      return;
    }
    client.role().then(
      (role) => {
        failures = 0;
        if (Array.isArray(role) && role[0] !== 'master') client.disconnect(true);
      },
      (error: unknown) => {
        // An error reply is an answer: ROLE is in @admin, which a least-privilege ACL user may
        // lack (NOPERM), and that Redis is plainly not hung. Only silence counts.
        if (error instanceof Error && error.name === 'ReplyError') {
          failures = 0;
          return;
        }
        if (++failures < MASTER_CHECK_FAILURES || client.status !== 'ready') return;
        failures = 0;
        client.disconnect(true);
      },
    );
  }, MASTER_CHECK_INTERVAL_MS);
  timer.unref();
  client.once('end', () => clearInterval(timer));
}

/** Options for {@link createClusterClient}. */
export interface ClusterClientOptions {
  /** Some of the cluster's nodes; the others are discovered from them. */
  readonly nodes: readonly HostPort[];
  /** Supplies user, password and TLS (rediss://) only; its host is ignored. */
  readonly url: string;
  readonly commandTimeoutMs?: number;
  readonly onError?: (error: Error) => void;
}

/**
 * A Redis Cluster client with the same fail-fast behaviour: no offline queue at the cluster or the
 * node level, a command timeout per node command, and short retry delays on a failover, so a
 * request still fails closed quickly while slots move.
 */
export function createClusterClient(options: ClusterClientOptions): Cluster {
  const { db: _ignored, ...credentials } = urlCredentials(options.url);
  const cluster = new Cluster(options.nodes.map(({ host, port }) => ({ host, port })), {
    enableOfflineQueue: false,
    // No autopipelining here: ioredis groups a turn's commands by node, then refuses the batch
    // when they hash to different slots ("All keys in the pipeline should belong to the same
    // slots allocation group"); the Cluster contract suite fails with it on.
    clusterRetryStrategy: (times) => Math.min(times * 50, MAX_RECONNECT_DELAY_MS),
    retryDelayOnFailover: 20,
    retryDelayOnClusterDown: 20,
    retryDelayOnTryAgain: 20,
    maxRedirections: 4,
    slotsRefreshTimeout: CONNECT_TIMEOUT_MS,
    // ioredis moves a slot to its new master only on MOVED, ASK, CLUSTERDOWN or a closed
    // connection; a frozen master closes nothing and answers nothing, so its slots would keep
    // timing out (503) long after the cluster failed it over. See also refreshSlotsAfterTimeout.
    slotsRefreshInterval: SLOTS_REFRESH_INTERVAL_MS,
    redisOptions: {
      ...credentials,
      commandTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
      connectTimeout: CONNECT_TIMEOUT_MS,
      disconnectTimeout: DISCONNECT_TIMEOUT_MS,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
    },
  });
  cluster.on('error', (error: Error) => options.onError?.(error));
  return cluster;
}

const lastSlotsRefresh = new WeakMap<Cluster, number>();

/**
 * Called with each failed command: on a Cluster, a timeout asks for the slot map again (at most
 * once a second), so a failed-over master's slots move within about a second of the cluster
 * moving them rather than at the next periodic refresh. Nothing for standalone or Sentinel.
 */
export function refreshSlotsAfterTimeout(client: Redis | Cluster, error: unknown): void {
  if (!(client instanceof Cluster) || !(error instanceof Error) || error.message !== 'Command timed out') return;
  const now = performance.now();
  if (now - (lastSlotsRefresh.get(client) ?? -Infinity) < SLOTS_REFRESH_AFTER_TIMEOUT_MS) return;
  lastSlotsRefresh.set(client, now);
  client.refreshSlotsCache();
}

/** The configured topology's command client: standalone, Sentinel or Cluster. */
export function connectRedis(redis: GatewayConfig['redis'], options: { commandTimeoutMs: number; onError?: (error: Error) => void }): Redis | Cluster {
  if (redis.clusterNodes !== null) return createClusterClient({ nodes: redis.clusterNodes, url: redis.url, ...options });
  return createRedisClient({ url: redis.url, sentinels: redis.sentinels, name: redis.name, ...options });
}

/** User, password, database and TLS from a redis:// or rediss:// URL (its host is not used). */
function urlCredentials(url: string): Pick<RedisOptions, 'username' | 'password' | 'db' | 'tls'> {
  const parsed = new URL(url);
  const db = Number(parsed.pathname.slice(1) || 0);
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(Number.isInteger(db) && db > 0 ? { db } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/**
 * Resolves once the client is connected and ready; rejects with {@link StoreUnavailableError}
 * after `timeoutMs`. Needed at start-up because, with no offline queue, commands sent before
 * the first connection completes would fail.
 */
export function waitForReady(client: Redis | Cluster, timeoutMs: number): Promise<void> {
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
