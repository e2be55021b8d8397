/**
 * A real Redis Cluster for tests: three masters (by default no replicas; with `replicas: 1`, one
 * each, for failover tests) on free local ports, each a private `redis-server --cluster-enabled
 * yes`, joined with `redis-cli --cluster create`. Started once per test file and stopped at the
 * end; nothing is written to disk outside a temporary directory.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { HostPort } from '../../src/config/types.js';

const run = promisify(execFile);
const MASTERS = 3;
const READY_TIMEOUT_MS = 15_000;

export interface RedisCluster {
  readonly nodes: readonly HostPort[];
  /** Sends a signal to the node on `port`: SIGSTOP freezes it (open sockets, no answers), SIGCONT resumes it. */
  signal(port: number, signal: 'SIGSTOP' | 'SIGCONT'): void;
  /** `redis-cli -p port …`'s output, or '' when it fails or times out (e.g. on a frozen node). */
  cli(port: number, ...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  /** Replicas per master; default 0. */
  readonly replicas?: number;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const replicas = options.replicas ?? 0;
  const dir = await mkdtemp(join(tmpdir(), 'sg-cluster-'));
  const ports = await clusterPorts(MASTERS * (1 + replicas));
  const children = ports.map((port) => {
    const child = spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
      '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000',
      '--dir', dir, '--save', '', '--appendonly', 'no',
    ], { stdio: 'ignore' });
    running.add(child);
    child.on('exit', () => running.delete(child));
    return child;
  });
  const stop = async (): Promise<void> => {
    await Promise.all(children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await exited;
    }));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) await waitFor(async () => (await cli(port, 'PING')) === 'PONG');
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: READY_TIMEOUT_MS });
    for (const port of ports) await waitFor(async () => (await cli(port, 'CLUSTER', 'INFO')).includes('cluster_state:ok'));
    // A replica can take over (and confirm a WAIT) only once it is in sync with its master. Every
    // replica must be: one not yet told to replicate still says role:master, and passed a check
    // of "master, or in sync" while its full sync had not begun.
    await waitFor(async () => {
      const replications = await Promise.all(ports.map((port) => cli(port, 'INFO', 'replication')));
      return replications.filter((r) => r.includes('master_link_status:up')).length === MASTERS * replicas;
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const byPort = new Map(ports.map((port, i) => [port, children[i]!]));
  return {
    nodes: ports.map((port) => ({ host: '127.0.0.1', port })),
    signal: (port, signal) => byPort.get(port)?.kill(signal),
    cli,
    stop,
  };
}

async function cli(port: number, ...args: string[]): Promise<string> {
  try {
    return (await run('redis-cli', ['-p', String(port), ...args], { timeout: 2_000 })).stdout.trim();
  } catch {
    return '';
  }
}

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`redis cluster not ready within ${READY_TIMEOUT_MS} ms`);
}

/** Ports whose cluster-bus port (port + 10000) is free too. */
async function clusterPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (ports.includes(port) || ports.includes(port + 10_000) || ports.includes(port - 10_000)) continue;
    if ((await isFree(port)) && (await isFree(port + 10_000))) ports.push(port);
  }
  return ports;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
