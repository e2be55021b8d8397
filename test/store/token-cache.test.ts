/**
 * CachingTokenStore: the TokenStore contract over Redis with a live revocation feed, then the
 * cache's own rules against a controllable store and feed — a lookup in flight when a revocation
 * arrives is not kept, concurrent misses share one lookup, the oldest entry goes first, and
 * nothing is read from or kept in the cache while the feed is down.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TokenRecord } from '../../src/core/token-record.js';
import { createRedisClient, waitForReady } from '../../src/store/redis-client.js';
import { RedisTokenStore } from '../../src/store/redis-store.js';
import { RedisRevocationFeed, revocationChannel } from '../../src/store/revocation-feed.js';
import { CachingTokenStore, type RevocationFeed, type RevocationListener } from '../../src/store/token-cache.js';
import { MemoryTokenStore } from '../../src/store/memory-store.js';
import { StoreUnavailableError, type TokenStore } from '../../src/store/token-store.js';
import { deleteKeysWithPrefix, sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';
import { newRecord, randomHash, runTokenStoreContract } from './token-store-contract.js';

const HOUR_MS = 3_600_000;

runTokenStoreContract('CachingTokenStore over RedisTokenStore, feed live', async () => {
  const client = createRedisClient({ url: sharedRedisUrl(), commandTimeoutMs: 1_000 });
  await waitForReady(client, 2_000);
  const keyPrefix = uniquePrefix();
  const feed = new RedisRevocationFeed({
    connect: () => createRedisClient({ url: sharedRedisUrl(), commandTimeoutMs: 1_000, subscriber: true }),
    channel: revocationChannel(keyPrefix),
  });
  // A short TTL: the contract waits for records Redis drops to disappear.
  const store = new CachingTokenStore(new RedisTokenStore(client, { keyPrefix }), feed, { ttlMs: 50, maxEntries: 1_000 });
  const deadline = Date.now() + 2_000;
  while (!feed.live && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.ok(feed.live, 'the feed went live');
  return {
    store,
    async cleanup() {
      await deleteKeysWithPrefix(client, keyPrefix);
      await store.close();
    },
  };
});

/** A feed whose liveness the test sets, and whose messages it sends. */
class FakeFeed implements RevocationFeed {
  live = true;
  listener: RevocationListener | null = null;
  listen(listener: RevocationListener): void {
    this.listener = listener;
  }
  async close(): Promise<void> {}
  set(live: boolean): void {
    this.live = live;
    this.listener?.reset();
  }
}

/** A store whose findByHash calls are counted, and can be held until released. */
class SlowStore extends MemoryTokenStore {
  lookups = 0;
  private held: (() => void)[] = [];
  hold = false;
  override async findByHash(hash: string): Promise<TokenRecord | null> {
    this.lookups++;
    const record = await super.findByHash(hash);
    if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
    return record;
  }
  release(): void {
    for (const resolve of this.held.splice(0)) resolve();
  }
}

function setUp(options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {}): { inner: SlowStore; feed: FakeFeed; cache: CachingTokenStore } {
  const inner = new SlowStore();
  const feed = new FakeFeed();
  const cache = new CachingTokenStore(inner as TokenStore, feed, { ttlMs: options.ttlMs ?? 60_000, maxEntries: options.maxEntries ?? 100, ...(options.now ? { now: options.now } : {}) });
  return { inner, feed, cache };
}

describe('token cache rules', () => {
  it('a hit costs no lookup; an entry is used for the TTL only', async () => {
    let clock = 0;
    const { inner, cache } = setUp({ ttlMs: 1_000, now: () => clock });
    const record = await inner.create(newRecord(), HOUR_MS);
    assert.deepEqual(await cache.findByHash(record.hash), record);
    assert.deepEqual(await cache.findByHash(record.hash), record);
    assert.equal(inner.lookups, 1);
    clock = 1_000;
    await cache.findByHash(record.hash);
    assert.equal(inner.lookups, 2);
  });

  it('"no such token" is cached too, and creating that token drops it', async () => {
    const { inner, cache } = setUp();
    const fresh = newRecord();
    assert.equal(await cache.findByHash(fresh.hash), null);
    assert.equal(await cache.findByHash(fresh.hash), null);
    assert.equal(inner.lookups, 1);
    const created = await cache.create(fresh, HOUR_MS);
    assert.deepEqual(await cache.findByHash(fresh.hash), created);
  });

  it('a revocation message drops the entry at once', async () => {
    const { inner, feed, cache } = setUp();
    const record = await inner.create(newRecord(), HOUR_MS);
    await cache.findByHash(record.hash);
    const revokedAt = Date.now();
    await inner.revoke(record.id, revokedAt, HOUR_MS);
    feed.listener!.revoked(record.hash);
    assert.equal((await cache.findByHash(record.hash))?.revokedAt, revokedAt);
  });

  it('a revoke that fails drops the entry too: it may have committed, with no message to follow', async () => {
    const { inner, cache } = setUp();
    const record = await inner.create(newRecord(), HOUR_MS);
    const other = await inner.create(newRecord(), HOUR_MS);
    await cache.findByHash(record.hash);
    await cache.findByHash(other.hash);
    // Committed in the store, then the answer is lost (a timeout after the script ran).
    const revokedAt = Date.now();
    inner.revoke = async (id, now, keep) => {
      await MemoryTokenStore.prototype.revoke.call(inner, id, now, keep);
      throw new StoreUnavailableError('redis revoke token failed: no answer within the command timeout');
    };
    await assert.rejects(cache.revoke(record.id, revokedAt, HOUR_MS), { name: 'StoreUnavailableError' });
    const lookups = inner.lookups;
    assert.equal((await cache.findByHash(record.hash))?.revokedAt, revokedAt);
    assert.equal(inner.lookups, lookups + 1, 'asked the store');
    await cache.findByHash(other.hash);
    assert.equal(inner.lookups, lookups + 1, 'other tokens stay cached');
  });

  it('a lookup in flight when a revocation arrives is answered but not kept, nor shared with later requests', async () => {
    const { inner, feed, cache } = setUp();
    const record = await inner.create(newRecord(), HOUR_MS);
    inner.hold = true;
    const early = cache.findByHash(record.hash);
    const revokedAt = Date.now();
    await inner.revoke(record.id, revokedAt, HOUR_MS);
    feed.listener!.revoked(record.hash);
    const late = cache.findByHash(record.hash);
    inner.hold = false;
    inner.release();
    assert.equal((await early)?.revokedAt, null, 'read before the revocation');
    assert.equal((await late)?.revokedAt, revokedAt, 'a request after the message never sees the old record');
    assert.equal((await cache.findByHash(record.hash))?.revokedAt, revokedAt);
  });

  it('expired entries are dropped as new ones come in, not kept until the cache is full', async () => {
    let clock = 0;
    const { inner, cache } = setUp({ ttlMs: 1_000, maxEntries: 100, now: () => clock });
    const burst = await Promise.all(Array.from({ length: 20 }, () => inner.create(newRecord(), HOUR_MS)));
    for (const record of burst) await cache.findByHash(record.hash);
    assert.equal(cache.stats.size, 20);
    clock = 1_000;
    const later = await inner.create(newRecord(), HOUR_MS);
    await cache.findByHash(later.hash);
    assert.equal(cache.stats.size, 1, 'only the live entry is held');
  });

  it('concurrent misses for one token share one lookup', async () => {
    const { inner, cache } = setUp();
    const record = await inner.create(newRecord(), HOUR_MS);
    inner.hold = true;
    const answers = [cache.findByHash(record.hash), cache.findByHash(record.hash), cache.findByHash(record.hash)];
    inner.release();
    inner.hold = false;
    for (const answer of await Promise.all(answers)) assert.deepEqual(answer, record);
    assert.equal(inner.lookups, 1);
  });

  it('at max_entries the oldest entry goes first', async () => {
    const { inner, cache } = setUp({ maxEntries: 2 });
    const [a, b, c] = [randomHash(), randomHash(), randomHash()];
    for (const hash of [a, b, c]) await cache.findByHash(hash);
    assert.equal(cache.stats.size, 2);
    const before = inner.lookups;
    await cache.findByHash(c);
    await cache.findByHash(b);
    assert.equal(inner.lookups, before, 'b and c are still cached');
    await cache.findByHash(a);
    assert.equal(inner.lookups, before + 1, 'a was evicted');
  });

  it('while the feed is down every lookup goes to the store and nothing is kept; regaining it starts empty', async () => {
    const { inner, feed, cache } = setUp();
    const record = await inner.create(newRecord(), HOUR_MS);
    await cache.findByHash(record.hash);
    feed.set(false);
    assert.equal(cache.stats.size, 0);
    await cache.findByHash(record.hash);
    await cache.findByHash(record.hash);
    assert.equal(inner.lookups, 3);
    assert.equal(cache.stats.bypassed, 2);
    assert.equal(cache.stats.size, 0);
    feed.set(true);
    await cache.findByHash(record.hash);
    await cache.findByHash(record.hash);
    assert.equal(inner.lookups, 4);
  });

  it('a store failure is passed on (the gateway answers 503), never cached', async () => {
    const { inner, cache } = setUp();
    const record = await inner.create(newRecord(), HOUR_MS);
    await inner.close();
    await assert.rejects(cache.findByHash(record.hash), { name: 'StoreUnavailableError' });
    await assert.rejects(cache.findByHash(record.hash), { name: 'StoreUnavailableError' });
  });
});
