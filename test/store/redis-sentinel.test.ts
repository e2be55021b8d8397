/**
 * Redis Sentinel (DESIGN §6): with `redis.sentinels` and `redis.name` the store and the revocation
 * feed find the master through a real sentinel (`redis-server --sentinel`) watching a private
 * redis-server, and the token store contract holds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { connectRedis, waitForReady } from '../../src/store/redis-client.js';
import { RedisTokenStore } from '../../src/store/redis-store.js';
import { withTokenCache } from '../../src/store/revocation-feed.js';
import type { CachingTokenStore } from '../../src/store/token-cache.js';
import { freePort } from '../support/gateway.js';
import { startRedisServer, uniquePrefix, type RedisServer } from '../support/redis-server.js';
import { newRecord, redisStoreUnderTest, runTokenStoreContract } from './token-store-contract.js';

const MASTER_NAME = 'sg-test-master';
const HOUR_MS = 3_600_000;
let master: RedisServer;
let sentinel: ChildProcess;
let sentinelPort: number;
let dir: string;

before(async () => {
  master = await startRedisServer();
  sentinelPort = await freePort();
  dir = await mkdtemp(join(tmpdir(), 'sg-sentinel-'));
  const config = join(dir, 'sentinel.conf');
  await writeFile(config, `port ${sentinelPort}\nbind 127.0.0.1\nsentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} 1\n`);
  sentinel = spawn('redis-server', [config, '--sentinel'], { stdio: 'ignore' });
  process.once('exit', () => sentinel.kill('SIGKILL'));
  const client = connect();
  await waitForReady(client, 10_000);
  client.disconnect();
});
after(async () => {
  const exited = once(sentinel, 'exit');
  sentinel.kill('SIGKILL');
  await exited;
  await master.stop();
  await rm(dir, { recursive: true, force: true });
});

function sentinelConfig(keyPrefix = uniquePrefix()) {
  const built = buildConfig(
    `public_url: http://gw.test\nupstream: { url: http://registry.test }\nroutes: [{ method: GET, path: /index/*, scope: read }]\n`
    + `redis: { url: "redis://ignored:1/0", key_prefix: "${keyPrefix}", command_timeout: 1s, sentinels: ["127.0.0.1:${sentinelPort}"], name: ${MASTER_NAME} }\n`,
    {}, 'sentinel.yaml');
  if (!built.ok) throw new Error(built.problems.join('\n'));
  return built.config;
}

/** A Sentinel client is a plain `Redis` (only a Cluster config gives a `Cluster`). */
function connect(keyPrefix?: string): Redis {
  return connectRedis(sentinelConfig(keyPrefix).redis, { commandTimeoutMs: 1_000 }) as Redis;
}

runTokenStoreContract('RedisTokenStore through Redis Sentinel', redisStoreUnderTest(async () => {
  const client = connect();
  await waitForReady(client, 5_000);
  return client;
}));

describe('revocation feed through Redis Sentinel', () => {
  it('finds the master through the sentinel and carries revocations', async () => {
    const config = sentinelConfig();
    const client = connect(config.redis.keyPrefix);
    await waitForReady(client, 5_000);
    const store = withTokenCache(new RedisTokenStore(client, { keyPrefix: config.redis.keyPrefix }), config, client, createLogger('silent')) as CachingTokenStore;
    try {
      for (let i = 0; i < 200 && !store.stats.live; i++) await sleep(10);
      assert.ok(store.stats.live, 'the feed went live');
      const created = await store.create(newRecord(), HOUR_MS);
      await store.findByHash(created.hash);
      // Revoked by another client: only the feed can tell this cache.
      const other = connect(config.redis.keyPrefix);
      await waitForReady(other, 5_000);
      await new RedisTokenStore(other, { keyPrefix: config.redis.keyPrefix }).revoke(created.id, Date.now(), HOUR_MS);
      other.disconnect();
      let seen = false;
      for (let i = 0; i < 200 && !seen; i++) {
        seen = (await store.findByHash(created.hash))?.revokedAt !== null;
        if (!seen) await sleep(5);
      }
      assert.ok(seen, 'the revocation reached the cache');
    } finally {
      await store.close();
    }
  });
});
