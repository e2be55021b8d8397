/**
 * publish-new vs publish-update while the registry's index lags a publish, as crates.io's does
 * (its index file is written by a background job after the publish is answered). The test
 * registry's index shows a publish only INDEX_LAG_MS later; every assertion below runs inside
 * that window, and says so by checking the index still has no file for the crate.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { indexFilePath } from '../../src/registries/cargo.js';
import { cargoPublishBody } from '../support/cargo-publish-body.js';
import { startCargoRegistry, type CargoRegistry } from '../support/cargo-registry.js';
import { cargoError, startGateway, USERS, type TestGateway } from '../support/gateway.js';
import { startRedisServer, uniquePrefix, type RedisServer } from '../support/redis-server.js';
import type { PublishedCrates } from '../../src/store/published-crates.js';

const INDEX_LAG_MS = 1_500;

function publish(gw: TestGateway, token: string, name: string, vers: string): Promise<{ status: number; json: unknown }> {
  return fetch(`${gw.url}/api/v1/crates/new`, { method: 'PUT', headers: { authorization: token }, body: new Uint8Array(cargoPublishBody({ name, vers })) })
    .then(async (res) => ({ status: res.status, json: await res.json() as unknown }));
}

/** The index still has no file for `name`: the probe cannot have seen the crate. */
async function assertIndexLags(registry: CargoRegistry, name: string): Promise<void> {
  const res = await fetch(`${registry.url}${indexFilePath(name)}`);
  assert.equal(res.status, 404, `the index already shows ${name}: the test ran past the lag`);
}

const upstreamPuts = (registry: CargoRegistry): number => registry.requests.filter((r) => r.method === 'PUT').length;

describe('two gateways on one Redis, in front of a registry whose index lags publishes', () => {
  let registry: CargoRegistry;
  let a: TestGateway;
  let b: TestGateway;
  let newOnly: string;
  let updateOnly: string;

  before(async () => {
    registry = await startCargoRegistry({ users: { ...USERS }, indexLagMs: INDEX_LAG_MS });
    const keyPrefix = uniquePrefix();
    [a, b] = await Promise.all([startGateway({ registry, keyPrefix }), startGateway({ registry, keyPrefix })]);
    newOnly = (await a.createToken({ name: 'new only', endpoint_scopes: ['publish-new'] })).token;
    updateOnly = (await a.createToken({ name: 'update only', endpoint_scopes: ['publish-update'] })).token;
  });
  after(async () => {
    await Promise.all([a.close(), b.close()]);
    await registry.close();
  });

  test('a publish-new-only token that created a crate cannot publish its next version through either gateway, though the index does not show it yet', async () => {
    assert.equal((await publish(a, newOnly, 'lag-new', '0.1.0')).status, 200);
    const puts = upstreamPuts(registry);
    for (const gw of [b, a]) {
      const res = await publish(gw, newOnly, 'lag-new', '0.2.0');
      assert.equal(res.status, 403);
      assert.deepEqual(res.json, cargoError('this token does not have the `publish-update` scope (`lag-new` already exists); create a token with that scope'));
    }
    await assertIndexLags(registry, 'lag-new');
    assert.equal(upstreamPuts(registry), puts, 'a denied publish reached the upstream');
    assert.deepEqual(registry.indexLines('lag-new').map((l) => l.vers), ['0.1.0']);
  });

  test('a publish-update-only token may publish the next version of a crate another token just created through the other gateway', async () => {
    assert.equal((await publish(a, newOnly, 'Lag_Update', '0.1.0')).status, 200);
    // Spelled the other canonical way: one crate to the registry, one remembered publish.
    const res = await publish(b, updateOnly, 'Lag_Update', '0.2.0');
    assert.equal(res.status, 200, JSON.stringify(res.json));
    await assertIndexLags(registry, 'lag_update');
    assert.deepEqual(registry.indexLines('lag-update').map((l) => l.vers), ['0.1.0', '0.2.0']);
    assert.equal(b.logLines().at(-1)?.['scope.need'], 'publish-update');
  });

  test('a publish the upstream refuses is not remembered: the crate stays new', async () => {
    const full = (await a.createToken({ name: 'full', endpoint_scopes: null })).token;
    const refused = await publish(a, full, 'lag-refused', '1.0');
    assert.equal(refused.status, 400, JSON.stringify(refused.json)); // the registry's own check: not semver
    const res = await publish(b, updateOnly, 'lag-refused', '0.1.0');
    assert.equal(res.status, 403);
    assert.deepEqual(res.json, cargoError('this token does not have the `publish-new` scope (`lag-refused` is a new crate); create a token with that scope'));
  });
});

describe('the record of accepted publishes on a Redis that goes down', () => {
  let registry: CargoRegistry;
  let redis: RedisServer;
  let gw: TestGateway;
  let newOnly: string;
  let full: string;

  before(async () => {
    registry = await startCargoRegistry({ users: { ...USERS }, indexLagMs: INDEX_LAG_MS });
    redis = await startRedisServer();
    // Tokens stay on the shared Redis: only the record of publishes goes down.
    gw = await startGateway({ registry, publishedRedisUrl: redis.url, commandTimeoutMs: 100 });
    newOnly = (await gw.createToken({ name: 'new only', endpoint_scopes: ['publish-new'] })).token;
    full = (await gw.createToken({ name: 'full', endpoint_scopes: null })).token;
    await redis.stop();
  });
  after(async () => {
    await gw.close();
    await registry.close();
    await redis.stop();
  });

  test('a publish-new-only token is refused 503, and nothing reaches the upstream, when Redis cannot say whether the crate was just published', async () => {
    const puts = upstreamPuts(registry);
    const res = await publish(gw, newOnly, 'lag-down', '0.1.0');
    assert.equal(res.status, 503);
    assert.deepEqual(res.json, cargoError('the token store is unavailable, so nothing was forwarded; try again shortly'));
    assert.equal(upstreamPuts(registry), puts);
    assert.equal(registry.crateExists('lag-down'), false);
  });

  test('a publish that needs no probe goes through, and the request line says it could not be remembered', async () => {
    const res = await publish(gw, full, 'lag-full', '0.1.0');
    assert.equal(res.status, 200);
    const line = gw.logLines().at(-1)!;
    assert.match(String(line['published.error']), /^redis SET published failed: /);
  });
});

describe('a publish-new-only token\'s creation claim when the publish it covers cannot be recorded', () => {
  let registry: CargoRegistry;
  let redis: RedisServer;
  let admin: Redis;
  let gw: TestGateway;
  let newOnly: string;

  before(async () => {
    registry = await startCargoRegistry({ users: { ...USERS }, indexLagMs: INDEX_LAG_MS });
    redis = await startRedisServer();
    admin = new Redis(redis.url);
    // Real Redis trouble, from the moment the accepted publish is recorded: out of memory, Redis
    // refuses writes (`SET published:…` fails) and still runs deletes (releasing the claim would work).
    gw = await startGateway({
      registry, publishedRedisUrl: redis.url,
      wrapPublished: (published) => Object.assign(Object.create(published) as PublishedCrates, {
        remember: async (name: string, ttlMs: number) => {
          await admin.config('SET', 'maxmemory-policy', 'noeviction');
          await admin.config('SET', 'maxmemory', '1');
          await published.remember(name, ttlMs);
        },
      }),
    });
    newOnly = (await gw.createToken({ name: 'new only', endpoint_scopes: ['publish-new'] })).token;
  });
  after(async () => {
    await gw.close();
    admin.disconnect();
    await registry.close();
    await redis.stop();
  });

  test('is left to lapse, so another publish-new-only publish cannot pass the crate off as new while the index lags', async () => {
    assert.equal((await publish(gw, newOnly, 'unrecorded', '0.1.0')).status, 200);
    const line = gw.logLines().find((l) => l['req.path'] === '/api/v1/crates/new');
    assert.match(String(line?.['published.error']), /^redis SET published failed: OOM /);
    assert.equal(await admin.exists(`${gw.config.redis.keyPrefix}publishing:{unrecorded}`), 1, 'the claim was released');
    await admin.config('SET', 'maxmemory', '0');
    const puts = upstreamPuts(registry);
    const res = await publish(gw, newOnly, 'unrecorded', '0.2.0');
    assert.deepEqual(res, { status: 409, json: cargoError('another publish of `unrecorded`, a new crate, is still under way; try again once it has finished') });
    await assertIndexLags(registry, 'unrecorded');
    assert.equal(upstreamPuts(registry), puts, 'a refused publish reached the upstream');
  });
});

describe('a publish-new-only token\'s creation claim when the client leaves while the accepted publish is being recorded', () => {
  let registry: CargoRegistry;
  let redis: RedisServer;
  let admin: Redis;
  let gw: TestGateway;
  let newOnly: string;
  let recording: () => void;
  const recordingStarted = new Promise<void>((resolve) => { recording = resolve; });
  let proceed: () => void;
  const mayProceed = new Promise<void>((resolve) => { proceed = resolve; });
  let recorded: () => void;
  const recordEnded = new Promise<void>((resolve) => { recorded = resolve; });

  before(async () => {
    registry = await startCargoRegistry({ users: { ...USERS }, indexLagMs: INDEX_LAG_MS });
    redis = await startRedisServer();
    admin = new Redis(redis.url);
    // The record waits until the test lets it go on, and then fails as on a Redis out of memory.
    gw = await startGateway({
      registry, publishedRedisUrl: redis.url,
      wrapPublished: (published) => Object.assign(Object.create(published) as PublishedCrates, {
        remember: async (name: string, ttlMs: number) => {
          recording();
          await mayProceed;
          await admin.config('SET', 'maxmemory-policy', 'noeviction');
          await admin.config('SET', 'maxmemory', '1');
          await published.remember(name, ttlMs).finally(() => recorded());
        },
      }),
    });
    newOnly = (await gw.createToken({ name: 'new only', endpoint_scopes: ['publish-new'] })).token;
  });
  after(async () => {
    await gw.close();
    admin.disconnect();
    await registry.close();
    await redis.stop();
  });

  test('is still left to lapse when the record fails: the client going away does not release it first', async () => {
    const abort = new AbortController();
    const sent = fetch(`${gw.url}/api/v1/crates/new`, { method: 'PUT', headers: { authorization: newOnly }, body: new Uint8Array(cargoPublishBody({ name: 'abandoned', vers: '0.1.0' })), signal: abort.signal });
    await recordingStarted;
    abort.abort();
    await sent.catch(() => undefined);
    // Time for the gateway to see the client gone and finish the request's pipeline.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const claimKey = `${gw.config.redis.keyPrefix}publishing:{abandoned}`;
    proceed();
    await recordEnded.catch(() => undefined);
    const deadline = Date.now() + 5_000;
    while (!gw.logLines().some((l) => l['req.path'] === '/api/v1/crates/new') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await admin.exists(claimKey), 1, 'the claim was released');
    // The request's one line says the record failed: it is written once the record has ended.
    const line = gw.logLines().find((l) => l['req.path'] === '/api/v1/crates/new');
    assert.match(String(line?.['published.error']), /^redis SET published failed: OOM /);
    await admin.config('SET', 'maxmemory', '0');
    assert.equal(registry.crateExists('abandoned'), true);
    const puts = upstreamPuts(registry);
    const res = await publish(gw, newOnly, 'abandoned', '0.2.0');
    assert.deepEqual(res, { status: 409, json: cargoError('another publish of `abandoned`, a new crate, is still under way; try again once it has finished') });
    await assertIndexLags(registry, 'abandoned');
    assert.equal(upstreamPuts(registry), puts, 'a refused publish reached the upstream');
  });
});
