/**
 * Redis Sentinel failover with a frozen master (SIGSTOP: a hung VM, a black-holed host). The
 * master never closes the gateway's connections, so ioredis would never ask Sentinel again by
 * itself: lookups would time out (503) although a new master serves, and once the old master
 * thaws it would answer with pre-failover data, so a token revoked on the new master would read as
 * valid again (the review's r4 reproduction). Real redis-server processes and a real sentinel.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { createLogger } from '../../src/log.js';
import { connectRedis, waitForReady } from '../../src/store/redis-client.js';
import { RedisTokenStore } from '../../src/store/redis-store.js';
import { withTokenCache } from '../../src/store/revocation-feed.js';
import type { CachingTokenStore } from '../../src/store/token-cache.js';
import { eventually, sampleRevocation, waitFor } from '../support/poll.js';
import { uniquePrefix } from '../support/redis-server.js';
import { redisCli as cli, startSentinelSet, type SentinelSet } from '../support/redis-sentinel.js';
import { newRecord } from './token-store-contract.js';

const HOUR_MS = 3_600_000;
let set: SentinelSet;
before(async () => { set = await startSentinelSet('sg-failover'); });
after(() => set?.stop());

describe('Redis Sentinel master check', () => {
  it('keeps its connection when the Redis user may not run ROLE (an error reply is an answer)', async () => {
    // A least-privilege user: everything but @admin, where ROLE is.
    assert.equal(await cli(set.master.port, 'ACL', 'SETUSER', 'gw', 'on', '>gw-pass', '~*', '&*', '+@all', '-@admin'), 'OK');
    const config = set.config(uniquePrefix(), '250ms', 'sentinel-failover.yaml');
    const client = connectRedis({ ...config.redis, url: 'redis://gw:gw-pass@ignored:1/0' }, { commandTimeoutMs: config.redis.commandTimeoutMs }) as Redis;
    let closes = 0;
    client.on('close', () => closes++);
    try {
      await waitForReady(client, 5_000);
      await assert.rejects(client.role(), /NOPERM/);
      await sleep(4_500); // more than MASTER_CHECK_FAILURES checks
      assert.equal(closes, 0, 'the client did not reconnect');
      assert.equal(client.status, 'ready');
    } finally {
      client.disconnect();
    }
  });
});

describe('Redis Sentinel failover while the master is frozen', () => {
  it('follows the promoted replica and never accepts a token revoked there once the old master thaws', async () => {
    const config = set.config(uniquePrefix(), '250ms', 'sentinel-failover.yaml');
    const { keyPrefix, commandTimeoutMs } = config.redis;
    const client = connectRedis(config.redis, { commandTimeoutMs }) as Redis;
    await waitForReady(client, 5_000);
    const gateway = withTokenCache(new RedisTokenStore(client, { keyPrefix }), config, client, createLogger('silent')) as CachingTokenStore;
    let admin: Redis | undefined;
    try {
      await waitFor(() => gateway.stats.live, 5_000);
      const created = await gateway.create(newRecord(), HOUR_MS);
      await waitFor(async () => (await cli(set.replica.port, 'EXISTS', `${keyPrefix}token:{${created.hash}}`)) === '1', 5_000);
      assert.equal((await gateway.findByHash(created.hash))?.revokedAt, null);

      set.master.freeze();
      await waitFor(async () => (await cli(set.sentinelPort, 'SENTINEL', 'get-master-addr-by-name', set.name)).includes(String(set.replica.port)), 15_000);
      // The old master is still frozen: the gateway must find the new one by itself.
      const servedWhileFrozen = await eventually(async () => (await gateway.findByHash(created.hash))?.id === created.id, 5_000);

      // Revoked on the new master, as the CLI would (a fresh connection through Sentinel).
      admin = connectRedis(config.redis, { commandTimeoutMs: 1_000 }) as Redis;
      await waitForReady(admin, 5_000);
      const revokedAt = Date.now();
      assert.notEqual(await new RedisTokenStore(admin, { keyPrefix }).revoke(created.id, revokedAt, HOUR_MS), null);

      // The feed brings the revocation within a millisecond or two; what must not happen is that
      // the thawed old master brings the token back.
      const refusedBeforeThaw = await eventually(async () => (await gateway.findByHash(created.hash))?.revokedAt === revokedAt, 2_000);
      set.master.thaw();
      // Until Sentinel demotes it (seconds), the old master answers as a master with the record
      // as it was before the failover. No answer may be "valid"; 503 is allowed, "revoked" expected.
      const seen = await sampleRevocation(() => gateway.findByHash(created.hash), revokedAt, 6_000);
      assert.equal(seen.valid, 0, `the revoked token read as valid after the old master thawed: ${JSON.stringify(seen)}`);
      assert.ok(seen.revoked > 0, `the gateway answered from the new master: ${JSON.stringify(seen)}`);
      assert.ok(refusedBeforeThaw, 'the gateway saw the revocation before the old master thawed');
      assert.ok(servedWhileFrozen, 'lookups were served by the new master while the old one was still frozen');
      assert.ok(gateway.stats.live, 'the revocation feed is live again, on the new master');
    } finally {
      set.master.thaw();
      admin?.disconnect();
      await gateway.close();
    }
  });
});
