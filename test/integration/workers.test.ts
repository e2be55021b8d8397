/**
 * `workers: N` (DESIGN §6): the primary forks N worker processes that share one listener; each
 * serves requests with its own Redis connections and token cache; a worker that dies is replaced;
 * SIGTERM stops them all cleanly.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCargoRegistry, type CargoRegistry } from '../support/cargo-registry.js';
import { rawRequest } from '../support/gateway.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';

let registry: CargoRegistry;
let gw: GatewayProcess;

const listening = (lines: readonly Record<string, unknown>[]): number => lines.filter((l) => l.msg === 'scopegate listening').length;

before(async () => {
  registry = await startCargoRegistry();
  gw = await startGatewayProcess({
    upstream: registry.url, redisUrl: sharedRedisUrl(), set: { workers: 2, 'redis.key_prefix': uniquePrefix() },
    ready: (lines) => listening(lines) >= 2,
  });
});
after(async () => {
  if (gw.child.exitCode === null) await gw.stop();
  await registry.close();
});

/** The pids that answered: each request's id starts with its process's pid in base 36. */
async function answeringPids(requests: number): Promise<Set<number>> {
  const before = gw.logLines().length;
  for (let i = 0; i < requests; i++) {
    // A new connection each time: the primary hands connections to the workers in turn.
    const res = await rawRequest(gw.port, 'GET', `/api/v1/crates?q=w${i}`);
    assert.equal(res.status, 200);
  }
  await sleep(100);
  const ids = gw.logLines().slice(before).filter((l) => l.msg === 'request').map((l) => String(l['req.id']));
  assert.equal(ids.length, requests);
  return new Set(ids.map((id) => parseInt(id.split('-')[0]!, 36)));
}

test('workers: 2 serves requests from two worker processes, neither of them the primary', async () => {
  const pids = await answeringPids(20);
  assert.equal(pids.size, 2, `pids: ${[...pids].join(', ')}`);
  assert.ok(!pids.has(gw.child.pid!), 'the primary only supervises');
});

test('a worker that dies is replaced, and requests keep being served', async () => {
  const [victim] = await answeringPids(4);
  process.kill(victim!, 'SIGKILL');
  const deadline = Date.now() + 10_000;
  while (listening(gw.logLines()) < 3 && Date.now() < deadline) await sleep(50);
  assert.equal(listening(gw.logLines()), 3, 'a third worker started');
  assert.ok(gw.logLines().some((l) => l.msg === 'worker died; starting a new one' && l.pid === victim));
  const pids = await answeringPids(20);
  assert.equal(pids.size, 2);
  assert.ok(!pids.has(victim!));
});

test('SIGTERM stops the primary and its workers with exit code 0', async () => {
  assert.equal(await gw.stop(), 0);
});
