/**
 * A master, its replica and one sentinel watching them, as real processes on free local ports,
 * with the short timings failover tests need (production: 30 s down-after, 3 min failover timeout).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildConfig } from '../../src/config/load.js';
import type { GatewayConfig } from '../../src/config/types.js';
import { waitFor } from './poll.js';
import { freePort, startRedisServer, type RedisServer } from './redis-server.js';

const run = promisify(execFile);

export interface SentinelSet {
  readonly master: RedisServer;
  readonly replica: RedisServer;
  readonly sentinelPort: number;
  /** The master's name in Sentinel (`redis.name`). */
  readonly name: string;
  /** A gateway config on this Sentinel (only `redis` matters), named `file` in its messages. */
  config(keyPrefix: string, commandTimeout: string, file: string): GatewayConfig;
  /** Kills the sentinel, stops both servers (thawing them first) and removes their files. */
  stop(): Promise<void>;
}

/** Starts the set and returns once the sentinel knows the replica (the replica has synced). */
export async function startSentinelSet(name: string): Promise<SentinelSet> {
  const dir = await mkdtemp(join(tmpdir(), `sg-${name}-`));
  // A replica's sync writes an RDB file into the working directory: keep it in `dir`.
  const master = await startRedisServer({ args: ['--dir', dir] });
  const replica = await startRedisServer({ args: ['--dir', dir, '--replicaof', '127.0.0.1', String(master.port)] });
  await waitFor(async () => (await redisCli(replica.port, 'INFO', 'replication')).includes('master_link_status:up'), 10_000);
  const sentinelPort = await freePort();
  const file = join(dir, 'sentinel.conf');
  await writeFile(file, [
    `port ${sentinelPort}`, 'bind 127.0.0.1', `dir ${dir}`,
    `sentinel monitor ${name} 127.0.0.1 ${master.port} 1`,
    `sentinel down-after-milliseconds ${name} 1000`,
    `sentinel failover-timeout ${name} 3000`, '',
  ].join('\n'));
  const sentinel: ChildProcess = spawn('redis-server', [file, '--sentinel'], { stdio: 'ignore' });
  const kill = (): void => void sentinel.kill('SIGKILL');
  process.once('exit', kill);
  await waitFor(async () => (await redisCli(sentinelPort, 'SENTINEL', 'replicas', name)).includes(String(replica.port)), 15_000);
  return {
    master, replica, sentinelPort, name,
    config: (keyPrefix, commandTimeout, configFile) => {
      const built = buildConfig(
        `public_url: http://gw.test\nupstream: { url: http://registry.test }\nroutes: [{ method: GET, path: /index/*, scope: read }]\n`
        + `redis: { url: "redis://ignored:1/0", key_prefix: "${keyPrefix}", command_timeout: ${commandTimeout}, sentinels: ["127.0.0.1:${sentinelPort}"], name: ${name} }\n`,
        {}, configFile);
      if (!built.ok) throw new Error(built.problems.join('\n'));
      return built.config;
    },
    stop: async () => {
      master.thaw();
      replica.thaw();
      const exited = sentinel.exitCode === null ? once(sentinel, 'exit') : Promise.resolve();
      kill();
      process.off('exit', kill);
      await exited;
      await master.stop();
      await replica.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** `redis-cli -p <port> <args…>`'s output, or '' when it fails or takes over a second. */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  try {
    return (await run('redis-cli', ['-p', String(port), ...args], { timeout: 1_000 })).stdout.trim();
  } catch {
    return '';
  }
}
