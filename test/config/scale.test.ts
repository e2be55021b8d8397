/** The scale-out keys (DESIGN §5–6): the token cache, workers, and Redis Sentinel or Cluster. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildConfig } from '../../src/config/load.js';
import type { GatewayConfig } from '../../src/config/types.js';
import { workerCount } from '../../src/workers.js';

const MINIMAL = `
public_url: http://gw.test
upstream: { url: http://registry.test }
routes:
  - { method: GET, path: /index/*, scope: read }
`;

function load(yaml: string): GatewayConfig {
  const result = buildConfig(yaml, {}, 'test.yaml');
  assert.ok(result.ok, result.ok ? '' : result.problems.join('\n'));
  return result.config;
}

function problems(yaml: string): readonly string[] {
  const result = buildConfig(yaml, {}, 'test.yaml');
  assert.equal(result.ok, false, 'expected the config to be rejected');
  return result.ok ? [] : result.problems;
}

test('cache takes ttl, max_entries and enabled', () => {
  assert.deepEqual(load(`${MINIMAL}cache: { enabled: false, ttl: 2s, max_entries: 100 }\n`).cache, { enabled: false, ttlMs: 2_000, maxEntries: 100 });
});

test('cache values out of range are reported with their paths', () => {
  assert.deepEqual(problems(`${MINIMAL}cache: { ttl: 0ms, max_entries: 0 }\n`), [
    'cache.ttl "0ms" is out of range: expected at least 1ms',
    'cache.max_entries 0 is out of range: expected at least 1',
  ]);
});

test('workers is a count or auto, and auto means one per CPU core', () => {
  assert.equal(load(`${MINIMAL}workers: 4\n`).workers, 4);
  assert.equal(load(`${MINIMAL}workers: auto\n`).workers, 'auto');
  assert.ok(workerCount('auto') >= 1);
  assert.equal(workerCount(3), 3);
  assert.equal(problems(`${MINIMAL}workers: 0\n`).length, 1);
  assert.match(problems(`${MINIMAL}workers: many\n`)[0]!, /^workers "many"/);
});

test('a workers value that is neither a count nor auto says what it should be', () => {
  for (const value of ['"2"', 'many', 'Auto']) {
    assert.deepEqual(problems(`${MINIMAL}workers: ${value}\n`), [`workers "${value.replace(/"/g, '')}" is not a worker count: expected e.g. 1, auto, 4`]);
  }
});

test('the in-process store cannot be shared by workers or put behind Sentinel or Cluster', () => {
  assert.deepEqual(problems(`${MINIMAL}redis: { url: memory }\nworkers: 2\n`), [
    'workers 2 needs a shared store but redis.url is memory: expected 1, or a redis:// URL',
  ]);
  assert.deepEqual(problems(`${MINIMAL}redis: { url: memory, sentinels: ["10.0.0.1:26379"] }\n`), [
    'redis.sentinels is set but redis.url is memory: expected a redis:// URL',
  ]);
});

test('Sentinel takes host:port sentinels and a master name', () => {
  const { redis } = load(`${MINIMAL}redis: { url: "redis://:pw@ignored/2", sentinels: ["10.0.0.1:26379", "[::1]:26380"], name: scopegate }\n`);
  assert.deepEqual(redis.sentinels, [{ host: '10.0.0.1', port: 26379 }, { host: '::1', port: 26380 }]);
  assert.equal(redis.name, 'scopegate');
  assert.equal(redis.clusterNodes, null);
});

test('Cluster takes seed nodes, and neither a database nor Sentinel at the same time', () => {
  assert.deepEqual(load(`${MINIMAL}redis: { cluster_nodes: ["127.0.0.1:7000"] }\n`).redis.clusterNodes, [{ host: '127.0.0.1', port: 7000 }]);
  assert.deepEqual(problems(`${MINIMAL}redis: { url: "redis://r/3", cluster_nodes: ["127.0.0.1:7000"] }\n`), [
    'redis.url "redis://r/3" selects a database, which Redis Cluster does not have: expected /0 or none with redis.cluster_nodes',
  ]);
  assert.deepEqual(problems(`${MINIMAL}redis: { sentinels: ["10.0.0.1:26379"], cluster_nodes: ["127.0.0.1:7000"] }\n`), [
    'redis.cluster_nodes and redis.sentinels are both set: expected at most one of them',
  ]);
});

test('a node that is not host:port is reported with its index', () => {
  assert.equal(problems(`${MINIMAL}redis: { cluster_nodes: ["127.0.0.1:99999"] }\n`).length, 1);
  assert.match(problems(`${MINIMAL}redis: { cluster_nodes: ["127.0.0.1:99999"] }\n`)[0]!, /redis\.cluster_nodes\[0\] "127\.0\.0\.1:99999" is out of range/);
});
