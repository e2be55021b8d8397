/**
 * Redis Cluster (DESIGN §6): the token store contract on a real three-master cluster, its keys
 * spread over the masters (every command touches one key, so no CROSSSLOT), and revocations
 * reaching a token cache whose feed is connected to another node (PUBLISH crosses the cluster bus).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster } from 'ioredis';
import { buildConfig } from '../../src/config/load.js';
import type { GatewayConfig } from '../../src/config/types.js';
import { createLogger } from '../../src/log.js';
import { createClusterClient, waitForReady } from '../../src/store/redis-client.js';
import { RedisTokenStore } from '../../src/store/redis-store.js';
import { revocationChannel, withTokenCache } from '../../src/store/revocation-feed.js';
import type { CachingTokenStore } from '../../src/store/token-cache.js';
import { uniquePrefix } from '../support/redis-server.js';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster.js';
import { newRecord, randomHash, redisStoreUnderTest, runTokenStoreContract } from './token-store-contract.js';

const HOUR_MS = 3_600_000;
let cluster: RedisCluster;

before(async () => {
  cluster = await startRedisCluster();
});
after(() => cluster?.stop());

async function connect(): Promise<Cluster> {
  const client = createClusterClient({ nodes: cluster.nodes, url: 'redis://127.0.0.1', commandTimeoutMs: 1_000 });
  await waitForReady(client, 5_000);
  return client;
}

/** Deletes a prefix's keys on every master (SCAN sees one node's keys only). */
async function deleteKeys(client: Cluster, prefix: string): Promise<void> {
  for (const node of client.nodes('master')) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      for (const key of keys) await client.del(key);
      cursor = next;
    } while (cursor !== '0');
  }
}

runTokenStoreContract('RedisTokenStore on a 3-master Redis Cluster', redisStoreUnderTest(connect, (client, prefix) => deleteKeys(client as Cluster, prefix)));

describe('Redis Cluster layout and revocation', () => {
  it('spreads one prefix\'s token keys over all three masters', async () => {
    const client = await connect();
    const keyPrefix = uniquePrefix();
    const store = new RedisTokenStore(client, { keyPrefix });
    try {
      for (let i = 0; i < 30; i++) await store.create(newRecord(), HOUR_MS);
      const perMaster = await Promise.all(client.nodes('master').map(async (node) => (await node.keys(`${keyPrefix}token:*`)).length));
      assert.equal(perMaster.length, 3);
      assert.ok(perMaster.every((n) => n > 0), `token keys per master: ${perMaster.join(', ')}`);
    } finally {
      await deleteKeys(client, keyPrefix);
      await store.close();
    }
  });

  it('a revocation through one cache reaches a cache on another connection at once', async () => {
    const config = clusterConfig(uniquePrefix());
    const logger = createLogger('silent');
    const [clientA, clientB] = [await connect(), await connect()];
    const a = withTokenCache(new RedisTokenStore(clientA, { keyPrefix: config.redis.keyPrefix }), config, clientA, logger) as CachingTokenStore;
    const b = withTokenCache(new RedisTokenStore(clientB, { keyPrefix: config.redis.keyPrefix }), config, clientB, logger) as CachingTokenStore;
    try {
      await waitUntil(() => isLive(a) && isLive(b));
      const created = await a.create(newRecord(), HOUR_MS);
      assert.equal((await b.findByHash(created.hash))?.revokedAt, null);
      assert.equal((await b.findByHash(created.hash))?.revokedAt, null);
      assert.ok(b.stats.hits >= 1, 'the second lookup is a cache hit');
      const revokedAt = Date.now();
      await a.revoke(created.id, revokedAt, HOUR_MS);
      await waitUntil(async () => (await b.findByHash(created.hash))?.revokedAt === revokedAt);
      assert.equal(await b.findByHash(randomHash()), null);
    } finally {
      await deleteKeys(clientA, config.redis.keyPrefix);
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('Redis Cluster with one master hung', () => {
  it('revocations of tokens on the other masters all succeed and are all announced', async () => {
    const setup = await connect();
    const keyPrefix = uniquePrefix();
    // The shipped command timeout: a revocation must not wait on a master that does not hold its token.
    const client = createClusterClient({ nodes: cluster.nodes, url: 'redis://127.0.0.1', commandTimeoutMs: 100 });
    await waitForReady(client, 5_000);
    const store = new RedisTokenStore(client, { keyPrefix });
    const [hung, listening] = setup.nodes('master');
    const subscriber = listening!.duplicate();
    const heard = new Set<string>();
    subscriber.on('message', (_channel: string, hash: string) => heard.add(hash));
    await subscriber.subscribe(revocationChannel(keyPrefix));
    try {
      const tokens = await Promise.all(Array.from({ length: 30 }, () => store.create(newRecord(), HOUR_MS)));
      const onHung = new Set(await hung!.keys(`${keyPrefix}*`));
      const elsewhere = tokens.filter((t) => !onHung.has(`${keyPrefix}token:{${t.hash}}`) && !onHung.has(`${keyPrefix}token-id:${t.id}`));
      assert.ok(elsewhere.length >= 5, `only ${elsewhere.length} tokens live off the hung master`);
      const pid = Number(/process_id:(\d+)/.exec(await hung!.info('server'))![1]);
      // Frozen well inside cluster-node-timeout (2 s), so the cluster never marks it failed.
      process.kill(pid, 'SIGSTOP');
      let results: PromiseSettledResult<unknown>[];
      try {
        results = await Promise.allSettled(elsewhere.map((t) => store.revoke(t.id, Date.now(), HOUR_MS)));
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${elsewhere[i]!.id}: ${String(r.reason)}`] : []));
      assert.deepEqual(failed, [], 'PUBLISH used to go to any node, the hung one too');
      await waitUntil(() => elsewhere.every((t) => heard.has(t.hash)));
    } finally {
      subscriber.disconnect();
      await deleteKeys(setup, keyPrefix);
      client.disconnect();
      setup.disconnect();
    }
  });
});

function clusterConfig(keyPrefix: string): GatewayConfig {
  const yaml = `public_url: http://gw.test\nupstream: { url: http://registry.test }\nroutes: [{ method: GET, path: /index/*, scope: read }]\n`
    + `redis: { url: "redis://127.0.0.1", key_prefix: "${keyPrefix}", command_timeout: 1s, cluster_nodes: [${cluster.nodes.map((n) => `"${n.host}:${n.port}"`).join(', ')}] }\n`
    + 'cache: { ttl: 1m }\n';
  const built = buildConfig(yaml, {}, 'cluster.yaml');
  if (!built.ok) throw new Error(built.problems.join('\n'));
  return built.config;
}

const isLive = (store: CachingTokenStore): boolean => store.stats.live;

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await sleep(5);
  }
}
