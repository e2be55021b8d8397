/**
 * The TokenDirectory contract (listings across accounts, the expiry index, the once-only reminder
 * claim), run against both stores: Redis (shared server, private prefix) and memory.
 */
import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { MemoryTokenStore } from '../../src/store/memory-store.js';
import { createRedisClient, waitForReady } from '../../src/store/redis-client.js';
import { RedisTokenDirectory } from '../../src/store/redis-directory.js';
import { RedisTokenStore } from '../../src/store/redis-store.js';
import type { TokenDirectory } from '../../src/store/token-directory.js';
import type { TokenStore } from '../../src/store/token-store.js';
import { deleteKeysWithPrefix, sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';
import { newRecord } from './token-store-contract.js';

const HOUR = 3_600_000;
const NOW = Date.now();

interface Subject { store: TokenStore; directory: TokenDirectory; cleanup(): Promise<void> }

const makers: Record<string, () => Promise<Subject>> = {
  MemoryTokenStore: async () => {
    const store = new MemoryTokenStore();
    return { store, directory: store, cleanup: () => store.close() };
  },
  RedisTokenDirectory: async () => {
    const client = createRedisClient({ url: sharedRedisUrl(), commandTimeoutMs: 1_000 });
    await waitForReady(client, 2_000);
    const keyPrefix = uniquePrefix();
    const store = new RedisTokenStore(client, { keyPrefix });
    return {
      store, directory: new RedisTokenDirectory(client, { keyPrefix }),
      cleanup: async () => { await deleteKeysWithPrefix(client, keyPrefix); await store.close(); },
    };
  },
};

for (const [name, make] of Object.entries(makers)) {
  describe(`TokenDirectory contract: ${name}`, () => {
    let s: Subject;
    beforeEach(async () => { s = await make(); });
    afterEach(() => s.cleanup());

    it('listAll returns every account\'s tokens newest first, revoked ones too', async () => {
      const a = await s.store.create(newRecord({ account: 'alice', expiredAt: NOW + HOUR }), HOUR);
      const b = await s.store.create(newRecord({ account: 'bob', expiredAt: null }), HOUR);
      const c = await s.store.create(newRecord({ account: 'alice', expiredAt: NOW + 2 * HOUR }), HOUR);
      await s.store.revoke(b.id, NOW, HOUR);
      const all = await s.directory.listAll();
      assert.deepEqual(all.map((t) => t.record.id), [c.id, b.id, a.id]);
      assert.notEqual(all[1]!.record.revokedAt, null);
      assert.ok(all.every((t) => t.remindedAt === null));
    });

    it('findListed returns one token by id, revoked or reminded too, and null for an unknown id', async () => {
      const a = await s.store.create(newRecord({ account: 'alice', expiredAt: NOW + HOUR }), HOUR);
      await s.store.create(newRecord({ account: 'bob', expiredAt: null }), HOUR);
      await s.store.revoke(a.id, NOW, HOUR);
      assert.equal(await s.directory.claimReminder(a.hash, 'run', NOW, NOW + 60_000), false, 'revoked: no reminder');
      const listed = (await s.directory.listAll()).find((t) => t.record.id === a.id);
      assert.deepEqual(await s.directory.findListed(a.id), listed);
      assert.equal(await s.directory.findListed(a.id + 1000), null);
    });

    it('listExpiring returns the tokens expiring in the window, soonest first, never the never-expiring', async () => {
      const late = await s.store.create(newRecord({ expiredAt: NOW + 5 * HOUR }), HOUR);
      const soon = await s.store.create(newRecord({ expiredAt: NOW + HOUR }), HOUR);
      await s.store.create(newRecord({ expiredAt: null }), HOUR);
      await s.store.create(newRecord({ expiredAt: NOW + 50 * HOUR }), HOUR);
      const found = await s.directory.listExpiring(NOW, NOW + 10 * HOUR);
      assert.deepEqual(found.map((t) => t.record.id), [soon.id, late.id]);
    });

    it('a reminder claim is taken once; completing marks the token, and it cannot be claimed again', async () => {
      const t = await s.store.create(newRecord({ expiredAt: NOW + HOUR }), HOUR);
      assert.equal(await s.directory.claimReminder(t.hash, 'run-a', NOW, NOW + 60_000), true);
      assert.equal(await s.directory.claimReminder(t.hash, 'run-b', NOW, NOW + 60_000), false, 'a live claim blocks another run');
      assert.equal(await s.directory.completeReminder(t.hash, 'run-b', NOW), false, 'only the claim\'s owner completes it');
      assert.equal(await s.directory.completeReminder(t.hash, 'run-a', NOW + 5), true);
      assert.equal(await s.directory.claimReminder(t.hash, 'run-c', NOW + 10, NOW + 60_000), false, 'reminded: never again');
      const [listed] = await s.directory.listExpiring(NOW, NOW + 2 * HOUR);
      assert.equal(listed?.remindedAt, NOW + 5);
      assert.equal((await s.store.findById(t.id))?.id, t.id, 'the record itself is intact');
    });

    it('a released claim, or one whose lease lapsed, can be taken by a later run', async () => {
      const t = await s.store.create(newRecord({ expiredAt: NOW + HOUR }), HOUR);
      assert.equal(await s.directory.claimReminder(t.hash, 'run-a', NOW, NOW + 1_000), true);
      await s.directory.releaseReminder(t.hash, 'run-a');
      assert.equal(await s.directory.claimReminder(t.hash, 'run-b', NOW, NOW + 1_000), true);
      assert.equal(await s.directory.claimReminder(t.hash, 'run-c', NOW + 1_001, NOW + 60_000), true, 'run-b\'s lease lapsed');
      assert.equal(await s.directory.completeReminder(t.hash, 'run-b', NOW + 2_000), false, 'run-b lost its claim');
    });

    it('of many concurrent claims on one token exactly one wins', async () => {
      const t = await s.store.create(newRecord({ expiredAt: NOW + HOUR }), HOUR);
      const wins = await Promise.all(Array.from({ length: 20 }, (_, i) => s.directory.claimReminder(t.hash, `run-${i}`, NOW, NOW + 60_000)));
      assert.equal(wins.filter(Boolean).length, 1);
    });

    it('revoked or unknown tokens cannot be claimed', async () => {
      const t = await s.store.create(newRecord({ expiredAt: NOW + HOUR }), HOUR);
      await s.store.revoke(t.id, NOW, HOUR);
      assert.equal(await s.directory.claimReminder(t.hash, 'run-a', NOW, NOW + 60_000), false);
      assert.equal(await s.directory.claimReminder('0'.repeat(64), 'run-a', NOW, NOW + 60_000), false);
    });
  });
}

describe('RedisTokenDirectory layout', () => {
  let client: Redis;
  const prefix = uniquePrefix();
  after(async () => { await deleteKeysWithPrefix(client, prefix); client.disconnect(); });

  it('indexes every id by expiry in one sorted set, and drops ids whose records are gone', async () => {
    client = createRedisClient({ url: sharedRedisUrl(), commandTimeoutMs: 1_000 });
    await waitForReady(client, 2_000);
    const store = new RedisTokenStore(client, { keyPrefix: prefix });
    const directory = new RedisTokenDirectory(client, { keyPrefix: prefix });
    const expiring = await store.create(newRecord({ expiredAt: NOW + HOUR }), HOUR);
    const forever = await store.create(newRecord({ expiredAt: null }), HOUR);
    assert.equal(await client.zscore(`${prefix}token-expiry`, String(expiring.id)), String(NOW + HOUR));
    assert.equal(await client.zscore(`${prefix}token-expiry`, String(forever.id)), 'inf');
    await store.revoke(expiring.id, NOW, 0);
    assert.deepEqual((await directory.listAll()).map((t) => t.record.id), [forever.id]);
    assert.deepEqual(await client.zrange(`${prefix}token-expiry`, 0, -1), [String(forever.id)]);
  });
});

describe('RedisTokenDirectory listing many tokens', () => {
  it('reads them a batch at a time, so lookups on the shared connection are not queued behind thousands of reads', async () => {
    const client = createRedisClient({ url: sharedRedisUrl(), commandTimeoutMs: 1_000 });
    await waitForReady(client, 2_000);
    const keyPrefix = uniquePrefix();
    const store = new RedisTokenStore(client, { keyPrefix });
    // Counts the directory's reads in flight at once, on the real connection.
    let inFlight = 0;
    let most = 0;
    const counted = new Proxy(client, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if ((property !== 'get' && property !== 'hgetall') || typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          most = Math.max(most, ++inFlight);
          return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args).finally(() => { inFlight--; });
        };
      },
    });
    try {
      const count = 1_000;
      for (let i = 0; i < count; i += 250) await Promise.all(Array.from({ length: 250 }, () => store.create(newRecord({ expiredAt: NOW + HOUR }), HOUR)));
      const listed = await new RedisTokenDirectory(counted, { keyPrefix }).listAll();
      assert.equal(listed.length, count);
      assert.ok(most <= 256, `${most} reads were in flight at once`);
    } finally {
      await deleteKeysWithPrefix(client, keyPrefix);
      await store.close();
    }
  });
});
