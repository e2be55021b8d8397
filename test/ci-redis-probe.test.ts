/**
 * `.ci/redis-up`, the probe `.ci/run` uses to decide whether to start a redis-server on 6379: it
 * must tell Redis, nothing and something else apart, and never wait for ever on the last.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { freePort, startRedisServer } from './support/redis-server.js';

const PROBE = fileURLToPath(new URL('../../.ci/redis-up', import.meta.url));

async function probe(port: number): Promise<number | null> {
  const child = spawn(PROBE, [String(port)], { stdio: 'ignore' });
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

test('the CI Redis probe says Redis (0), nothing (1), or something that is not Redis (2) without hanging on it', async () => {
  const redis = await startRedisServer();
  // Accepts connections and never answers, as a frozen Redis or another service waiting for input.
  const silent = createServer(() => {});
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  try {
    assert.equal(await probe(redis.port), 0);
    assert.equal(await probe(await freePort()), 1);
    assert.equal(await probe((silent.address() as AddressInfo).port), 2);
  } finally {
    silent.close();
    await redis.stop();
  }
});
