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
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { buildConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { connectRedis, waitForReady } from '../../src/store/redis-client.js';
import { RedisTokenStore } from '../../src/store/redis-store.js';
import { withTokenCache } from '../../src/store/revocation-feed.js';
import type { CachingTokenStore } from '../../src/store/token-cache.js';
import { waitFor } from '../support/poll.js';
import { freePort, startRedisServer, uniquePrefix, type RedisServer } from '../support/redis-server.js';
import { newRecord } from './token-store-contract.js';

const run = promisify(execFile);
const MASTER_NAME = 'sg-durability';
const HOUR_MS = 3_600_000;

describe('revocations during a Sentinel manual failover', () => {
  let master: RedisServer;
  let replica: RedisServer;
  let sentinel: ChildProcess;
  let sentinelPort: number;
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sg-sentinel-durability-'));
    master = await startRedisServer({ args: ['--dir', dir] });
    replica = await startRedisServer({ args: ['--dir', dir, '--replicaof', '127.0.0.1', String(master.port)] });
    await waitFor(async () => (await cli(replica.port, 'INFO', 'replication')).includes('master_link_status:up'), 10_000);
    sentinelPort = await freePort();
    const config = join(dir, 'sentinel.conf');
    await writeFile(config, [
      `port ${sentinelPort}`, 'bind 127.0.0.1', `dir ${dir}`,
      `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} 1`,
      `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
      `sentinel failover-timeout ${MASTER_NAME} 3000`, '',
    ].join('\n'));
    sentinel = spawn('redis-server', [config, '--sentinel'], { stdio: 'ignore' });
    process.once('exit', () => sentinel.kill('SIGKILL'));
    await waitFor(async () => (await cli(sentinelPort, 'SENTINEL', 'replicas', MASTER_NAME)).includes(String(replica.port)), 15_000);
  });
  after(async () => {
    if (sentinel) {
      const exited = once(sentinel, 'exit');
      sentinel.kill('SIGKILL');
      await exited;
    }
    await master?.stop();
    await replica?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps every revocation it acknowledged', async () => {
    const built = buildConfig(
      `public_url: http://gw.test\nupstream: { url: http://registry.test }\nroutes: [{ method: GET, path: /index/*, scope: read }]\n`
      + `redis: { url: "redis://ignored:1/0", key_prefix: "${uniquePrefix()}", command_timeout: 250ms, sentinels: ["127.0.0.1:${sentinelPort}"], name: ${MASTER_NAME} }\n`,
      {}, 'sentinel-durability.yaml');
    if (!built.ok) throw new Error(built.problems.join('\n'));
    const { keyPrefix, commandTimeoutMs } = built.config.redis;
    const client = connectRedis(built.config.redis, { commandTimeoutMs }) as Redis;
    const admin = connectRedis(built.config.redis, { commandTimeoutMs: 1_000 }) as Redis;
    await Promise.all([waitForReady(client, 5_000), waitForReady(admin, 5_000)]);
    const gateway = withTokenCache(new RedisTokenStore(client, { keyPrefix }), built.config, client, createLogger('silent')) as CachingTokenStore;
    const revoker = new RedisTokenStore(admin, { keyPrefix });
    try {
      await waitFor(() => gateway.stats.live, 5_000);
      const tokens = [];
      for (let i = 0; i < 20; i++) tokens.push(await gateway.create(newRecord(), HOUR_MS));
      await waitFor(async () => (await cli(replica.port, 'DBSIZE')) === (await cli(master.port, 'DBSIZE')), 5_000);
      void cli(sentinelPort, 'SENTINEL', 'FAILOVER', MASTER_NAME);
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
      await waitFor(async () => (await cli(sentinelPort, 'SENTINEL', 'get-master-addr-by-name', MASTER_NAME)).includes(String(replica.port)), 15_000);
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

async function cli(port: number, ...args: string[]): Promise<string> {
  try {
    return (await run('redis-cli', ['-p', String(port), ...args], { timeout: 1_000 })).stdout.trim();
  } catch {
    return '';
  }
}
