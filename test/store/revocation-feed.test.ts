/**
 * The revocation feed against a private redis-server: it carries published hashes, says it is down
 * the moment its connection closes or once its heartbeat goes unanswered (a hung Redis), and is
 * live again — telling the cache to start empty — once it is subscribed or answered again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { createRedisClient, waitForReady } from '../../src/store/redis-client.js';
import { RedisRevocationFeed, revocationChannel } from '../../src/store/revocation-feed.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';

const HEARTBEAT_MS = 100;
const COMMAND_TIMEOUT_MS = 100;

async function waitUntil(check: () => boolean, what: string, timeoutMs = 3_000): Promise<number> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out waiting until ${what}`);
    await sleep(5);
  }
  return performance.now() - started;
}

describe('revocation feed', () => {
  let redis: RedisServer;
  let feed: RedisRevocationFeed;
  const revoked: string[] = [];
  let resets = 0;
  const changes: string[] = [];
  const channel = revocationChannel('sg-feed-test:');

  before(async () => {
    redis = await startRedisServer();
    feed = new RedisRevocationFeed({
      connect: () => createRedisClient({ url: redis.url, commandTimeoutMs: COMMAND_TIMEOUT_MS, subscriber: true }),
      channel,
      heartbeatMs: HEARTBEAT_MS,
      onChange: (live, why) => changes.push(`${live ? 'up' : 'down'}: ${why}`),
    });
    feed.listen({ revoked: (hash) => revoked.push(hash), reset: () => { resets++; } });
    await waitUntil(() => feed.live, 'the feed is live');
  });
  after(async () => {
    await feed.close();
    await redis.stop();
  });

  async function publish(hash: string): Promise<void> {
    const client = createRedisClient({ url: redis.url, commandTimeoutMs: 1_000 });
    await waitForReady(client, 2_000);
    await client.publish(channel, hash);
    client.disconnect();
  }

  it('carries each published hash to the listener', async () => {
    await publish('a'.repeat(64));
    await waitUntil(() => revoked.length === 1, 'the message arrived');
    assert.deepEqual(revoked, ['a'.repeat(64)]);
  });

  it('a hung Redis takes it down within a heartbeat; answering again brings it back, emptied', async () => {
    const resetsBefore = resets;
    const paused = redis.pause(4 * HEARTBEAT_MS + 400);
    const downAfter = await waitUntil(() => !feed.live, 'the feed is down');
    assert.ok(downAfter < 2 * HEARTBEAT_MS + COMMAND_TIMEOUT_MS + 300, `down after ${downAfter.toFixed(0)} ms`);
    await paused;
    await waitUntil(() => feed.live, 'the feed is live again');
    assert.equal(resets, resetsBefore + 2, 'emptied when lost and when regained');
    assert.ok(changes.includes('down: heartbeat unanswered'), changes.join('; '));
  });

  it('a closed connection takes it down at once; a restarted Redis brings it back, subscribed', async () => {
    await redis.stop();
    await waitUntil(() => !feed.live, 'the feed is down', 500);
    await redis.start();
    await waitUntil(() => feed.live, 'the feed is live again');
    await publish('b'.repeat(64));
    await waitUntil(() => revoked.includes('b'.repeat(64)), 'a message after the restart arrived');
  });
});

describe('revocation feed whose first SUBSCRIBE is answered too late', () => {
  it('subscribes again at the next heartbeat instead of staying down on a connection that carries revocations', async () => {
    const redis = await startRedisServer();
    const channel = revocationChannel('sg-feed-late:');
    const arrived: string[] = [];
    let frozen = false;
    const feed = new RedisRevocationFeed({
      connect: () => {
        const subscriber = createRedisClient({ url: redis.url, commandTimeoutMs: COMMAND_TIMEOUT_MS, subscriber: true });
        // Registered before the feed's own 'ready' listener: Redis is frozen before the feed's
        // SUBSCRIBE reaches it, and answers it only after the command timeout has passed.
        subscriber.on('ready', () => {
          if (frozen) return;
          frozen = true;
          void redis.pause(3 * COMMAND_TIMEOUT_MS);
        });
        return subscriber;
      },
      channel,
      heartbeatMs: HEARTBEAT_MS,
    });
    feed.listen({ revoked: (hash) => arrived.push(hash), reset: () => {} });
    const publisher = createRedisClient({ url: redis.url, commandTimeoutMs: 1_000 });
    try {
      await waitUntil(() => frozen, 'the subscriber connected');
      await waitForReady(publisher, 2_000);
      // The late SUBSCRIBE did take effect once Redis thawed: revocations reach this connection...
      const deadline = performance.now() + 3_000;
      while ((await publisher.publish(channel, 'c'.repeat(64))) === 0 && performance.now() < deadline) await sleep(10);
      await waitUntil(() => arrived.includes('c'.repeat(64)), 'the message arrived');
      // ...so the feed must not stay down (and the cache bypassed) for as long as it stays open.
      await waitUntil(() => feed.live, 'the feed is live', 10 * HEARTBEAT_MS);
    } finally {
      publisher.disconnect();
      await feed.close();
      await redis.stop();
    }
  });
});

describe('revocation feed whose Redis freezes between connecting and subscribing', () => {
  it('gives the connection up after three unanswered SUBSCRIBEs and goes live on the next one', async () => {
    const [frozen, next] = await Promise.all([startRedisServer(), startRedisServer()]);
    const channel = revocationChannel('sg-feed-frozen:');
    const arrived: string[] = [];
    let connections = 0;
    const feed = new RedisRevocationFeed({
      connect: () => {
        connections++;
        if (connections > 1) return createRedisClient({ url: next.url, commandTimeoutMs: COMMAND_TIMEOUT_MS, subscriber: true });
        const subscriber = createRedisClient({ url: frozen.url, commandTimeoutMs: COMMAND_TIMEOUT_MS, subscriber: true });
        // Before the feed's own 'ready' listener: its SUBSCRIBE reaches a server that never answers.
        subscriber.on('ready', () => frozen.freeze());
        return subscriber;
      },
      channel,
      heartbeatMs: HEARTBEAT_MS,
    });
    feed.listen({ revoked: (hash) => arrived.push(hash), reset: () => {} });
    const publisher = createRedisClient({ url: next.url, commandTimeoutMs: 1_000 });
    try {
      await waitUntil(() => feed.live, 'the feed is live on another connection', 20 * HEARTBEAT_MS);
      assert.equal(connections, 2);
      await waitForReady(publisher, 2_000);
      assert.equal(await publisher.publish(channel, 'd'.repeat(64)), 1);
      await waitUntil(() => arrived.includes('d'.repeat(64)), 'the message arrived');
    } finally {
      publisher.disconnect();
      frozen.thaw();
      await feed.close();
      await Promise.all([frozen.stop(), next.stop()]);
    }
  });
});

describe('revocation feed as a Redis user refused some commands', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedisServer();
    const setup = createRedisClient({ url: redis.url, commandTimeoutMs: 1_000 });
    await waitForReady(setup, 2_000);
    // Redis 7's default for a new user: no channel at all (acl-pubsub-default resetchannels).
    await setup.call('ACL', 'SETUSER', 'no-channel', 'on', '>pass', '~*', 'resetchannels', '+@all');
    // A least-privilege user built up command by command, PING not among them.
    await setup.call('ACL', 'SETUSER', 'no-ping', 'on', '>pass', '~*', '&*', '+@all', '-ping');
    setup.disconnect();
  });
  after(() => redis.stop());

  function feedAs(user: string, onChange: (live: boolean) => void = () => {}, onRefused: (message: string) => void = () => {}): { feed: RedisRevocationFeed; connections: () => number } {
    let connections = 0;
    const feed = new RedisRevocationFeed({
      connect: () => {
        connections++;
        return createRedisClient({ url: redis.url.replace('//', `//${user}:pass@`), commandTimeoutMs: COMMAND_TIMEOUT_MS, subscriber: true });
      },
      channel: revocationChannel('sg-feed-refused:'),
      heartbeatMs: HEARTBEAT_MS,
      onChange,
      onRefused,
    });
    return { feed, connections: () => connections };
  }

  it('keeps its connection when SUBSCRIBE is refused: a refusal is an answer, not a hung server', async () => {
    const refusals: string[] = [];
    const { feed, connections } = feedAs('no-channel', () => {}, (message) => refusals.push(message));
    try {
      await sleep(10 * HEARTBEAT_MS);
      assert.equal(feed.live, false, 'not subscribed, so not live');
      assert.equal(connections(), 1, 'the connection was not given up on');
      // Never live, so onChange never speaks: the refusal is told, once, for the log.
      assert.equal(refusals.length, 1, JSON.stringify(refusals));
      assert.match(refusals[0]!, /^NOPERM/);
    } finally {
      await feed.close();
    }
  });

  it('stays live when the heartbeat PING is refused: the server answered', async () => {
    const changes: boolean[] = [];
    const { feed, connections } = feedAs('no-ping', (live) => changes.push(live));
    try {
      await waitUntil(() => feed.live, 'the feed is live');
      await sleep(10 * HEARTBEAT_MS);
      assert.deepEqual(changes, [true], 'it never went down (each time emptying the cache)');
      assert.equal(connections(), 1, 'the connection was not given up on');
    } finally {
      await feed.close();
    }
  });
});

describe('revocation feed closed while its heartbeat waits on a hung Redis', () => {
  it('opens no connection after close, even when that heartbeat was the one to give the connection up', async () => {
    const redis = await startRedisServer();
    const opened: Redis[] = [];
    const heartbeatMs = 300;
    const timeoutMs = 250;
    const feed = new RedisRevocationFeed({
      connect: () => {
        const subscriber = createRedisClient({ url: redis.url, commandTimeoutMs: timeoutMs, subscriber: true });
        opened.push(subscriber);
        return subscriber;
      },
      channel: revocationChannel('sg-feed-closing:'),
      heartbeatMs,
    });
    const unanswered = (): number => (feed as unknown as { state: { unanswered: number } }).state.unanswered;
    try {
      await waitUntil(() => feed.live, 'the feed is live');
      redis.freeze();
      await waitUntil(() => unanswered() === 2, 'two heartbeats went unanswered', 5_000);
      // The third heartbeat starts heartbeatMs after the second, which failed timeoutMs after it
      // started: close in the middle of the third one's wait.
      await sleep(heartbeatMs - timeoutMs + timeoutMs / 2);
      await feed.close();
      await sleep(2 * timeoutMs);
      assert.equal(opened.length, 1, 'no connection opened after close');
    } finally {
      redis.thaw();
      for (const client of opened) client.disconnect();
      await redis.stop();
    }
  });
});

describe('revocation feed on a Redis busy running a script', () => {
  it('goes down: a BUSY reply says the server is hung, unlike an ACL refusal', async () => {
    const redis = await startRedisServer({ args: ['--busy-reply-threshold', '50'] });
    const feed = new RedisRevocationFeed({
      connect: () => createRedisClient({ url: redis.url, commandTimeoutMs: COMMAND_TIMEOUT_MS, subscriber: true }),
      channel: revocationChannel('sg-feed-busy:'),
      heartbeatMs: HEARTBEAT_MS,
    });
    const busy = createRedisClient({ url: redis.url, commandTimeoutMs: 10_000 });
    try {
      await waitUntil(() => feed.live, 'the feed is live');
      await waitForReady(busy, 2_000);
      // Runs for 2 s; past busy-reply-threshold every other client gets -BUSY at once.
      const script = busy.eval("local t = redis.call('TIME') local s = t[1] + 2 while tonumber(redis.call('TIME')[1]) < s do end return 1", 0);
      const downAfter = await waitUntil(() => !feed.live, 'the feed is down', 1_500);
      assert.ok(downAfter < 1_000, `down after ${downAfter.toFixed(0)} ms`);
      await script;
      await waitUntil(() => feed.live, 'the feed is live again');
    } finally {
      busy.disconnect();
      await feed.close();
      await redis.stop();
    }
  });
});
