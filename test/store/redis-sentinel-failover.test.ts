/**
 * Redis Sentinel failover with a frozen master (SIGSTOP: a hung VM, a black-holed host). The
 * master never closes the gateway's connections, so ioredis would never ask Sentinel again by
 * itself: lookups would time out (503) although a new master serves, and once the old master
 * thaws it would answer with pre-failover data, so a token revoked on the new master would read as
 * valid again (the review's r4 reproduction). Real redis-server processes and a real sentinel.
 */
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually, sampleRevocation, waitFor } from '../support/poll.js';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { buildConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log.js';
import { connectRedis, waitForReady } from '../../src/store/redis-client.js';
import { RedisTokenStore } from '../../src/store/redis-store.js';
import { withTokenCache } from '../../src/store/revocation-feed.js';
import type { CachingTokenStore } from '../../src/store/token-cache.js';
import { freePort, startRedisServer, uniquePrefix, type RedisServer } from '../support/redis-server.js';
import { newRecord } from './token-store-contract.js';

const run = promisify(execFile);
const MASTER_NAME = 'sg-failover';
const HOUR_MS = 3_600_000;
let master: RedisServer;
let replica: RedisServer;
let sentinel: ChildProcess;
let sentinelPort: number;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sg-sentinel-failover-'));
  // The replica's first sync writes an RDB file into the working directory: keep it in `dir`.
  master = await startRedisServer({ args: ['--dir', dir] });
  replica = await startRedisServer({ args: ['--dir', dir, '--replicaof', '127.0.0.1', String(master.port)] });
  await waitFor(async () => (await cli(replica.port, 'INFO', 'replication')).includes('master_link_status:up'), 10_000);
  sentinelPort = await freePort();
  const config = join(dir, 'sentinel.conf');
  // Short timings so the failover happens within a few seconds (production: 30 s / 3 min).
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
  master?.thaw();
  if (sentinel) {
    const exited = once(sentinel, 'exit');
    sentinel.kill('SIGKILL');
    await exited;
  }
  await master?.stop();
  await replica?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function sentinelConfig(keyPrefix: string) {
  const built = buildConfig(
    `public_url: http://gw.test\nupstream: { url: http://registry.test }\nroutes: [{ method: GET, path: /index/*, scope: read }]\n`
    + `redis: { url: "redis://ignored:1/0", key_prefix: "${keyPrefix}", command_timeout: 250ms, sentinels: ["127.0.0.1:${sentinelPort}"], name: ${MASTER_NAME} }\n`,
    {}, 'sentinel-failover.yaml');
  if (!built.ok) throw new Error(built.problems.join('\n'));
  return built.config;
}

describe('Redis Sentinel master check', () => {
  it('keeps its connection when the Redis user may not run ROLE (an error reply is an answer)', async () => {
    // A least-privilege user: everything but @admin, where ROLE is.
    assert.equal(await cli(master.port, 'ACL', 'SETUSER', 'gw', 'on', '>gw-pass', '~*', '&*', '+@all', '-@admin'), 'OK');
    const config = sentinelConfig(uniquePrefix());
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
    const config = sentinelConfig(uniquePrefix());
    const { keyPrefix, commandTimeoutMs } = config.redis;
    const client = connectRedis(config.redis, { commandTimeoutMs }) as Redis;
    await waitForReady(client, 5_000);
    const gateway = withTokenCache(new RedisTokenStore(client, { keyPrefix }), config, client, createLogger('silent')) as CachingTokenStore;
    let admin: Redis | undefined;
    try {
      await waitFor(() => gateway.stats.live, 5_000);
      const created = await gateway.create(newRecord(), HOUR_MS);
      await waitFor(async () => (await cli(replica.port, 'EXISTS', `${keyPrefix}token:{${created.hash}}`)) === '1', 5_000);
      assert.equal((await gateway.findByHash(created.hash))?.revokedAt, null);

      master.freeze();
      await waitFor(async () => (await cli(sentinelPort, 'SENTINEL', 'get-master-addr-by-name', MASTER_NAME)).includes(String(replica.port)), 15_000);
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
      master.thaw();
      // Until Sentinel demotes it (seconds), the old master answers as a master with the record
      // as it was before the failover. No answer may be "valid"; 503 is allowed, "revoked" expected.
      const seen = await sampleRevocation(() => gateway.findByHash(created.hash), revokedAt, 6_000);
      assert.equal(seen.valid, 0, `the revoked token read as valid after the old master thawed: ${JSON.stringify(seen)}`);
      assert.ok(seen.revoked > 0, `the gateway answered from the new master: ${JSON.stringify(seen)}`);
      assert.ok(refusedBeforeThaw, 'the gateway saw the revocation before the old master thawed');
      assert.ok(servedWhileFrozen, 'lookups were served by the new master while the old one was still frozen');
      assert.ok(gateway.stats.live, 'the revocation feed is live again, on the new master');
    } finally {
      master.thaw();
      admin?.disconnect();
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
