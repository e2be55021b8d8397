/**
 * The revocation feed (DESIGN §5–6): a subscription to `<prefix>revocations`, on which every
 * revocation publishes the token's hash (`RedisTokenStore.revoke`), so each process's token cache
 * drops it at once — within a millisecond or two on a LAN, far inside the 100 ms budget.
 *
 * The feed says when it cannot vouch for itself, and the cache is bypassed for as long as it says so:
 * - the subscriber connection closed (Redis down, restarted, failed over): down at once;
 * - it is open but its heartbeat PING goes unanswered (a hung Redis, a silent network partition):
 *   down after at most one heartbeat interval plus the command timeout; after
 *   {@link ABANDON_AFTER_UNANSWERED} unanswered PINGs in a row the connection is dropped and a new
 *   one opened, since a frozen server never closes it: Sentinel is asked for the master again, a
 *   Cluster subscriber moves to another node;
 * - live again only once SUBSCRIBE is confirmed (on a ready connection not yet subscribed, each
 *   heartbeat sends it again, and a failed one counts as an unanswered PING), or the PING is
 *   answered again on the same connection; the cache is emptied then, since revocations may have
 *   been missed.
 *
 * Classic PUBLISH/SUBSCRIBE reaches every subscriber of a Redis Cluster through the cluster bus,
 * whichever node either side is connected to, so one channel serves standalone, Sentinel and
 * Cluster alike; it names no key, so there is no slot to get wrong.
 */
import { Cluster, type Redis } from 'ioredis';
import type { GatewayConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { createRedisClient } from './redis-client.js';
import { CachingTokenStore, type RevocationFeed, type RevocationListener } from './token-cache.js';
import type { TokenStore } from './token-store.js';

export interface RedisRevocationFeedOptions {
  /**
   * Opens a subscriber connection. Called again whenever one gives up for good (it emits 'end'):
   * a Cluster subscriber then moves to another node.
   */
  readonly connect: () => Redis;
  readonly channel: string;
  /** Interval of the heartbeat PING; default 1 s. */
  readonly heartbeatMs?: number;
  /** Told when the feed goes down or comes back, with why (for the log). */
  readonly onChange?: (live: boolean, why: string) => void;
  /**
   * Told when the server refuses SUBSCRIBE (an ACL without the channel), once until a SUBSCRIBE
   * succeeds: the feed then never goes live, so `onChange` never speaks, and the cache is bypassed.
   */
  readonly onRefused?: (message: string) => void;
}

const DEFAULT_HEARTBEAT_MS = 1_000;
/**
 * Unanswered heartbeats in a row after which the subscriber is replaced. Not 1: a Redis that is
 * only slow for a moment would cost a reconnect (and the cache) each time.
 */
const ABANDON_AFTER_UNANSWERED = 3;

export class RedisRevocationFeed implements RevocationFeed {
  private state = { live: false, subscribed: false, closed: false, unanswered: 0, refusalTold: false };
  private listener: RevocationListener | null = null;
  private subscriber: Redis;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly options: RedisRevocationFeedOptions) {
    this.subscriber = this.open();
    this.heartbeat = setInterval(() => void this.beat(), options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  get live(): boolean {
    return this.state.live;
  }

  listen(listener: RevocationListener): void {
    this.listener = listener;
  }

  async close(): Promise<void> {
    this.state.closed = true;
    clearInterval(this.heartbeat);
    this.down('closed');
    try {
      await this.subscriber.quit();
    } catch {
      this.subscriber.disconnect();
    }
  }

  private open(): Redis {
    const subscriber = this.options.connect();
    subscriber.on('ready', () => void this.subscribe(subscriber));
    subscriber.on('close', () => {
      if (subscriber !== this.subscriber) return;
      this.state.subscribed = false;
      this.down('subscriber connection closed');
    });
    subscriber.on('end', () => {
      if (subscriber === this.subscriber) this.replace();
    });
    subscriber.on('message', (channel: string, hash: string) => {
      if (channel === this.options.channel) this.listener?.revoked(hash);
    });
    return subscriber;
  }

  /** Opens a new subscriber in place of the current one (closed, or given up on). */
  private replace(): void {
    // Also reached from a heartbeat that was waiting when the feed was closed: a connection
    // opened then would reconnect for ever, keeping the process alive.
    if (this.state.closed) return;
    this.state.subscribed = false;
    this.state.unanswered = 0;
    this.subscriber = this.open();
  }

  /** Sends SUBSCRIBE; the feed is live once it is confirmed on the current connection. */
  private async subscribe(subscriber: Redis): Promise<Heartbeat> {
    try {
      await subscriber.subscribe(this.options.channel);
    } catch (error) {
      // Not subscribed: stays down; the next heartbeat or reconnect tries again.
      if (!isRefusal(error)) return 'unanswered';
      if (!this.state.refusalTold) this.options.onRefused?.((error as Error).message);
      this.state.refusalTold = true;
      return 'answered';
    }
    if (subscriber !== this.subscriber || subscriber.status !== 'ready') return 'unanswered';
    this.state.subscribed = true;
    this.state.refusalTold = false;
    this.up('subscribed');
    return 'answered';
  }

  private async beat(): Promise<void> {
    const subscriber = this.subscriber;
    if (subscriber.status !== 'ready') return;
    // Unsubscribed on a ready connection: its SUBSCRIBE was answered too late (after the command
    // timeout) or refused, and nothing else would ask again until the connection happened to
    // drop, so the cache stayed bypassed for good. Asking again is harmless if the first one did
    // take effect after all; going unanswered counts as a missed heartbeat, so a connection to a
    // server that froze just after connecting is given up on too.
    const heard = this.state.subscribed ? await ping(subscriber) : await this.subscribe(subscriber);
    if (subscriber !== this.subscriber) return;
    if (heard === 'unanswered') {
      this.down('heartbeat unanswered');
      if (++this.state.unanswered >= ABANDON_AFTER_UNANSWERED) {
        subscriber.disconnect();
        this.replace();
      }
      return;
    }
    this.state.unanswered = 0;
    // Answered on the same connection after being marked down: nothing it carries was lost, but
    // empty the cache anyway (`up` does) rather than reason about what the outage was.
    if (this.state.subscribed) this.up('heartbeat answered again');
  }

  private up(why: string): void {
    if (this.state.live || this.state.closed) return;
    // Reset before trusting: whatever was cached may predate a revocation this process missed.
    this.listener?.reset();
    this.state.live = true;
    this.options.onChange?.(true, why);
  }

  private down(why: string): void {
    if (!this.state.live) return;
    this.state.live = false;
    this.listener?.reset();
    this.options.onChange?.(false, why);
  }
}

/**
 * Whether the server answered. An ACL refusal (NOPERM) is an answer: the server is up and
 * serving this connection (the Redis user may lack PING, or the channel: Redis 7's
 * `acl-pubsub-default resetchannels`), and a new connection would be refused alike. Any other
 * failure counts against the connection, other error replies included: `-BUSY` (a script
 * running past busy-reply-threshold) comes from a server that serves nothing else meanwhile.
 */
type Heartbeat = 'answered' | 'unanswered';

function ping(subscriber: Redis): Promise<Heartbeat> {
  return subscriber.ping().then(() => 'answered', (error: unknown) => (isRefusal(error) ? 'answered' : 'unanswered'));
}

const isRefusal = (error: unknown): boolean => error instanceof Error && error.name === 'ReplyError' && error.message.startsWith('NOPERM');

/** The channel revocations are published on (one per key prefix, so deployments sharing a Redis stay apart). */
export function revocationChannel(keyPrefix: string): string {
  return `${keyPrefix}revocations`;
}

/**
 * A subscriber connection factory for the configured topology. Standalone and Sentinel: a new
 * connection like the command client's (Sentinel finds the current master on each reconnect).
 * Cluster: a plain connection to one node, any node will do (PUBLISH reaches them all); it gives
 * up after a few reconnects (or the feed gives up on it, when it stops answering) so the feed
 * moves on to the next node the cluster client knows.
 */
export function subscriberFactory(redis: GatewayConfig['redis'], commandClient: Redis | Cluster, options: { commandTimeoutMs: number; onError?: (error: Error) => void }): () => Redis {
  if (redis.clusterNodes === null) {
    return () => createRedisClient({ url: redis.url, sentinels: redis.sentinels, name: redis.name, subscriber: true, ...options });
  }
  let next = 0;
  let last = '';
  const seeds = redis.clusterNodes;
  return () => {
    const known = commandClient instanceof Cluster ? commandClient.nodes('all').map((n) => ({ host: n.options.host ?? '', port: n.options.port ?? 0 })) : [];
    const nodes = known.length > 0 ? known : seeds;
    let node = nodes[next++ % nodes.length]!;
    // Not straight back to the node just given up on (it may be frozen but still listed).
    if (nodes.length > 1 && `${node.host}:${node.port}` === last) node = nodes[next++ % nodes.length]!;
    last = `${node.host}:${node.port}`;
    const url = new URL(redis.url);
    url.hostname = node.host;
    url.port = String(node.port);
    url.pathname = '/0';
    return createRedisClient({ url: url.href, subscriber: true, maxReconnects: CLUSTER_SUBSCRIBER_RECONNECTS, ...options });
  };
}

const CLUSTER_SUBSCRIBER_RECONNECTS = 3;

/**
 * Wraps `store` in the token cache, fed by revocations on the configured Redis; with
 * `cache.enabled: false`, returns `store` itself (revocations are still published by the store).
 */
export function withTokenCache(store: TokenStore, config: GatewayConfig, commandClient: Redis | Cluster, logger: Logger): TokenStore {
  if (!config.cache.enabled) return store;
  const feed = new RedisRevocationFeed({
    connect: subscriberFactory(config.redis, commandClient, { commandTimeoutMs: config.redis.commandTimeoutMs }),
    channel: revocationChannel(config.redis.keyPrefix),
    onChange: (live, why) => {
      if (live) logger.info({ why }, 'revocation feed live: token cache in use');
      else logger.warn({ why }, 'revocation feed down: token cache bypassed, every request asks Redis');
    },
    onRefused: (message) => {
      logger.warn({ why: message, channel: revocationChannel(config.redis.keyPrefix) }, 'revocation feed refused SUBSCRIBE: token cache bypassed, every request asks Redis; give the Redis user this channel (ACL SETUSER <user> &<channel>)');
    },
  });
  return new CachingTokenStore(store, feed, { ttlMs: config.cache.ttlMs, maxEntries: config.cache.maxEntries });
}
