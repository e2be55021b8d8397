/**
 * Redis Cluster failover with a frozen master (SIGSTOP: a hung VM, a black-holed host). The
 * cluster promotes the master's replica within a few node timeouts, but the frozen node never
 * closes a connection, so nothing told ioredis to look again (the review's r3 reproduction): the
 * token keys in its slots timed out (503) for as long as it stayed frozen, and the revocation
 * feed's subscriber on it was never given up on, so the feed stayed down. A real 3+3 cluster.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, sampleRevocation, waitFor } from '../support/poll.js';
import type { Cluster, Redis } from 'ioredis';
import { buildConfig } from '../../src/config/load.js';
import type { GatewayConfig } from '../../src/config/types.js';
import { createClusterClient, createRedisClient, waitForReady } from '../../src/store/redis-client.js';
import { RedisTokenStore } from '../../src/store/redis-store.js';
import { RedisRevocationFeed, revocationChannel, subscriberFactory } from '../../src/store/revocation-feed.js';
import { CachingTokenStore } from '../../src/store/token-cache.js';
import { uniquePrefix } from '../support/redis-server.js';
import { startRedisCluster, type RedisCluster } from '../support/redis-cluster.js';
import { newRecord } from './token-store-contract.js';

const HOUR_MS = 3_600_000;
const COMMAND_TIMEOUT_MS = 250;
let cluster: RedisCluster;

before(async () => {
  cluster = await startRedisCluster({ replicas: 1 });
});
after(() => cluster?.stop());

async function connect(): Promise<Cluster> {
  const client = createClusterClient({ nodes: cluster.nodes, url: 'redis://127.0.0.1', commandTimeoutMs: COMMAND_TIMEOUT_MS });
  await waitForReady(client, 5_000);
  return client;
}

describe('a revocation that times out on a Cluster', () => {
  it('asks its own client for the slot map again, not only the lookups\' client', async () => {
    const keyPrefix = uniquePrefix();
    const client = await connect();
    const revocations = await connect();
    let refreshed = 0;
    const refresh = revocations.refreshSlotsCache.bind(revocations);
    revocations.refreshSlotsCache = (...args: Parameters<Cluster['refreshSlotsCache']>) => { refreshed++; return refresh(...args); };
    const store = new RedisTokenStore(client, { keyPrefix, revocations, confirmRevocations: false });
    try {
      // A token whose record and id key live on different masters: only the record's is frozen,
      // so the revocation gets past the id lookup (on the lookups' client) and times out on its own.
      const masterOf = async (key: string): Promise<number> => Number(client.slots[Number(await cluster.cli(cluster.nodes[0]!.port, 'CLUSTER', 'KEYSLOT', key))]![0]!.split(':')[1]);
      let token;
      let port = 0;
      for (let i = 0; i < 20 && token === undefined; i++) {
        const created = await store.create(newRecord(), HOUR_MS);
        port = await masterOf(`${keyPrefix}token:{${created.hash}}`);
        if (port !== (await masterOf(`${keyPrefix}token-id:${created.id}`))) token = created;
      }
      assert.ok(token !== undefined, 'no token with its record and id on different masters');
      cluster.signal(port, 'SIGSTOP');
      try {
        await assert.rejects(store.revoke(token.id, Date.now(), HOUR_MS), /revoke token failed/);
      } finally {
        cluster.signal(port, 'SIGCONT');
      }
      assert.ok(refreshed >= 1, 'the revocations\' client was not asked to refresh its slot map');
    } finally {
      await store.close();
    }
  });
});

describe('Redis Cluster failover while a master is frozen', () => {
  it('moves lookups and the revocation feed off the frozen master, and never accepts a token revoked meanwhile', async () => {
    const keyPrefix = uniquePrefix();
    const client = await connect();
    // Until the gateway store below owns the client: a failure before it must not leave the
    // connection holding the test process open (it then ran into the file's 180 s timeout).
    let owned = false;
    try {
      await frozenMasterScenario(client, keyPrefix, () => { owned = true; });
    } finally {
      if (!owned) client.disconnect();
    }
  });
});

async function frozenMasterScenario(client: Cluster, keyPrefix: string, own: () => void): Promise<void> {
  const store = new RedisTokenStore(client, { keyPrefix });
  const created = await store.create(newRecord(), HOUR_MS);
  const key = `${keyPrefix}token:{${created.hash}}`;
  const slot = Number(await cluster.cli(cluster.nodes[0]!.port, 'CLUSTER', 'KEYSLOT', key));
  const frozen = Number(client.slots[slot]![0]!.split(':')[1]);
  const owner = client.nodes('master').find((node) => node.options.port === frozen)!;
  // WAIT in short steps: one long WAIT outlasts the client's 250 ms command timeout whenever the
  // replica takes longer than that to acknowledge (a busy CI machine), and fails the test there.
  await waitFor(async () => (await owner.wait(1, 100)) === 1, 10_000);

  // The feed's first subscriber is on the master about to freeze; later ones come from the
  // gateway's own factory (the next node the cluster client knows).
  const next = subscriberFactory(clusterConfig(keyPrefix).redis, client, { commandTimeoutMs: COMMAND_TIMEOUT_MS });
  let first = true;
  const feed = new RedisRevocationFeed({
    connect: (): Redis => {
      if (!first) return next();
      first = false;
      return createRedisClient({ url: `redis://127.0.0.1:${frozen}/0`, subscriber: true, maxReconnects: 3, commandTimeoutMs: COMMAND_TIMEOUT_MS });
    },
    channel: revocationChannel(keyPrefix),
  });
  const gateway = new CachingTokenStore(store, feed, { ttlMs: 10_000, maxEntries: 100 });
  own();
  let admin: Cluster | undefined;
  try {
    await waitFor(() => feed.live, 5_000);
    assert.equal((await gateway.findByHash(created.hash))?.revokedAt, null);

    cluster.signal(frozen, 'SIGSTOP');
    const others = cluster.nodes.map((node) => node.port).filter((port) => port !== frozen);
    await waitFor(async () => {
      const slots = await cluster.cli(others[0]!, 'CLUSTER', 'SLOTS');
      return slots !== '' && !slots.split('\n').includes(String(frozen))
        && (await cluster.cli(others[0]!, 'CLUSTER', 'INFO')).includes('cluster_state:ok');
    }, 20_000);
    // The old master is still frozen: the gateway must find the promoted replica by itself.
    const servedWhileFrozen = await eventually(async () => (await store.findByHash(created.hash))?.id === created.id, 5_000);
    const feedLiveWhileFrozen = await eventually(() => feed.live, 5_000);

    admin = await connect();
    const revokedAt = Date.now();
    assert.notEqual(await new RedisTokenStore(admin, { keyPrefix }).revoke(created.id, revokedAt, HOUR_MS), null);
    const refusedBeforeThaw = await eventually(async () => (await gateway.findByHash(created.hash))?.revokedAt === revokedAt, 2_000);

    cluster.signal(frozen, 'SIGCONT');
    const seen = await sampleRevocation(() => gateway.findByHash(created.hash), revokedAt, 4_000);
    assert.ok(servedWhileFrozen, 'lookups in the frozen master\'s slots were served by its promoted replica');
    assert.ok(feedLiveWhileFrozen, 'the revocation feed moved to another node and went live');
    assert.ok(refusedBeforeThaw, 'the gateway saw the revocation before the old master thawed');
    assert.equal(seen.valid, 0, `the revoked token read as valid after the old master thawed: ${JSON.stringify(seen)}`);
    assert.ok(seen.revoked > 0, `the gateway answered from the new master: ${JSON.stringify(seen)}`);
  } finally {
    cluster.signal(frozen, 'SIGCONT');
    admin?.disconnect();
    await gateway.close();
  }
}

function clusterConfig(keyPrefix: string): GatewayConfig {
  const yaml = `public_url: http://gw.test\nupstream: { url: http://registry.test }\nroutes: [{ method: GET, path: /index/*, scope: read }]\n`
    + `redis: { url: "redis://127.0.0.1", key_prefix: "${keyPrefix}", cluster_nodes: [${cluster.nodes.map((n) => `"${n.host}:${n.port}"`).join(', ')}] }\n`;
  const built = buildConfig(yaml, {}, 'cluster-failover.yaml');
  if (!built.ok) throw new Error(built.problems.join('\n'));
  return built.config;
}
