/**
 * During a Sentinel manual failover (`SENTINEL FAILOVER`) the old master keeps accepting writes
 * for a few hundred milliseconds after its replica was promoted. A revocation written there, if
 * acknowledged (and announced: every cache drops the token), is discarded when the old master
 * resyncs as a replica of the new one, and the token reads as valid again, for good. Before
 * revocations waited for a replica (`replica-ack.ts`), 2–7 of these 20 were lost. Redis
 * replication is asynchronous, so any failover can lose the last writes; this one loses them for
 * the longest. Real redis-server processes and a real sentinel.
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
import { waitFor } from '../support/poll.js';
import { uniquePrefix } from '../support/redis-server.js';
import { redisCli as cli, startSentinelSet, type SentinelSet } from '../support/redis-sentinel.js';
import { newRecord } from './token-store-contract.js';

const HOUR_MS = 3_600_000;

describe('revocations during a Sentinel manual failover', () => {
  let set: SentinelSet;
  before(async () => { set = await startSentinelSet('sg-durability'); });
  after(() => set?.stop());

  it('keeps every revocation it acknowledged', async () => {
    const config = set.config(uniquePrefix(), '250ms', 'sentinel-durability.yaml');
    const { keyPrefix, commandTimeoutMs } = config.redis;
    const client = connectRedis(config.redis, { commandTimeoutMs }) as Redis;
    const admin = connectRedis(config.redis, { commandTimeoutMs: 1_000 }) as Redis;
    await Promise.all([waitForReady(client, 5_000), waitForReady(admin, 5_000)]);
    const gateway = withTokenCache(new RedisTokenStore(client, { keyPrefix }), config, client, createLogger('silent')) as CachingTokenStore;
    const revoker = new RedisTokenStore(admin, { keyPrefix });
    try {
      await waitFor(() => gateway.stats.live, 5_000);
      const tokens = [];
      for (let i = 0; i < 20; i++) tokens.push(await gateway.create(newRecord(), HOUR_MS));
      await waitFor(async () => (await cli(set.replica.port, 'DBSIZE')) === (await cli(set.master.port, 'DBSIZE')), 5_000);
      void cli(set.sentinelPort, 'SENTINEL', 'FAILOVER', set.name);
      // One revocation every ~100 ms, as an operator revoking an account's tokens would, each
      // retried until acknowledged (a 503 while the failover runs is fine).
      const acknowledged: { hash: string; revokedAt: number }[] = [];
      const refusals: string[] = [];
      for (const token of tokens) {
        const revokedAt = Date.now();
        while (Date.now() - revokedAt < 5_000) {
          const record = await revoker.revoke(token.id, revokedAt, HOUR_MS).catch((e: Error) => {
            refusals.push(e.message);
            return null;
          });
          if (record !== null) {
            acknowledged.push({ hash: token.hash, revokedAt: record.revokedAt! });
            break;
          }
          await sleep(20);
        }
        await sleep(100);
      }
      await waitFor(async () => (await cli(set.sentinelPort, 'SENTINEL', 'get-master-addr-by-name', set.name)).includes(String(set.replica.port)), 15_000);
      await sleep(3_000); // the old master resyncs as a replica of the new one
      const valid: string[] = [];
      for (const { hash } of acknowledged) {
        const record = await gateway.findByHash(hash).catch(() => undefined);
        if (record?.revokedAt === null) valid.push(hash.slice(0, 8));
      }
      assert.deepEqual(valid, [], `${valid.length} of ${acknowledged.length} acknowledged revocations were lost: the tokens are valid again`);
      // Every token was revoked in the end (a retry after the failover is confirmed), and the
      // failover did catch a revocation on the old master: refused, rather than acknowledged.
      assert.equal(acknowledged.length, tokens.length, refusals.join('\n'));
      assert.ok(refusals.some((m) => m.includes('the revocation may not have taken effect')), refusals.join('\n'));
    } finally {
      admin.disconnect();
      await gateway.close();
    }
  });
});
