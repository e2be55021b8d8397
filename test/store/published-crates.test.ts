/**
 * Both PublishedCrates implementations answer alike (Redis for production, memory for
 * `redis.url: memory`); the Redis one fails closed with StoreUnavailableError.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRedisClient, waitForReady } from '../../src/store/redis-client.js';
import { MemoryPublishedCrates, RedisPublishedCrates, type PublishedCrates } from '../../src/store/published-crates.js';
import { StoreUnavailableError } from '../../src/store/token-store.js';
import { deleteKeysWithPrefix, freePort, sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';

const client = createRedisClient({ url: sharedRedisUrl(), commandTimeoutMs: 1_000 });
const prefix = uniquePrefix();
before(() => waitForReady(client, 2_000));
after(async () => {
  await deleteKeysWithPrefix(client, prefix);
  client.disconnect();
});

const implementations: [string, () => PublishedCrates][] = [
  ['RedisPublishedCrates', () => new RedisPublishedCrates(client, { keyPrefix: `${prefix}${Math.random()}:` })],
  ['MemoryPublishedCrates', () => new MemoryPublishedCrates()],
];

for (const [name, make] of implementations) {
  describe(name, () => {
    it('remembers a publish for its ttl, under the canonical name', async () => {
      const published = make();
      assert.equal(await published.recentlyPublished('foo-bar'), false);
      await published.remember('Foo_Bar', 150);
      assert.equal(await published.recentlyPublished('foo-bar'), true);
      assert.equal(await published.recentlyPublished('FOO_BAR'), true);
      assert.equal(await published.recentlyPublished('foo-baz'), false);
      await sleep(200);
      assert.equal(await published.recentlyPublished('foo-bar'), false);
    });

    it('forgets a publish when told the package is gone, under the canonical name', async () => {
      const published = make();
      await published.remember('gone-pkg', 60_000);
      await published.remember('kept-pkg', 60_000);
      await published.forget('Gone_Pkg');
      assert.equal(await published.recentlyPublished('gone-pkg'), false);
      assert.equal(await published.recentlyPublished('kept-pkg'), true);
      await published.forget('never-published');
    });

    it('lets one claim hold a name at a time, released only by its owner, lapsing after its ttl', async () => {
      const published = make();
      assert.equal(await published.claim('Claimed_Pkg', 'a', 150), true);
      assert.equal(await published.claim('claimed-pkg', 'b', 150), false);
      assert.equal(await published.claim('other-pkg', 'b', 150), true);
      await published.release('claimed-pkg', 'b');
      assert.equal(await published.claim('claimed-pkg', 'b', 150), false, 'released by another owner');
      await published.release('claimed-pkg', 'a');
      assert.equal(await published.claim('claimed-pkg', 'b', 150), true);
      await sleep(200);
      assert.equal(await published.claim('claimed-pkg', 'c', 150), true, 'a lapsed claim is taken over');
      await published.release('claimed-pkg', 'b');
      assert.equal(await published.claim('claimed-pkg', 'd', 150), false, 'a lapsed owner released the new claim');
    });

    it('remembers nothing with a ttl of 0 (index_lag: 0s)', async () => {
      const published = make();
      await published.remember('zero', 0);
      assert.equal(await published.recentlyPublished('zero'), false);
    });
  });
}

describe('RedisPublishedCrates on a Redis that is not there', () => {
  it('rejects every call with StoreUnavailableError (fail closed)', async () => {
    const down = createRedisClient({ url: `redis://127.0.0.1:${await freePort()}/0`, commandTimeoutMs: 100 });
    try {
      const published = new RedisPublishedCrates(down, { keyPrefix: prefix });
      await assert.rejects(published.recentlyPublished('x'), StoreUnavailableError);
      await assert.rejects(published.remember('x', 1_000), StoreUnavailableError);
      await assert.rejects(published.forget('x'), StoreUnavailableError);
      await assert.rejects(published.claim('x', 'a', 1_000), StoreUnavailableError);
      await assert.rejects(published.release('x', 'a'), StoreUnavailableError);
    } finally {
      down.disconnect();
    }
  });
});
