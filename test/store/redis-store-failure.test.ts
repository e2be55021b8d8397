/**
 * Fail closed, fast (DESIGN §5): with its Redis hung or down, the store rejects every call with
 * StoreUnavailableError within about the command timeout, and recovers by itself afterwards.
 * Uses a private redis-server, since these tests freeze and kill it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { TokenRecord } from '../../src/core/token-record.js';
import { createRedisClient, waitForReady } from '../../src/store/redis-client.js';
import { RedisTokenStore } from '../../src/store/redis-store.js';
import { StoreUnavailableError, type TokenStore } from '../../src/store/token-store.js';
import { waitFor } from '../support/poll.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { newRecord } from './token-store-contract.js';

const COMMAND_TIMEOUT_MS = 100;
/** Generous bound on "fast": the design target is ~300 ms; this only rules out hanging. */
const FAIL_FAST_BOUND_MS = 1_000;
const HOUR_MS = 3_600_000;

/** One call of every store method, against a token that existed before the failure. */
function everyMethod(store: TokenStore, token: TokenRecord): [string, () => Promise<unknown>][] {
  return [
    ['create', () => store.create(newRecord(), HOUR_MS)],
    ['findByHash', () => store.findByHash(token.hash)],
    ['findById', () => store.findById(token.id)],
    ['listByAccount', () => store.listByAccount(token.account)],
    ['revoke', () => store.revoke(token.id, Date.now(), HOUR_MS)],
    ['touch', () => store.touch(new Map([[token.hash, Date.now()]]))],
    ['ping', () => store.ping()],
  ];
}

/** Asserts that `call` rejects with StoreUnavailableError, quickly; returns the error and time taken. */
async function assertFailsFast(name: string, call: () => Promise<unknown>): Promise<{ error: Error; ms: number }> {
  const started = performance.now();
  const error = await call().then(
    () => assert.fail(`${name} should have rejected`),
    (e: unknown) => e,
  );
  const ms = performance.now() - started;
  assert.ok(error instanceof StoreUnavailableError, `${name} rejected with ${String(error)}`);
  assert.match(error.message, /^redis .+ failed: .+/);
  assert.ok(ms < FAIL_FAST_BOUND_MS, `${name} took ${ms.toFixed(0)} ms to fail`);
  return { error, ms };
}

describe('RedisTokenStore when Redis fails', () => {
  let server: RedisServer;
  let client: Redis;
  let store: RedisTokenStore;
  const connectionErrors: Error[] = [];
  before(async () => {
    server = await startRedisServer();
    client = createRedisClient({
      url: server.url,
      commandTimeoutMs: COMMAND_TIMEOUT_MS,
      onError: (error) => connectionErrors.push(error),
    });
    await waitForReady(client, 2_000);
    store = new RedisTokenStore(client);
  });
  after(async () => {
    await store.close();
    await server.stop();
  });

  it('a hung Redis makes calls reject through the command timeout, and they work once it answers', async () => {
    const token = await store.create(newRecord(), HOUR_MS);
    const paused = server.pause(1_500);
    for (const [name, call] of everyMethod(store, token)) {
      const { error, ms } = await assertFailsFast(name, call);
      assert.match(error.message, /command timeout/);
      assert.ok(ms >= COMMAND_TIMEOUT_MS - 5, `${name} failed after ${ms.toFixed(0)} ms, before the timeout`);
    }
    await paused;
    assert.equal((await store.findByHash(token.hash))?.id, token.id);
  });

  it('lookups issued while earlier ones wait on a hung Redis fail within about two timeouts each', async () => {
    // The client batches each loop turn's commands (autopipelining) and sends the next batch only
    // once the one in flight is settled, so a lookup can wait one timeout for the batch ahead of
    // it and one for its own: the bound is ~2 × the command timeout, never "until Redis is back".
    const token = await store.create(newRecord(), HOUR_MS);
    const paused = server.pause(1_500);
    const lookups: Promise<{ ms: number }>[] = [];
    for (let i = 0; i < 5; i++) {
      lookups.push(assertFailsFast(`findByHash #${i}`, () => store.findByHash(token.hash)));
      await sleep(30);
    }
    const times = (await Promise.all(lookups)).map(({ ms }) => ms);
    await paused;
    assert.ok(Math.max(...times) < 2 * COMMAND_TIMEOUT_MS + 400, `lookups failed after ${times.map((ms) => ms.toFixed(0)).join(', ')} ms`);
    assert.ok(times.some((ms) => ms > COMMAND_TIMEOUT_MS + 10), `no lookup waited behind another: ${times.map((ms) => ms.toFixed(0)).join(', ')} ms`);
  });

  it('a stopped Redis makes every call reject at once, and errors go to onError', async () => {
    const token = await store.create(newRecord(), HOUR_MS);
    await server.stop();
    for (const [name, call] of everyMethod(store, token)) await assertFailsFast(name, call);
    // The first reconnect attempt (about 50 ms after the close) is refused and reported.
    const deadline = Date.now() + 2_000;
    while (connectionErrors.length === 0 && Date.now() < deadline) await sleep(10);
    assert.match(connectionErrors[0]?.message ?? '', /ECONNREFUSED/);
  });

  it('the store works again once Redis is back, without being recreated', async () => {
    await server.start();
    await waitForReady(client, 5_000);
    const token = await store.create(newRecord(), HOUR_MS);
    assert.deepEqual(await store.findByHash(token.hash), token);
  });

  it('waitForReady rejects with StoreUnavailableError while Redis stays down', async () => {
    await server.stop();
    // The client learns of the closed socket asynchronously; wait for that before asking.
    while (client.status === 'ready') await sleep(5);
    await assert.rejects(waitForReady(client, 300), (error: unknown) => {
      assert.ok(error instanceof StoreUnavailableError);
      assert.match(error.message, /not ready after 300 ms/);
      return true;
    });
    await server.start();
  });
});

describe('RedisTokenStore on a database the server does not have', () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedisServer({ args: ['--databases', '2'] });
  });
  after(() => server.stop());

  it('fails closed and says which setting to fix, instead of carrying on in database 0', async () => {
    const connectionErrors: Error[] = [];
    const client = createRedisClient({ url: `redis://127.0.0.1:${server.port}/5`, commandTimeoutMs: COMMAND_TIMEOUT_MS, onError: (error) => connectionErrors.push(error) });
    const admin = createRedisClient({ url: server.url });
    try {
      await waitFor(() => connectionErrors.length > 0, 5_000);
      assert.match(connectionErrors[0]!.message, /^redis refused to select database 5 \(ERR DB index is out of range\): set redis\.url \(REDIS_URL\) to a database the server has/);
      const store = new RedisTokenStore(client, { keyPrefix: 'sg:' });
      await assertFailsFast('create', () => store.create(newRecord(), HOUR_MS));
      await assertFailsFast('ping', () => store.ping());
      await waitForReady(admin, 5_000);
      assert.equal(await admin.dbsize(), 0, 'nothing was written to database 0');
    } finally {
      client.disconnect();
      admin.disconnect();
    }
  });
});
