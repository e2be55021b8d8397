/**
 * Both AuthFailures implementations answer alike (Redis for production, memory for
 * `redis.url: memory`); the Redis one keeps every counter under an expiry and fails closed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryAuthFailures, RedisAuthFailures, type AuthFailures } from '../../src/store/auth-failures.js';
import { createRedisClient, waitForReady } from '../../src/store/redis-client.js';
import { StoreUnavailableError } from '../../src/store/token-store.js';
import { deleteKeysWithPrefix, freePort, sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';

const client = createRedisClient({ url: sharedRedisUrl(), commandTimeoutMs: 1_000 });
const prefix = uniquePrefix();
before(() => waitForReady(client, 2_000));
after(async () => {
  await deleteKeysWithPrefix(client, prefix);
  client.disconnect();
});

const implementations: [string, () => AuthFailures][] = [
  ['RedisAuthFailures', () => new RedisAuthFailures(client, { keyPrefix: prefix })],
  ['MemoryAuthFailures', () => new MemoryAuthFailures()],
];

for (const [name, make] of implementations) {
  describe(name, () => {
    it('counts checks up to the limit, then refuses until the window ends', async () => {
      const failures = make();
      const client = `${name}-a`;
      assert.deepEqual(await failures.reserve(client, 2, 300), { count: 1 });
      assert.deepEqual(await failures.reserve(client, 2, 300), { count: 2 });
      const blocked = await failures.reserve(client, 2, 300);
      assert.ok('blockedMs' in blocked && blocked.blockedMs > 0 && blocked.blockedMs <= 300, JSON.stringify(blocked));
      assert.deepEqual(await failures.reserve(`${name}-other`, 2, 300), { count: 1 }, 'per client');
      await sleep(350);
      assert.deepEqual(await failures.reserve(client, 2, 300), { count: 1 }, 'a new window');
    });

    it('gives a refunded check back, and a refund outside a window changes nothing', async () => {
      const failures = make();
      const client = `${name}-b`;
      await failures.refund(client);
      assert.deepEqual(await failures.reserve(client, 1, 10_000), { count: 1 });
      await failures.refund(client);
      await failures.refund(client);
      assert.deepEqual(await failures.reserve(client, 1, 10_000), { count: 1 }, 'never below zero');
    });
  });
}

describe('RedisAuthFailures keys', () => {
  const failures = new RedisAuthFailures(client, { keyPrefix: prefix });

  it('are braced per client under the key prefix, and always expire', async () => {
    await failures.reserve('2001:db8::/64', 5, 60_000);
    const key = `${prefix}auth-failures:{2001:db8::/64}`;
    const ttl = await client.pttl(key);
    assert.ok(ttl > 0 && ttl <= 60_000, String(ttl));
    await failures.refund('2001:db8::/64');
    assert.equal(await client.get(key), '0');
    assert.ok((await client.pttl(key)) > 0, 'a refund keeps the expiry');
  });

  it('a counter found without an expiry is given one, not obeyed for ever', async () => {
    const key = `${prefix}auth-failures:{192.0.2.1}`;
    await client.set(key, '99');
    assert.deepEqual(await failures.reserve('192.0.2.1', 5, 60_000), { count: 100 });
    assert.ok((await client.pttl(key)) > 0);
  });

  it('a refund after the window lapsed makes no counter', async () => {
    await failures.reserve('192.0.2.2', 5, 50);
    await sleep(80);
    await failures.refund('192.0.2.2');
    assert.equal(await client.exists(`${prefix}auth-failures:{192.0.2.2}`), 0);
  });

  it('fails closed with StoreUnavailableError when Redis does not answer', async () => {
    const down = createRedisClient({ url: `redis://127.0.0.1:${await freePort()}/0`, commandTimeoutMs: 100, maxReconnects: 0 });
    try {
      await assert.rejects(new RedisAuthFailures(down).reserve('192.0.2.3', 5, 1000), StoreUnavailableError);
    } finally {
      down.disconnect();
    }
  });
});
