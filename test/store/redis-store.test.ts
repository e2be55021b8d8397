/**
 * RedisTokenStore against the shared Redis, each test under its own key prefix: the contract,
 * then what only the Redis layout can show (round trips, key names, expiry on both keys).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { createRedisClient, waitForReady } from '../../src/store/redis-client.js';
import { RedisTokenStore } from '../../src/store/redis-store.js';
import { deleteKeysWithPrefix, sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';
import { newRecord, randomHash, redisStoreUnderTest, runTokenStoreContract } from './token-store-contract.js';

/** Generous: these tests share a Redis with other test files running at the same time. */
const COMMAND_TIMEOUT_MS = 1_000;
const HOUR_MS = 3_600_000;

async function connect(): Promise<Redis> {
  const client = createRedisClient({ url: sharedRedisUrl(), commandTimeoutMs: COMMAND_TIMEOUT_MS });
  await waitForReady(client, 2_000);
  return client;
}

runTokenStoreContract('RedisTokenStore', redisStoreUnderTest(connect));

describe('RedisTokenStore layout', () => {
  let client: Redis;
  let prefix: string;
  let store: RedisTokenStore;
  before(async () => {
    client = await connect();
    prefix = uniquePrefix();
    store = new RedisTokenStore(client, { keyPrefix: prefix });
  });
  after(async () => {
    await deleteKeysWithPrefix(client, prefix);
    await store.close();
  });

  it('keeps a token in four keys named as documented', async () => {
    const created = await store.create(newRecord({ account: 'layout' }), HOUR_MS);
    assert.equal(await client.type(`${prefix}token:{${created.hash}}`), 'hash');
    assert.equal(await client.get(`${prefix}token-id:${created.id}`), created.hash);
    assert.equal(await client.zscore(`${prefix}account:{layout}`, String(created.id)), String(created.id));
    assert.equal(await client.get(`${prefix}token-seq`), String(created.id));
  });

  it('findByHash costs exactly one Redis command', async () => {
    const created = await store.create(newRecord(), HOUR_MS);
    const sent: string[] = [];
    const send = client.sendCommand.bind(client);
    client.sendCommand = (command, stream) => {
      sent.push(command.name);
      return send(command, stream);
    };
    try {
      assert.equal((await store.findByHash(created.hash))?.id, created.id);
    } finally {
      client.sendCommand = send;
    }
    assert.deepEqual(sent, ['hgetall']);
  });

  it('puts the drop time on both per-token keys, and none on a never-expiring token', async () => {
    const expiredAt = Date.now() + HOUR_MS;
    const expiring = await store.create(newRecord({ expiredAt }), HOUR_MS);
    const forever = await store.create(newRecord(), HOUR_MS);
    assert.equal(await client.pexpiretime(`${prefix}token:{${expiring.hash}}`), expiredAt + HOUR_MS);
    assert.equal(await client.pexpiretime(`${prefix}token-id:${expiring.id}`), expiredAt + HOUR_MS);
    assert.equal(await client.pexpiretime(`${prefix}token:{${forever.hash}}`), -1);
    await store.revoke(forever.id, 10_000_000_000_000, HOUR_MS);
    assert.equal(await client.pexpiretime(`${prefix}token:{${forever.hash}}`), 10_000_000_000_000 + HOUR_MS);
    assert.equal(await client.pexpiretime(`${prefix}token-id:${forever.id}`), 10_000_000_000_000 + HOUR_MS);
    // Revoked after it expired: dropped keep_expired after the expiry, the earlier of the two.
    await store.revoke(expiring.id, expiredAt + 5_000, HOUR_MS);
    assert.equal(await client.pexpiretime(`${prefix}token:{${expiring.hash}}`), expiredAt + HOUR_MS);
    assert.equal(await client.pexpiretime(`${prefix}token-id:${expiring.id}`), expiredAt + HOUR_MS);
  });

  it('every revoke announces the hash, a repeated one too, and the first time is kept', async () => {
    const created = await store.create(newRecord(), HOUR_MS);
    const subscriber = client.duplicate();
    const heard: string[] = [];
    subscriber.on('message', (_channel: string, hash: string) => heard.push(hash));
    await waitForReady(subscriber, 2_000);
    await subscriber.subscribe(`${prefix}revocations`);
    try {
      const now = Date.now();
      const first = await store.revoke(created.id, now, HOUR_MS);
      const again = await store.revoke(created.id, now + 1_000, HOUR_MS);
      assert.deepEqual([first?.revokedAt, again?.revokedAt], [now, now]);
      const deadline = Date.now() + 2_000;
      while (heard.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.deepEqual(heard, [created.hash, created.hash]);
    } finally {
      subscriber.disconnect();
    }
  });

  it('treats a corrupt record as absent', async () => {
    const created = await store.create(newRecord({ account: 'corrupt' }), HOUR_MS);
    await client.hset(`${prefix}token:{${created.hash}}`, 'endpoint_scopes', '["sudo"]');
    assert.equal(await store.findByHash(created.hash), null);
    assert.equal(await store.findById(created.id), null);
    assert.deepEqual(await store.listByAccount('corrupt'), []);
  });

  it('touch on an absent hash leaves no key behind', async () => {
    const hash = randomHash();
    await store.touch(new Map([[hash, Date.now()]]));
    assert.equal(await client.exists(`${prefix}token:{${hash}}`), 0);
  });

  it('listing removes ids whose records were dropped from the account index', async () => {
    const dropped = await store.create(newRecord({ account: 'lazy' }), HOUR_MS);
    const kept = await store.create(newRecord({ account: 'lazy' }), HOUR_MS);
    await store.revoke(dropped.id, Date.now(), 0);
    assert.equal(await client.zcard(`${prefix}account:{lazy}`), 2);
    assert.deepEqual(await store.listByAccount('lazy'), [kept]);
    assert.deepEqual(await client.zrange(`${prefix}account:{lazy}`, 0, -1), [String(kept.id)]);
  });
});
