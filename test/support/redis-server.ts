/**
 * Redis for tests. Tests that only read and write use the shared server ({@link sharedRedisUrl})
 * under their own key prefix ({@link uniquePrefix}); tests that stop, restart or freeze Redis
 * start a private `redis-server` ({@link startRedisServer}) so they never disturb other files
 * running at the same time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

/** A private redis-server process. */
export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** Kills the server (SIGKILL: like a crash, and works on a frozen process). Idempotent. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty, and waits until it answers PING. */
  start(): Promise<void>;
  /**
   * Freezes the server (SIGSTOP) for `ms`: connections stay open but nothing answers, as with a
   * hung or overloaded Redis. Resolves once it has been resumed (SIGCONT).
   */
  pause(ms: number): Promise<void>;
  /** Freezes the server (SIGSTOP) until {@link RedisServer.thaw}: a hung Redis for as long as a test needs. */
  freeze(): void;
  /** Resumes a frozen server (SIGCONT). */
  thaw(): void;
}

const READY_TIMEOUT_MS = 5_000;
const running = new Set<ChildProcess>();
// Never leave a redis-server behind, even when a test file dies before its `after` hook.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Options for {@link startRedisServer}. */
export interface RedisServerOptions {
  /** More command-line options, e.g. `['--replicaof', '127.0.0.1', '6380']`. */
  readonly args?: readonly string[];
}

/** Starts a redis-server on a free port with persistence off, and waits until it answers. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    async stop() {
      if (child === undefined) return;
      const exited = child.exitCode === null && child.signalCode === null ? once(child, 'exit') : Promise.resolve();
      child.kill('SIGKILL');
      await exited;
      running.delete(child);
      child = undefined;
    },
    async start() {
      if (child !== undefined) throw new Error(`redis-server on port ${port} is already running`);
      const spawned = spawnRedis(port, options.args ?? []);
      child = spawned.process;
      await waitForPong(spawned, port);
    },
    async pause(ms) {
      server.freeze();
      await sleep(ms);
      server.thaw();
    },
    freeze() {
      child?.kill('SIGSTOP');
    },
    thaw() {
      child?.kill('SIGCONT');
    },
  };
  await server.start();
  return server;
}

/** The shared Redis that read/write tests use, each under its own {@link uniquePrefix}. */
export function sharedRedisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';
}

/** A key prefix no other test run uses, e.g. `sg-test:3f9a0c1d2e4b:`. */
export function uniquePrefix(): string {
  return `sg-test:${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under `prefix` (a test's cleanup on the shared server). */
export async function deleteKeysWithPrefix(client: Redis, prefix: string): Promise<void> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (keys.length > 0) await client.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

interface SpawnedRedis {
  readonly process: ChildProcess;
  /** The tail of its output, for error messages. */
  log(): string;
}

function spawnRedis(port: number, extra: readonly string[]): SpawnedRedis {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  // Keep the log for error messages, and keep the pipes drained so redis never blocks on them.
  let log = '';
  const keep = (chunk: Buffer): void => {
    log = (log + chunk.toString()).slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('exit', () => running.delete(child));
  return { process: child, log: () => log };
}

/** Polls with a raw PING until the server answers `+PONG`; fails fast if it exits. */
async function waitForPong(spawned: SpawnedRedis, port: number): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (spawned.process.exitCode !== null || spawned.process.signalCode !== null) {
      throw new Error(`redis-server on port ${port} exited at start:\n${spawned.log()}`);
    }
    if (await answersPing(port)) return;
    await sleep(20);
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${READY_TIMEOUT_MS} ms`);
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

/** A port nothing listens on now: bind port 0, read what the kernel chose, release it. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const address = probe.address();
  probe.close();
  await once(probe, 'close');
  if (address === null || typeof address === 'string') throw new Error('could not find a free port');
  return address.port;
}

/**
 * Adds a user to a private server who may read every key but write only `writable` (Redis 7 ACL:
 * `%R~*` reads anything; `~pattern` grants both, as a read-write command such as EVAL needs one
 * pattern granting both); returns the server's URL logged in as that user.
 * A write to any other key, a script's included, is refused with NOPERM: a real Redis failing
 * one command, deterministically, while the rest of the same operation goes through.
 */
export async function userWritingOnly(server: RedisServer, writable: readonly string[]): Promise<string> {
  const client = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    const password = randomBytes(12).toString('hex');
    const user = `writes-${randomBytes(4).toString('hex')}`;
    await client.call('ACL', 'SETUSER', user, 'on', `>${password}`, '+@all', 'allchannels', '%R~*', ...writable.map((pattern) => `~${pattern}`));
    const url = new URL(server.url);
    url.username = user;
    url.password = password;
    return url.href;
  } finally {
    client.disconnect();
  }
}
