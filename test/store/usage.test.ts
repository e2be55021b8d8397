/**
 * The `last_used_at` recorder: uses are throttled to once a minute per token, collected briefly
 * and written in one store call, never on the request path; failed writes are counted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MemoryTokenStore } from '../../src/store/memory-store.js';
import { createUsageRecorder } from '../../src/store/usage.js';
import { newRecord } from './token-store-contract.js';

const HOUR_MS = 3_600_000;

/** The memory store, with each `touch` call's uses recorded. */
function recordingStore(): { store: MemoryTokenStore; calls: Map<string, number>[] } {
  const store = new MemoryTokenStore();
  const calls: Map<string, number>[] = [];
  const touch = store.touch.bind(store);
  store.touch = (uses) => {
    calls.push(new Map(uses));
    return touch(uses);
  };
  return { store, calls };
}

test('uses within the batch window are written together, after the request that made them', async () => {
  const { store, calls } = recordingStore();
  const records = await Promise.all([1, 2, 3].map(() => store.create(newRecord(), HOUR_MS)));
  const usage = createUsageRecorder(store);
  const t0 = Date.now();
  records.forEach((r, i) => usage.record(r.hash, t0 + i));
  assert.equal(calls.length, 0, 'nothing is written synchronously');
  assert.equal((await store.findById(records[0]!.id))?.lastUsedAt, null);
  await sleep(250);
  assert.deepEqual(calls, [new Map(records.map((r, i) => [r.hash, t0 + i]))]);
  for (const [i, r] of records.entries()) assert.equal((await store.findById(r.id))?.lastUsedAt, t0 + i);
});

test('a token is written at most once a minute, then again with its latest use', async () => {
  const { store, calls } = recordingStore();
  const record = await store.create(newRecord(), HOUR_MS);
  const usage = createUsageRecorder(store);
  const t0 = Date.now();
  usage.record(record.hash, t0);
  usage.record(record.hash, t0 + 30_000);
  await usage.flush();
  assert.deepEqual(calls, [new Map([[record.hash, t0]])]);
  usage.record(record.hash, t0 + 59_999);
  await usage.flush();
  assert.equal(calls.length, 1, 'still within the minute: nothing to write');
  usage.record(record.hash, t0 + 61_000);
  await usage.flush();
  assert.deepEqual(calls[1], new Map([[record.hash, t0 + 61_000]]));
  assert.equal((await store.findById(record.id))?.lastUsedAt, t0 + 61_000);
});

test('a full batch is written at once, without waiting for the timer', async () => {
  const { store, calls } = recordingStore();
  const usage = createUsageRecorder(store);
  const now = Date.now();
  for (let i = 0; i < 1_023; i++) usage.record(`${i}`.padStart(64, '0'), now);
  assert.equal(calls.length, 0);
  usage.record('f'.repeat(64), now);
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.size, 1_024);
  await usage.flush();
  assert.equal(calls.length, 1, 'the timer found nothing left to write');
});

test('a failed write is counted per use and never thrown at the caller', async () => {
  const { store } = recordingStore();
  const usage = createUsageRecorder(store);
  await store.close();
  usage.record('a'.repeat(64), Date.now());
  usage.record('b'.repeat(64), Date.now());
  await usage.flush();
  assert.equal(usage.failures, 2);
});
