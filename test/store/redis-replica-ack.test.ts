/**
 * A revocation is acknowledged only once a replica has it, on a master that has (or has had)
 * replicas (`replica-ack.ts`): otherwise a failover can discard it after every cache dropped the
 * token (see redis-sentinel-revocation-durability.test.ts). Real redis-server processes: a master
 * with one replica, and a 3+3 Cluster for the WAIT's routing to the key's node.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis, type Cluster } from 'ioredis';
import { createClusterClient, createRedisClient, waitForReady } from '../../src/store/redis-client.js';
import { RedisTokenStore } from '../../src/store/redis-store.js';
import { StoreUnavailableError } from '../../src/store/token-store.js';
import { call, startGateway } from '../support/gateway.js';
import { waitFor } from '../support/poll.js';
import { startRedisServer, uniquePrefix, type RedisServer } from '../support/redis-server.js';
import { startRedisCluster } from '../support/redis-cluster.js';
import { newRecord } from './token-store-contract.js';

const HOUR_MS = 3_600_000;
const COMMAND_TIMEOUT_MS = 400;

describe('revocations on a master with a replica', () => {
  let master: RedisServer;
  let replica: RedisServer;
  let client: Redis;
  let onReplica: Redis;
  const keyPrefix = uniquePrefix();
  let store: RedisTokenStore;

  let dir: string;

  before(async () => {
    // A full sync writes an RDB file: into a directory of its own, not the working directory.
    dir = await mkdtemp(join(tmpdir(), 'sg-replica-ack-'));
    master = await startRedisServer({ args: ['--dir', dir] });
    replica = await startRedisServer({ args: ['--dir', dir, '--replicaof', '127.0.0.1', String(master.port)] });
    onReplica = new Redis(replica.url, { lazyConnect: true });
    await onReplica.connect();
    await waitFor(async () => (await onReplica.info('replication')).includes('master_link_status:up'), 10_000);
    client = createRedisClient({ url: master.url, commandTimeoutMs: COMMAND_TIMEOUT_MS });
    await waitForReady(client, 5_000);
    // A replica is sent the write stream only from its first acknowledgement after the sync (up
    // to a second later; Redis 7 syncs diskless by default): until then no WAIT is confirmed.
    await waitFor(async () => Number((await client.pipeline().set(`${keyPrefix}ready`, '1').call('WAIT', '1', '100').exec())?.[1]?.[1]) === 1, 5_000);
    // A master and its replica without Sentinel: confirmation asked for explicitly (the default is off).
    store = new RedisTokenStore(client, { keyPrefix, confirmRevocations: true });
  });
  after(async () => {
    replica?.thaw();
    client?.disconnect();
    onReplica?.disconnect();
    await replica?.stop();
    await master?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('returns the revocation only once the replica has it', async () => {
    const token = await store.create(newRecord(), HOUR_MS);
    const revoked = await store.revoke(token.id, Date.now(), HOUR_MS);
    assert.notEqual(revoked?.revokedAt, null);
    assert.equal(await onReplica.hget(`${keyPrefix}token:{${token.hash}}`, 'revoked_at'), String(revoked?.revokedAt));
  });

  it('answers a store failure, saying to revoke again, when the replica does not confirm in time', async () => {
    const token = await store.create(newRecord(), HOUR_MS);
    replica.freeze();
    try {
      await assert.rejects(store.revoke(token.id, Date.now(), HOUR_MS), (e: Error) => {
        assert.ok(e instanceof StoreUnavailableError, String(e));
        assert.match(e.message, /no replica confirmed the write within 200 ms/);
        assert.match(e.message, /the revocation may not have taken effect; revoke it again/);
        return true;
      });
    } finally {
      replica.thaw();
    }
    // Revoking again, once the replica is back, is confirmed and keeps the first revocation time.
    const first = (await store.findById(token.id))?.revokedAt;
    assert.notEqual(first, null);
    assert.equal((await store.revoke(token.id, Date.now(), HOUR_MS))?.revokedAt, first);
  });

  it('on a connection of its own, a revocation waiting for the replica holds up no lookup', async () => {
    const revocations = createRedisClient({ url: master.url, commandTimeoutMs: COMMAND_TIMEOUT_MS });
    const onMaster = new Redis(master.url);
    await waitForReady(revocations, 5_000);
    const own = new RedisTokenStore(client, { keyPrefix, revocations, confirmRevocations: true });
    const token = await own.create(newRecord(), HOUR_MS);
    replica.freeze();
    try {
      let settled = false;
      const revoking = own.revoke(token.id, Date.now(), HOUR_MS).finally(() => { settled = true; });
      // Once the revocation's WAIT is blocked on the master (another connection looks)…
      await waitFor(async () => /\bcmd=wait\b/.test(String(await onMaster.call('CLIENT', 'LIST'))), 2_000);
      // …a lookup on the revocation's connection would be answered only after WAIT gave up.
      assert.equal((await own.findByHash(token.hash))?.id, token.id);
      assert.equal(settled, false, 'the lookup waited for the revocation');
      await assert.rejects(revoking, /no replica confirmed the write/);
    } finally {
      replica.thaw();
      revocations.disconnect();
      onMaster.disconnect();
    }
  });

  it('answers without waiting when the Redis user may not run CLIENT and WAIT (@connection), as without INFO', async () => {
    // An ACL without @connection: the revocation feed already takes such a user (its PING refused).
    const admin = new Redis(master.url);
    const url = new URL(master.url);
    url.username = `no-connection-${keyPrefix.replace(/[^a-z0-9]/gi, '')}`;
    url.password = 'secret-of-this-test';
    await admin.call('ACL', 'SETUSER', url.username, 'on', `>${url.password}`, '+@all', '-@connection', '+auth', '+hello', 'allkeys', 'allchannels');
    admin.disconnect();
    const limited = createRedisClient({ url: url.href, commandTimeoutMs: COMMAND_TIMEOUT_MS });
    try {
      await waitForReady(limited, 5_000);
      const limitedStore = new RedisTokenStore(limited, { keyPrefix, confirmRevocations: true });
      const token = await limitedStore.create(newRecord(), HOUR_MS);
      const revoked = await limitedStore.revoke(token.id, Date.now(), HOUR_MS);
      assert.notEqual(revoked?.revokedAt, null);
    } finally {
      limited.disconnect();
    }
  });

  it('answers the token API\'s revoke with a 503 that says the revocation may not have taken effect', async () => {
    const gw = await startGateway({ env: { REDIS_URL: master.url }, confirmRevocations: true });
    try {
      const { id } = await gw.createToken({ name: 'ci' });
      const revoke = (): ReturnType<typeof call> => call(gw.url, { path: `/api/v1/me/tokens/${id}`, method: 'DELETE', headers: { authorization: 'alice-upstream-secret' } });
      replica.freeze();
      let res;
      try {
        res = await revoke();
      } finally {
        replica.thaw();
      }
      assert.equal(res.status, 503);
      assert.deepEqual(res.json, { errors: [{ detail: 'the token store could not confirm the revocation, so it may not have taken effect; try again (repeating a revocation is safe)' }] });
      const line = gw.logLines().find((l) => String(l.reason).includes('the revocation may not have taken effect'));
      assert.match(String(line?.reason), /^store-unavailable: token \d+ is revoked on the redis master, but no replica confirmed the write/);
      const again = await revoke();
      assert.equal(again.status, 200);
      assert.notEqual((await gw.store.findById(id))?.revokedAt, null);
    } finally {
      await gw.close();
    }
  });

  // Last: it leaves the master without its replica.
  it('refuses at once, without waiting, on a master whose replica has left it', async () => {
    const token = await store.create(newRecord(), HOUR_MS);
    await onReplica.call('REPLICAOF', 'NO', 'ONE');
    await waitFor(async () => (await client.info('replication')).includes('connected_slaves:0'), 5_000);
    await assert.rejects(store.revoke(token.id, Date.now(), HOUR_MS), /the master has had replicas but has none connected now/);
  });
});

describe('revocations on a lone Redis (no Sentinel, no Cluster)', () => {
  it('are answered without waiting, by default also when it has a replica', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sg-replica-ack-lone-'));
    const lone = await startRedisServer({ args: ['--dir', dir] });
    const replica = await startRedisServer({ args: ['--dir', dir, '--replicaof', '127.0.0.1', String(lone.port)] });
    // Confirmed, the revocation would wait for the frozen replica (2 s, half the command timeout)
    // and then be refused: it is answered instead.
    const client = createRedisClient({ url: lone.url, commandTimeoutMs: 4_000 });
    try {
      await waitForReady(client, 5_000);
      await waitFor(async () => (await client.info('replication')).includes('connected_slaves:1'), 10_000);
      const store = new RedisTokenStore(client, { keyPrefix: uniquePrefix() });
      const token = await store.create(newRecord(), HOUR_MS);
      replica.freeze();
      assert.notEqual((await store.revoke(token.id, Date.now(), HOUR_MS))?.revokedAt, null);
    } finally {
      replica.thaw();
      client.disconnect();
      await replica.stop();
      await lone.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('revocations on a Redis Cluster with replicas', () => {
  it('are confirmed by the replica of the master that holds each token', async () => {
    const cluster = await startRedisCluster({ replicas: 1 });
    let client: Cluster | undefined;
    try {
      client = createClusterClient({ nodes: cluster.nodes, url: 'redis://127.0.0.1', commandTimeoutMs: 1_000 });
      await waitForReady(client, 5_000);
      const store = new RedisTokenStore(client, { keyPrefix: uniquePrefix() });
      // Twelve tokens land in slots on all three masters; a WAIT sent to another node, or on
      // another connection, would never be confirmed. Right after the cluster formed, a master
      // may not yet stream writes to its replica (it starts at the replica's first acknowledgement
      // after the sync, up to a second later), so an unconfirmed revocation is tried again, as a
      // caller told so would.
      for (let i = 0; i < 12; i++) {
        const token = await store.create(newRecord(), HOUR_MS);
        const failures: string[] = [];
        let revoked = null;
        while (revoked === null && failures.length < 5) {
          revoked = await store.revoke(token.id, Date.now(), HOUR_MS).catch((e: Error) => {
            failures.push(e.message);
            return null;
          });
        }
        assert.notEqual(revoked?.revokedAt, null, failures.join('\n'));
      }
    } finally {
      client?.disconnect();
      await cluster.stop();
    }
  });
});

describe('revocations on a lone master that was once backed up with `redis-cli --rdb`', () => {
  // `redis-cli --rdb` (and any tool taking an RDB over the replication protocol) counts as a full
  // sync (INFO stats `sync_full:1`): a lone Redis once backed up that way looked like a master
  // that has had replicas, and every revocation was answered 503 SG_STORE_REVOKE_UNCONFIRMED.
  it('are still answered, since no replica could ever confirm them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sg-replica-ack-rdb-'));
    const lone = await startRedisServer({ args: ['--dir', dir] });
    const gw = await startGateway({ env: { REDIS_URL: lone.url } });
    try {
      const { id } = await gw.createToken({ name: 'ci' });
      const { execFile } = await import('node:child_process');
      await new Promise<void>((resolve, reject) => execFile('redis-cli', ['-p', String(lone.port), '--rdb', join(dir, 'backup.rdb')], (e) => (e ? reject(e) : resolve())));
      const res = await call(gw.url, { path: `/api/v1/me/tokens/${id}`, method: 'DELETE', headers: { authorization: 'alice-upstream-secret' } });
      assert.equal(res.status, 200, JSON.stringify(res.json));
    } finally {
      await gw.close();
      await lone.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
